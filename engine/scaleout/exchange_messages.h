#pragma once
// What travels through a repartition topic (docs/scale-out.md): events, each with everything
// the reader needs (decoded values, raw JSON, event time, and its origin as `seq`: input
// partition << 48 | offset), and watermark markers for input partitions. One byte tags the
// kind; the rest is core/codec.h's encoding. Versioned by the tag: unknown tags are DataLoss.
//
// Pure; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"
#include "core/time.h"

namespace vigil::engine::scaleout {

// The state of an input partition, as its writer reports it.
enum class InputState : uint8_t {
  kActive = 0,
  kIdle = 1,   // silent for `idle after`: does not hold the readers' watermark back
  kEnded = 2,  // a bounded input partition that ended: its watermark is +infinity
};

struct WatermarkMarker {
  uint32_t input_partition = 0;
  uint32_t input_partitions = 0;  // of the stream, so readers know how many to wait for
  Watermark watermark = Watermark::Min();
  InputState state = InputState::kActive;
};

// Encodes an event (values, raw, time, seq) for the repartition topic.
std::string EncodeEventMessage(const Event& e);
std::string EncodeMarkerMessage(const WatermarkMarker& m);

struct ExchangeMessage {
  enum class Kind : uint8_t { kEvent, kMarker };
  Kind kind = Kind::kEvent;
  WatermarkMarker marker;  // kMarker
};
// Decodes a message; for an event, fills *event (its values, raw, time, seq, stream).
// Errors: DataLoss for bytes that are not an exchange message.
absl::StatusOr<ExchangeMessage> DecodeExchangeMessage(std::string_view bytes, Event* event);

}  // namespace vigil::engine::scaleout
