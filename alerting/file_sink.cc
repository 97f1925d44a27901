#include "alerting/file_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include <cerrno>
#include <cstring>

#include <fcntl.h>

namespace vigil::alerting {

FileSink::FileSink(std::string path, int fd, uint64_t size)
    : path_(std::move(path)), writer_(fd, /*owns_fd=*/true, "file '" + path_ + "'"), base_(size) {}

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
  struct stat st;
  uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return std::unique_ptr<FileSink>(new FileSink(path, fd, size));
}

absl::Status FileSink::Write(const engine::Record& r) {
  ++records_;
  return writer_.AppendLine(engine::RecordToJson(r));
}

absl::Status FileSink::Flush() { return writer_.Flush(/*sync=*/false); }

absl::StatusOr<std::string> FileSink::SnapshotState(uint64_t) {
  VIGIL_RETURN_IF_ERROR(writer_.Flush(/*sync=*/true));
  return std::to_string(size());
}

absl::Status FileSink::Restore(std::string_view state) {
  uint64_t bytes = 0;
  auto [p, ec] = std::from_chars(state.data(), state.data() + state.size(), bytes);
  if (ec != std::errc() || p != state.data() + state.size()) {
    return absl::DataLossError("file '" + path_ + "': malformed checkpoint state");
  }
  VIGIL_RETURN_IF_ERROR(writer_.Flush(/*sync=*/false));
  struct stat st;
  if (::fstat(writer_.fd(), &st) != 0) {
    return absl::UnavailableError("cannot stat output file '" + path_ +
                                  "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return absl::OkStatus();  // a pipe or device: nothing to take back
  if (static_cast<uint64_t>(st.st_size) < bytes) {
    // Someone cut the file since the checkpoint: records it held would be lost.
    return absl::DataLossError("output file '" + path_ + "' has " + std::to_string(st.st_size) +
                               " bytes, fewer than the " + std::to_string(bytes) +
                               " its checkpoint recorded");
  }
  if (::ftruncate(writer_.fd(), static_cast<off_t>(bytes)) != 0) {
    return absl::InternalError("cannot truncate output '" + path_ + "' to " +
                               std::to_string(bytes) + " bytes: " + std::strerror(errno));
  }
  base_ = bytes - writer_.bytes_written();
  return absl::OkStatus();
}

absl::Status FileSink::Close() { return writer_.Flush(/*sync=*/true); }

engine::SinkStats FileSink::stats() const {
  engine::SinkStats s;
  s.sent = records_;
  return s;
}

}  // namespace vigil::alerting
