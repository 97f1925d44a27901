#pragma once
// Declarations of the X3 grammar (X3's rexpr_full split): the rule objects and the types of
// the parse context. Definitions are in grammar_def.h; both are included only by grammar.cc,
// the one translation unit that instantiates Spirit X3.
#include <cstdint>

#include <boost/spirit/home/x3.hpp>

#include "rules/ast/ast.h"

namespace vigil::rules::parser {

namespace x3 = boost::spirit::x3;

// Per-parse mutable state, reachable from every parser through the context (x3::with).
struct State {
  uint32_t file = 0;           // Span::file of every node
  const char* base = nullptr;  // offsets are measured from here
  int depth = 0;               // current nesting (guarded by kMaxDepth)
};
struct state_tag;

// Rule IDs; their common base sets each attribute's `span` on success.
struct expr_class;
struct stream_decl_class;
struct sink_decl_class;
struct rule_decl_class;

using expr_type = x3::rule<expr_class, ast::Expr>;
using stream_decl_type = x3::rule<stream_decl_class, ast::StreamDecl>;
using sink_decl_type = x3::rule<sink_decl_class, ast::SinkDecl>;
using rule_decl_type = x3::rule<rule_decl_class, ast::RuleDecl>;

}  // namespace vigil::rules::parser
