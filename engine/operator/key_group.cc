#include "engine/operator/key_group.h"

#include <cmath>
#include <cstring>

#include "engine/stable_hash.h"

namespace vigil::engine {
namespace {
void PutLE(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// One partition value: its payload, then its type tag.
void HashPartitionValue(const Value& v, StableHasher* h) {
  unsigned char tag = static_cast<unsigned char>(v.type());
  switch (v.type()) {
    case Type::kNull:
      break;
    case Type::kBool:
    case Type::kTimestamp: {
      int64_t i = v.as_int();
      h->Bytes(&i, sizeof i);
      break;
    }
    case Type::kInt:
    case Type::kFloat: {
      // Numbers that compare equal (1 and 1.0) must land in the same group.
      tag = static_cast<unsigned char>(Type::kFloat);
      double d = v.AsDouble();
      if (d == 0) d = 0;  // -0.0 == 0.0
      h->Bytes(&d, sizeof d);
      break;
    }
    case Type::kString:
      h->Bytes(v.as_string().data(), v.as_string().size());
      break;
  }
  h->Byte(tag);
}
}  // namespace

uint64_t PartitionKeyHash(const std::vector<int>& slots, const Event& e) {
  StableHasher h;
  for (int slot : slots) HashPartitionValue(e.values[slot], &h);
  return h.state();
}

uint16_t KeyGroupOfValues(const std::vector<Value>& key) {
  StableHasher h;
  for (const Value& v : key) HashPartitionValue(v, &h);
  return KeyGroupOf(h.state());
}

void AppendKeyEncoding(const Value& v, std::string* out) {
  out->push_back(static_cast<char>(v.type()));
  switch (v.type()) {
    case Type::kNull:
      return;
    case Type::kBool:
      out->push_back(v.as_bool() ? 1 : 0);
      return;
    case Type::kInt:
    case Type::kTimestamp:
      PutLE(static_cast<uint64_t>(v.as_int()), 8, out);
      return;
    case Type::kFloat: {
      double d = v.as_float();
      if (d == 0) d = 0;  // -0.0 == 0.0
      uint64_t bits;
      if (std::isnan(d)) {
        bits = 0x7ff8000000000000ull;
      } else {
        std::memcpy(&bits, &d, sizeof bits);
      }
      PutLE(bits, 8, out);
      return;
    }
    case Type::kString:
      PutLE(v.as_string().size(), 4, out);
      out->append(v.as_string());
      return;
  }
}

}  // namespace vigil::engine
