#pragma once
// The checkpointed position of a Kafka source (Source::Position()): per topic partition, the
// offset of the next record to read. Opaque to the job; versioned so that later formats can
// still read it.
//
//   varint version (1) | Str topic | varint partition count | zigzag varint offset ...
//
// (core/codec.h encodings). Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::engine {

struct KafkaPosition {
  std::string topic;
  std::vector<int64_t> next_offsets;  // by partition
  friend bool operator==(const KafkaPosition&, const KafkaPosition&) = default;
};

std::string EncodeKafkaPosition(const KafkaPosition& p);
// Errors: DataLoss for truncated or malformed bytes, or a version this build does not know;
// InvalidArgument for a negative offset.
absl::StatusOr<KafkaPosition> DecodeKafkaPosition(std::string_view bytes);

}  // namespace vigil::engine
