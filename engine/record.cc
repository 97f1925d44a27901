#include "engine/record.h"

#include <string>
#include <string_view>

namespace vigil::engine {

std::string_view RecordKindName(RecordKind k) {
  switch (k) {
    case RecordKind::kMatch:
      return "match";
    case RecordKind::kTimeout:
      return "timeout";
    case RecordKind::kFiring:
      return "firing";
    case RecordKind::kResolved:
      return "resolved";
    case RecordKind::kNodata:
      return "nodata";
    case RecordKind::kLate:
      return "late";
  }
  return "unknown";
}

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The event as received, without surrounding whitespace (a trailing newline or CR would break
// the JSON line). An event without raw text (never expected) is written as {}.
void AppendRawEvent(const EventPtr& e, std::string* out) {
  if (e == nullptr) {
    out->append("null");
    return;
  }
  std::string_view raw = e->raw;
  while (!raw.empty() && IsJsonSpace(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && IsJsonSpace(raw.back())) raw.remove_suffix(1);
  if (raw.empty()) {
    out->append("{}");
  } else {
    out->append(raw);
  }
}

void AppendValueObject(const std::vector<std::pair<std::string, Value>>& kv, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : kv) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(k, out);
    out->push_back(':');
    v.AppendJson(out);
  }
  out->push_back('}');
}

void AppendStringObject(const std::vector<std::pair<std::string, std::string>>& kv,
                        std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : kv) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(k, out);
    out->push_back(':');
    AppendJsonString(v, out);
  }
  out->push_back('}');
}

}  // namespace

std::string RecordToJson(const Record& r) {
  size_t estimate = 160 + r.id.size() + r.rule.size() + r.stream.size();
  for (const auto& [var, events] : r.events) {
    estimate += var.size() + 8;
    for (const EventPtr& e : events) estimate += (e ? e->raw.size() : 4) + 1;
  }
  for (const auto& [k, v] : r.labels) estimate += k.size() + v.size() + 8;
  for (const auto& [k, v] : r.annotations) estimate += k.size() + v.size() + 8;
  estimate += 24 * (r.key.size() + r.fields.size());

  std::string out;
  out.reserve(estimate);
  out.append("{\"id\":");
  AppendJsonString(r.id, &out);
  if (r.kind == RecordKind::kLate) {
    out.append(",\"stream\":");
    AppendJsonString(r.stream, &out);
  } else {
    out.append(",\"rule\":");
    AppendJsonString(r.rule, &out);
  }
  out.append(",\"kind\":\"");
  out.append(RecordKindName(r.kind));
  out.append("\",\"key\":");
  AppendValueObject(r.key, &out);
  out.append(",\"time\":");
  out.append(std::to_string(r.time.ms));
  out.append(",\"events\":{");
  bool first = true;
  for (const auto& [var, events] : r.events) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(var, &out);
    out.append(":[");
    for (size_t i = 0; i < events.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendRawEvent(events[i], &out);
    }
    out.push_back(']');
  }
  out.append("},\"fields\":");
  AppendValueObject(r.fields, &out);
  out.append(",\"labels\":");
  AppendStringObject(r.labels, &out);
  out.append(",\"annotations\":");
  AppendStringObject(r.annotations, &out);
  out.push_back('}');
  return out;
}

}  // namespace vigil::engine
