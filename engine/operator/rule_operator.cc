#include "engine/operator/rule_operator.h"

#include "absl/strings/str_cat.h"
#include "engine/operator/cep_operator.h"
#include "engine/operator/monitoring_operator.h"

namespace vigil::engine {

absl::StatusOr<std::unique_ptr<RuleOperator>> MakeRuleOperator(
    std::shared_ptr<const cep::RuleSet> rules, int rule_index, const RuleOperatorOptions& options,
    RecordRouter* router) {
  const cep::RuleDef& rule = rules->rules[rule_index];
  if (rule.window || rule.when) {
    return MakeMonitoringOperator(std::move(rules), rule_index, options, router);
  }
  CepOperatorOptions cep_options;
  cep_options.max_partial_matches = options.max_partial_matches;
  VIGIL_ASSIGN_OR_RETURN(auto op,
                         CepOperator::Create(std::move(rules), rule_index, cep_options, router));
  return std::unique_ptr<RuleOperator>(std::move(op));
}

}  // namespace vigil::engine
