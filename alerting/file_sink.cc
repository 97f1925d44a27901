#include "alerting/file_sink.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/codec.h"

namespace vigil::alerting {

FileSink::FileSink(std::string path, int fd)
    : path_(std::move(path)), writer_(fd, /*owns_fd=*/true, "file '" + path_ + "'") {}

absl::StatusOr<std::unique_ptr<FileSink>> FileSink::Open(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    std::string msg = "cannot open output file '" + path + "': " + std::strerror(err);
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(msg);
    if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(msg);
    return absl::UnavailableError(msg);
  }
  return std::unique_ptr<FileSink>(new FileSink(path, fd));
}

absl::Status FileSink::Write(const engine::Record& r) {
  VIGIL_RETURN_IF_ERROR(writer_.AppendLine(engine::RecordToJson(r)));
  records_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status FileSink::Flush() { return writer_.Flush(/*sync=*/true); }

absl::StatusOr<std::string> FileSink::SnapshotState(uint64_t) {
  VIGIL_RETURN_IF_ERROR(writer_.Flush(/*sync=*/true));
  struct stat st;
  if (::fstat(writer_.fd(), &st) != 0) {
    return absl::UnavailableError("cannot stat output file '" + path_ +
                                  "': " + std::strerror(errno));
  }
  std::string out;
  Encoder(&out).Fixed64(static_cast<uint64_t>(st.st_size));
  return out;
}

absl::Status FileSink::Restore(std::string_view state) {
  Decoder dec(state);
  uint64_t size;
  VIGIL_RETURN_IF_ERROR(dec.Fixed64(&size));
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
  VIGIL_RETURN_IF_ERROR(writer_.Flush(/*sync=*/false));
  struct stat st;
  if (::fstat(writer_.fd(), &st) != 0) {
    return absl::UnavailableError("cannot stat output file '" + path_ +
                                  "': " + std::strerror(errno));
  }
  if (static_cast<uint64_t>(st.st_size) < size) {
    return absl::DataLossError("output file '" + path_ + "' has " +
                               std::to_string(st.st_size) + " bytes, fewer than the " +
                               std::to_string(size) + " its checkpoint recorded");
  }
  if (::ftruncate(writer_.fd(), static_cast<off_t>(size)) != 0) {
    return absl::UnavailableError("cannot truncate output file '" + path_ +
                                  "': " + std::strerror(errno));
  }
  return absl::OkStatus();  // O_APPEND: the next write lands at the new end
}

engine::SinkStats FileSink::stats() const {
  engine::SinkStats s;
  s.sent = records_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace vigil::alerting
