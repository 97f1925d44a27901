#include "engine/scaleout/exchange_watermarks.h"

namespace vigil::engine::scaleout {

ExchangeWatermarks::Input& ExchangeWatermarks::At(uint32_t i) {
  if (i >= inputs_.size()) inputs_.resize(i + 1);
  return inputs_[i];
}

bool ExchangeWatermarks::OnMarker(const WatermarkMarker& m) {
  if (m.input_partitions > expected_) expected_ = m.input_partitions;
  Input& in = At(m.input_partition);
  in.heard = true;
  if (m.watermark > in.watermark) in.watermark = m.watermark;
  // Ended is final; idle and active follow the writer.
  if (in.state != InputState::kEnded) in.state = m.state;
  return Recompute();
}

bool ExchangeWatermarks::AcceptEvent(uint32_t input, uint64_t offset) {
  Input& in = At(input);
  if (in.has_offset && offset <= in.last_offset) return false;
  in.has_offset = true;
  in.last_offset = offset;
  if (in.state == InputState::kIdle) {
    in.state = InputState::kActive;
    Recompute();
  }
  return true;
}

bool ExchangeWatermarks::Recompute() {
  const size_t n = std::max<size_t>(expected_, inputs_.size());
  if (n == 0) return false;
  Watermark wm = Watermark::Max();
  bool any_active = false, all_ended = true;
  for (size_t i = 0; i < n; ++i) {
    if (i >= inputs_.size() || !inputs_[i].heard) {
      wm = Watermark::Min();  // not heard from: holds everything back
      any_active = true;
      all_ended = false;
      continue;
    }
    const Input& in = inputs_[i];
    if (in.state == InputState::kEnded) continue;
    all_ended = false;
    if (in.state == InputState::kIdle) continue;
    any_active = true;
    wm = std::min(wm, in.watermark);
  }
  if (!all_ended && !any_active) return false;  // only idle partitions: time stands still
  if (wm <= current_) return false;
  current_ = wm;
  return true;
}

void ExchangeWatermarks::Encode(Encoder* enc) const {
  enc->U32(expected_);
  enc->I64(current_.ms);
  enc->U64(inputs_.size());
  for (const Input& in : inputs_) {
    enc->Bool(in.heard);
    enc->I64(in.watermark.ms);
    enc->U32(static_cast<uint32_t>(in.state));
    enc->Bool(in.has_offset);
    enc->U64(in.last_offset);
  }
}

absl::Status ExchangeWatermarks::Decode(Decoder* dec) {
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(dec->U32(&expected_));
  VIGIL_RETURN_IF_ERROR(dec->I64(&current_.ms));
  VIGIL_RETURN_IF_ERROR(dec->U64(&n));
  if (n > (1u << 20)) return absl::DataLossError("exchange watermarks: bad count");
  inputs_.assign(n, Input());
  for (Input& in : inputs_) {
    uint32_t state = 0;
    VIGIL_RETURN_IF_ERROR(dec->Bool(&in.heard));
    VIGIL_RETURN_IF_ERROR(dec->I64(&in.watermark.ms));
    VIGIL_RETURN_IF_ERROR(dec->U32(&state));
    if (state > 2) return absl::DataLossError("exchange watermarks: bad state");
    in.state = static_cast<InputState>(state);
    VIGIL_RETURN_IF_ERROR(dec->Bool(&in.has_offset));
    VIGIL_RETURN_IF_ERROR(dec->U64(&in.last_offset));
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine::scaleout
