#pragma once
// The syntactic front end: .vgl text -> ast::File (rules/ast/ast.h), or diagnostics.
// Implemented with Spirit X3 (rules/parser/grammar*.h); this header is X3-free.
#include <cstdint>
#include <string_view>
#include <vector>

#include "rules/ast/ast.h"
#include "rules/diagnostics.h"

namespace vigil::rules {

struct ParseResult {
  ast::File file;                       // every declaration that parsed cleanly
  std::vector<Diagnostic> diagnostics;  // syntax errors in source order; empty: success
  bool ok() const { return diagnostics.empty(); }
};

// Maximum nesting of parentheses / unary operators / pattern groups before Parse reports
// "nesting too deep" instead of recursing further.
inline constexpr int kMaxParseDepth = 128;
// Parse stops after this many diagnostics (the CLI prints up to 20).
inline constexpr size_t kMaxParseErrors = 20;

// Parses one file's text. Spans carry `file_index` and byte offsets into `text`. After an
// error in a declaration, parsing resumes at the next top-level `stream` / `sink` / `rule`
// keyword, so several independent errors are reported (at most kMaxParseErrors); the
// declaration that failed is left out of `file`.
// Never throws, never crashes, and runs in time linear-ish in the input for any input
// (fuzzed); deep nesting is a diagnostic. Thread-safe (no shared state).
ParseResult Parse(uint32_t file_index, std::string_view text);

}  // namespace vigil::rules
