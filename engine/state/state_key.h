#pragma once
// Layout of state keys and key groups (Flink's design).
//
// Every keyed state entry is stored under
//   StateKey(op, key_group, user_key) = be32(op) || be16(key_group) || user_key
// Big-endian prefixes make the keys of one operator and one key group contiguous, and the key
// groups of one operator ordered, so a worker that owns key groups [first, last] after a
// restore with a different parallelism reads exactly one key range per operator
// (KeyGroupRangeBounds + StateBackend::ScanRange).
//
// A key is assigned to a key group by hashing its partition values: KeyGroupForHash(hash,
// max_key_groups). The number of key groups (max parallelism) is fixed for the life of a job
// (it is recorded in checkpoint metadata); the parallelism is not.
//
// Every key the engine stores should be made by StateKey: a key shorter than the 6-byte prefix
// has no key group and is treated as non-keyed (KeyGroupFilter keeps it for every worker), and
// any longer key is read as a StateKey. Non-keyed operator state belongs in the checkpoint
// metadata (checkpoint_meta.h, `extra`).
//
// All functions are pure and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vigil::engine::state {

inline constexpr uint16_t kDefaultMaxKeyGroups = 128;
inline constexpr size_t kStateKeyPrefixSize = 6;  // be32 operator id + be16 key group

// be32(op) || be16(key_group) || user_key.
std::string StateKey(uint32_t op, uint16_t key_group, std::string_view user_key);
// The prefix shared by every key of `op` in `key_group` (StateKey with an empty user key).
std::string StateKeyPrefix(uint32_t op, uint16_t key_group);
// The prefix shared by every key of `op`.
std::string OperatorPrefix(uint32_t op);

// The parts of a key made by StateKey; nullopt when the key is shorter than the prefix.
std::optional<uint32_t> OperatorOf(std::string_view key);
std::optional<uint16_t> KeyGroupOf(std::string_view key);
// The user key (empty when the key is shorter than the prefix).
std::string_view UserKeyOf(std::string_view key);

// An inclusive range of key groups.
struct KeyGroupRange {
  uint16_t first = 0;
  uint16_t last = 0;  // inclusive
  bool Contains(uint16_t kg) const { return kg >= first && kg <= last; }
  bool empty() const { return last < first; }
  friend bool operator==(const KeyGroupRange&, const KeyGroupRange&) = default;
};

// hash % max_key_groups. Requires max_key_groups > 0.
uint16_t KeyGroupForHash(uint64_t hash, uint16_t max_key_groups);
// The key groups owned by worker `index` of `parallelism` (Flink's
// computeKeyGroupRangeForOperatorIndex): contiguous, disjoint, covering [0, max_key_groups).
// Requires 0 < parallelism <= max_key_groups and index < parallelism.
KeyGroupRange KeyGroupRangeForWorker(uint16_t max_key_groups, uint32_t parallelism, uint32_t index);
// The worker owning `key_group` (inverse of KeyGroupRangeForWorker).
uint32_t WorkerForKeyGroup(uint16_t key_group, uint16_t max_key_groups, uint32_t parallelism);

// [begin, end) covering every key of `op` in `range` (end is the next operator's prefix when
// the range ends at key group 65535).
std::pair<std::string, std::string> KeyGroupRangeBounds(uint32_t op, KeyGroupRange range);

}  // namespace vigil::engine::state
