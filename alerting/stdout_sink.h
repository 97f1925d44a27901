#pragma once
// The `stdout` sink (language.md §3) and the engine's default output: records as JSON Lines on
// standard output.
#include <memory>

#include "alerting/fd_writer.h"
#include "core/status.h"
#include "engine/record.h"

namespace vigil::alerting {

// Writes one JSON object per record and a newline to a descriptor (standard output unless
// given). Output is buffered and written in 64 KiB chunks; Flush() writes the rest, so the
// engine should call Flush() whenever it has drained a batch of input (and at the end) for
// records to show promptly. Does not close the descriptor. Called from one thread at a time.
// A closed pipe (EPIPE; SIGPIPE must be ignored by the program) is reported by Write/Flush as
// kUnavailable.
class StdoutSink : public engine::Sink {
 public:
  explicit StdoutSink(int fd = 1);

  absl::Status Write(const engine::Record& r) override;
  absl::Status Flush() override;

 private:
  FdWriter writer_;
};

}  // namespace vigil::alerting
