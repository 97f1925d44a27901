#include "engine/operator/key_group.h"

#include <cstring>

namespace vigil::engine {
namespace {
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;
void Mix(uint64_t* h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    *h ^= p[i];
    *h *= kFnvPrime;
  }
}
}  // namespace

uint64_t PartitionKeyHash(const std::vector<int>& slots, const Event& e) {
  uint64_t h = kFnvOffset;
  for (int slot : slots) {
    const Value& v = e.values[slot];
    unsigned char tag = static_cast<unsigned char>(v.type());
    switch (v.type()) {
      case Type::kNull:
        break;
      case Type::kBool:
      case Type::kTimestamp: {
        int64_t i = v.as_int();
        Mix(&h, &i, sizeof i);
        break;
      }
      case Type::kInt:
      case Type::kFloat: {
        // Numbers that compare equal (1 and 1.0) must land in the same group.
        tag = static_cast<unsigned char>(Type::kFloat);
        double d = v.AsDouble();
        if (d == 0) d = 0;  // -0.0 == 0.0
        Mix(&h, &d, sizeof d);
        break;
      }
      case Type::kString:
        Mix(&h, v.as_string().data(), v.as_string().size());
        break;
    }
    Mix(&h, &tag, 1);
  }
  return h;
}

}  // namespace vigil::engine
