#pragma once
// The `file` sink (language.md §3) and the engine's `--output PATH`: records as JSON Lines
// appended to a file, exactly once across restarts.
#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "alerting/fd_writer.h"
#include "core/status.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

// Appends one JSON object per record (engine::RecordToJson) and a newline to a file, creating
// it (mode 0644) if needed. Writes are buffered in 64 KiB chunks; Flush() writes the rest and
// fsync(2)s, so that everything written before a successful Flush() survives a crash.
//
// Checkpoints: SnapshotState writes and fsyncs, and returns the file's size (8 bytes, the
// core codec's Fixed64); Restore(state) cuts the file back to that size, so records written
// after the checkpoint are written again exactly once. Called from one thread at a time
// (stats() from any). The destructor writes what is buffered (best effort, without fsync).
class FileSink : public engine::Sink {
 public:
  // Opens `path` for appending. Errors: kNotFound / kPermissionDenied / kUnavailable with the
  // path and errno text when the file cannot be opened or created (never a crash).
  static absl::StatusOr<std::unique_ptr<FileSink>> Open(const std::string& path);

  absl::Status Write(const engine::Record& r) override;
  absl::Status Flush() override;
  // Errors: Unavailable when the file cannot be written, synced or stat'ed.
  absl::StatusOr<std::string> SnapshotState(uint64_t checkpoint_id) override;
  // Errors: DataLoss for a blob that is not 8 bytes or a file shorter than the recorded size
  // (someone cut it: records would be lost); Unavailable when truncation fails.
  absl::Status Restore(std::string_view state) override;
  absl::Status Close() override { return Flush(); }
  engine::SinkStats stats() const override;

  const std::string& path() const { return path_; }
  // Bytes appended by this sink so far (written to the OS, not necessarily synced).
  uint64_t bytes_written() const { return writer_.bytes_written(); }

 private:
  FileSink(std::string path, int fd);
  std::string path_;
  FdWriter writer_;
  std::atomic<uint64_t> records_{0};
};

}  // namespace vigil::alerting
