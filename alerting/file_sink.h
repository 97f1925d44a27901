#pragma once
// The `file` sink (language.md §3) and the engine's `--output PATH`: records as JSON Lines
// appended to a file.
#include <memory>
#include <string>

#include "alerting/fd_writer.h"
#include "core/status.h"
#include "engine/record.h"

namespace vigil::alerting {

// Appends one JSON object per record (engine::RecordToJson) and a newline to a file, creating
// it (mode 0644) if needed. Writes are buffered in 64 KiB chunks; Flush() writes the rest and
// fsync(2)s, so that everything written before a successful Flush() survives a crash.
// Called from one thread at a time. The destructor writes what is buffered (best effort,
// without fsync).
class FileSink : public engine::Sink {
 public:
  // Opens `path` for appending. Errors: kNotFound / kPermissionDenied / kUnavailable with the
  // path and errno text when the file cannot be opened or created (never a crash).
  static absl::StatusOr<std::unique_ptr<FileSink>> Open(const std::string& path);

  absl::Status Write(const engine::Record& r) override;
  absl::Status Flush() override;

  const std::string& path() const { return path_; }
  // Bytes appended by this sink so far (written to the OS, not necessarily synced).
  uint64_t bytes_written() const { return writer_.bytes_written(); }

 private:
  FileSink(std::string path, int fd);
  std::string path_;
  FdWriter writer_;
};

}  // namespace vigil::alerting
