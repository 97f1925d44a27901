#pragma once
// Records in checkpoints: network sinks store the records they have not delivered yet in
// their SnapshotState blob and re-queue them on Restore, so a record must survive a restart
// exactly (same id, same JSON).
#include <string>
#include <string_view>

#include "core/codec.h"
#include "core/status.h"
#include "engine/record.h"

namespace vigil::alerting {

// Appends `r` in the core binary codec (core/codec.h): id, rule, stream, kind, key, time,
// events (each with its raw JSON), fields, labels, annotations. The encoding is part of the
// checkpoint format of the sinks that use it: change it only with their state version.
void EncodeRecord(const engine::Record& r, Encoder* enc);

// Reads a record written by EncodeRecord. RecordToJson of the result equals RecordToJson of the
// original. Errors: DataLoss on truncated or malformed input, or an unknown record kind.
absl::Status DecodeRecord(Decoder* dec, engine::Record* out);

}  // namespace vigil::alerting
