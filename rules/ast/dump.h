#pragma once
// Compact S-expression renderings of AST nodes, for tests and debugging:
//   DumpExpr:    (or (== a 1) (not b.c)), (call count), (in x 1 2), "str", 5000ms
//   DumpPattern: (seq a -> (b +) ->> (alt (seq c) (seq d e)){2,3})
#include <string>

#include "rules/ast/ast.h"

namespace vigil::rules::ast {

std::string DumpLiteral(const Literal& l);
std::string DumpExpr(const Expr& e);
std::string DumpPattern(const PatternNode& p);
std::string DumpTemplate(const Template& t);

}  // namespace vigil::rules::ast
