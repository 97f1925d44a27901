#pragma once
// A buffered writer to a file descriptor, shared by the file and stdout sinks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::alerting {

// Accumulates bytes and writes them to `fd` in large chunks. Not thread-safe.
// Does not own the descriptor unless `owns_fd` (then it is closed by the destructor).
class FdWriter {
 public:
  static constexpr size_t kDefaultChunk = 64 * 1024;

  FdWriter(int fd, bool owns_fd, std::string what, size_t chunk = kDefaultChunk);
  ~FdWriter();
  FdWriter(const FdWriter&) = delete;
  FdWriter& operator=(const FdWriter&) = delete;

  // Appends `line` and a newline; writes the buffer out once it holds `chunk` bytes or more.
  // Errors: kUnavailable / kInternal with errno text when write(2) fails (e.g. EPIPE, ENOSPC);
  // the unwritten bytes stay buffered.
  absl::Status AppendLine(std::string_view line);
  // Writes out everything buffered (write(2), retrying short writes and EINTR); with `sync`,
  // then fsync(2)s the descriptor. fsync on a pipe or terminal (EINVAL/ENOTSUP) is not an error.
  absl::Status Flush(bool sync);

  int fd() const { return fd_; }
  // Bytes handed to write(2) successfully so far.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  absl::Status WriteOut();

  int fd_;
  bool owns_fd_;
  std::string what_;  // for error messages: "file 'alerts.jsonl'", "standard output"
  size_t chunk_;
  std::string buf_;
  uint64_t bytes_written_ = 0;
};

}  // namespace vigil::alerting
