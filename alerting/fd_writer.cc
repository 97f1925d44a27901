#include "alerting/fd_writer.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <unistd.h>

namespace vigil::alerting {

FdWriter::FdWriter(int fd, bool owns_fd, std::string what, size_t chunk)
    : fd_(fd), owns_fd_(owns_fd), what_(std::move(what)), chunk_(chunk) {
  buf_.reserve(chunk_ + 4096);
}

FdWriter::~FdWriter() {
  (void)WriteOut();  // best effort: a sink's owner calls Flush() to learn of errors
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

absl::Status FdWriter::AppendLine(std::string_view line) {
  buf_.append(line);
  buf_.push_back('\n');
  if (buf_.size() >= chunk_) return WriteOut();
  return absl::OkStatus();
}

absl::Status FdWriter::WriteOut() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      buf_.erase(0, done);
      return absl::UnavailableError("writing to " + what_ + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
    bytes_written_ += static_cast<uint64_t>(n);
  }
  buf_.clear();
  return absl::OkStatus();
}

absl::Status FdWriter::Flush(bool sync) {
  VIGIL_RETURN_IF_ERROR(WriteOut());
  if (sync) {
    while (::fsync(fd_) != 0) {
      if (errno == EINTR) continue;
      if (errno == EINVAL || errno == ENOTSUP || errno == EROFS) break;  // pipes, terminals
      return absl::UnavailableError("syncing " + what_ + ": " + std::strerror(errno));
    }
  }
  return absl::OkStatus();
}

}  // namespace vigil::alerting
