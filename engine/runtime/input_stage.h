#pragma once
// The router's input stage: polls every source of the job round robin (up to `chunk` records
// from each in turn), hands the records to the decode stage, and ends partitions and streams
// when their sources end. It never blocks on one source: when no source has data it waits on
// all of them at once (poll(2) on their descriptors, at most one tick), serving stop requests,
// checkpoints and the wall-clock tick meanwhile.
//
// The tick (every kTickMs of steady time while the job waits, and after each chunk) raises
// processing-time watermarks to the wall clock and marks idle the partitions of `idle after`
// streams whose live source is caught up and has been silent for the stream's idle_after, so
// windows close and timers fire while a live input stays open. Regular files that are not
// followed are never idle: bounded runs stay deterministic.
//
// Each round of reading (and each wait) first calls `on_round(final)`: the job serves control
// requests (deploys, queries) and starts checkpoints there.
//
// Thread-compatible: the router's thread.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/runtime/decode_stage.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/failure.h"
#include "engine/runtime/partition_mover.h"
#include "engine/runtime/status_board.h"
#include "engine/runtime/stream_router.h"
#include "engine/source/source.h"
#include "engine/state/checkpoint_meta.h"

namespace vigil::engine::runtime {

inline constexpr int64_t kTickMs = 20;

struct SourceInput {
  int stream = -1;
  std::unique_ptr<Source> source;
  // Scale-out: partition p of a shared source feeds a stream of its own, partition_streams[p]
  // (as that stream's only partition). Empty: every partition feeds `stream`.
  std::vector<int> partition_streams;
};

class InputStage {
 public:
  struct Options {
    size_t chunk = 4096;                    // records polled from one source at a time
    std::function<int64_t()> now_ms;        // wall clock (tests inject a fake)
    const std::atomic<bool>* stop = nullptr;  // set asynchronously to stop the job
  };

  InputStage(std::vector<SourceInput> inputs, Options options);

  // Stream partitions: the number per stream (input order numbers them), for StreamRouter.
  std::vector<int> PartitionsPerStream(size_t streams) const;
  // Wires the stages (before Run). `checkpoint(final)` starts a checkpoint when one is due
  // (final: the stop checkpoint, always).
  void Connect(StreamRouter* router, DecodeStage* decode, Exchange* exchange,
               FailureLatch* failure, StatusBoard* board,
               std::function<absl::Status(bool final)> on_round);
  // For dead letters: the origin of stream partition `partition`'s record `seq`.
  void DescribeOrigin(int stream, int partition, uint64_t seq, DeadLetterItem* out) const;

  // Reads until every source ended (OK) or a stop was requested (the final checkpoint is
  // taken, then OK with stopped() true).
  absl::Status Run();
  bool stopped() const { return stopped_; }

  // Checkpoints: the sources' positions, in input order; Restore seeks them (a source that
  // cannot rewind, such as standard input, reads on with a warning through `log`).
  std::vector<state::CheckpointMeta::Source> Positions() const;
  absl::Status Restore(const std::vector<state::CheckpointMeta::Source>& positions,
                       const std::function<void(std::string_view)>& log);

  size_t size() const { return inputs_.size(); }

  // Scale-out: at a barrier, each shared source's owned partitions' states (the source's
  // position and the events their streams buffer), for the source's state sink to commit.
  std::vector<std::pair<PartitionStateSink*, std::vector<PartitionCommit>>> SharedStates() const;
  // The changelog of each stream (by stream index; null where none).
  std::vector<PartitionStateSink*> ChangelogsByStream(size_t streams) const;

 private:
  struct Input {
    std::unique_ptr<Source> source;
    StreamRouter::Stream* stream = nullptr;  // (of partition 0)
    int stream_index = -1;
    int first_partition = 0;  // the stream partition of the source's partition 0
    std::vector<int> partition_streams;  // see SourceInput
    std::vector<StreamRouter::Stream*> streams;  // by source partition
    // The stream and stream partition a source partition feeds.
    int stream_of(int p) const { return partition_streams.empty() ? stream_index : partition_streams[p]; }
    int stream_partition(int p) const { return partition_streams.empty() ? first_partition + p : 0; }
    bool ended = false;
    bool waiting = false;      // the last poll found no data
    bool can_idle = false;     // live, event time and `idle after`
    std::vector<int64_t> last_data_ms;  // per source partition (`idle after`)
  };

  absl::Status ReadChunk(Input& in, bool* progress);
  // A shared source's partitions moved (scale-out): PartitionMover applies it.
  absl::Status TakeAssignmentChange(Input& in);
  absl::Status EndInput(Input& in);
  absl::Status WaitForData();
  absl::Status Tick();
  // Streams' counters and watermarks to the status board (at most every kStatusMs).
  void PublishStatus(bool force);
  bool stop_requested() const {
    return options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed);
  }

  std::vector<std::unique_ptr<Input>> inputs_;
  std::unique_ptr<PartitionMover> mover_;
  // [stream][stream partition] -> (input, source partition)
  std::vector<std::vector<std::pair<Input*, int>>> partition_map_;
  Options options_;
  StreamRouter* router_ = nullptr;
  DecodeStage* decode_ = nullptr;
  Exchange* exchange_ = nullptr;
  FailureLatch* failure_ = nullptr;
  StatusBoard* board_ = nullptr;
  std::function<absl::Status(bool)> on_round_;
  int64_t next_status_ms_ = 0;
  std::vector<SourceRecord> batch_;
  size_t remaining_ = 0;
  bool stopped_ = false;
  bool has_idle_inputs_ = false;
  int64_t next_tick_ms_ = 0;  // steady clock
  struct IdleCandidate {
    Input* in;
    int partition;  // source partition
  };
  std::vector<IdleCandidate> idle_candidates_;
};

}  // namespace vigil::engine::runtime
