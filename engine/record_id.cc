#include "engine/record_id.h"

#include <cmath>
#include <cstring>

#include "engine/stable_hash.h"

namespace vigil::engine {
namespace {

// A typed value: type tag, then its payload. -0.0 hashes as 0.0 and every NaN alike.
void HashValue(const Value& v, StableHasher* h) {
  h->Byte(static_cast<uint8_t>(v.type()));
  switch (v.type()) {
    case Type::kNull:
      return;
    case Type::kBool:
      h->Byte(v.as_bool() ? 1 : 0);
      return;
    case Type::kInt:
    case Type::kTimestamp:
      h->U64(static_cast<uint64_t>(v.as_int()));
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
      h->U64(bits);
      return;
    }
    case Type::kString:
      h->Str(v.as_string());
      return;
  }
}

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
    HashValue(value, &h);
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
