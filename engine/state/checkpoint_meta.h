#pragma once
// The engine's checkpoint metadata: everything besides keyed state that a restart needs to
// resume exactly where a checkpoint was cut. Serialized with codec.h into the opaque blob the
// state backend stores with each checkpoint (StateBackend::CommitCheckpoint) and in
// savepoints.
//
// Encoding: Fixed32 magic "VMET", U32 version (3), then the fields in declaration order
// (vectors as a varint count + items). Decode rejects unknown versions and malformed bytes
// with DataLoss. Thread-compatible value type.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace vigil::engine::state {

struct CheckpointMeta {
  // One input of the job (in input order): its stream, its name for messages ("txn.jsonl",
  // "kafka://..."), and its position after the last record the checkpoint covers (opaque:
  // Source::Position()).
  struct Source {
    std::string stream;
    std::string name;
    std::string position;
    friend bool operator==(const Source&, const Source&) = default;
  };
  // One output's state at the checkpoint (opaque: Sink::SnapshotState()): a file's committed
  // size, a network sink's undelivered records. Names: the rules file's sink names, "output"
  // for --output, "dead-letter" for the dead-letter output.
  struct SinkState {
    std::string name;
    std::string state;
    friend bool operator==(const SinkState&, const SinkState&) = default;
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
  std::vector<SinkState> sinks;
  std::vector<StreamWatermark> watermarks;
  // Engine-defined extras (e.g. per-operator non-keyed state), opaque here.
  std::string extra;
  // The rules files (name, text) deployed into the running job (the admin API's deploy); a
  // restart runs these instead of the files on its command line. Empty: none deployed.
  std::vector<std::pair<std::string, std::string>> rules;

  friend bool operator==(const CheckpointMeta&, const CheckpointMeta&) = default;
};

std::string EncodeCheckpointMeta(const CheckpointMeta& meta);
// Errors: DataLoss on malformed input or an unknown version.
absl::StatusOr<CheckpointMeta> DecodeCheckpointMeta(std::string_view bytes);

}  // namespace vigil::engine::state
