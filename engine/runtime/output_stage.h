#pragma once
// The output stage (one thread): takes record batches from every lane (one per worker, one for
// the router) and writes them to the sinks and the dead-letter output; aligns checkpoint
// barriers across lanes.
//
// Alignment: a lane that delivered barrier k is paused until every lane has delivered it; the
// records before the barrier are then all written, so the stage snapshots every sink
// (Sink::SnapshotState: files write and fsync, network sinks capture what is undelivered) and
// the dead-letter output (its size), hands the checkpoint to the coordinator, and resumes the
// lanes at once. When the coordinator has committed checkpoint k, the stage tells every sink
// (NotifyCheckpointComplete) on its own thread.
//
// Idle: when no lane has anything, sinks that favour latency are flushed (standard output,
// network sinks, and with live inputs every sink), so records leave as soon as they exist.
// End: once every lane ended, every sink is closed (Close: deliver what is queued).
//
// Thread-safety: Run() on the output thread; the rest as noted.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/io/dead_letter.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/failure.h"
#include "engine/runtime/status_board.h"
#include "engine/sink/sink.h"
#include "engine/state/checkpoint_meta.h"

namespace vigil::engine::metrics {
class Counter;
class Gauge;
class Metrics;
}  // namespace vigil::engine::metrics

namespace vigil::engine::runtime {

// The job's outputs, not owned (they outlive the job).
struct JobOutputs {
  std::vector<Sink*> sinks;  // by rule-set sink index; null: not used by this run
  std::vector<std::string> sink_names;
  Sink* default_output = nullptr;  // rules without `to` (--output)
  // Flushed whenever the stage idles (latency); the others only at checkpoints and the end.
  std::vector<bool> flush_when_idle;  // by sink index
  bool default_flush_when_idle = true;
  DeadLetterWriter* dead_letter = nullptr;
  std::string default_output_kind = "stdout";  // "stdout" or "file" (for status)
};

class OutputStage {
 public:
  // Called on the output thread when every lane delivered barrier `info`: `parts` is the
  // workers' snapshot status, `outputs` the sinks' states (valid when parts is OK).
  using AlignedFn = std::function<absl::Status(
      const std::shared_ptr<const BarrierInfo>& info, absl::Status parts,
      std::vector<state::CheckpointMeta::SinkState> outputs)>;

  // `observer` (may be empty) sees every record written, on the output thread (the
  // dashboard's record tap); `board` (may be null) tracks the alerts firing now.
  OutputStage(Exchange* exchange, JobOutputs outputs, metrics::Metrics* metrics,
              StatusBoard* board, std::function<void(const Record&)> observer,
              FailureLatch* failure, AlignedFn on_aligned);

  // The output thread's loop: until every lane ended (then closes the sinks) or the job fails.
  void Run();
  // Any thread: checkpoint `id` is committed; sinks hear of it on the output thread.
  void CheckpointCommitted(uint64_t id) { committed_.store(id, std::memory_order_release); }
  // Before Run: hands each output its state from the restored checkpoint (by name).
  absl::Status Restore(const std::vector<state::CheckpointMeta::SinkState>& states,
                       const std::function<void(std::string_view)>& log);

  uint64_t records() const { return records_; }  // after Run
  // Every sink the stage writes now, with its name (any thread: a copy under a lock).
  std::vector<std::pair<std::string, Sink*>> sinks() const;

 private:
  absl::Status Loop();
  absl::Status Write(OutItem& item);
  absl::Status WriteDeadLetter(const DeadLetterItem& d);
  absl::Status Snapshot(uint64_t id, std::vector<state::CheckpointMeta::SinkState>* out);
  absl::Status FlushIdle();
  absl::Status CloseAll();
  // A deploy's barrier is aligned: the new sinks take over, sinks no longer used are closed.
  absl::Status Reconfigure(const Reconfiguration& rc, uint64_t barrier_id);
  void ResolveSinkMetrics();
  void NotifyCommitted();
  // Every distinct sink once, with its name: the default output first.
  template <typename Fn>
  absl::Status ForEachSink(Fn&& fn);

  Exchange* exchange_;
  JobOutputs outputs_;
  metrics::Metrics* metrics_;
  StatusBoard* board_;
  std::function<void(const Record&)> observer_;
  mutable std::mutex sinks_mu_;  // guards outputs_.sinks/sink_names against sinks() readers
  FailureLatch* failure_;
  AlignedFn on_aligned_;
  std::atomic<uint64_t> committed_{0};
  uint64_t notified_ = 0;
  uint64_t records_ = 0;
  metrics::Counter* m_default_records_ = nullptr;
  std::vector<metrics::Counter*> m_sink_records_, m_sink_errors_;
  metrics::Gauge* m_depth_ = nullptr;
};

}  // namespace vigil::engine::runtime
