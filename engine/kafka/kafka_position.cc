#include "engine/kafka/kafka_position.h"

#include "core/codec.h"

namespace vigil::engine {

namespace {
constexpr uint64_t kVersion = 1;
// More partitions than any topic has; guards the allocation against corrupt counts.
constexpr uint64_t kMaxPartitions = 1 << 20;
}  // namespace

std::string EncodeKafkaPosition(const KafkaPosition& p) {
  Encoder e;
  e.U64(kVersion);
  e.Str(p.topic);
  e.U64(p.next_offsets.size());
  for (int64_t o : p.next_offsets) e.I64(o);
  return std::move(e.buffer());
}

absl::StatusOr<KafkaPosition> DecodeKafkaPosition(std::string_view bytes) {
  Decoder d(bytes);
  uint64_t version = 0;
  VIGIL_RETURN_IF_ERROR(d.U64(&version));
  if (version != kVersion) {
    return absl::DataLossError("kafka position: unknown version " + std::to_string(version));
  }
  KafkaPosition p;
  VIGIL_RETURN_IF_ERROR(d.Str(&p.topic));
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(d.U64(&n));
  if (n > kMaxPartitions || n > d.remaining()) {
    return absl::DataLossError("kafka position: bad partition count " + std::to_string(n));
  }
  p.next_offsets.resize(n);
  for (int64_t& o : p.next_offsets) {
    VIGIL_RETURN_IF_ERROR(d.I64(&o));
    if (o < 0) return absl::InvalidArgumentError("kafka position: negative offset");
  }
  VIGIL_RETURN_IF_ERROR(d.ExpectDone());
  return p;
}

}  // namespace vigil::engine
