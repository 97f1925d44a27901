#pragma once
// A streaming job (the embedded `vigil run`): rules over sources, on parallel workers with key
// groups, aligned checkpoint barriers and exactly-once file outputs. Job composes the runtime's
// units (engine/runtime/, engine/README.md shows the data flow):
//
//   router thread:  InputStage -> DecodeStage -> StreamRouter -> Exchange
//                   (+ CheckpointCoordinator cutting barriers)
//   worker threads: Worker (one RuleOperator per rule for its key groups)
//   output thread:  OutputStage (sinks, dead-letter output, barrier alignment)
//   committer:      CheckpointCoordinator::CommitLoop (with a state backend)
//
// Results do not depend on the parallelism except for the order of records of different keys.
// With parallelism 1 the single worker runs inline on the router's thread.
//
// Stop (JobOptions::stop set, e.g. by SIGINT/SIGTERM): the router stops reading, takes a final
// checkpoint (with a backend), and Run() returns OK without flushing the reorder buffers (a
// restart resumes from that checkpoint). Savepoint (JobOptions::savepoint_request set, e.g. by
// SIGUSR1): the next checkpoint is also written as a portable savepoint into savepoint_dir.
//
// Live operation (the admin API, the dashboard): Status(), Firing() and rules() read snapshots;
// Deploy() switches the job to new rules at a barrier (no restart, no lost or doubled
// output); Inspect() asks the worker owning a key; Savepoint() writes one now.
//
// Thread-safety: Create, Restore, Run and stats() must be called from one thread; Run() runs
// the other threads internally and joins them before returning. Status, Firing, rules,
// Deploy, Inspect and Savepoint may be called from any thread at any time.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/operator/operator.h"
#include "engine/runtime/input_stage.h"
#include "engine/runtime/output_stage.h"
#include "engine/runtime/status_board.h"
#include "engine/runtime/stream_router.h"
#include "engine/runtime/topology.h"
#include "engine/source/source.h"
#include "engine/state/checkpoint_meta.h"
#include "engine/state/state_backend.h"

namespace vigil::engine {

namespace metrics {
class Metrics;
}

// One input of a job: a source feeding stream `stream` (index in the rule set).
using JobInput = runtime::SourceInput;
// The job's outputs (sinks by index, the default output, the dead-letter writer).
using JobOutputs = runtime::JobOutputs;
using StreamStats = runtime::StreamStats;

// A sink opened for a deploy (owned by whoever opened it; it must outlive the job).
struct OpenedSink {
  Sink* sink = nullptr;
  bool flush_when_idle = true;  // see JobOutputs::flush_when_idle
};

struct JobOptions {
  size_t max_partial_matches = 0;  // per rule and key; 0 = unlimited
  size_t chunk_lines = 4096;       // records polled from one input before moving to the next
  // Wall clock in ms for processing-time streams and `idle after` (tests inject a fake).
  std::function<int64_t()> now_ms;

  int parallelism = 1;  // worker threads (>= 1)
  // With parallelism > 1, the workers decode the records the router reads (in tasks of
  // decode_lines records); the router finalizes them in read order. Results are the same
  // either way; false decodes on the router (tests compare the two).
  bool parallel_decode = true;
  size_t decode_lines = 512;
  size_t batch_items = 512;   // items per queue push
  size_t queue_batches = 16;  // capacity of each worker queue and each output lane, in batches

  // Checkpoints: none without a backend (not owned; must outlive the job).
  state::StateBackend* backend = nullptr;
  // Where Restore() reads keyed state when it is not `backend` (a savepoint restored into a
  // heap backend by a job that takes no checkpoints).
  state::StateBackend* restore_backend = nullptr;
  int64_t checkpoint_interval_ms = 10000;          // <= 0: only the final checkpoint on stop
  std::string savepoint_dir;                       // where savepoints go ("" = no savepoints)
  const std::atomic<bool>* stop = nullptr;         // set asynchronously to stop the job
  std::atomic<bool>* savepoint_request = nullptr;  // set asynchronously; the job clears it

  metrics::Metrics* metrics = nullptr;  // not owned; null = no metrics
  // Deploys: opens a sink the new rules declare that the job does not have yet. Without it,
  // a deploy that needs a new sink is refused.
  std::function<absl::StatusOr<OpenedSink>(const cep::SinkDef&)> open_sink;
  // Sees every record the job writes, on its output thread (the dashboard's tap). Optional.
  std::function<void(const Record&)> record_observer;
  // Progress lines for standard error ("restored checkpoint 3", warnings); may be empty.
  std::function<void(std::string_view)> log;
};

struct RuleStats {
  std::string name;
  OperatorStats op;  // summed over workers
};

struct JobStats {
  std::vector<StreamStats> streams;  // of the streams with inputs, in rule-set order
  std::vector<RuleStats> rules;      // running rules, in rule-set order
  uint64_t records = 0;              // written to sinks (each destination counts)
  uint64_t checkpoints = 0;          // completed by this process
  uint64_t checkpoint_failures = 0;
  uint64_t events() const;
  uint64_t invalid() const;
  uint64_t late() const;
  uint64_t matches() const;
  uint64_t timeouts() const;
};

// What the job shows about itself now (Job::Status).
struct JobSnapshot {
  int64_t started_unix_ms = 0;
  int parallelism = 0;
  std::vector<StreamSnapshot> streams;  // of the streams with inputs
  std::vector<RuleSnapshot> rules;      // running rules, in rule-set order
  struct SinkInfo {
    std::string name;
    std::string kind;
    SinkStats stats;
  };
  std::vector<SinkInfo> sinks;  // the default output ("output") first
  CheckpointSnapshot checkpoint;
};

// What a deploy did (Job::Deploy), by rule name.
struct DeployOutcome {
  std::vector<std::string> unchanged;  // kept their state
  std::vector<std::string> changed;    // state dropped, start fresh
  std::vector<std::string> added;
  std::vector<std::string> removed;    // state dropped
  std::vector<std::string> not_run;    // their stream has no input in this job
  uint64_t barrier_id = 0;
};

class Job {
 public:
  // Outputs are not owned and must outlive the job; sinks are used only by the job's output
  // thread. Rules whose stream has no input are not run. Errors: InvalidArgument if the NFA
  // compiler rejects a pattern, an input names no stream, or the parallelism is out of range.
  static absl::StatusOr<std::unique_ptr<Job>> Create(std::shared_ptr<const cep::RuleSet> rules,
                                                     JobOptions options,
                                                     std::vector<JobInput> inputs,
                                                     JobOutputs outputs);
  ~Job();

  // Resumes from a checkpoint or savepoint whose keyed state is already live in the backend:
  // seeks the inputs, restores the outputs (files cut back to their checkpointed sizes,
  // undelivered records re-queued), watermarks, reorder buffers and counters, and loads every
  // worker's key groups (the parallelism may differ from the checkpoint's). Rules whose
  // fingerprint changed start empty, with a warning naming them. Errors: FailedPrecondition
  // when the inputs do not match the checkpoint's; DataLoss on malformed metadata or state; an
  // input's Seek or an output's Restore.
  absl::Status Restore(const state::CheckpointMeta& meta);

  // Runs until every input has ended (then flushes everything and closes every sink) or
  // until options.stop is set (then takes a final checkpoint and closes the sinks).
  // Errors: an input's read error, a sink's write error, an operator's error.
  absl::Status Run();

  // After Run() returned (or before it started).
  JobStats stats() const;

  JobSnapshot Status() const;
  // The alerts firing now (newest first, at most `limit`) and how many there are.
  std::pair<std::vector<FiringSnapshot>, uint64_t> Firing(size_t limit) const;
  // How many alerts of `rule` are firing now.
  int64_t FiringCount(const std::string& rule) const;
  // The rules running now (the last deployed ones).
  std::shared_ptr<const cep::RuleSet> rules() const;

  // Switches to `rules` (compiled from `files`, which checkpoints store so that a restart runs
  // them) at a barrier: unchanged rules (same definition) keep their state, changed and
  // removed ones drop it, new ones start empty; new sinks are opened (options.open_sink),
  // sinks no longer used are closed. Records before the barrier come from the old rules,
  // records after it from the new: nothing is lost or doubled. Waits until the new rules are
  // in place. Errors (nothing changed): FailedPrecondition when the streams differ from the
  // running ones (streams cannot change without a restart) or a new sink cannot be opened;
  // InvalidArgument when a rule cannot run (its pattern does not compile); Unavailable when
  // the job is ending; DeadlineExceeded when the barrier could not be cut in time.
  absl::StatusOr<DeployOutcome> Deploy(std::shared_ptr<const cep::RuleSet> rules,
                                       std::vector<std::pair<std::string, std::string>> files,
                                       int64_t timeout_ms);
  // The state of one key of a running rule, answered by the worker that owns the key in order
  // with its events (nullopt: the rule holds nothing for it). `key`: the partition values in
  // `partition by` order, typed as the stream declares them. Errors: InvalidArgument (unknown
  // rule, wrong number of values), Unavailable, DeadlineExceeded.
  absl::StatusOr<std::optional<KeyInspection>> Inspect(const std::string& rule,
                                                       const std::vector<Value>& key,
                                                       int64_t timeout_ms);
  // Writes a savepoint now and returns its path. Errors: FailedPrecondition without a state
  // backend or savepoint directory; the checkpoint's error; DeadlineExceeded.
  absl::StatusOr<std::string> Savepoint(int64_t timeout_ms);

 private:
  struct Impl;
  Job() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::engine
