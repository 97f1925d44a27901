#pragma once
// Per-stream event-time watermarks (language.md §7), after Flink's bounded-out-of-orderness
// watermarks: each source partition's watermark is (max event time seen - out-of-order bound
// - 1ms); the stream's watermark is the minimum over its active partitions. A partition that
// has ended stops holding the watermark back; when all have ended the watermark is +infinity.
// A partition marked idle (`idle after D`: silent for D of processing time, decided by the
// caller who owns the clock) is ignored until it delivers an event again. The watermark never
// moves backwards.
//
// An event is late iff its time <= the current watermark when it arrives.
//
// Explicit watermarks (a `$watermark` line of an input that enables them, after Flink's
// processWatermark; docs/language-notes.md): ObserveWatermark(p, T) raises partition p's
// watermark to at least T. A partition's watermark is max(generated, explicit), where
// generated = max seen - bound - 1ms: an explicit watermark can only speed a partition up,
// never hold back what its events already allow, and one lower than the partition's current
// watermark changes nothing. The stream's watermark is still the minimum over the active
// partitions, and lateness is judged against it, as for generated watermarks.
//
// Thread-compatible.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/codec.h"
#include "core/status.h"
#include "core/time.h"

namespace vigil::engine {

class WatermarkTracker {
 public:
  // `partitions` >= 1 source partitions (one per input for now).
  explicit WatermarkTracker(Duration out_of_order, std::optional<Duration> idle_after = {},
                            int partitions = 1);

  // True when an event at `t` arriving now is late (t <= current watermark).
  bool IsLate(EventTime t) const { return current_.Covers(t); }

  // Records an event of `partition` (which becomes active again if idle). Returns true when
  // the stream's watermark advanced. Late events must not be observed (they would not move
  // the watermark anyway).
  bool Observe(int partition, EventTime t);

  // An explicit watermark read from `partition` (which becomes active again if idle): its
  // watermark becomes max(generated, highest explicit so far, wm). Returns true when the
  // stream's watermark advanced.
  bool ObserveWatermark(int partition, Watermark wm);

  // Watermarks only from ObserveWatermark, never derived from event times (a scale-out
  // repartition stream, where each partition interleaves the events of many writers).
  void SetExplicitOnly(bool explicit_only) { explicit_only_ = explicit_only; }

  // The partition has ended (bounded input). Returns true when the watermark advanced.
  bool MarkEnded(int partition);
  // The partition has been silent for idle_after(); it no longer holds the watermark back.
  bool MarkIdle(int partition);
  // Raises the watermark to at least `wm` (processing-time streams, whose watermark follows
  // the caller's clock rather than the events). Returns true when the watermark advanced.
  bool AdvanceTo(Watermark wm);

  Watermark current() const { return current_; }
  std::optional<Duration> idle_after() const { return idle_after_; }
  Duration out_of_order() const { return out_of_order_; }
  int partitions() const { return static_cast<int>(parts_.size()); }
  // The latest event time `partition` has delivered (EventTime::Min() if none).
  EventTime max_seen(int partition) const { return parts_[partition].max_seen; }
  // Marked idle by `idle after` (and not active again since).
  bool idle(int partition) const { return parts_[partition].state == State::kIdle; }
  // `partition`'s own watermark: max(max seen - bound - 1ms, its highest explicit watermark)
  // (Watermark::Min() if it has neither).
  Watermark partition_watermark(int partition) const;

  // Checkpoints: the current watermark and every partition's max seen time, state and
  // explicit watermark (written only when it has one, so checkpoints of runs without
  // explicit watermarks keep the earlier format and old checkpoints still restore).
  void Encode(Encoder* out) const;
  // Restores what Encode wrote. Errors: DataLoss on malformed bytes or a different number of
  // partitions.
  absl::Status Decode(Decoder* in);

 private:
  enum class State : uint8_t { kActive, kIdle, kEnded };
  struct Partition {
    EventTime max_seen = EventTime::Min();
    Watermark explicit_wm = Watermark::Min();  // the highest explicit watermark read
    State state = State::kActive;
  };
  int64_t PartitionWatermark(const Partition& p) const;
  bool Recompute();

  Duration out_of_order_;
  std::optional<Duration> idle_after_;
  std::vector<Partition> parts_;
  Watermark current_ = Watermark::Min();
  bool explicit_only_ = false;
};

}  // namespace vigil::engine
