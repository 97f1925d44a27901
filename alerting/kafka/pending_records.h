#pragma once
// The state a network sink keeps in a checkpoint (engine/sink/sink.h SnapshotState): the
// records it has accepted but not delivered yet, encoded losslessly (every field, events with
// their values and raw text), so that Restore() can deliver them again and a record that
// then fails still reaches the dead-letter output in full.
//
//   varint version (1) | varint count | record...
//   record: Str id | Str rule | Str stream | varint kind | key | I64 time | events | fields
//           | labels | annotations       (core/codec.h encodings; lists: varint count + items)
//
// Pure functions; thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/record.h"

namespace vigil::alerting {

std::string EncodePendingRecords(const std::vector<const engine::Record*>& records);
// Errors: DataLoss for truncated or malformed bytes or an unknown version.
absl::StatusOr<std::vector<engine::Record>> DecodePendingRecords(std::string_view bytes);

}  // namespace vigil::alerting
