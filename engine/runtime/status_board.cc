#include "engine/runtime/status_board.h"

#include <algorithm>

namespace vigil::engine::runtime {

namespace {
std::string KeyText(const std::vector<std::pair<std::string, Value>>& key) {
  std::string out;
  for (const auto& [k, v] : key) {
    out += k;
    out += '=';
    out += v.ToString();
    out += '\x1f';
  }
  return out;
}
}  // namespace

StatusBoard::StatusBoard(int workers, size_t rules)
    : workers_(workers, std::vector<OperatorStats>(rules)), rules_(rules) {}

void StatusBoard::PublishStreams(std::vector<StreamSnapshot> streams) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_ = std::move(streams);
}

void StatusBoard::PublishWorker(int w, uint64_t version, std::vector<OperatorStats> by_rule) {
  std::lock_guard<std::mutex> lock(mu_);
  if (version != version_) return;
  by_rule.resize(rules_);
  workers_[w] = std::move(by_rule);
}

void StatusBoard::ResetRules(uint64_t version, size_t rules) {
  std::lock_guard<std::mutex> lock(mu_);
  version_ = version;
  rules_ = rules;
  for (auto& w : workers_) w.assign(rules, OperatorStats());
}

void StatusBoard::PublishCheckpoint(const CheckpointSnapshot& c) {
  std::lock_guard<std::mutex> lock(mu_);
  checkpoint_ = c;
}

void StatusBoard::SetCheckpointInFlight(bool in_flight) {
  std::lock_guard<std::mutex> lock(mu_);
  checkpoint_.in_flight = in_flight;
}

void StatusBoard::OnRecord(const Record& r) {
  if (r.kind != RecordKind::kFiring && r.kind != RecordKind::kResolved &&
      r.kind != RecordKind::kNodata) {
    return;
  }
  std::pair<std::string, std::string> id(r.rule, KeyText(r.key));
  std::lock_guard<std::mutex> lock(mu_);
  if (r.kind != RecordKind::kFiring) {
    firing_.erase(id);
    return;
  }
  auto [it, inserted] = firing_.try_emplace(id);
  FiringSnapshot& f = it->second;
  if (inserted) {
    f.rule = r.rule;
    f.key = r.key;
    f.since = r.time;
    f.order = next_order_++;
  }
  f.labels = r.labels;
  f.annotations = r.annotations;
}

void StatusBoard::ForgetRule(const std::string& rule) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = firing_.begin(); it != firing_.end();) {
    it = it->first.first == rule ? firing_.erase(it) : std::next(it);
  }
}

std::vector<StreamSnapshot> StatusBoard::streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_;
}

std::vector<OperatorStats> StatusBoard::rules() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<OperatorStats> sum(rules_);
  for (const auto& w : workers_) {
    for (size_t r = 0; r < rules_ && r < w.size(); ++r) {
      const OperatorStats& o = w[r];
      OperatorStats& s = sum[r];
      s.events += o.events;
      s.filtered += o.filtered;
      s.matches += o.matches;
      s.timeouts += o.timeouts;
      s.live_keys += o.live_keys;
      s.partial_matches += o.partial_matches;
      s.dropped_partial_matches += o.dropped_partial_matches;
      s.state_bytes += o.state_bytes;
    }
  }
  return sum;
}

CheckpointSnapshot StatusBoard::checkpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoint_;
}

std::pair<std::vector<FiringSnapshot>, uint64_t> StatusBoard::Firing(size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FiringSnapshot> all;
  all.reserve(firing_.size());
  for (const auto& [id, f] : firing_) all.push_back(f);
  std::sort(all.begin(), all.end(),
            [](const FiringSnapshot& a, const FiringSnapshot& b) { return a.order > b.order; });
  if (all.size() > limit) all.resize(limit);
  return {std::move(all), firing_.size()};
}

int64_t StatusBoard::FiringOf(const std::string& rule) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t n = 0;
  for (const auto& [id, f] : firing_) n += id.first == rule ? 1 : 0;
  return n;
}

}  // namespace vigil::engine::runtime
