#pragma once
// The scale-out plan of an app (docs/scale-out.md): the internal topics every process of the
// app uses and how key groups map to repartition partitions. Every process computes the same
// plan from the same rules; the plan hash names the topics, so processes running different
// rules never share them, and the plan topic lets a process find out that a live member of
// its group runs other rules.
//
// Pure; thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "cep/rule_set.h"
#include "core/status.h"

namespace vigil::engine::scaleout {

struct Plan {
  std::string app;
  std::string group;  // the consumer group of every process of the app
  int repartitions = 16;  // R: partitions of every repartition topic and of the state topic
  std::string hash;       // 12 hex digits over the rules, the streams and R
  // By stream index: the repartition topic of each stream some rule reads ("" otherwise).
  std::vector<std::string> repart_topics;
  // By stream index: the changelog of the state of the rules reading it ("" otherwise): R
  // partitions, partition p holding the state of p's key groups.
  std::vector<std::string> state_topics;
  std::string positions_topic;  // writers' input positions: 1 partition
  std::string plan_topic;       // which plan each live process runs: 1 partition

  // Key group (of kMaxKeyGroups) -> repartition partition: contiguous ranges.
  int PartitionOfKeyGroup(uint16_t key_group) const;
  // The key groups of repartition partition p: [first, last].
  std::pair<uint16_t, uint16_t> KeyGroupsOfPartition(int p) const;
};

// Errors: InvalidArgument for an app name that is not a Kafka topic name part
// ([A-Za-z0-9._-]+) or R outside 1..128.
absl::StatusOr<Plan> MakePlan(const cep::RuleSet& rules, const std::string& app,
                              const std::string& group, int repartitions);

// What `vigil plan` prints: the topics to create, with partition counts and settings.
std::string DescribePlan(const Plan& plan, const cep::RuleSet& rules);

}  // namespace vigil::engine::scaleout
