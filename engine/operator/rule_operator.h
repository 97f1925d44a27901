#pragma once
// The factory of rule operators: the one place that maps a rule's kind to the RuleOperator
// (operator.h) that runs it. The job creates one operator per rule and worker with it.
//
// Thread-safety: MakeRuleOperator is thread-safe (it only reads the immutable rule set).
#include <memory>

#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/operator/operator.h"
#include "engine/operator/record_router.h"

namespace vigil::engine {

struct RuleOperatorOptions {
  size_t max_partial_matches = 0;  // per rule and key; 0 = unlimited
};

// Creates the operator of rule `rule_index` of `rules`, emitting through `router` (not owned;
// must outlive the operator). Pattern rules run as CepOperator; rules with `window` and/or
// `when` (window + when, when alone, window + pattern) as MonitoringOperator
// (monitoring_operator.h).
// Errors: InvalidArgument when the rule's pattern does not compile.
absl::StatusOr<std::unique_ptr<RuleOperator>> MakeRuleOperator(
    std::shared_ptr<const cep::RuleSet> rules, int rule_index, const RuleOperatorOptions& options,
    RecordRouter* router);

}  // namespace vigil::engine
