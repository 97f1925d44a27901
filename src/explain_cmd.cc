// `vigil explain FILE... [--rule NAME] [--format text|dot]` (spec/cli.md): compiles the rules
// and prints the NFA of each pattern rule (or of the named one) on standard output.
#include <cstdio>
#include <string>

#include "cep/nfa/nfa.h"
#include "cep/rule_set.h"
#include "src/commands.h"

namespace vigil::app {

int ExplainCommand(const ExplainOptions& opts) {
  if (opts.files.empty()) {
    std::fputs("vigil explain: no rules files given\n", stderr);
    return kExitUsage;
  }
  if (opts.format != "text" && opts.format != "dot") {
    std::fprintf(stderr, "vigil explain: unknown format '%s' (text or dot)\n", opts.format.c_str());
    return kExitUsage;
  }
  std::shared_ptr<const cep::RuleSet> rule_set = CompileReporting(opts.files);
  if (rule_set == nullptr) return kExitRulesError;

  bool found = false;
  bool first = true;
  for (const cep::RuleDef& rule : rule_set->rules) {
    if (!opts.rule.empty() && rule.name != opts.rule) continue;
    found = true;
    if (!rule.pattern.has_value()) {
      if (!opts.rule.empty()) {
        std::fprintf(stderr, "vigil explain: rule '%s' has no pattern\n", rule.name.c_str());
        return kExitUsage;
      }
      continue;
    }
    cep::NfaOptions nfa_opts;
    nfa_opts.report_timeouts = rule.on_timeout;
    auto nfa = cep::Nfa::Compile(*rule.pattern, nfa_opts);
    if (!nfa.ok()) {
      std::fprintf(stderr, "vigil explain: rule '%s': %s\n", rule.name.c_str(),
                   std::string(nfa.status().message()).c_str());
      return kExitRulesError;
    }
    std::string text;
    if (opts.format == "dot") {
      text = "// rule " + rule.name + "\n" + (*nfa)->ToDot();
    } else {
      text = std::string(first ? "" : "\n") + "rule " + rule.name + "\n" + (*nfa)->ToText();
    }
    first = false;
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (!opts.rule.empty() && !found) {
    std::fprintf(stderr, "vigil explain: no rule named '%s'\n", opts.rule.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace vigil::app
