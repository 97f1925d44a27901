#pragma once
// The binder / type checker: the ASTs of every loaded file -> one resolved, typed
// cep::RuleSet (language.md is the contract; every rule it states is enforced here as a
// Diagnostic with the span of the offending token).
//
// All files share one namespace (streams, sinks and rules alike; any declaration order).
// Errors do not cascade: a name that fails to resolve is reported once and the expressions
// that use it are silently skipped. Warnings (e.g. a comparison with the `null` literal, which
// is always false) do not make the result fail.
#include <memory>
#include <vector>

#include "cep/rule_set.h"
#include "rules/ast/ast.h"
#include "rules/diagnostics.h"

namespace vigil::rules {

struct BindResult {
  std::shared_ptr<const cep::RuleSet> rule_set;  // null when there is any error
  std::vector<Diagnostic> diagnostics;           // errors, warnings and notes (unsorted)
};

// Binds `files` (each ast::File's file_index refers to `sources`, whose texts are used for
// rule fingerprints). Never throws. Thread-compatible (no shared state).
BindResult Bind(const std::vector<ast::File>& files, const SourceManager& sources);

}  // namespace vigil::rules
