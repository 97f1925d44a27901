#pragma once
// A state backend that fails on purpose (RocksDB's fault_injection_fs habit), wrapping any
// backend. Used by tests to prove that a failed write or checkpoint never corrupts the last
// completed checkpoint: RestoreLatest still returns it, with its exact state.
//
// Counters are 1-based call numbers (0 = never), counted over the wrapper's lifetime:
//   fail_write_at       the Nth Write returns Unavailable and applies nothing
//   fail_prepare_at     the Nth PrepareCheckpoint returns Unavailable before snapshotting
//   crash_after_snapshot_at
//                       the Nth Checkpoint snapshots (inner PrepareCheckpoint) and then fails
//                       before the _metadata marker: the on-disk state of a process killed
//                       between snapshot and metadata
//   fail_commit_at      the Nth CommitCheckpoint returns Unavailable without committing
// Every other call is forwarded unchanged.
//
// Thread-safety: as the wrapped backend (counters are atomic).
#include <atomic>
#include <memory>
#include <string>

#include "engine/state/state_backend.h"

namespace vigil::engine::state {

class FaultInjectingBackend final : public StateBackend {
 public:
  struct Faults {
    uint64_t fail_write_at = 0;
    uint64_t fail_prepare_at = 0;
    uint64_t crash_after_snapshot_at = 0;
    uint64_t fail_commit_at = 0;
  };
  FaultInjectingBackend(std::unique_ptr<StateBackend> inner, Faults faults);

  StateBackend& inner() { return *inner_; }
  // Replaces the fault plan and resets the counters.
  void SetFaults(Faults faults);
  uint64_t injected() const { return injected_.load(); }

  std::string_view name() const override { return name_; }
  absl::Status Write(const WriteBatch& batch) override;
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    return inner_->Get(key);
  }
  absl::Status Scan(std::string_view prefix, const ScanFn& fn) override {
    return inner_->Scan(prefix, fn);
  }
  absl::Status ScanRange(std::string_view begin, std::string_view end, const ScanFn& fn) override {
    return inner_->ScanRange(begin, end, fn);
  }
  uint64_t ApproximateSize() override { return inner_->ApproximateSize(); }
  absl::Status Clear() override { return inner_->Clear(); }

  absl::Status PrepareCheckpoint(uint64_t id) override;
  absl::StatusOr<CheckpointInfo> CommitCheckpoint(uint64_t id,
                                                  const std::string& metadata) override;
  absl::StatusOr<std::optional<RestoredCheckpoint>> RestoreLatest() override {
    return inner_->RestoreLatest();
  }
  absl::StatusOr<std::vector<uint64_t>> ListCheckpoints() override {
    return inner_->ListCheckpoints();
  }

 private:
  absl::Status Injected(std::string_view what, uint64_t n);

  std::unique_ptr<StateBackend> inner_;
  std::string name_;
  Faults faults_;
  std::atomic<uint64_t> writes_{0}, prepares_{0}, commits_{0}, injected_{0};
};

}  // namespace vigil::engine::state
