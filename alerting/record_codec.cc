#include "alerting/record_codec.h"

#include <memory>
#include <utility>
#include <vector>

namespace vigil::alerting {

namespace {

void EncodeValues(const std::vector<std::pair<std::string, Value>>& kv, Encoder* enc) {
  enc->U64(kv.size());
  for (const auto& [k, v] : kv) {
    enc->Str(k);
    enc->Val(v);
  }
}

void EncodeStrings(const std::vector<std::pair<std::string, std::string>>& kv, Encoder* enc) {
  enc->U64(kv.size());
  for (const auto& [k, v] : kv) {
    enc->Str(k);
    enc->Str(v);
  }
}

// A count that cannot exceed the remaining input (every item takes at least one byte), so a
// corrupt count is rejected before anything is allocated.
absl::Status Count(Decoder* dec, uint64_t* n) {
  VIGIL_RETURN_IF_ERROR(dec->U64(n));
  if (*n > dec->remaining()) return absl::DataLossError("record: count beyond the input");
  return absl::OkStatus();
}

absl::Status DecodeValues(Decoder* dec, std::vector<std::pair<std::string, Value>>* out) {
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(Count(dec, &n));
  out->resize(n);
  for (auto& [k, v] : *out) {
    VIGIL_RETURN_IF_ERROR(dec->Str(&k));
    VIGIL_RETURN_IF_ERROR(dec->Val(&v));
  }
  return absl::OkStatus();
}

absl::Status DecodeStrings(Decoder* dec, std::vector<std::pair<std::string, std::string>>* out) {
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(Count(dec, &n));
  out->resize(n);
  for (auto& [k, v] : *out) {
    VIGIL_RETURN_IF_ERROR(dec->Str(&k));
    VIGIL_RETURN_IF_ERROR(dec->Str(&v));
  }
  return absl::OkStatus();
}

}  // namespace

void EncodeRecord(const engine::Record& r, Encoder* enc) {
  enc->Str(r.id);
  enc->Str(r.rule);
  enc->Str(r.stream);
  enc->U32(static_cast<uint32_t>(r.kind));
  EncodeValues(r.key, enc);
  enc->I64(r.time.ms);
  enc->U64(r.events.size());
  for (const auto& [var, events] : r.events) {
    enc->Str(var);
    enc->U64(events.size());
    for (const EventPtr& e : events) {
      // A null event (never expected) is stored as an empty one; it renders as {}.
      enc->Ev(e != nullptr ? *e : Event{});
    }
  }
  EncodeValues(r.fields, enc);
  EncodeStrings(r.labels, enc);
  EncodeStrings(r.annotations, enc);
}

absl::Status DecodeRecord(Decoder* dec, engine::Record* out) {
  VIGIL_RETURN_IF_ERROR(dec->Str(&out->id));
  VIGIL_RETURN_IF_ERROR(dec->Str(&out->rule));
  VIGIL_RETURN_IF_ERROR(dec->Str(&out->stream));
  uint32_t kind;
  VIGIL_RETURN_IF_ERROR(dec->U32(&kind));
  if (kind > static_cast<uint32_t>(engine::RecordKind::kLate)) {
    return absl::DataLossError("record: unknown kind " + std::to_string(kind));
  }
  out->kind = static_cast<engine::RecordKind>(kind);
  VIGIL_RETURN_IF_ERROR(DecodeValues(dec, &out->key));
  int64_t time;
  VIGIL_RETURN_IF_ERROR(dec->I64(&time));
  out->time = EventTime(time);
  uint64_t vars;
  VIGIL_RETURN_IF_ERROR(Count(dec, &vars));
  out->events.resize(vars);
  for (auto& [var, events] : out->events) {
    VIGIL_RETURN_IF_ERROR(dec->Str(&var));
    uint64_t n;
    VIGIL_RETURN_IF_ERROR(Count(dec, &n));
    events.clear();
    events.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      auto e = std::make_shared<Event>();
      VIGIL_RETURN_IF_ERROR(dec->Ev(e.get()));
      events.push_back(std::move(e));
    }
  }
  VIGIL_RETURN_IF_ERROR(DecodeValues(dec, &out->fields));
  VIGIL_RETURN_IF_ERROR(DecodeStrings(dec, &out->labels));
  return DecodeStrings(dec, &out->annotations);
}

}  // namespace vigil::alerting
