#pragma once
// The `file` sink (language.md §3) and the engine's `--output PATH`: records as JSON Lines
// appended to a file.
#include <atomic>
#include <memory>
#include <string>

#include "alerting/fd_writer.h"
#include "core/status.h"
#include "engine/record.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

// Appends one JSON object per record (engine::RecordToJson) and a newline to a file, creating
// it (mode 0644) if needed. Writes are buffered in 64 KiB chunks; Flush() writes the rest.
// Exactly-once across restarts (cli.md): SnapshotState() writes, fsync(2)s and returns the
// file's size; Restore(state) cuts the file back to that size, so the records a restarted job
// writes again follow exactly the checkpointed ones. Close() writes and fsyncs.
// Called from one thread at a time. The destructor writes what is buffered (best effort,
// without fsync).
class FileSink final : public engine::Sink {
 public:
  // Opens `path` for appending. Errors: kNotFound / kPermissionDenied / kUnavailable with the
  // path and errno text when the file cannot be opened or created (never a crash).
  static absl::StatusOr<std::unique_ptr<FileSink>> Open(const std::string& path);

  absl::Status Write(const engine::Record& r) override;
  absl::Status Flush() override;
  // The file's size after everything written so far (decimal), once synced.
  absl::StatusOr<std::string> SnapshotState(uint64_t checkpoint_id) override;
  // Errors: DataLoss for a malformed state; Internal when the file cannot be truncated.
  absl::Status Restore(std::string_view state) override;
  absl::Status Close() override;
  engine::SinkStats stats() const override;

  // Empties the file (a fresh run of `--output PATH`, as a shell redirection would).
  absl::Status Truncate() { return Restore("0"); }

  const std::string& path() const { return path_; }
  // The file's size including everything handed to write(2) so far.
  uint64_t size() const { return base_ + writer_.bytes_written(); }

 private:
  FileSink(std::string path, int fd, uint64_t size);
  std::string path_;
  FdWriter writer_;
  uint64_t base_;  // the file's size when opened (or restored), before this sink's writes
  std::atomic<uint64_t> records_{0};  // stats() may be read from any thread
};

}  // namespace vigil::alerting
