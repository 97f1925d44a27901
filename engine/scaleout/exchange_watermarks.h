#pragma once
// A reader's view of event time in one repartition partition (docs/scale-out.md): the latest
// watermark and state each input partition's writer reported, and the last offset seen from
// each input partition (to drop the events a writer repeats after a failure).
//
// watermark(): the minimum over the input partitions that are active of their latest
// watermark; Watermark::Max() when every one has ended; Watermark::Min() until every input
// partition has been heard from (a partition never heard from holds everything back, as an
// active one would), and while no partition is active but not all ended (idle ones do not
// move time forward by themselves).
//
// Thread-compatible.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/codec.h"
#include "core/status.h"
#include "core/time.h"
#include "engine/scaleout/exchange_messages.h"

namespace vigil::engine::scaleout {

class ExchangeWatermarks {
 public:
  // A marker arrived. A watermark lower than the one already known for its input partition is
  // ignored (a writer that replays after a failure). Returns true when watermark() moved.
  bool OnMarker(const WatermarkMarker& m);
  // An event from input partition `input` at `offset` arrived: false when it is a repeat
  // (its offset is not above the last one seen from that partition). An event also makes an
  // idle partition active again.
  bool AcceptEvent(uint32_t input, uint64_t offset);

  Watermark watermark() const { return current_; }

  void Encode(Encoder* enc) const;
  absl::Status Decode(Decoder* dec);

 private:
  struct Input {
    bool heard = false;
    Watermark watermark = Watermark::Min();
    InputState state = InputState::kActive;
    bool has_offset = false;
    uint64_t last_offset = 0;
  };
  Input& At(uint32_t i);
  bool Recompute();

  uint32_t expected_ = 0;  // input partitions of the stream (0: unknown yet)
  std::vector<Input> inputs_;
  Watermark current_ = Watermark::Min();
};

}  // namespace vigil::engine::scaleout
