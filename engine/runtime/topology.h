#pragma once
// What the job runs, fixed when it is created and read by every thread: the rule set, which
// rules run (those whose stream has an input), each rule's operator state id, the rules
// reading each stream, the parallelism, and how an event's key reaches its worker.
//
// Routing: a rule's partition key hashes to a key group (key_group.h), which belongs to one
// worker (contiguous ranges, as Flink's KeyGroupRangeAssignment). Where an event is decoded
// (on a worker, with parallel decoding) its workers for every rule reading the stream are
// packed into one 64-bit route tag, so the router never reads the event.
//
// Immutable after construction; thread-safe.
#include <cstdint>
#include <memory>
#include <vector>

#include "cep/rule_set.h"
#include "core/event.h"
#include "engine/state/state_key.h"

namespace vigil::engine {

// The state id of a rule's operator: a hash of RuleDef::fingerprint, so a rule whose
// definition is unchanged finds its state again after an edit of the rules file.
uint32_t OperatorStateId(const cep::RuleDef& rule);

namespace runtime {

// A route tag meaning "not precomputed": the router hashes the event's partition key itself.
inline constexpr uint64_t kNoRoute = ~uint64_t{0};
// Event::seq holds the stream partition in its top 16 bits, the source's seq below.
inline constexpr int kPartitionShift = 48;
inline constexpr uint64_t kSeqMask = (uint64_t{1} << kPartitionShift) - 1;

class Topology {
 public:
  // `has_input[s]`: stream s has at least one input (its rules run).
  // `version` counts deploys (0: the rules the job started with).
  Topology(std::shared_ptr<const cep::RuleSet> rules, int parallelism,
           const std::vector<bool>& has_input, uint64_t version = 0);

  const cep::RuleSet& rules() const { return *rules_; }
  const std::shared_ptr<const cep::RuleSet>& rules_ptr() const { return rules_; }
  int parallelism() const { return parallelism_; }
  uint64_t version() const { return version_; }
  bool has_input(int stream) const { return has_input_[stream]; }
  size_t rule_count() const { return rules_->rules.size(); }
  bool runs(size_t rule) const { return runs_[rule]; }
  uint32_t op_id(size_t rule) const { return op_ids_[rule]; }
  // Indices of the running rules that read stream s, in rule-set order.
  const std::vector<int>& rules_of_stream(int s) const { return stream_rules_[s]; }

  // The key group of the event's key for the stream's i-th rule.
  uint16_t KeyGroupOfRule(int stream, size_t i, const Event& e) const;
  // The worker owning the event's key group for the stream's i-th rule.
  int WorkerOf(int stream, size_t i, const Event& e) const;
  // The workers of every rule reading the stream, packed, or kNoRoute when they don't fit.
  uint64_t PrecomputeRoute(int stream, const Event& e) const;
  // The worker of the stream's i-th rule from a route tag (or by hashing when kNoRoute).
  int WorkerFromRoute(int stream, size_t i, uint64_t route, const Event& e) const {
    if (parallelism_ == 1) return 0;
    if (route == kNoRoute) return WorkerOf(stream, i, e);
    return static_cast<int>((route >> (i * route_bits_)) & route_mask_);
  }
  state::KeyGroupRange RangeOfWorker(int worker) const;

 private:
  std::shared_ptr<const cep::RuleSet> rules_;
  int parallelism_;
  uint64_t version_;
  std::vector<bool> has_input_;
  std::vector<bool> runs_;
  std::vector<uint32_t> op_ids_;
  std::vector<std::vector<int>> stream_rules_;
  std::vector<bool> route_fits_;  // by stream
  int route_bits_ = 0;
  uint64_t route_mask_ = 0;
};

}  // namespace runtime
}  // namespace vigil::engine
