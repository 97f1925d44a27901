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

int CheckCommand(const CheckOptions& opts) {
  if (opts.files.empty()) {
    std::fputs("vigil check: no rules files given\n", stderr);
    return kExitUsage;
  }
  rules::CompileResult r = rules::CompileFiles(opts.files);
  for (const rules::Diagnostic& d : r.diagnostics) {
    std::string text = rules::Render(r.sources, d);
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  if (!r.ok()) return kExitRulesError;
  std::string summary = "checked " + Plural(opts.files.size(), "file") + ": " +
                        Plural(r.rule_set->streams.size(), "stream") + ", " +
                        Plural(r.rule_set->sinks.size(), "sink") + ", " +
                        Plural(r.rule_set->rules.size(), "rule") + "\n";
  std::fputs(summary.c_str(), stderr);
  return kExitOk;
}

}  // namespace vigil::app
