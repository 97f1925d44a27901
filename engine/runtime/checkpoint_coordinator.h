#pragma once
// Checkpoints (Flink's aligned barriers, with the state backend's incremental snapshots):
//
// 1. Router (MaybeCheckpoint): every `interval_ms`, on a savepoint request, and at a stop,
//    finalizes everything read so far (DecodeStage::Drain), cuts a barrier carrying the
//    router's state (source positions, watermarks, reorder-buffer contents, counters, the
//    running rules' state ids) and sends it behind the work already queued to every worker
//    and on its own output lane. At most one checkpoint is in flight.
// 2. Workers write their operators' changed keys to the backend and forward the barrier.
// 3. Output stage: once every lane delivered it, snapshots the sinks (OnAligned) and resumes.
// 4. Committer thread: takes the backend's checkpoint (RocksDB: rocksdb::Checkpoint, hard
//    links) with the metadata (state::CheckpointMeta) while records keep flowing, writes a
//    savepoint when asked, and tells the output stage (sinks hear NotifyCheckpointComplete).
//    Nothing writes keyed state meanwhile: workers write at barriers, and the next barrier
//    waits until this checkpoint is finished.
// A failed checkpoint is logged and counted; the job goes on and the previous completed
// checkpoint stays the restore point.
//
// Restore: the caller has made a checkpoint's or savepoint's keyed state live in the backend;
// Restore() seeks the inputs, restores the router's state, drops the state of rules that no
// longer exist or changed (with a warning naming them), and loads every worker's key groups
// into its operators (so the parallelism may differ from the checkpoint's).
//
// Thread-safety: MaybeCheckpoint and Restore on the router's thread; OnAligned on the output
// thread; CommitLoop on its own thread.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/runtime/decode_stage.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/failure.h"
#include "engine/runtime/input_stage.h"
#include "engine/runtime/output_stage.h"
#include "engine/runtime/status_board.h"
#include "engine/runtime/stream_router.h"
#include "engine/runtime/topology.h"
#include "engine/runtime/worker.h"
#include "engine/state/checkpoint_meta.h"
#include "engine/state/state_backend.h"

namespace vigil::engine::metrics {
class Counter;
class Gauge;
class Histogram;
class Metrics;
}  // namespace vigil::engine::metrics

namespace vigil::engine::runtime {

class CheckpointCoordinator {
 public:
  struct Options {
    state::StateBackend* backend = nullptr;  // null: no checkpoints
    // Where Restore() reads keyed state (a savepoint restored without --state lives in a heap
    // backend that takes no checkpoints); null: `backend`.
    state::StateBackend* restore_backend = nullptr;
    int64_t interval_ms = 10000;             // <= 0: only the final checkpoint on stop
    std::string savepoint_dir;               // "" = no savepoints
    std::atomic<bool>* savepoint_request = nullptr;  // set asynchronously; cleared here
    std::function<void(std::string_view)> log;
  };
  struct Stages {
    std::shared_ptr<const Topology> topology;
    Exchange* exchange;
    InputStage* input;
    StreamRouter* router;
    DecodeStage* decode;
    OutputStage* output;
    std::vector<Worker*> workers;
  };

  CheckpointCoordinator(Options options, Stages stages, metrics::Metrics* metrics,
                        StatusBoard* board, FailureLatch* failure);

  bool enabled() const { return options_.backend != nullptr; }

  // Router: starts a checkpoint when one is due (final: the stop checkpoint, waiting for an
  // in-flight one first).
  absl::Status MaybeCheckpoint(bool final);
  // Router: a deploy. Cuts a barrier carrying `rc` (with a backend also a checkpoint whose
  // metadata holds the deployed rules), after which the router routes by the new topology.
  // Waits for a checkpoint in flight to finish first.
  absl::Status InjectReconfiguration(std::shared_ptr<const Reconfiguration> rc);
  const std::shared_ptr<const Topology>& topology() const { return stages_.topology; }

  // Any thread: the id of the next savepoint written after this call, once it is written
  // (its path), or its error; DeadlineExceeded after `timeout_ms`.
  absl::StatusOr<std::string> AwaitSavepoint(uint64_t after_id, int64_t timeout_ms);
  uint64_t last_savepoint_id() const;

  // Output thread: every lane delivered `info`.
  absl::Status OnAligned(const std::shared_ptr<const BarrierInfo>& info, absl::Status parts,
                         std::vector<state::CheckpointMeta::SinkState> outputs);
  // Starts / stops the committer thread (only with a backend).
  void Start(bool restored);
  void Stop();

  absl::Status Restore(const state::CheckpointMeta& meta);

  uint64_t checkpoints() const { return checkpoints_; }  // after Stop
  uint64_t failures() const { return failures_; }

 private:
  struct PendingCommit {
    std::shared_ptr<const BarrierInfo> info;
    absl::Status parts;  // the workers' and the sinks' part: not OK = the checkpoint failed
    state::CheckpointMeta meta;
  };
  bool in_flight() const { return started_id_ > finished_id_.load(std::memory_order_acquire); }
  absl::Status InjectBarrier(bool savepoint, bool final,
                             std::shared_ptr<const Reconfiguration> rc = nullptr);
  absl::Status WaitForInFlight();
  std::string EncodeRouterState() const;
  absl::Status RestoreKeyedState(state::StateBackend* backend,
                                 const std::vector<std::pair<std::string, uint32_t>>& old_ids);
  void CommitLoop();
  void Commit(const PendingCommit& c);
  void FinishSavepoint(uint64_t id, absl::StatusOr<std::string> result);
  void Log(const std::string& msg) const {
    if (options_.log) options_.log(msg);
  }

  Options options_;
  Stages stages_;
  StatusBoard* board_;
  FailureLatch* failure_;
  // Rules deployed into this job (stored with every checkpoint after the first deploy).
  std::vector<std::pair<std::string, std::string>> deployed_files_;

  mutable std::mutex savepoint_mu_;
  std::condition_variable savepoint_cv_;
  uint64_t savepoint_id_ = 0;  // the last savepoint attempted
  absl::StatusOr<std::string> savepoint_result_ = std::string();

  uint64_t next_id_ = 1;
  uint64_t started_id_ = 0;
  std::atomic<uint64_t> finished_id_{0};
  int64_t next_due_ms_ = 0;  // steady clock
  bool restored_ = false;

  std::thread committer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<PendingCommit> pending_;
  bool closed_ = false;
  uint64_t checkpoints_ = 0;
  uint64_t failures_ = 0;
  uint64_t last_ok_id_ = 0;  // committer thread
  int64_t last_ok_unix_ms_ = 0;
  int64_t last_ok_duration_ms_ = 0;

  metrics::Gauge* m_size_ = nullptr;
  metrics::Gauge* m_state_size_ = nullptr;
  metrics::Counter* m_failures_ = nullptr;
  metrics::Counter* m_count_ = nullptr;
  metrics::Histogram* m_duration_ = nullptr;
};

}  // namespace vigil::engine::runtime
