#pragma once
// Event time on the router (language.md §7): per stream, lateness, the watermark over its
// partitions, the reorder buffer that releases events in (time, arrival) order once the
// watermark passes them, and routing of released events to the workers of every rule reading
// the stream (Exchange). Invalid and late events become dead-letter entries (or `late`
// records for streams with `late to`) on the router's lane.
//
// A stream's partitions are the partitions of all its sources, numbered in input order; an
// event's seq carries its partition in the top 16 bits (kPartitionShift).
//
// Processing-time streams (no `event time`) stamp events with the wall clock when read and
// route them at once: they have no late events. Their watermark is t - 1 after an event at t
// and follows the wall clock on the router's tick.
//
// Thread-compatible: the router's thread only.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec.h"
#include "core/status.h"
#include "engine/decode/event_decoder.h"
#include "engine/operator/reorder_buffer.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/topology.h"
#include "engine/source/shared_source.h"
#include "engine/time/watermark.h"

namespace vigil::engine::metrics {
class Counter;
class Metrics;
class WatermarkLag;
}  // namespace vigil::engine::metrics

namespace vigil::engine::runtime {

struct StreamStats {
  std::string name;
  uint64_t events = 0;   // valid events
  uint64_t invalid = 0;  // to the dead-letter output
  uint64_t late = 0;
};

class StreamRouter {
 public:
  struct Stream {
    Stream(const cep::StreamDef& d, int idx, int parts);
    const cep::StreamDef* def;
    int index;
    EventDecoder decoder;  // decoding on the router (parallelism 1)
    WatermarkTracker tracker;
    ReorderBuffer buffer;
    StreamStats stats;
    int64_t last_processing_time = EventTime::Min().ms;
    int partitions = 0;
    int ended = 0;  // partitions that ended
    metrics::Counter* m_events = nullptr;
    metrics::Counter* m_late = nullptr;
    metrics::Counter* m_invalid = nullptr;
    metrics::WatermarkLag* m_lag = nullptr;
    // Scale-out: the repartition source feeding the stream (events carry a shard; partitions
    // move between processes); null otherwise.
    SharedSource* shared = nullptr;
    int shard = Event::kNoShard;  // the repartition partition this stream is
    bool processing_time() const { return def->event_time_slot < 0; }
    bool all_ended() const { return ended == partitions; }
  };
  // Fills a dead-letter entry's origin (topic, partition, position) for a stream partition's
  // record with source seq `seq` (the input stage knows which source it came from).
  using OriginFn = std::function<void(int stream, int partition, uint64_t seq, DeadLetterItem*)>;

  // partitions[s]: the number of partitions of stream s (0: the stream has no input).
  StreamRouter(std::shared_ptr<const Topology> topology, Exchange* exchange,
               const std::vector<int>& partitions, metrics::Metrics* metrics, OriginFn origin);
  // A deploy: events released from now on go to the new rules (streams are unchanged).
  // Buffered events forget the routes precomputed for the old rules.
  void SetTopology(std::shared_ptr<const Topology> topology);

  Stream* stream(int s) { return streams_[s].get(); }  // null: no input
  const std::vector<std::unique_ptr<Stream>>& streams() const { return streams_; }

  // The arrival time stamped on the next events of a processing-time stream (never going
  // backwards).
  int64_t StampProcessingTime(Stream& s, int64_t now_ms);

  // A decoded event, in read order: lateness, watermark, reorder buffer, routing. `time` is
  // event->time and `route` its precomputed route (or kNoRoute): the event is not read here.
  absl::Status Accept(Stream& s, int partition, EventPtr event, int64_t time, uint64_t route);
  // A record that did not decode: a dead-letter entry with the reason.
  absl::Status Invalid(Stream& s, int partition, uint64_t seq, std::string_view reason,
                       std::string_view text);

  // An explicit watermark (a `$watermark` line, SourceRecord::watermark), in read order with
  // the partition's events: raises the partition's watermark to `wm` (WatermarkTracker::
  // ObserveWatermark) and releases what the stream's watermark now passes. Not an event: not
  // counted. On a processing-time stream (no event time to compare with) it is a dead-letter
  // entry instead, like a malformed one (`seq` and `text` name it there).
  absl::Status ExplicitWatermark(Stream& s, int partition, Watermark wm, uint64_t seq,
                                 std::string_view text);

  // Routes every buffered event the watermark has passed, then publishes the watermark.
  absl::Status Release(Stream& s);
  // A partition ended; when it was the stream's last, the watermark goes to +infinity and
  // everything buffered is released.
  absl::Status EndPartition(Stream& s, int partition);
  // A live partition went idle (`idle after`): it stops holding the watermark back.
  // Returns true when the watermark moved (the caller flushes).
  absl::StatusOr<bool> MarkIdle(Stream& s, int partition);
  // Raises every live processing-time stream's watermark to now - 1; true when one moved.
  absl::StatusOr<bool> AdvanceProcessingTime(int64_t now_ms);
  bool has_processing_time() const { return has_processing_time_; }

  // Scale-out: each repartition partition is a stream of its own (one partition, explicit
  // watermarks only). Its router state is the events it buffers now; a stream whose partition
  // moved to another process is reset (nothing buffered, watermark back to Min, idle) and one
  // that came is restored.
  std::string EncodeBuffered(const Stream& s) const;
  absl::Status RestoreBuffered(Stream& s, std::string_view state);
  void ResetStream(Stream& s);

  // Router state for checkpoints: watermark trackers, processing-time clocks, counters and
  // reorder-buffer contents per stream.
  void Encode(Encoder* enc) const;
  absl::Status Decode(Decoder* dec);

 private:
  absl::Status RouteEvent(Stream& s, EventPtr e, uint64_t route);
  absl::Status Late(Stream& s, const EventPtr& e);

  std::shared_ptr<const Topology> topology_;
  Exchange* exchange_;
  OriginFn origin_;
  std::vector<std::unique_ptr<Stream>> streams_;  // by stream index; null: no input
  bool has_processing_time_ = false;
};

}  // namespace vigil::engine::runtime
