#pragma once
// Repairs source spans the parser left empty or imprecise, from the source text, so that
// diagnostics point at the right token. Spans that are already set and consistent are kept,
// so this pass becomes a no-op as the parser's spans improve. Internal to the binder.
#include <string_view>

#include "rules/ast/ast.h"

namespace vigil::rules::internal {

// Fills in / recomputes: expression extents (calls, operators, in-lists, is null), pattern
// term spans (including `!` and the quantifier) and modifier spans, and the spans of rules,
// `window`, `when`, `after match` and `on timeout` clauses.
void FixSpans(ast::File* file, std::string_view text);

}  // namespace vigil::rules::internal
