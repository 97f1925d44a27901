#pragma once
// The engine's checkpoint metadata: everything besides keyed state that a restart needs to
// resume exactly where a checkpoint was cut. Serialized with codec.h into the opaque blob the
// state backend stores with each checkpoint (StateBackend::CommitCheckpoint) and in
// savepoints.
//
// Encoding: Fixed32 magic "VMET", U32 version (1), then the fields in declaration order
// (vectors as a varint count + items). Decode rejects unknown versions and malformed bytes
// with DataLoss. Thread-compatible value type.
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace vigil::engine::state {

struct CheckpointMeta {
  struct Source {
    std::string stream;  // stream name
    std::string path;    // input path ("-" cannot be rewound)
    uint64_t byte = 0;   // offset of the next unread line
    uint64_t line = 0;   // lines before it
    friend bool operator==(const Source&, const Source&) = default;
  };
  struct SinkOffset {
    std::string path;   // file sink / --output path
    uint64_t byte = 0;  // bytes of output committed at the checkpoint (truncate to this)
    uint64_t records = 0;
    friend bool operator==(const SinkOffset&, const SinkOffset&) = default;
  };
  struct StreamWatermark {
    std::string stream;
    Watermark watermark;
    friend bool operator==(const StreamWatermark&, const StreamWatermark&) = default;
  };

  uint64_t checkpoint_id = 0;
  int64_t created_unix_ms = 0;
  uint32_t parallelism = 1;
  uint32_t max_key_groups = 128;
  std::vector<Source> sources;
  std::vector<SinkOffset> sinks;
  std::vector<StreamWatermark> watermarks;
  // Engine-defined extras (e.g. per-operator non-keyed state), opaque here.
  std::string extra;

  friend bool operator==(const CheckpointMeta&, const CheckpointMeta&) = default;
};

std::string EncodeCheckpointMeta(const CheckpointMeta& meta);
// Errors: DataLoss on malformed input or an unknown version.
absl::StatusOr<CheckpointMeta> DecodeCheckpointMeta(std::string_view bytes);

}  // namespace vigil::engine::state
