#pragma once
// Internal seam between the X3 grammar (grammar.cc, the only TU that includes Spirit) and the
// error-recovering driver (parser.cc). Not for use outside rules/parser.
#include <cstdint>
#include <string>
#include <string_view>

#include "rules/ast/ast.h"

namespace vigil::rules::parser {

struct DeclError {
  uint32_t offset = 0;    // where the error was detected
  uint32_t end = 0;       // end of the offending text; 0: the token at `offset`
  std::string message;    // "expected 'as' after variable name in define"
  bool add_found = true;  // the driver appends ", found 'TOKEN'"
};

// Parses the one declaration (`stream`, `sink` or `rule`, which must be the next token) that
// starts at *pos, appends it to *out and advances *pos past it (and trailing whitespace).
// On a syntax error returns false, fills *err and leaves *out unchanged. Never throws.
bool ParseDeclaration(uint32_t file, std::string_view text, uint32_t* pos, ast::File* out,
                      DeclError* err);

// Limits (see parser.h): recursion depth of parentheses/unary operators/pattern groups, and
// the height of one expression tree (long operator chains).
inline constexpr int kMaxDepth = 128;
inline constexpr uint32_t kMaxExprHeight = 1000;

}  // namespace vigil::rules::parser
