#pragma once
// Stable record ids (language.md §8): a sink recognises a record it has already delivered by
// its id, so the id must depend only on what the record is, never on the process, the
// platform, the thread or the order of unrelated records.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"
#include "core/value.h"
#include "engine/record.h"

namespace vigil::engine {

// Returns 16 lowercase hex digits: a 64-bit hash of the rule (or, for kLate, the stream)
// name, the kind, the key (names and typed values, in order), the positions (Event::seq) of the
// record's events in order, and its time. A fixed algorithm (FNV-1a 64 over a length-prefixed,
// little-endian encoding, then a murmur3 finaliser): identical across runs, builds and
// platforms. Distinct inputs give distinct ids with overwhelming probability; the encoding is
// unambiguous (e.g. rule "ab" + key "c" differs from rule "a" + key "bc"). Int and float key
// values hash differently; -0.0 hashes as 0.0 and every NaN alike. Thread-safe (pure).
std::string StableRecordId(std::string_view rule, RecordKind kind,
                           const std::vector<std::pair<std::string, Value>>& key,
                           const std::vector<uint64_t>& event_seqs, EventTime time);

}  // namespace vigil::engine
