#pragma once
// The one place where `vigil test` drives the engine: runs a compiled rule set over in-memory
// JSON Lines inputs as a bounded job (parallelism 1, no state) and captures everything it
// writes. Keeping every use of the engine's job API here means a change of that API touches
// this file only.
#include <memory>
#include <string>
#include <vector>

#include "cep/rule_set.h"
#include "core/status.h"

namespace vigil::ruletest {

struct StreamInput {
  int stream = -1;    // index in the rule set
  std::string jsonl;  // one JSON object per line, in arrival order
};

// One record as `vigil run` would write it, with where it went.
struct CapturedRecord {
  std::string json;  // language.md §8, as engine::RecordToJson renders it
  // The destinations it was written to, in order: sink names, or "default" for the default
  // output (rules without `to`). A record delivered to several sinks is captured once.
  std::vector<std::string> destinations;
};

struct InProcessRun {
  std::vector<CapturedRecord> records;    // in the order the job wrote them
  std::vector<std::string> dead_letters;  // dead-letter lines (engine/io/dead_letter.h), JSON
  std::string log;                        // the job's progress and warning lines
};

// Runs every rule whose stream has an input. Streams without an entry in `inputs` get none.
// Errors: the job's (an input that cannot be staged, a rule the engine cannot run, a failing
// operator), with their message.
absl::StatusOr<InProcessRun> RunRulesOnEvents(std::shared_ptr<const cep::RuleSet> rules,
                                              const std::vector<StreamInput>& inputs);

}  // namespace vigil::ruletest
