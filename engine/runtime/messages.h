#pragma once
// The typed messages the job's threads exchange (engine/README.md shows the flow):
//
//   router --WorkBatch--> worker i --OutBatch (lane i)--> output stage --> sinks
//   router --OutBatch (lane P: late records, dead letters, barriers)--> output stage
//
// A batch moves whole through a bounded queue (one lock per batch, not per event).
#include <condition_variable>
#include <functional>
#include <optional>
#include <utility>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "core/time.h"
#include "engine/operator/operator.h"
#include "engine/record.h"
#include "engine/sink/sink.h"
#include "engine/source/shared_source.h"
#include "engine/state/checkpoint_meta.h"

namespace vigil::engine::runtime {

class Topology;

// A deploy (the admin API's `deploy`): the rules and sinks a job runs from a barrier on.
// Everything before the barrier is processed by the old rules, everything after by the new.
struct Reconfiguration {
  std::shared_ptr<const Topology> topology;  // the new rule set (same streams)
  // Operator state ids of rules removed or changed: their state is dropped at the barrier.
  std::vector<uint32_t> dropped_op_ids;
  std::vector<std::string> removed_rules;  // names (their firing alerts are forgotten)
  // The sinks by the new rule set's sink index (null: unused), their names and flush policy.
  std::vector<Sink*> sinks;
  std::vector<std::string> sink_names;
  std::vector<bool> flush_when_idle;
  std::vector<Sink*> closed_sinks;  // no longer used: closed at the barrier
  // The deployed rules files (name, text), stored with every later checkpoint.
  std::vector<std::pair<std::string, std::string>> files;
  // Called on the output thread once the new rules and sinks are in place.
  std::function<void(uint64_t barrier_id)> done;
};

// A checkpoint barrier as the router cut it; shared read-only by every lane that carries it.
// A barrier is a checkpoint (with a state backend), a reconfiguration (a deploy), or both.
struct BarrierInfo {
  uint64_t id = 0;
  bool checkpoint = true;  // workers snapshot, sinks snapshot, the coordinator commits
  std::shared_ptr<const Reconfiguration> reconfig;  // non-null: a deploy
  bool savepoint = false;
  bool final = false;  // the job stops after it
  std::string savepoint_path;
  int64_t started_ms = 0;      // steady clock
  state::CheckpointMeta meta;  // sources, watermarks, router state; sinks added at completion
  // Scale-out: the partitions' states each shared source's sink commits with the checkpoint.
  std::vector<std::pair<PartitionStateSink*, std::vector<PartitionCommit>>> partition_commits;
};

// Records read from one stream's sources, decoded by a worker while the router reads on
// (parallel decoding), then finalized by the router in read order: lateness, watermark,
// reorder buffer and routing stay sequential, so results do not depend on which worker
// decoded what.
struct DecodeTask {
  struct Line {
    size_t begin;
    size_t size;
    uint64_t seq;   // the record's seq in its source partition (a file's line number)
    int partition;  // the stream partition it was read from
    bool encoded = false;  // SourceRecord::encoded_event: the codec's Event, not JSON
  };
  struct Decoded {
    EventPtr event;  // null: the line is invalid (its reason is the next entry of `errors`)
    int64_t time;    // event->time, so the router never reads the event
    uint64_t route;  // the worker of each rule reading the stream (Topology::PrecomputeRoute)
  };
  // Signalled by the decoding worker (owned by the decode stage).
  struct Completion {
    std::mutex mu;
    std::condition_variable cv;
  };

  // Filled by the router:
  int stream = 0;
  int shard = Event::kNoShard;  // scale-out: the stream's repartition partition
  int64_t stamp = 0;  // processing-time streams: the arrival time stamped on every event
  std::string text;   // the lines back to back, then kSourcePadding bytes
  std::vector<Line> lines;
  Completion* completion = nullptr;
  // Filled by the decoding worker:
  std::vector<Decoded> decoded;  // by line
  std::vector<std::string> errors;
  bool done = false;  // guarded by completion->mu

  std::string_view line(size_t i) const {
    return std::string_view(text.data() + lines[i].begin, lines[i].size);
  }
  void MarkDone() {
    {
      std::lock_guard<std::mutex> lock(completion->mu);
      done = true;
    }
    completion->cv.notify_all();
  }
};

// The admin API's question about one key, answered by the worker that owns it (in order with
// the key's events).
struct InspectRequest {
  int rule = 0;
  std::vector<Value> key;  // partition values
  std::function<void(std::optional<KeyInspection>)> reply;
};

struct WorkItem {
  enum Kind : uint8_t {
    kEvent,
    kWatermark,
    kBarrier,
    kEnd,
    kDecode,
    kInspect,
    kResetStream,  // scale-out: stream `index`'s rules start empty (its partition moved away)
    kLoadState,    // scale-out: stream `index`'s rules restore these (StateKey, value) entries
  };
  Kind kind = kEvent;
  int32_t index = 0;  // rule (kEvent) or stream (kWatermark)
  int64_t value = 0;  // watermark ms (kWatermark)
  EventPtr event;
  std::shared_ptr<const BarrierInfo> barrier;
  DecodeTask* task = nullptr;  // kDecode; owned by the router's decode stage
  std::shared_ptr<InspectRequest> inspect;  // kInspect
  std::shared_ptr<const std::vector<std::pair<std::string, std::string>>> state;  // kLoadState
};
using WorkBatch = std::vector<WorkItem>;

// An entry for the dead-letter output, written by the output stage in lane order (so that a
// checkpoint's dead-letter offset covers exactly the input before its barrier).
struct DeadLetterItem {
  enum Kind : uint8_t { kInvalid, kLate };
  Kind kind = kInvalid;
  std::string stream;
  // kInvalid: why, and the input as read.
  std::string reason;
  std::string input;
  // Where the record came from (RecordOrigin with an owned topic).
  std::string topic;
  int32_t partition = -1;
  uint64_t position = 0;
  // kLate: the event and the watermark it was late for.
  EventPtr event;
  Watermark watermark;
};

struct OutItem {
  Record record;
  std::vector<int> sinks;  // empty: the default output
  std::shared_ptr<const BarrierInfo> barrier;  // non-null: a barrier
  absl::Status barrier_status;                 // the lane's part of the checkpoint
  bool end = false;                            // the lane's producer is done
  std::unique_ptr<DeadLetterItem> dead_letter;  // non-null: an entry for the dead-letter output

  static OutItem End() {
    OutItem it;
    it.end = true;
    return it;
  }
};
using OutBatch = std::vector<OutItem>;

}  // namespace vigil::engine::runtime
