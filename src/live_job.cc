#include "src/live_job.h"

#include <charconv>

#include "rules/compiler.h"
#include "rules/diagnostics.h"

namespace vigil::app {

namespace {

admin::WallTime FromUnixMs(int64_t ms) {
  return admin::WallTime(std::chrono::milliseconds(ms));
}

// A `--key` value as the partition field's declared type.
absl::StatusOr<Value> ParseKeyValue(const std::string& field, Type type, const std::string& text) {
  auto bad = [&](const char* what) {
    return absl::InvalidArgumentError("key field '" + field + "': '" + text + "' is not " + what);
  };
  switch (type) {
    case Type::kString:
      return Value::String(text);
    case Type::kBool:
      if (text == "true") return Value::Bool(true);
      if (text == "false") return Value::Bool(false);
      return bad("a bool");
    case Type::kInt:
    case Type::kTimestamp: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return bad("an integer");
      return type == Type::kInt ? Value::Int(v) : Value::Timestamp(EventTime(v));
    }
    case Type::kFloat: {
      try {
        size_t used = 0;
        double d = std::stod(text, &used);
        if (used != text.size()) return bad("a number");
        return Value::Float(d);
      } catch (...) {
        return bad("a number");
      }
    }
    default:
      return absl::InvalidArgumentError("key field '" + field + "' cannot be queried");
  }
}

}  // namespace

admin::JobStatus LiveJob::Status() const {
  engine::JobSnapshot s = job_->Status();
  admin::JobStatus out;
  auto now_wall = std::chrono::system_clock::now();
  out.uptime = Duration(
      s.started_unix_ms > 0
          ? std::chrono::duration_cast<std::chrono::milliseconds>(now_wall -
                                                                  FromUnixMs(s.started_unix_ms))
                .count()
          : 0);
  out.parallelism = s.parallelism;
  out.checkpoint.enabled = s.checkpoint.enabled;
  out.checkpoint.last_id = s.checkpoint.last_id;
  if (s.checkpoint.last_id > 0) out.checkpoint.last_time = FromUnixMs(s.checkpoint.last_unix_ms);
  out.checkpoint.last_duration = Duration(s.checkpoint.last_duration_ms);
  out.checkpoint.failures = s.checkpoint.failures;
  out.checkpoint.in_flight = s.checkpoint.in_flight;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now_wall.time_since_epoch()).count();
  for (const engine::StreamSnapshot& st : s.streams) {
    admin::StreamStatus ss;
    ss.name = st.stats.name;
    ss.events = st.stats.events;
    ss.late = st.stats.late;
    ss.invalid = st.stats.invalid;
    ss.watermark = st.watermark;
    if (st.watermark != Watermark::Min() && st.watermark != Watermark::Max()) {
      ss.lag = Duration(now_ms - st.watermark.ms);
    }
    for (const engine::PartitionSnapshot& p : st.partitions) {
      ss.partitions.push_back({p.name, p.watermark, p.idle});
    }
    out.streams.push_back(std::move(ss));
  }
  std::shared_ptr<const cep::RuleSet> rules = job_->rules();
  // Rates over the time since the previous call (the dashboard polls every 1-2 s).
  std::lock_guard<std::mutex> lock(rate_mu_);
  auto now = std::chrono::steady_clock::now();
  double secs = last_at_ == std::chrono::steady_clock::time_point{}
                    ? 0
                    : std::chrono::duration<double>(now - last_at_).count();
  std::vector<std::pair<std::string, uint64_t>> events_now;
  std::vector<std::pair<std::string, double>> rates_now;
  for (const engine::RuleSnapshot& r : s.rules) {
    admin::RuleStatus rs;
    rs.name = r.name;
    int idx = -1;
    for (size_t i = 0; i < rules->rules.size(); ++i) {
      if (rules->rules[i].name == r.name) idx = static_cast<int>(i);
    }
    rs.kind = idx >= 0 ? admin::RuleKindOf(rules->rules[idx]) : admin::RuleKind::kPattern;
    rs.stream = r.stream;
    rs.events = r.op.events - r.op.filtered;
    rs.matches = r.op.matches;
    rs.timeouts = r.op.timeouts;
    rs.partial_matches = static_cast<int64_t>(r.op.partial_matches);
    rs.live_keys = static_cast<int64_t>(r.op.live_keys);
    rs.dropped_partial_matches = r.op.dropped_partial_matches;
    rs.firing = job_->FiringCount(r.name);
    double rate = 0;
    bool have_rate = false;
    for (const auto& [name, before] : last_events_) {
      if (name == r.name && secs >= 0.2 && rs.events >= before) {
        rate = static_cast<double>(rs.events - before) / secs;
        have_rate = true;
      }
    }
    if (!have_rate) {
      // Too soon after the previous call: keep its rate.
      for (const auto& [name, prev] : last_rates_) {
        if (name == r.name) rate = prev;
      }
    }
    rs.events_per_second = rate;
    events_now.emplace_back(r.name, rs.events);
    rates_now.emplace_back(r.name, rate);
    out.rules.push_back(std::move(rs));
  }
  if (secs == 0 || secs >= 0.2) {
    last_at_ = now;
    last_events_ = std::move(events_now);
    last_rates_ = std::move(rates_now);
  }
  for (const engine::JobSnapshot::SinkInfo& si : s.sinks) {
    admin::SinkStatus ss;
    ss.name = si.name;
    ss.kind = si.kind;
    ss.sent = si.stats.sent;
    ss.failed = si.stats.failed;
    ss.retried = si.stats.retried;
    ss.dead_lettered = si.stats.dead_lettered;
    ss.queue_depth = static_cast<int64_t>(si.stats.queue_depth);
    out.sinks.push_back(std::move(ss));
  }
  return out;
}

admin::FiringAlerts LiveJob::Firing(size_t limit) const {
  auto [alerts, total] = job_->Firing(limit);
  admin::FiringAlerts out;
  out.total = total;
  for (engine::FiringSnapshot& f : alerts) {
    out.alerts.push_back({std::move(f.rule), std::move(f.key), std::move(f.labels),
                          std::move(f.annotations), f.since});
  }
  return out;
}

std::vector<std::string> LiveJob::RecentRecords(size_t limit) const {
  if (tap_ == nullptr) return {};
  return tap_->Recent(limit);
}

absl::StatusOr<admin::DeployResult> LiveJob::Deploy(const std::vector<admin::RulesFile>& files,
                                                    std::chrono::milliseconds timeout) {
  std::vector<std::pair<std::string, std::string>> sources;
  for (const admin::RulesFile& f : files) sources.emplace_back(f.name, f.text);
  rules::CompileResult compiled = rules::CompileSources(sources);
  admin::DeployResult out;
  if (!compiled.ok()) {
    // Exactly what `vigil check` prints; nothing changes.
    for (const rules::Diagnostic& d : compiled.diagnostics) {
      out.diagnostics += rules::Render(compiled.sources, d);
    }
    return out;
  }
  VIGIL_ASSIGN_OR_RETURN(engine::DeployOutcome done,
                         job_->Deploy(compiled.rule_set, std::move(sources), timeout.count()));
  out.applied = true;
  out.unchanged = std::move(done.unchanged);
  out.changed = std::move(done.changed);
  out.added = std::move(done.added);
  out.removed = std::move(done.removed);
  out.barrier_id = done.barrier_id;
  return out;
}

absl::StatusOr<admin::AlertsReply> LiveJob::Alerts(const admin::AlertsQuery& query,
                                                   std::chrono::milliseconds timeout) {
  std::shared_ptr<const cep::RuleSet> rules = job_->rules();
  const cep::RuleDef* rule = nullptr;
  if (!query.rule.empty()) {
    for (const cep::RuleDef& r : rules->rules) {
      if (r.name == query.rule) rule = &r;
    }
    if (rule == nullptr) return absl::InvalidArgumentError("no rule '" + query.rule + "'");
  }
  admin::AlertsReply out;
  // Firing alerts of the rule (and key), newest first.
  auto [all, total] = job_->Firing(SIZE_MAX);
  for (engine::FiringSnapshot& f : all) {
    if (rule != nullptr && f.rule != rule->name) continue;
    bool match = true;
    for (const auto& [k, v] : query.key) {
      bool field_ok = false;
      for (const auto& [fk, fv] : f.key) field_ok = field_ok || (fk == k && fv.ToString() == v);
      match = match && field_ok;
    }
    if (!match) continue;
    ++out.firing.total;
    if (out.firing.alerts.size() < query.limit) {
      out.firing.alerts.push_back({std::move(f.rule), std::move(f.key), std::move(f.labels),
                                   std::move(f.annotations), f.since});
    }
  }
  if (query.key.empty()) {
    for (const engine::RuleSnapshot& r : job_->Status().rules) {
      if (rule == nullptr || r.name == rule->name) {
        out.partial_matches += static_cast<int64_t>(r.op.partial_matches);
      }
    }
    return out;
  }
  if (rule == nullptr) return absl::InvalidArgumentError("--key needs --rule");
  // The key in `partition by` order, typed by the stream's schema.
  const Schema& schema = rules->streams[rule->stream].schema;
  std::vector<Value> key;
  std::vector<std::pair<std::string, Value>> named;
  for (size_t i = 0; i < rule->partition_names.size(); ++i) {
    const std::string& field = rule->partition_names[i];
    const std::string* text = nullptr;
    for (const auto& [k, v] : query.key) {
      if (k == field) text = &v;
    }
    if (text == nullptr) {
      return absl::InvalidArgumentError("rule '" + rule->name + "' is partitioned by '" + field +
                                        "': give --key " + field + "=VALUE");
    }
    Type type = schema.fields()[rule->partition_slots[i]].type;
    VIGIL_ASSIGN_OR_RETURN(Value v, ParseKeyValue(field, type, *text));
    named.emplace_back(field, v);
    key.push_back(std::move(v));
  }
  for (const auto& [k, v] : query.key) {
    bool known = false;
    for (const std::string& f : rule->partition_names) known = known || f == k;
    if (!known) {
      return absl::InvalidArgumentError("rule '" + rule->name + "' is not partitioned by '" + k +
                                        "'");
    }
  }
  VIGIL_ASSIGN_OR_RETURN(std::optional<engine::KeyInspection> state,
                         job_->Inspect(rule->name, key, timeout.count()));
  if (state.has_value()) {
    admin::KeyState ks;
    ks.rule = rule->name;
    ks.key = std::move(named);
    for (auto& pm : state->partial_matches) ks.partial_matches.push_back({pm.started, pm.bound});
    ks.firing = state->firing;
    ks.firing_since = state->firing_since;
    out.keys.push_back(std::move(ks));
  }
  return out;
}

absl::StatusOr<std::string> LiveJob::Savepoint(std::chrono::milliseconds timeout) {
  return job_->Savepoint(timeout.count());
}

}  // namespace vigil::app
