#include "engine/runtime/topology.h"

#include "engine/operator/key_group.h"
#include "engine/stable_hash.h"

namespace vigil::engine {

uint32_t OperatorStateId(const cep::RuleDef& rule) {
  StableHasher h;
  h.Bytes(rule.fingerprint.data(), rule.fingerprint.size());
  return static_cast<uint32_t>(h.state() ^ (h.state() >> 32));
}

namespace runtime {

Topology::Topology(std::shared_ptr<const cep::RuleSet> rules, int parallelism,
                   const std::vector<bool>& has_input, uint64_t version)
    : rules_(std::move(rules)), parallelism_(parallelism), version_(version), has_input_(has_input) {
  has_input_.resize(rules_->streams.size(), false);
  const size_t n = rules_->rules.size();
  runs_.assign(n, false);
  op_ids_.assign(n, 0);
  stream_rules_.resize(rules_->streams.size());
  for (size_t r = 0; r < n; ++r) {
    int s = rules_->rules[r].stream;
    if (s < 0 || s >= static_cast<int>(has_input.size()) || !has_input[s]) continue;
    runs_[r] = true;
    op_ids_[r] = OperatorStateId(rules_->rules[r]);
    stream_rules_[s].push_back(static_cast<int>(r));
  }
  while ((1 << route_bits_) < parallelism_) ++route_bits_;
  route_mask_ = (uint64_t{1} << route_bits_) - 1;
  route_fits_.resize(stream_rules_.size());
  for (size_t s = 0; s < stream_rules_.size(); ++s) {
    // Bit 63 stays clear, so no packed route equals kNoRoute.
    route_fits_[s] = stream_rules_[s].size() * static_cast<size_t>(route_bits_) <= 63;
  }
}

uint16_t Topology::KeyGroupOfRule(int stream, size_t i, const Event& e) const {
  const cep::RuleDef& rule = rules_->rules[stream_rules_[stream][i]];
  return KeyGroupOf(PartitionKeyHash(rule.partition_slots, e));
}

int Topology::WorkerOf(int stream, size_t i, const Event& e) const {
  const cep::RuleDef& rule = rules_->rules[stream_rules_[stream][i]];
  return WorkerOfKeyGroup(KeyGroupOf(PartitionKeyHash(rule.partition_slots, e)), parallelism_);
}

uint64_t Topology::PrecomputeRoute(int stream, const Event& e) const {
  if (!route_fits_[stream]) return kNoRoute;
  uint64_t route = 0;
  const size_t n = stream_rules_[stream].size();
  for (size_t i = 0; i < n; ++i) {
    route |= static_cast<uint64_t>(WorkerOf(stream, i, e)) << (i * route_bits_);
  }
  return route;
}

state::KeyGroupRange Topology::RangeOfWorker(int worker) const {
  return state::KeyGroupRangeForWorker(kMaxKeyGroups, static_cast<uint32_t>(parallelism_),
                                       static_cast<uint32_t>(worker));
}

}  // namespace runtime
}  // namespace vigil::engine
