#pragma once
// Events that arrive already decoded (a scale-out repartition source's records,
// SourceRecord::encoded_event): the core codec's encoding of an Event. Decoded where JSON lines
// would be (on the router, or by a worker's decode task).
#include <string_view>

#include "core/codec.h"
#include "core/event.h"
#include "core/status.h"

namespace vigil::engine::runtime {

// Fills *e from `text`; the event keeps its encoded seq (its origin), belongs to `stream` and
// carries `shard` (the repartition partition it came through). Errors: DataLoss for bytes that
// are not an encoded event.
inline absl::Status DecodeEncodedEvent(std::string_view text, int stream, int shard, Event* e) {
  Decoder dec(text);
  VIGIL_RETURN_IF_ERROR(dec.Ev(e));
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
  e->stream = static_cast<uint32_t>(stream);
  e->shard = static_cast<uint16_t>(shard);
  return absl::OkStatus();
}

}  // namespace vigil::engine::runtime
