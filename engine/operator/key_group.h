#pragma once
// Key groups (Flink's design): partition keys hash into a fixed number of key groups (the
// maximum parallelism); each worker owns a contiguous range of groups. State is stored by key
// group, so a savepoint can be restored with a different parallelism: groups move, keys don't
// need rehashing. The hash is fixed (not process-seeded) so groups are stable across runs.
#include <cstdint>
#include <vector>

#include "core/event.h"

namespace vigil::engine {

inline constexpr uint16_t kMaxKeyGroups = 128;

// Stable 64-bit hash of the values at `slots` of `e` (FNV-1a over a typed encoding; int and
// float values that compare equal hash equal).
uint64_t PartitionKeyHash(const std::vector<int>& slots, const Event& e);

inline uint16_t KeyGroupOf(uint64_t key_hash) {
  // Mix so that low-entropy hashes spread, then reduce.
  key_hash ^= key_hash >> 33;
  key_hash *= 0xff51afd7ed558ccdull;
  key_hash ^= key_hash >> 33;
  return static_cast<uint16_t>(key_hash % kMaxKeyGroups);
}

// The worker (0..parallelism-1) that owns a key group: contiguous ranges, as Flink's
// KeyGroupRangeAssignment.
inline int WorkerOfKeyGroup(uint16_t key_group, int parallelism) {
  return static_cast<int>(static_cast<uint32_t>(key_group) * static_cast<uint32_t>(parallelism) /
                          kMaxKeyGroups);
}

}  // namespace vigil::engine
