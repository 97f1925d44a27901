#pragma once
// The Sink port: where output records go (language.md §3, §8). alerting/ implements it
// (file, stdout, webhook, Alertmanager, Kafka); the job's output stage drives it.
//
// Life of a sink in a job (all calls from the output stage's thread, one at a time):
//
//   [Restore(state)]  Write* [Flush] ... SnapshotState(k) ... NotifyCheckpointComplete(k) ...
//   Write* ... Close()
//
// - Write(r) takes one record. A sink that delivers over the network queues it and returns
//   at once; delivery happens on the sink's own thread(s), so a slow or dead endpoint never
//   blocks matching or the other sinks. When its bounded queue is full the sink either
//   blocks in Write (backpressure: the job slows down) or hands the record to the
//   dead-letter output, as its `overflow` option says, and counts it. An error returned by
//   Write stops the job: return one only when records would otherwise be lost (e.g. a file
//   cannot be written).
// - Flush() hands buffered records on towards delivery (the output stage calls it when it
//   idles, so records leave as soon as they exist). It does not wait for network delivery.
// - SnapshotState(k) is called at checkpoint k's barrier, after every record before the
//   barrier was written. The sink makes those records durable (a file: write + fsync) or
//   captures what is not delivered yet (a network sink: its queued and in-flight records),
//   and returns that as an opaque blob stored in checkpoint k. It must not wait for a
//   remote endpoint. Errors fail checkpoint k (the job goes on; the previous checkpoint
//   stays the restore point).
// - NotifyCheckpointComplete(k): checkpoint k is committed (e.g. a transactional producer
//   may commit; the sink may forget what only checkpoint k needed).
// - Restore(state) is called once, before any Write, when the job resumes from a checkpoint
//   whose blob for this sink is `state` (never for a fresh job). A file sink cuts its file
//   back to the recorded size (records after it will be written again, exactly once); a
//   network sink re-queues the records it had not delivered (at-least-once: a receiver may
//   see a record again, always with the same `id`).
// - Close() ends a job whose inputs all ended: deliver everything still queued (retrying as
//   configured; what cannot be delivered goes to the dead-letter output), then stop the
//   sink's threads. After a stop request (SIGTERM) the job calls Close() too, after the
//   final checkpoint.
//
// Thread-safety: the methods above are called from one thread; implementations may run
// their own delivery threads and must make stats() safe to call from any thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
// TEMPORARY (branch kafka): hides the legacy Sink of record.h; drop on merge.
#define VIGIL_ENGINE_SINK_PORT 1
#include "engine/record.h"

namespace vigil::engine {

namespace metrics {
class Metrics;
}

// What a sink's delivery figures are (exported as metrics per sink; shown by the admin API).
struct SinkStats {
  uint64_t sent = 0;           // records delivered (acknowledged by the receiver)
  uint64_t failed = 0;         // attempts that failed (each retry that fails counts)
  uint64_t retried = 0;        // retries made
  uint64_t dead_lettered = 0;  // records given up on (after the last retry, or overflow)
  uint64_t overflowed = 0;     // records that met a full queue (blocked or dead-lettered)
  uint64_t queue_depth = 0;    // records waiting for delivery now
};

// What the job gives each sink it creates.
struct SinkContext {
  std::string name;  // the sink's name in the rules file ("output" for --output)
  // Hands a record the sink gave up on to the dead-letter output with the reason, e.g.
  // "webhook http://...: HTTP 500 after 6 attempts". Thread-safe; may be called from the
  // sink's delivery threads. Never null in a job (tests may leave it empty).
  std::function<void(const Record& r, std::string_view reason)> dead_letter;
  // Wall clock in ms since the epoch (tests inject a fake). Never null in a job.
  std::function<int64_t()> now_ms;
  // Progress and warnings for standard error (never secrets). May be empty.
  std::function<void(std::string_view)> log;
  // Prometheus metrics (null = none). A sink registers its per-sink series through it
  // (labelled with `name`) and updates them from any of its threads.
  metrics::Metrics* metrics = nullptr;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual absl::Status Write(const Record& r) = 0;
  virtual absl::Status Flush() = 0;
  virtual absl::StatusOr<std::string> SnapshotState(uint64_t checkpoint_id) = 0;
  virtual void NotifyCheckpointComplete(uint64_t checkpoint_id) {}
  virtual absl::Status Restore(std::string_view state) = 0;
  virtual absl::Status Close() = 0;
  virtual SinkStats stats() const = 0;
};

}  // namespace vigil::engine
