#pragma once
// Key groups (Flink's design): partition keys hash into a fixed number of key groups (the
// maximum parallelism); each worker owns a contiguous range of groups. State is stored by key
// group, so a savepoint can be restored with a different parallelism: groups move, keys don't
// need rehashing. The hash is fixed (not process-seeded) so groups are stable across runs.
#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"
#include "engine/state/state_key.h"

namespace vigil::engine {

inline constexpr uint16_t kMaxKeyGroups = state::kDefaultMaxKeyGroups;

// Stable 64-bit hash of the values at `slots` of `e` (FNV-1a over a typed encoding; int and
// float values that compare equal hash equal).
uint64_t PartitionKeyHash(const std::vector<int>& slots, const Event& e);

inline uint16_t KeyGroupOf(uint64_t key_hash) {
  // Mix so that low-entropy hashes spread, then reduce.
  key_hash ^= key_hash >> 33;
  key_hash *= 0xff51afd7ed558ccdull;
  key_hash ^= key_hash >> 33;
  return state::KeyGroupForHash(key_hash, kMaxKeyGroups);
}

// The key group of a partition key given by its values, as the job's routing computes it.
uint16_t KeyGroupOfValues(const std::vector<Value>& key);

// Appends a canonical, platform-independent encoding of one partition value (type tag, then
// little-endian payload) to *out. Values that compare equal of one type encode equally (-0.0
// and 0.0; every NaN). Operators index and store per-key state by the concatenation.
void AppendKeyEncoding(const Value& v, std::string* out);

// The worker (0..parallelism-1) that owns a key group: contiguous ranges, as Flink's
// KeyGroupRangeAssignment (engine/state/state_key.h holds the formula and its inverse, the
// range of a worker).
inline int WorkerOfKeyGroup(uint16_t key_group, int parallelism) {
  return static_cast<int>(
      state::WorkerForKeyGroup(key_group, kMaxKeyGroups, static_cast<uint32_t>(parallelism)));
}

}  // namespace vigil::engine
