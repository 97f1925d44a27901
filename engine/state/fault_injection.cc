#include "engine/state/fault_injection.h"

namespace vigil::engine::state {

FaultInjectingBackend::FaultInjectingBackend(std::unique_ptr<StateBackend> inner, Faults faults)
    : inner_(std::move(inner)),
      name_("fault-injecting(" + std::string(inner_->name()) + ")"),
      faults_(faults) {}

void FaultInjectingBackend::SetFaults(Faults faults) {
  faults_ = faults;
  writes_ = prepares_ = commits_ = 0;
}

absl::Status FaultInjectingBackend::Injected(std::string_view what, uint64_t n) {
  ++injected_;
  return absl::UnavailableError("injected fault: " + std::string(what) + " #" + std::to_string(n));
}

absl::Status FaultInjectingBackend::Write(const WriteBatch& batch) {
  const uint64_t n = ++writes_;
  if (n == faults_.fail_write_at) return Injected("write", n);
  return inner_->Write(batch);
}

absl::Status FaultInjectingBackend::PrepareCheckpoint(uint64_t id) {
  const uint64_t n = ++prepares_;
  if (n == faults_.fail_prepare_at) return Injected("prepare checkpoint", n);
  VIGIL_RETURN_IF_ERROR(inner_->PrepareCheckpoint(id));
  if (n == faults_.crash_after_snapshot_at) {
    // The snapshot is on disk but the marker never will be: a crash before the metadata.
    return Injected("crash after checkpoint snapshot", n);
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> FaultInjectingBackend::CommitCheckpoint(
    uint64_t id, const std::string& metadata) {
  const uint64_t n = ++commits_;
  if (n == faults_.fail_commit_at) return Injected("commit checkpoint", n);
  return inner_->CommitCheckpoint(id, metadata);
}

}  // namespace vigil::engine::state
