// `vigil check FILE...` (spec/cli.md): parse and type-check; errors compiler style on stderr.
#include <cstdio>
#include <string>

#include "rules/compiler.h"
#include "src/commands.h"

namespace vigil::app {

namespace {

std::string Plural(size_t n, const char* word) {
  std::string s = std::to_string(n) + " " + word;
  if (n != 1) s += 's';
  return s;
}

}  // namespace

std::shared_ptr<const cep::RuleSet> CompileReporting(const std::vector<std::string>& files) {
  rules::CompileResult r = rules::CompileFiles(files);
  for (const rules::Diagnostic& d : r.diagnostics) {
    std::string text = rules::Render(r.sources, d);
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  return r.ok() ? r.rule_set : nullptr;
}

int CheckCommand(const CheckOptions& opts) {
  if (opts.files.empty()) {
    std::fputs("vigil check: no rules files given\n", stderr);
    return kExitUsage;
  }
  std::shared_ptr<const cep::RuleSet> rules = CompileReporting(opts.files);
  if (rules == nullptr) return kExitRulesError;
  std::string summary = "checked " + Plural(opts.files.size(), "file") + ": " +
                        Plural(rules->streams.size(), "stream") + ", " +
                        Plural(rules->sinks.size(), "sink") + ", " +
                        Plural(rules->rules.size(), "rule") + "\n";
  std::fputs(summary.c_str(), stderr);
  return kExitOk;
}

}  // namespace vigil::app
