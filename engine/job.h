#pragma once
// A streaming job (the embedded `vigil run`), on parallel workers with key groups, aligned
// checkpoint barriers and exactly-once file outputs.
//
// Threads and data flow:
//
//   router (the thread calling Run)              workers 0..P-1               output
//   sources -> decoder -> lateness -> reorder  --BoundedQueue-->  RuleOperator --LaneQueue--> sinks
//   buffer -> key group -> worker                 (batches)     per rule      (lane per worker
//                                                                              + one for the
//                                                                              router)
//
// - The router reads the inputs round-robin in chunks of lines, decodes, checks lateness,
//   tracks each stream's watermark (the minimum over its partitions; each input of a stream
//   is one partition) and releases events from the stream's reorder buffer in event-time
//   order. For every rule reading the stream it routes the event to the worker owning the
//   event's key group (PartitionKeyHash -> KeyGroupOf -> WorkerOfKeyGroup, key_group.h), so
//   each key's events reach one operator instance in event-time order. Watermarks are
//   broadcast in-band to every worker after the events they release. Late records go
//   through the router's own output lane. Items travel in batches (JobOptions::batch_items)
//   through bounded queues: a slow worker or sink blocks the router (backpressure).
// - Parallel decoding (parallelism > 1, JobOptions::parallel_decode): decoding is most of the
//   router's work, so the router only copies lines into tasks of decode_lines lines and queues
//   each to the least busy worker, which decodes it with its own decoder and precomputes each
//   event's route (the worker of every rule reading the stream). The router finalizes tasks
//   strictly in read order (dead letters, lateness, watermarks, reorder buffer, routing) and
//   never reads the events themselves, so results and the dead-letter output are identical
//   to decoding on the router. At most 2 * parallelism tasks are in flight; every line read
//   is finalized before a checkpoint barrier, before waiting for input, on the wall-clock tick
//   of live streams and when an input ends.
// - Each worker owns one RuleOperator per rule (MakeRuleOperator) for its key-group range.
// - The output thread writes records to the sinks. Results do not depend on the parallelism
//   except for the order of records of different keys.
// - Checkpoints (with a state backend): every checkpoint_interval_ms the router injects a
//   barrier into every worker queue and its own lane, carrying its state (source offsets,
//   watermarks, reorder-buffer contents, counters). A worker snapshots its operators' changed
//   keys into the backend (StateKey(operator id = hash of RuleDef::fingerprint, key group,
//   key)) and forwards the barrier. The output thread aligns: a lane that delivered barrier k
//   is paused until every lane has; then it flushes the sinks (file sinks fsync), records the
//   durable outputs' byte offsets, resumes the lanes and hands the checkpoint to a committer
//   thread, which takes the backend's checkpoint (RocksDB: rocksdb::Checkpoint) with the
//   metadata (state::CheckpointMeta; router state in `extra`) while records keep flowing.
//   At most one checkpoint is in flight.
//   A failed checkpoint is logged and counted; the job goes on and the previous completed
//   checkpoint stays the restore point.
// - Stop (JobOptions::stop set, e.g. by SIGINT/SIGTERM): the router stops reading, takes a
//   final checkpoint (with a backend), and Run() returns OK without flushing the reorder
//   buffers (a restart resumes from that checkpoint).
// - Savepoint (JobOptions::savepoint_request set, e.g. by SIGUSR1): the next checkpoint is
//   also written as a portable savepoint file into savepoint_dir.
// - Restore: the caller opens the backend and makes the checkpoint's state live
//   (RestoreLatest / RestoreSavepoint), truncates the durable outputs to the offsets in the
//   metadata, then calls Restore(meta) before Run().
//
// Processing-time streams (no `event time`) stamp each event with the wall clock when it is
// read (never going backwards) and route it at once: they have no late events. Their
// watermark is t - 1 after an event at t and follows the wall clock (now - 1, options.now_ms)
// on the router's tick, so windows close and timers fire while a live input stays open.
//
// The tick (every 20 ms while the router waits on a pipe, stdin or a followed file, and after
// each chunk) also drives `idle after D`: a partition whose input is non-seekable or a followed
// file (JsonlSource::SetFollow), waiting for data and silent for D is marked idle and no
// longer holds its stream's watermark back (active again on its next event). Other files are
// never idle. While a live input is silent the router polls every waiting input (a followed
// file: has it grown?) and gives way to any that has data.
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
#include "engine/io/dead_letter.h"
#include "engine/operator/operator.h"
#include "engine/record.h"
#include "engine/source/jsonl_source.h"
#include "engine/state/checkpoint_meta.h"
#include "engine/state/state_backend.h"

namespace vigil::engine {

namespace metrics {
class Metrics;
}

struct JobInput {
  int stream = -1;  // index in the rule set
  std::unique_ptr<JsonlSource> source;
};

// A file output whose byte offset is recorded at each checkpoint (exactly-once on restore).
struct DurableOutput {
  std::string path;
  std::function<uint64_t()> bytes;  // bytes written so far; called on the output thread
};

struct JobOptions {
  size_t max_partial_matches = 0;  // per rule and key; 0 = unlimited
  size_t chunk_lines = 4096;       // lines read from one input before moving to the next
  // Wall clock in ms for processing-time streams (tests inject a fake).
  std::function<int64_t()> now_ms;

  int parallelism = 1;        // worker threads (>= 1)
  // With parallelism > 1, the workers decode the lines the router reads (in tasks of
  // decode_lines lines); the router finalizes them in read order. Results are the same
  // either way; false decodes on the router (tests compare the two).
  bool parallel_decode = true;
  size_t decode_lines = 512;
  size_t batch_items = 512;   // items per queue push
  size_t queue_batches = 16;  // capacity of each worker queue and each output lane, in batches

  // Checkpoints: none without a backend (not owned; must outlive the job).
  state::StateBackend* backend = nullptr;
  int64_t checkpoint_interval_ms = 10000;  // <= 0: only the final checkpoint on stop
  std::vector<DurableOutput> durable_outputs;
  // The default output is one of the durable outputs: it is then flushed (fsync) only at
  // checkpoints and at the end; otherwise (standard output) whenever the output stage idles,
  // so records leave as soon as they exist.
  bool default_output_durable = false;
  std::string savepoint_dir;                       // where savepoints go ("" = no savepoints)
  const std::atomic<bool>* stop = nullptr;         // set asynchronously to stop the job
  std::atomic<bool>* savepoint_request = nullptr;  // set asynchronously; the job clears it

  metrics::Metrics* metrics = nullptr;  // not owned; null = no metrics
  std::vector<std::string> sink_names;  // by sink index, for metrics labels
  // Progress lines for standard error ("restored checkpoint 3", warnings); may be empty.
  std::function<void(std::string_view)> log;
};

struct StreamStats {
  std::string name;
  uint64_t events = 0;   // valid events
  uint64_t invalid = 0;  // to the dead-letter output
  uint64_t late = 0;
};

struct RuleStats {
  std::string name;
  OperatorStats op;  // summed over workers
};

struct JobStats {
  std::vector<StreamStats> streams;  // by stream index
  std::vector<RuleStats> rules;      // instantiated rules, in rule-set order
  uint64_t records = 0;              // written to sinks (each destination counts)
  uint64_t checkpoints = 0;          // completed by this process
  uint64_t checkpoint_failures = 0;
  uint64_t events() const;
  uint64_t invalid() const;
  uint64_t late() const;
  uint64_t matches() const;
  uint64_t timeouts() const;
};

// The state id of a rule's operator: a hash of RuleDef::fingerprint, so a rule whose
// definition is unchanged finds its state again after an edit of the rules file.
uint32_t OperatorStateId(const cep::RuleDef& rule);

class Job {
 public:
  // `sinks[i]` serves the rule set's sink i (null if never referenced); `default_output`
  // serves rules without `to`. Sinks and the dead-letter writer are not owned, must outlive
  // the job, and are used only by the job's output thread (sinks) and the router (dead
  // letter). Rules whose stream has no input are not run. Errors: FailedPrecondition for
  // rules the engine cannot run yet (`window`, `when`); InvalidArgument if the NFA compiler
  // rejects a pattern, an input names no stream, or the parallelism is out of range.
  static absl::StatusOr<std::unique_ptr<Job>> Create(std::shared_ptr<const cep::RuleSet> rules,
                                                     JobOptions options,
                                                     std::vector<JobInput> inputs,
                                                     std::vector<Sink*> sinks, Sink* default_output,
                                                     DeadLetterWriter* dead_letter);
  ~Job();

  // Resumes from a checkpoint or savepoint whose keyed state is already live in the backend
  // (options.backend): seeks the inputs, restores watermarks, reorder buffers and counters,
  // and loads every worker's key groups into its operators (so the parallelism may differ
  // from the checkpoint's). Rules whose fingerprint changed start empty, with a warning
  // naming them (their old state is deleted). Errors: FailedPrecondition when the inputs do
  // not match the checkpoint's; DataLoss on malformed metadata or state; an input's Seek.
  absl::Status Restore(const state::CheckpointMeta& meta);

  // Runs until every input has ended (then flushes everything and every sink) or until
  // options.stop is set (then takes a final checkpoint and flushes the sinks).
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
