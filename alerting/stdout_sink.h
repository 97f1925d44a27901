#pragma once
// The `stdout` sink (language.md §3) and the engine's default output: records as JSON Lines on
// standard output.
#include <atomic>
#include <memory>

#include "alerting/fd_writer.h"
#include "core/status.h"
#include "engine/record.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

// Writes one JSON object per record and a newline to a descriptor (standard output unless
// given). Output is buffered and written in 64 KiB chunks; Flush() writes the rest (the job
// calls it whenever its output stage idles, so records show promptly). Does not close the
// descriptor. At-least-once across restarts: nothing written can be taken back, so its state
// is empty and records after the checkpoint are written again. Called from one thread at a
// time. A closed pipe (EPIPE; SIGPIPE must be ignored by the program) is reported by
// Write/Flush as kUnavailable.
class StdoutSink final : public engine::Sink {
 public:
  explicit StdoutSink(int fd = 1);

  absl::Status Write(const engine::Record& r) override;
  absl::Status Flush() override;
  absl::StatusOr<std::string> SnapshotState(uint64_t checkpoint_id) override;
  absl::Status Restore(std::string_view state) override { return absl::OkStatus(); }
  absl::Status Close() override { return Flush(); }
  engine::SinkStats stats() const override;

 private:
  FdWriter writer_;
  std::atomic<uint64_t> records_{0};  // stats() may be read from any thread
};

}  // namespace vigil::alerting
