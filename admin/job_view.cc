#include "admin/job_view.h"

namespace vigil::admin {

std::string_view RuleKindName(RuleKind k) {
  switch (k) {
    case RuleKind::kPattern:
      return "pattern";
    case RuleKind::kWhen:
      return "when";
    case RuleKind::kWindow:
      return "window";
  }
  return "?";
}

RuleKind RuleKindOf(const cep::RuleDef& rule) {
  if (rule.window.has_value()) return RuleKind::kWindow;
  if (rule.pattern.has_value()) return RuleKind::kPattern;
  return RuleKind::kWhen;
}

}  // namespace vigil::admin
