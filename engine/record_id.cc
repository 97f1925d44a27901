#include "engine/record_id.h"

#include <cmath>
#include <cstring>

namespace vigil::engine {
namespace {

// FNV-1a 64 over an explicit byte encoding: independent of endianness, struct layout and
// std::hash, so ids are the same everywhere.
class StableHasher {
 public:
  void Byte(uint8_t b) {
    h_ ^= b;
    h_ *= 0x100000001b3ull;
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  void Str(std::string_view s) {
    U64(s.size());
    for (char c : s) Byte(static_cast<uint8_t>(c));
  }
  void Val(const Value& v) {
    Byte(static_cast<uint8_t>(v.type()));
    switch (v.type()) {
      case Type::kNull:
        return;
      case Type::kBool:
        Byte(v.as_bool() ? 1 : 0);
        return;
      case Type::kInt:
      case Type::kTimestamp:
        U64(static_cast<uint64_t>(v.as_int()));
        return;
      case Type::kFloat: {
        double d = v.as_float();
        if (d == 0) d = 0;  // -0.0 as 0.0
        uint64_t bits;
        if (std::isnan(d)) {
          bits = 0x7ff8000000000000ull;
        } else {
          std::memcpy(&bits, &d, sizeof bits);
        }
        U64(bits);
        return;
      }
      case Type::kString:
        Str(v.as_string());
        return;
    }
  }
  // murmur3 fmix64: FNV's low bits mix poorly on their own.
  uint64_t Finish() const {
    uint64_t k = h_;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace

std::string StableRecordId(std::string_view rule, RecordKind kind,
                           const std::vector<std::pair<std::string, Value>>& key,
                           const std::vector<uint64_t>& event_seqs, EventTime time) {
  StableHasher h;
  h.Str(rule);
  h.Byte(static_cast<uint8_t>(kind));
  h.U64(key.size());
  for (const auto& [name, value] : key) {
    h.Str(name);
    h.Val(value);
  }
  h.U64(event_seqs.size());
  for (uint64_t s : event_seqs) h.U64(s);
  h.U64(static_cast<uint64_t>(time.ms));
  uint64_t x = h.Finish();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[x & 0xf];
    x >>= 4;
  }
  return out;
}

}  // namespace vigil::engine
