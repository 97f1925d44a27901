#pragma once
// A worker: the rules' operators (one RuleOperator per running rule, MakeRuleOperator) for the
// key groups of one contiguous range (Topology::RangeOfWorker). It applies the batches the
// router sends (events, watermarks, checkpoint barriers, decode tasks) in order, and hands the
// records its operators emit to the output stage through its lane, in batches.
//
// Barriers: the worker snapshots its operators' changed keys into the state backend
// (StateKey(operator id, key group, key)) and forwards the barrier on its lane with the
// snapshot's status. A failed write makes the next snapshot rewrite the whole range.
//
// Deploys: a barrier carrying a Reconfiguration switches the worker to the new rules right
// after it forwarded the barrier: operators of unchanged rules (same state id) are kept with
// their state, changed and removed ones are dropped (and, with a backend, their keys deleted in
// the barrier's snapshot), new ones start empty at the current watermark. Records keep going
// to the right sinks when sink indices move (each operator emits through its own adapter that
// maps its rule set's sink indices to the current one).
//
// Inspect requests (the admin API's `alerts --key`) are answered from the operator's state,
// in order with the key's events.
//
// Decode tasks (parallel decoding): the worker decodes the task's lines with its own decoder
// of the stream, precomputes each event's route, and marks the task done; the router
// finalizes it.
//
// Threading: Loop() runs on the worker's own thread, or Handle() is called on the router's
// thread for a single inline worker. Everything else (Create, Restore, stats) before Run or
// after the threads joined.
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "engine/decode/event_decoder.h"
#include "engine/operator/operator.h"
#include "engine/operator/record_router.h"
#include "engine/operator/rule_operator.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/failure.h"
#include "engine/runtime/status_board.h"
#include "engine/runtime/topology.h"
#include "engine/source/shared_source.h"
#include "engine/state/state_backend.h"

namespace vigil::engine::metrics {
class Counter;
class Gauge;
class Metrics;
}  // namespace vigil::engine::metrics

namespace vigil::engine::runtime {

class Worker final : public RecordRouter {
 public:
  // Creates the operators of every running rule. `backend` may be null (no checkpoints),
  // `metrics` too. Errors: MakeRuleOperator's.
  static absl::StatusOr<std::unique_ptr<Worker>> Create(
      int index, std::shared_ptr<const Topology> topology, Exchange* exchange,
      state::StateBackend* backend, const RuleOperatorOptions& options, metrics::Metrics* metrics,
      StatusBoard* board, FailureLatch* failure);

  int index() const { return index_; }

  // Runs until the end marker or until the queue closes; reports errors to the latch.
  void Loop();
  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  // Applies one batch of work; sets *ended after the end marker.
  absl::Status Handle(WorkBatch& batch, bool* ended);

  // Restores one stored key of rule r (keys of this worker's range only).
  absl::Status RestoreKey(size_t rule, uint16_t key_group, std::string_view key,
                          std::string_view value) {
    return ops_[rule].op->Restore(key_group, key, value);
  }
  bool runs(size_t rule) const { return ops_[rule].op != nullptr; }
  OperatorStats stats(size_t rule) const { return ops_[rule].op->stats(); }

  // Scale-out: the changelog of each stream's state (by stream index; null: none). Set
  // before the job runs.
  void SetChangelogs(std::vector<PartitionStateSink*> by_stream) {
    changelogs_ = std::move(by_stream);
  }

  // RecordRouter: records from the operators, batched towards the output stage.
  absl::Status Route(const Record& r, const std::vector<int>& sinks) override;

 private:
  // An operator's way out: maps the sink indices of the rule set the operator was built from
  // to the current rule set's (identity until a deploy moves sinks).
  class OperatorOutput final : public RecordRouter {
   public:
    OperatorOutput(Worker* worker, const cep::RuleSet& built_from);
    absl::Status Route(const Record& r, const std::vector<int>& sinks) override;
    void Remap(const cep::RuleSet& current);

   private:
    Worker* worker_;
    std::vector<std::string> sink_names_;  // of the rule set the operator was built from
    std::vector<int> remap_;               // empty: identity
    std::vector<int> mapped_;
  };
  struct Slot {
    std::unique_ptr<OperatorOutput> output;
    std::unique_ptr<RuleOperator> op;
  };

  Worker(int index, std::shared_ptr<const Topology> topology, Exchange* exchange,
         state::StateBackend* backend, const RuleOperatorOptions& options,
         metrics::Metrics* metrics, StatusBoard* board, FailureLatch* failure);
  absl::StatusOr<Slot> MakeSlot(size_t rule);
  absl::Status Reconfigure(const Reconfiguration& rc);
  void ResolveMetrics();
  absl::Status MaybeFlush();
  absl::Status Flush();
  absl::Status PushLane(OutBatch batch);
  void Decode(DecodeTask& t);
  absl::Status OnBarrier(const std::shared_ptr<const BarrierInfo>& info);
  absl::Status Snapshot(uint64_t checkpoint, const std::vector<uint32_t>& dropped_op_ids);
  absl::Status ResetStream(int stream);
  absl::Status LoadState(int stream,
                         const std::vector<std::pair<std::string, std::string>>& entries);
  void Inspect(const InspectRequest& req);
  void DiscardChanges();
  void UpdateMetrics(bool force = false);

  struct RuleMetrics {
    metrics::Counter* matches = nullptr;
    metrics::Counter* timeouts = nullptr;
    metrics::Counter* dropped = nullptr;
    metrics::Gauge* partial = nullptr;
  };

  const int index_;
  std::shared_ptr<const Topology> topology_;
  Exchange* exchange_;
  state::StateBackend* backend_;
  const RuleOperatorOptions options_;
  metrics::Metrics* metrics_;
  StatusBoard* board_;
  FailureLatch* failure_;
  std::vector<Slot> ops_;  // by rule index; op null if not run
  std::vector<int64_t> watermarks_;  // by stream: the last watermark received
  std::vector<PartitionStateSink*> changelogs_;  // by stream (scale-out)
  std::vector<std::unique_ptr<EventDecoder>> decoders_;  // by stream (parallel decoding)
  std::vector<OperatorStats> last_stats_;
  std::vector<RuleMetrics> rule_metrics_;  // empty without metrics
  OutBatch pending_;
  int64_t pending_since_us_ = 0;  // steady clock, when pending_ got its first record
  bool need_full_ = false;
  int64_t next_metrics_ms_ = 0;
  int64_t next_discard_ms_ = 0;
  metrics::Gauge* depth_ = nullptr;
  std::thread thread_;
};

}  // namespace vigil::engine::runtime
