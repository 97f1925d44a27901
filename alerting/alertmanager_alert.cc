#include "alerting/alertmanager_alert.h"

#include <ctime>
#include <map>

#include "engine/io/dead_letter.h"

namespace vigil::alerting {

std::string SanitizeLabelName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
    out.push_back(ok ? c : '_');
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

LabelSet AlertLabels(const engine::Record& r) {
  std::map<std::string, std::string> sorted;
  if (r.kind == engine::RecordKind::kLate && r.labels.empty()) {
    sorted["alertname"] = "late_event";
    sorted["stream"] = r.stream;
  }
  for (const auto& [name, value] : r.labels) {
    std::string n = SanitizeLabelName(name);
    if (n.empty()) continue;
    if (value.empty()) {
      sorted.erase(n);
    } else {
      sorted[std::move(n)] = value;
    }
  }
  if (sorted.find("alertname") == sorted.end()) {
    sorted["alertname"] = r.rule.empty() ? std::string("vigil") : r.rule;
  }
  return LabelSet(sorted.begin(), sorted.end());
}

std::string FormatRfc3339Ms(int64_t ms) {
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

namespace {
void AppendObject(const std::vector<std::pair<std::string, std::string>>& kv, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < kv.size(); ++i) {
    if (i > 0) out->push_back(',');
    engine::AppendJsonStringSanitized(kv[i].first, out);
    out->push_back(':');
    engine::AppendJsonStringSanitized(kv[i].second, out);
  }
  out->push_back('}');
}
}  // namespace

std::string AlertPrefix(const LabelSet& labels, const engine::Record& r, int64_t starts_at_ms,
                        std::string_view generator_url) {
  std::string out = "{\"labels\":";
  AppendObject(labels, &out);
  out += ",\"annotations\":";
  AppendObject(r.annotations, &out);
  out += ",\"startsAt\":\"" + FormatRfc3339Ms(starts_at_ms) + "\",\"generatorURL\":";
  engine::AppendJsonStringSanitized(generator_url, &out);
  return out;
}

void CloseAlert(int64_t ends_at_ms, std::string* out) {
  *out += ",\"endsAt\":\"" + FormatRfc3339Ms(ends_at_ms) + "\"}";
}

}  // namespace vigil::alerting
