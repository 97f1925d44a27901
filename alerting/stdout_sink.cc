#include "alerting/stdout_sink.h"

namespace vigil::alerting {

StdoutSink::StdoutSink(int fd)
    : writer_(fd, /*owns_fd=*/false,
              fd == 1 ? "standard output" : "descriptor " + std::to_string(fd)) {}

absl::Status StdoutSink::Write(const engine::Record& r) {
  VIGIL_RETURN_IF_ERROR(writer_.AppendLine(engine::RecordToJson(r)));
  records_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status StdoutSink::Flush() { return writer_.Flush(/*sync=*/false); }

absl::StatusOr<std::string> StdoutSink::SnapshotState(uint64_t) {
  VIGIL_RETURN_IF_ERROR(Flush());
  return std::string();
}

engine::SinkStats StdoutSink::stats() const {
  engine::SinkStats s;
  s.sent = records_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace vigil::alerting
