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
// Thread-safety: Create, Restore, Run and stats() must be called from one thread; Run() runs
// the other threads internally and joins them before returning.
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

 private:
  struct Impl;
  Job() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::engine
