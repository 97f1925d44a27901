#pragma once
// FakeJobView: a JobView whose snapshots are set by the test (or by tests/browser's demo
// server). Thread-safe like the real one: every getter and setter takes the same mutex.
#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "admin/job_view.h"
#include "admin/record_tap.h"

namespace vigil::admin::testing {

class FakeJobView : public JobView {
 public:
  explicit FakeJobView(std::shared_ptr<const cep::RuleSet> rules,
                       RecordTap::Options tap = {.capacity = 200, .max_per_second = 1000})
      : rules_(std::move(rules)), tap_(tap) {}

  JobStatus Status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  // The contract's order (newest `since` first, then rule, then key), cut at `limit`.
  FiringAlerts Firing(size_t limit) const override {
    std::lock_guard<std::mutex> lock(mu_);
    FiringAlerts out;
    out.total = alerts_.size();
    out.alerts = alerts_;
    std::stable_sort(out.alerts.begin(), out.alerts.end(),
                     [](const FiringAlert& a, const FiringAlert& b) {
                       if (a.since != b.since) return a.since > b.since;
                       if (a.rule != b.rule) return a.rule < b.rule;
                       return KeyText(a) < KeyText(b);
                     });
    if (out.alerts.size() > limit) out.alerts.resize(limit);
    return out;
  }
  std::vector<FiringAlert> AllAlerts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return alerts_;
  }
  std::vector<std::string> RecentRecords(size_t limit) const override { return tap_.Recent(limit); }
  std::shared_ptr<const cep::RuleSet> Rules() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return rules_;
  }

  void SetStatus(JobStatus s) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = std::move(s);
  }
  void SetAlerts(std::vector<FiringAlert> a) {
    std::lock_guard<std::mutex> lock(mu_);
    alerts_ = std::move(a);
  }
  void SetRules(std::shared_ptr<const cep::RuleSet> r) {
    std::lock_guard<std::mutex> lock(mu_);
    rules_ = std::move(r);
  }
  RecordTap& tap() { return tap_; }

 private:
  static std::string KeyText(const FiringAlert& a) {
    std::string s;
    for (const auto& [k, v] : a.key) s += k + "=" + v.ToString() + ",";
    return s;
  }

  mutable std::mutex mu_;
  JobStatus status_;
  std::vector<FiringAlert> alerts_;
  std::shared_ptr<const cep::RuleSet> rules_;
  RecordTap tap_;
};

// A plausible status for a rule set: one entry per stream and rule, with the given counters
// (the browser test looks for these numbers on the page).
inline JobStatus StatusFor(const cep::RuleSet& rules, uint64_t events, uint64_t matches) {
  JobStatus s;
  s.uptime = Duration::Seconds(754);
  s.parallelism = 2;
  s.checkpoint.enabled = true;
  s.checkpoint.last_id = 12;
  s.checkpoint.last_time = WallTime(std::chrono::milliseconds(1714557600000));
  s.checkpoint.last_duration = Duration::Millis(38);
  for (const cep::StreamDef& st : rules.streams) {
    StreamStatus ss;
    ss.name = st.name;
    ss.events = events;
    ss.late = 3;
    ss.invalid = 1;
    ss.watermark = Watermark(1714557990000);
    ss.lag = Duration::Millis(1250);
    ss.partitions.push_back({"txn.jsonl", Watermark(1714557990000), false});
    s.streams.push_back(std::move(ss));
  }
  for (const cep::RuleDef& r : rules.rules) {
    RuleStatus rs;
    rs.name = r.name;
    rs.kind = RuleKindOf(r);
    rs.stream = r.stream >= 0 ? rules.streams[r.stream].name : "";
    rs.events = events;
    rs.events_per_second = 412.5;
    rs.matches = matches;
    rs.partial_matches = 7;
    rs.live_keys = 5;
    rs.firing = 0;
    s.rules.push_back(std::move(rs));
  }
  SinkStatus out;
  out.name = "output";
  out.kind = "stdout";
  out.sent = matches;
  out.latency_p50_ms = 0.4;
  out.latency_p99_ms = 2.5;
  s.sinks.push_back(std::move(out));
  return s;
}

}  // namespace vigil::admin::testing
