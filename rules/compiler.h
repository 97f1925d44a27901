#pragma once
// The front end's entry point: .vgl source text -> a resolved, typed cep::RuleSet, or
// compiler-style diagnostics. Parse (Spirit X3, rules/parser) -> bind and type-check
// (rules/binder) -> lower to cep IR.
#include <memory>
#include <string>
#include <vector>

#include "cep/rule_set.h"
#include "rules/diagnostics.h"

namespace vigil::rules {

struct CompileResult {
  std::shared_ptr<const cep::RuleSet> rule_set;  // null when there are errors
  std::vector<Diagnostic> diagnostics;           // errors and warnings, in source order
  SourceManager sources;                         // to render diagnostics
  bool ok() const { return rule_set != nullptr; }
};

// Loads several files into one namespace (language.md: names may be used across files in any
// order; a duplicate name is an error). A file that cannot be read is a diagnostic too.
CompileResult CompileFiles(const std::vector<std::string>& paths);
// Same, from in-memory sources (tests, fuzzing): each {name, text}.
CompileResult CompileSources(const std::vector<std::pair<std::string, std::string>>& sources);

}  // namespace vigil::rules
