#include "engine/scaleout/plan.h"

#include <algorithm>
#include <cstdio>

#include "engine/operator/key_group.h"
#include "engine/stable_hash.h"

namespace vigil::engine::scaleout {

namespace {
bool ValidTopicPart(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}
}  // namespace

int Plan::PartitionOfKeyGroup(uint16_t key_group) const {
  return static_cast<int>(static_cast<uint32_t>(key_group) * repartitions / kMaxKeyGroups);
}

std::pair<uint16_t, uint16_t> Plan::KeyGroupsOfPartition(int p) const {
  // The inverse of PartitionOfKeyGroup: the first g with g * R / K == p, up to the next's.
  auto first = [&](int q) {
    return static_cast<uint16_t>((static_cast<uint32_t>(q) * kMaxKeyGroups + repartitions - 1) /
                                 repartitions);
  };
  return {first(p), static_cast<uint16_t>(first(p + 1) - 1)};
}

absl::StatusOr<Plan> MakePlan(const cep::RuleSet& rules, const std::string& app,
                              const std::string& group, int repartitions) {
  if (!ValidTopicPart(app)) {
    return absl::InvalidArgumentError("--app '" + app +
                                      "': use letters, digits, '.', '_' and '-' (it names "
                                      "Kafka topics)");
  }
  if (repartitions < 1 || repartitions > kMaxKeyGroups) {
    return absl::InvalidArgumentError("--repartitions must be between 1 and " +
                                      std::to_string(kMaxKeyGroups));
  }
  Plan plan;
  plan.app = app;
  plan.group = group.empty() ? "vigil." + app : group;
  plan.repartitions = repartitions;
  // The hash covers what every process must agree on: the streams (names, schemas, time),
  // every rule's definition, and R. Sinks are per process and not part of it.
  StableHasher h;
  h.U64(static_cast<uint64_t>(repartitions));
  for (const cep::StreamDef& s : rules.streams) {
    h.Str(s.name);
    for (const FieldDef& f : s.schema.fields()) {
      h.Str(f.name);
      h.U64(static_cast<uint64_t>(f.type));
    }
    h.U64(static_cast<uint64_t>(s.event_time_slot + 1));
    h.U64(static_cast<uint64_t>(s.out_of_order.ms));
    h.U64(s.idle_after ? static_cast<uint64_t>(s.idle_after->ms) : 0);
  }
  std::vector<std::string> fingerprints;
  for (const cep::RuleDef& r : rules.rules) fingerprints.push_back(r.name + "\n" + r.fingerprint);
  std::sort(fingerprints.begin(), fingerprints.end());
  for (const std::string& f : fingerprints) h.Str(f);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h.Finish()));
  plan.hash = std::string(hex, 12);
  const std::string prefix = "vigil." + app + "." + plan.hash + ".";
  plan.repart_topics.assign(rules.streams.size(), "");
  plan.state_topics.assign(rules.streams.size(), "");
  for (const cep::RuleDef& r : rules.rules) {
    plan.repart_topics[r.stream] = prefix + "repart." + rules.streams[r.stream].name;
    plan.state_topics[r.stream] = prefix + "state." + rules.streams[r.stream].name;
  }
  plan.positions_topic = prefix + "positions";
  plan.plan_topic = "vigil." + app + ".plan";
  return plan;
}

std::string DescribePlan(const Plan& plan, const cep::RuleSet& rules) {
  std::string out;
  out += "app " + plan.app + ", consumer group " + plan.group + ", plan " + plan.hash + ", " +
         std::to_string(plan.repartitions) + " repartition partitions (" +
         std::to_string(kMaxKeyGroups / plan.repartitions) + "+ key groups each)\n\n";
  out += "Create these topics before starting the processes:\n";
  char line[512];
  auto row = [&](const std::string& topic, int partitions, const char* config, const char* what) {
    std::snprintf(line, sizeof(line), "  %-56s partitions=%-4d %s\n      %s\n", topic.c_str(),
                  partitions, config, what);
    out += line;
  };
  for (size_t s = 0; s < plan.repart_topics.size(); ++s) {
    if (plan.repart_topics[s].empty()) continue;
    row(plan.repart_topics[s], plan.repartitions, "cleanup.policy=delete",
        ("events of stream '" + rules.streams[s].name + "' by key group, and watermark markers")
            .c_str());
    row(plan.state_topics[s], plan.repartitions, "cleanup.policy=delete",
        ("state of the rules reading '" + rules.streams[s].name +
         "' and checkpoint markers, one partition per repartition partition (not compacted: "
         "a restore folds it)")
            .c_str());
  }
  row(plan.positions_topic, 1, "cleanup.policy=delete",
      "the writers' input positions at their checkpoints");
  row(plan.plan_topic, 1, "cleanup.policy=delete",
      "which plan each live process runs (a process with other rules is refused)");
  return out;
}

}  // namespace vigil::engine::scaleout
