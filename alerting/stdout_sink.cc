#include "alerting/stdout_sink.h"

namespace vigil::alerting {

StdoutSink::StdoutSink(int fd)
    : writer_(fd, /*owns_fd=*/false,
              fd == 1 ? "standard output" : "descriptor " + std::to_string(fd)) {}

absl::Status StdoutSink::Write(const engine::Record& r) {
  return writer_.AppendLine(engine::RecordToJson(r));
}

absl::Status StdoutSink::Flush() { return writer_.Flush(/*sync=*/false); }

}  // namespace vigil::alerting
