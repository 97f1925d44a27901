// `vigil ctl`: a client of a running job's admin API (commands.h; admin/grpc_client.h).
// Human-readable tables by default, JSON with --output json (admin/status_json.h,
// admin/control_json.h); errors on stderr as "vigil ctl: ...".
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "admin/control_json.h"
#include "admin/grpc_client.h"
#include "admin/status_json.h"
#include "src/commands.h"

namespace vigil::app {
namespace {

using admin::AdminClient;

// Columns padded to their widest cell, three spaces apart (as kubectl prints them).
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 3, ' ');
      }
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "2024-05-01T10:00:00.000Z".
std::string FormatTimeMs(int64_t ms) {
  int64_t secs = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(ms) + "ms";
  char buf[96];  // room for any int fields (-Wformat-truncation); real dates take 24
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::string FormatWatermark(Watermark wm) {
  if (wm == Watermark::Min()) return "-";
  if (wm == Watermark::Max()) return "ended";
  return FormatTimeMs(wm.ms);
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string FormatMs(const std::optional<double>& v) {
  if (!v.has_value()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fms", *v);
  return buf;
}

// "1 alert", "2 alerts"; "1 match", "2 matches" (with the plural given).
std::string Count(size_t n, const std::string& one, const std::string& many = "") {
  return std::to_string(n) + " " + (n == 1 ? one : many.empty() ? one + "s" : many);
}

std::string JoinKey(const std::vector<std::pair<std::string, Value>>& key) {
  std::string s;
  for (const auto& [name, value] : key) {
    if (!s.empty()) s += ",";
    s += name + "=" + value.ToString();
  }
  return s.empty() ? "-" : s;
}

std::string JoinPairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string s;
  for (const auto& [name, value] : pairs) {
    if (!s.empty()) s += ",";
    s += name + "=" + value;
  }
  return s.empty() ? "-" : s;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string StatusText(const admin::JobStatus& s) {
  std::string out = "job: up " + FormatDuration(s.uptime) + ", parallelism " +
                    std::to_string(s.parallelism) + "\n";
  const admin::CheckpointStatus& c = s.checkpoint;
  out += "checkpoints: ";
  if (!c.enabled) {
    out += "off (no --state)";
  } else if (c.last_id == 0) {
    out += "none yet";
  } else {
    out += "last #" + std::to_string(c.last_id);
    if (c.last_time.has_value()) {
      out += " at " + FormatTimeMs(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       c.last_time->time_since_epoch())
                                       .count());
    }
    out += " (took " + FormatDuration(c.last_duration) + ")";
  }
  if (c.enabled) {
    out += ", " + Count(c.failures, "failure");
    if (c.in_flight) out += ", one in flight";
  }
  out += "\n\n";

  Table streams({"STREAM", "EVENTS", "LATE", "INVALID", "WATERMARK", "LAG", "INPUTS"});
  for (const admin::StreamStatus& st : s.streams) {
    size_t idle = 0;
    for (const admin::PartitionStatus& p : st.partitions) idle += p.idle ? 1 : 0;
    std::string inputs = std::to_string(st.partitions.size());
    if (idle > 0) inputs += " (" + std::to_string(idle) + " idle)";
    streams.Add({st.name, std::to_string(st.events), std::to_string(st.late),
                 std::to_string(st.invalid), FormatWatermark(st.watermark),
                 st.lag.has_value() ? FormatDuration(*st.lag) : "-", inputs});
  }
  out += streams.Render() + "\n";

  Table rules({"RULE", "KIND", "STREAM", "EVENTS", "EVENTS/S", "MATCHES", "TIMEOUTS", "PARTIAL",
               "KEYS", "DROPPED", "FIRING"});
  for (const admin::RuleStatus& r : s.rules) {
    rules.Add({r.name, std::string(admin::RuleKindName(r.kind)), r.stream.empty() ? "-" : r.stream,
               std::to_string(r.events), FormatNumber(r.events_per_second),
               std::to_string(r.matches), std::to_string(r.timeouts),
               std::to_string(r.partial_matches), std::to_string(r.live_keys),
               std::to_string(r.dropped_partial_matches), std::to_string(r.firing)});
  }
  out += rules.Render() + "\n";

  Table sinks(
      {"SINK", "KIND", "SENT", "FAILED", "RETRIED", "DEAD-LETTERED", "QUEUE", "P50", "P99"});
  for (const admin::SinkStatus& k : s.sinks) {
    sinks.Add({k.name, k.kind, std::to_string(k.sent), std::to_string(k.failed),
               std::to_string(k.retried), std::to_string(k.dead_lettered),
               std::to_string(k.queue_depth), FormatMs(k.latency_p50_ms),
               FormatMs(k.latency_p99_ms)});
  }
  out += sinks.Render();
  return out;
}

// "applied at barrier 7: unchanged a, b; changed c (state dropped); added d; removed e (state
// dropped)"; empty groups are left out.
std::string DeployText(const admin::DeployResult& r) {
  std::vector<std::string> parts;
  if (!r.unchanged.empty()) parts.push_back("unchanged " + JoinNames(r.unchanged));
  if (!r.changed.empty()) parts.push_back("changed " + JoinNames(r.changed) + " (state dropped)");
  if (!r.added.empty()) parts.push_back("added " + JoinNames(r.added));
  if (!r.removed.empty()) parts.push_back("removed " + JoinNames(r.removed) + " (state dropped)");
  std::string out = "applied at barrier " + std::to_string(r.barrier_id) + ":";
  if (parts.empty()) return out + " no rules\n";
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? " " : "; ") + parts[i];
  return out + "\n";
}

std::string AlertsText(const admin::AlertsReply& r, bool with_key) {
  std::string out;
  if (!r.firing.alerts.empty()) {
    Table t({"RULE", "KEY", "SINCE", "LABELS"});
    for (const admin::FiringAlert& a : r.firing.alerts) {
      t.Add({a.rule, JoinKey(a.key), FormatTimeMs(a.since.ms), JoinPairs(a.labels)});
    }
    out += t.Render();
  }
  out += std::to_string(r.firing.total) + (r.firing.total == 1 ? " alert" : " alerts") + " firing";
  if (r.firing.alerts.size() < r.firing.total) {
    out += " (" + std::to_string(r.firing.alerts.size()) + " shown)";
  }
  if (!with_key) {
    out += "; " + Count(static_cast<size_t>(std::max<int64_t>(r.partial_matches, 0)),
                        "open partial match", "open partial matches");
  }
  out += "\n";
  if (!with_key) return out;
  if (r.keys.empty()) return out + "no state for this key\n";
  for (const admin::KeyState& k : r.keys) {
    out += "\n" + k.rule + " " + JoinKey(k.key) + ": ";
    out += k.firing ? "firing" : "not firing";
    if (k.firing && k.firing_since.has_value()) out += " since " + FormatTimeMs(k.firing_since->ms);
    out +=
        "; " + Count(k.partial_matches.size(), "open partial match", "open partial matches") + "\n";
    if (k.partial_matches.empty()) continue;
    Table t({"STARTED", "BOUND"});
    for (const admin::PartialMatch& pm : k.partial_matches) {
      std::string bound;
      for (const auto& [variable, events] : pm.bound) {
        bound += (bound.empty() ? "" : " ") + variable + "=" + std::to_string(events);
      }
      t.Add({FormatTimeMs(pm.started.ms), bound.empty() ? "-" : bound});
    }
    out += t.Render();
  }
  return out;
}

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "vigil ctl: %s\n", message.c_str());
  return code;
}

// Maps a failed call to a message and an exit code.
int CallFailed(const absl::Status& s, const CtlOptions& opts, const std::string& address) {
  const std::string msg(s.message());
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
      return Fail(kExitRuntime, "cannot reach " + address + ": " + msg);
    case absl::StatusCode::kUnauthenticated:
      return Fail(kExitRuntime, opts.token_file.empty()
                                    ? "the admin API refused the call: it needs a token "
                                      "(--admin-token-file)"
                                    : "the admin API refused the token (" + opts.token_file + ")");
    case absl::StatusCode::kDeadlineExceeded:
      return Fail(kExitRuntime, "no answer from " + address + " within " + opts.timeout +
                                    (msg.empty() ? "" : " (" + msg + ")"));
    case absl::StatusCode::kInvalidArgument:
      return Fail(kExitUsage, msg);
    default:
      return Fail(kExitRuntime,
                  "the job answered " + absl::StatusCodeToString(s.code()) + ": " + msg);
  }
}

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return false;
  *text = buf.str();
  return true;
}

}  // namespace

int CtlCommand(const CtlOptions& opts) {
  const bool json = opts.output == "json";
  int64_t timeout_ms = 0;
  if (!ParseDurationMs(opts.timeout, &timeout_ms) || timeout_ms <= 0) {
    return Fail(kExitUsage, "bad --timeout '" + opts.timeout + "' (e.g. 30s, 500ms)");
  }
  admin::AlertsQuery query;
  if (opts.command == "alerts") {
    query.rule = opts.rule;
    for (const std::string& kv : opts.keys) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Fail(kExitUsage, "bad --key '" + kv + "' (expected FIELD=VALUE)");
      }
      query.key.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (!query.key.empty() && query.rule.empty()) {
      return Fail(kExitUsage, "--key needs --rule (keys belong to a rule's partition)");
    }
    if (opts.limit != 0) query.limit = opts.limit;
  }
  std::vector<admin::RulesFile> files;
  if (opts.command == "deploy") {
    for (const std::string& path : opts.files) {
      admin::RulesFile f{path, ""};
      if (!ReadFile(path, &f.text)) {
        return Fail(kExitUsage, "cannot read rules file " + path + ": " + std::strerror(errno));
      }
      files.push_back(std::move(f));
    }
  }

  absl::StatusOr<std::unique_ptr<AdminClient>> client =
      AdminClient::Connect(opts.admin, {.token_file = opts.token_file,
                                        .tls_ca_file = opts.tls_ca,
                                        .timeout = std::chrono::milliseconds(timeout_ms)});
  if (!client.ok()) return Fail(kExitUsage, std::string(client.status().message()));
  const std::string address = (*client)->address();

  if (opts.command == "status") {
    absl::StatusOr<admin::JobStatus> s = (*client)->Status();
    if (!s.ok()) return CallFailed(s.status(), opts, address);
    Print(json ? admin::JobStatusToJson(*s) + "\n" : StatusText(*s));
    return kExitOk;
  }
  if (opts.command == "deploy") {
    absl::StatusOr<admin::DeployResult> r = (*client)->Deploy(files);
    if (!r.ok()) return CallFailed(r.status(), opts, address);
    if (json) Print(admin::DeployResultToJson(*r) + "\n");
    if (!r->applied) {
      // Verbatim, as `vigil check` prints them (for json too: people read stderr).
      std::fwrite(r->diagnostics.data(), 1, r->diagnostics.size(), stderr);
      std::fputs("vigil ctl: the rules were not deployed; the job runs the rules it had\n", stderr);
      return kExitRulesError;
    }
    if (!json) Print(DeployText(*r));
    return kExitOk;
  }
  if (opts.command == "alerts") {
    absl::StatusOr<admin::AlertsReply> r = (*client)->Alerts(query);
    if (!r.ok()) return CallFailed(r.status(), opts, address);
    Print(json ? admin::AlertsReplyToJson(*r) + "\n" : AlertsText(*r, !query.key.empty()));
    return kExitOk;
  }
  if (opts.command == "savepoint") {
    absl::StatusOr<std::string> path = (*client)->Savepoint();
    if (!path.ok()) return CallFailed(path.status(), opts, address);
    Print(json ? admin::SavepointToJson(*path) + "\n" : *path + "\n");
    return kExitOk;
  }
  return Fail(kExitUsage, "no command (status, deploy, alerts or savepoint)");
}

}  // namespace vigil::app
