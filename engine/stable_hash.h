#pragma once
// FNV-1a 64 over an explicit byte encoding, optionally finished with murmur3's fmix64. What it
// hashes is persisted or shown (record ids, key groups, operator state ids), so it is a fixed
// algorithm: independent of std::hash, the process and the build. Thread-compatible.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil::engine {

// murmur3's 64-bit finaliser: spreads every input bit over the whole word.
inline uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

class StableHasher {
 public:
  void Byte(uint8_t b) {
    h_ ^= b;
    h_ *= 0x100000001b3ull;
  }
  void Bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) Byte(p[i]);
  }
  // Little-endian, whatever the platform.
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  // Length-prefixed, so that "ab" + "c" differs from "a" + "bc".
  void Str(std::string_view s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  // The plain FNV-1a value.
  uint64_t state() const { return h_; }
  // Fmix64 of it: FNV's low bits mix poorly on their own.
  uint64_t Finish() const { return Fmix64(h_); }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace vigil::engine
