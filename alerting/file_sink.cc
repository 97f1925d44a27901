#include "alerting/file_sink.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>

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
  return writer_.AppendLine(engine::RecordToJson(r));
}

absl::Status FileSink::Flush() { return writer_.Flush(/*sync=*/true); }

}  // namespace vigil::alerting
