#include "engine/state/state_key.h"

namespace vigil::engine::state {
namespace {

void PutBe32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void PutBe16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

uint8_t Byte(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

}  // namespace

std::string StateKey(uint32_t op, uint16_t key_group, std::string_view user_key) {
  std::string out;
  out.reserve(kStateKeyPrefixSize + user_key.size());
  PutBe32(&out, op);
  PutBe16(&out, key_group);
  out.append(user_key);
  return out;
}

std::string StateKeyPrefix(uint32_t op, uint16_t key_group) { return StateKey(op, key_group, {}); }

std::string OperatorPrefix(uint32_t op) {
  std::string out;
  PutBe32(&out, op);
  return out;
}

std::optional<uint32_t> OperatorOf(std::string_view key) {
  if (key.size() < kStateKeyPrefixSize) return std::nullopt;
  return (uint32_t{Byte(key, 0)} << 24) | (uint32_t{Byte(key, 1)} << 16) |
         (uint32_t{Byte(key, 2)} << 8) | uint32_t{Byte(key, 3)};
}

std::optional<uint16_t> KeyGroupOf(std::string_view key) {
  if (key.size() < kStateKeyPrefixSize) return std::nullopt;
  return static_cast<uint16_t>((Byte(key, 4) << 8) | Byte(key, 5));
}

std::string_view UserKeyOf(std::string_view key) {
  if (key.size() < kStateKeyPrefixSize) return {};
  return key.substr(kStateKeyPrefixSize);
}

uint16_t KeyGroupForHash(uint64_t hash, uint16_t max_key_groups) {
  return static_cast<uint16_t>(hash % max_key_groups);
}

KeyGroupRange KeyGroupRangeForWorker(uint16_t max_key_groups, uint32_t parallelism,
                                     uint32_t index) {
  const uint64_t max = max_key_groups;
  const uint64_t first = (index * max + parallelism - 1) / parallelism;
  const uint64_t end = ((index + 1) * max + parallelism - 1) / parallelism;  // exclusive
  if (end == first) return KeyGroupRange{1, 0};                              // empty
  return KeyGroupRange{static_cast<uint16_t>(first), static_cast<uint16_t>(end - 1)};
}

uint32_t WorkerForKeyGroup(uint16_t key_group, uint16_t max_key_groups, uint32_t parallelism) {
  return static_cast<uint32_t>(uint64_t{key_group} * parallelism / max_key_groups);
}

std::pair<std::string, std::string> KeyGroupRangeBounds(uint32_t op, KeyGroupRange range) {
  std::string begin = StateKeyPrefix(op, range.first);
  std::string end;
  if (range.last == UINT16_MAX) {
    end = op == UINT32_MAX ? std::string(kStateKeyPrefixSize + 1, '\xff') : OperatorPrefix(op + 1);
  } else {
    end = StateKeyPrefix(op, static_cast<uint16_t>(range.last + 1));
  }
  return {std::move(begin), std::move(end)};
}

}  // namespace vigil::engine::state
