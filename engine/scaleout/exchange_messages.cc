#include "engine/scaleout/exchange_messages.h"

#include "core/codec.h"

namespace vigil::engine::scaleout {

namespace {
constexpr char kEventTag = 'E';
constexpr char kMarkerTag = 'W';
}  // namespace

std::string EncodeEventMessage(const Event& e) {
  std::string out(1, kEventTag);
  Encoder enc(&out);
  enc.Ev(e);
  return out;
}

std::string EncodeMarkerMessage(const WatermarkMarker& m) {
  std::string out(1, kMarkerTag);
  Encoder enc(&out);
  enc.U32(m.input_partition);
  enc.U32(m.input_partitions);
  enc.I64(m.watermark.ms);
  enc.U32(static_cast<uint32_t>(m.state));
  return out;
}

absl::StatusOr<ExchangeMessage> DecodeExchangeMessage(std::string_view bytes, Event* event) {
  if (bytes.empty()) return absl::DataLossError("empty exchange message");
  ExchangeMessage msg;
  Decoder dec(bytes.substr(1));
  switch (bytes[0]) {
    case kEventTag:
      msg.kind = ExchangeMessage::Kind::kEvent;
      VIGIL_RETURN_IF_ERROR(dec.Ev(event));
      break;
    case kMarkerTag: {
      msg.kind = ExchangeMessage::Kind::kMarker;
      uint32_t state = 0;
      VIGIL_RETURN_IF_ERROR(dec.U32(&msg.marker.input_partition));
      VIGIL_RETURN_IF_ERROR(dec.U32(&msg.marker.input_partitions));
      VIGIL_RETURN_IF_ERROR(dec.I64(&msg.marker.watermark.ms));
      VIGIL_RETURN_IF_ERROR(dec.U32(&state));
      if (state > static_cast<uint32_t>(InputState::kEnded)) {
        return absl::DataLossError("exchange marker: unknown input state");
      }
      msg.marker.state = static_cast<InputState>(state);
      break;
    }
    default:
      return absl::DataLossError("not an exchange message (tag " +
                                 std::to_string(static_cast<unsigned char>(bytes[0])) + ")");
  }
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
  return msg;
}

}  // namespace vigil::engine::scaleout
