#include "alerting/kafka/pending_records.h"

#include <memory>

#include "core/codec.h"

namespace vigil::alerting {

namespace {

constexpr uint64_t kVersion = 1;
constexpr uint64_t kLastKind = static_cast<uint64_t>(engine::RecordKind::kLate);

// A count read from untrusted bytes: every item takes at least one byte.
absl::Status ReadCount(Decoder& d, uint64_t* n) {
  VIGIL_RETURN_IF_ERROR(d.U64(n));
  if (*n > d.remaining()) return absl::DataLossError("pending records: bad count");
  return absl::OkStatus();
}

void EncodeRecord(const engine::Record& r, Encoder& e) {
  e.Str(r.id);
  e.Str(r.rule);
  e.Str(r.stream);
  e.U64(static_cast<uint64_t>(r.kind));
  e.U64(r.key.size());
  for (const auto& [k, v] : r.key) {
    e.Str(k);
    e.Val(v);
  }
  e.I64(r.time.ms);
  e.U64(r.events.size());
  for (const auto& [var, events] : r.events) {
    e.Str(var);
    e.U64(events.size());
    for (const EventPtr& ev : events) {
      e.Bool(ev != nullptr);
      if (ev != nullptr) e.Ev(*ev);
    }
  }
  e.U64(r.fields.size());
  for (const auto& [k, v] : r.fields) {
    e.Str(k);
    e.Val(v);
  }
  for (const auto* strings : {&r.labels, &r.annotations}) {
    e.U64(strings->size());
    for (const auto& [k, v] : *strings) {
      e.Str(k);
      e.Str(v);
    }
  }
}

absl::Status DecodeRecord(Decoder& d, engine::Record* r) {
  VIGIL_RETURN_IF_ERROR(d.Str(&r->id));
  VIGIL_RETURN_IF_ERROR(d.Str(&r->rule));
  VIGIL_RETURN_IF_ERROR(d.Str(&r->stream));
  uint64_t kind = 0;
  VIGIL_RETURN_IF_ERROR(d.U64(&kind));
  if (kind > kLastKind) return absl::DataLossError("pending records: bad record kind");
  r->kind = static_cast<engine::RecordKind>(kind);
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(ReadCount(d, &n));
  r->key.resize(n);
  for (auto& [k, v] : r->key) {
    VIGIL_RETURN_IF_ERROR(d.Str(&k));
    VIGIL_RETURN_IF_ERROR(d.Val(&v));
  }
  VIGIL_RETURN_IF_ERROR(d.I64(&r->time.ms));
  VIGIL_RETURN_IF_ERROR(ReadCount(d, &n));
  r->events.resize(n);
  for (auto& [var, events] : r->events) {
    VIGIL_RETURN_IF_ERROR(d.Str(&var));
    uint64_t m = 0;
    VIGIL_RETURN_IF_ERROR(ReadCount(d, &m));
    events.resize(m);
    for (EventPtr& ev : events) {
      bool present = false;
      VIGIL_RETURN_IF_ERROR(d.Bool(&present));
      if (!present) continue;
      auto event = std::make_shared<Event>();
      VIGIL_RETURN_IF_ERROR(d.Ev(event.get()));
      ev = std::move(event);
    }
  }
  VIGIL_RETURN_IF_ERROR(ReadCount(d, &n));
  r->fields.resize(n);
  for (auto& [k, v] : r->fields) {
    VIGIL_RETURN_IF_ERROR(d.Str(&k));
    VIGIL_RETURN_IF_ERROR(d.Val(&v));
  }
  for (auto* strings : {&r->labels, &r->annotations}) {
    VIGIL_RETURN_IF_ERROR(ReadCount(d, &n));
    strings->resize(n);
    for (auto& [k, v] : *strings) {
      VIGIL_RETURN_IF_ERROR(d.Str(&k));
      VIGIL_RETURN_IF_ERROR(d.Str(&v));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodePendingRecords(const std::vector<const engine::Record*>& records) {
  Encoder e;
  e.U64(kVersion);
  e.U64(records.size());
  for (const engine::Record* r : records) EncodeRecord(*r, e);
  return std::move(e.buffer());
}

absl::StatusOr<std::vector<engine::Record>> DecodePendingRecords(std::string_view bytes) {
  Decoder d(bytes);
  uint64_t version = 0;
  VIGIL_RETURN_IF_ERROR(d.U64(&version));
  if (version != kVersion) {
    return absl::DataLossError("pending records: unknown version " + std::to_string(version));
  }
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(ReadCount(d, &n));
  std::vector<engine::Record> records;
  for (uint64_t i = 0; i < n; ++i) {  // grown as decoded: a corrupt count allocates nothing
    VIGIL_RETURN_IF_ERROR(DecodeRecord(d, &records.emplace_back()));
  }
  VIGIL_RETURN_IF_ERROR(d.ExpectDone());
  return records;
}

}  // namespace vigil::alerting
