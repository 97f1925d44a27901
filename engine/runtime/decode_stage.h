#pragma once
// Decoding of the records the input stage reads, in one of two modes:
// - inline (parallelism 1, or parallel decoding off): each record is decoded on the router's
//   thread by its stream's decoder and handed to the StreamRouter at once.
// - parallel: the router only copies records into tasks of `decode_lines` records of one
//   stream; a full task goes to the least busy worker's queue (behind the work already routed
//   to it), which decodes it and precomputes each event's route; the router reads on. At most
//   `max_in_flight` tasks are out; the oldest is finalized (StreamRouter::Accept / Invalid, in
//   read order) once decoded, so results and the dead-letter output are identical to inline
//   decoding. Drain() finalizes everything read so far: before a checkpoint (its positions and
//   router state then cover exactly the records processed), before waiting for input, on the
//   wall-clock tick of live streams, and when an input ends.
//
// Explicit watermark records (SourceRecord::watermark, `$watermark` lines) are not decoded:
// in read order with the events around them, they go to StreamRouter::ExplicitWatermark (or,
// malformed, to the dead-letter output). When records read before one are still being
// decoded, it waits (on the router, with the task it follows) until those are finalized, so
// parallel decoding never reorders a watermark and the events of its partition.
//
// Thread-compatible: the router's thread (workers only decode the tasks they are given).
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/failure.h"
#include "engine/runtime/messages.h"
#include "engine/runtime/stream_router.h"
#include "engine/source/source.h"

namespace vigil::engine::runtime {

class DecodeStage {
 public:
  DecodeStage(Exchange* exchange, StreamRouter* router, bool parallel, size_t decode_lines,
              FailureLatch* failure, std::function<int64_t()> now_ms);

  // A record of stream partition `partition` of stream `stream` (an event line, or an
  // explicit watermark record).
  absl::Status Add(int stream, int partition, const SourceRecord& r);
  // Sends the task being filled (the end of a chunk of reading).
  absl::Status Dispatch();
  // Finalizes every record added so far.
  absl::Status Drain();

 private:
  // An explicit watermark record, kept (with copies of what it needs) until the records read
  // before it are finalized.
  struct PendingWatermark {
    size_t before = 0;  // finalized before this line of its task (SIZE_MAX: after the task)
    int stream = 0;
    int partition = 0;
    uint64_t seq = 0;
    int64_t ms = 0;
    std::string error;  // not empty: malformed (the dead-letter reason)
    std::string text;
  };
  struct InFlight {
    DecodeTask* task;
    std::vector<PendingWatermark> watermarks;  // read while the task was being filled
  };

  absl::Status AddWatermark(int stream, int partition, const SourceRecord& r);
  absl::Status ApplyWatermark(const PendingWatermark& w);
  absl::Status DecodeInline(StreamRouter::Stream& s, int partition, const SourceRecord& r);
  absl::Status FinalizeOldest();

  Exchange* exchange_;
  StreamRouter* router_;
  const bool parallel_;
  const size_t decode_lines_;
  const size_t max_in_flight_;
  FailureLatch* failure_;
  std::function<int64_t()> now_ms_;

  DecodeTask::Completion completion_;
  std::vector<std::unique_ptr<DecodeTask>> tasks_;  // every task ever made
  std::vector<DecodeTask*> free_tasks_;
  std::deque<InFlight> in_flight_;  // dispatched, in read order
  DecodeTask* current_ = nullptr;   // being filled
  std::vector<PendingWatermark> current_watermarks_;  // read while current_ was being filled
  int next_worker_ = 0;
};

}  // namespace vigil::engine::runtime
