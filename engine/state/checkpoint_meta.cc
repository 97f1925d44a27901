#include "engine/state/checkpoint_meta.h"

#include "engine/state/codec.h"

namespace vigil::engine::state {
namespace {
constexpr uint32_t kMagic = 0x54454D56;  // "VMET"
constexpr uint32_t kVersion = 3;  // 2: opaque source positions and sink states; 3: rules

// A count read from input may not exceed the bytes left (every item takes >= 1 byte).
absl::Status Count(Decoder& d, uint64_t* n) {
  VIGIL_RETURN_IF_ERROR(d.U64(n));
  if (*n > d.remaining()) return absl::DataLossError("checkpoint metadata: bad count");
  return absl::OkStatus();
}
}  // namespace

std::string EncodeCheckpointMeta(const CheckpointMeta& m) {
  Encoder e;
  e.Fixed32(kMagic);
  e.U32(kVersion);
  e.U64(m.checkpoint_id);
  e.I64(m.created_unix_ms);
  e.U32(m.parallelism);
  e.U32(m.max_key_groups);
  e.U64(m.sources.size());
  for (const auto& s : m.sources) {
    e.Str(s.stream);
    e.Str(s.name);
    e.Str(s.position);
  }
  e.U64(m.sinks.size());
  for (const auto& s : m.sinks) {
    e.Str(s.name);
    e.Str(s.state);
  }
  e.U64(m.watermarks.size());
  for (const auto& w : m.watermarks) {
    e.Str(w.stream);
    e.I64(w.watermark.ms);
  }
  e.Str(m.extra);
  e.U64(m.rules.size());
  for (const auto& [name, text] : m.rules) {
    e.Str(name);
    e.Str(text);
  }
  return std::move(e.buffer());
}

absl::StatusOr<CheckpointMeta> DecodeCheckpointMeta(std::string_view bytes) {
  Decoder d(bytes);
  uint32_t magic, version;
  VIGIL_RETURN_IF_ERROR(d.Fixed32(&magic));
  VIGIL_RETURN_IF_ERROR(d.U32(&version));
  if (magic != kMagic) return absl::DataLossError("checkpoint metadata: bad magic");
  if (version != kVersion) {
    return absl::DataLossError("checkpoint metadata: unsupported version " +
                               std::to_string(version));
  }
  CheckpointMeta m;
  VIGIL_RETURN_IF_ERROR(d.U64(&m.checkpoint_id));
  VIGIL_RETURN_IF_ERROR(d.I64(&m.created_unix_ms));
  VIGIL_RETURN_IF_ERROR(d.U32(&m.parallelism));
  VIGIL_RETURN_IF_ERROR(d.U32(&m.max_key_groups));
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(Count(d, &n));
  m.sources.resize(n);
  for (auto& s : m.sources) {
    VIGIL_RETURN_IF_ERROR(d.Str(&s.stream));
    VIGIL_RETURN_IF_ERROR(d.Str(&s.name));
    VIGIL_RETURN_IF_ERROR(d.Str(&s.position));
  }
  VIGIL_RETURN_IF_ERROR(Count(d, &n));
  m.sinks.resize(n);
  for (auto& s : m.sinks) {
    VIGIL_RETURN_IF_ERROR(d.Str(&s.name));
    VIGIL_RETURN_IF_ERROR(d.Str(&s.state));
  }
  VIGIL_RETURN_IF_ERROR(Count(d, &n));
  m.watermarks.resize(n);
  for (auto& w : m.watermarks) {
    VIGIL_RETURN_IF_ERROR(d.Str(&w.stream));
    VIGIL_RETURN_IF_ERROR(d.I64(&w.watermark.ms));
  }
  VIGIL_RETURN_IF_ERROR(d.Str(&m.extra));
  VIGIL_RETURN_IF_ERROR(Count(d, &n));
  m.rules.resize(n);
  for (auto& [name, text] : m.rules) {
    VIGIL_RETURN_IF_ERROR(d.Str(&name));
    VIGIL_RETURN_IF_ERROR(d.Str(&text));
  }
  VIGIL_RETURN_IF_ERROR(d.ExpectDone());
  return m;
}

}  // namespace vigil::engine::state
