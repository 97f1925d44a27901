#pragma once
// Boost.Fusion adaptation of the AST structs whose X3 attributes are synthesised directly
// (the others are built by semantic actions in rules/parser/grammar_def.h). Spans are not
// adapted: they are filled by the rules' on_success handler. Include only from the grammar TU.
#include <boost/fusion/include/adapt_struct.hpp>

#include "rules/ast/ast.h"

BOOST_FUSION_ADAPT_STRUCT(vigil::rules::ast::Option, key, value)
BOOST_FUSION_ADAPT_STRUCT(vigil::rules::ast::DefineItem, var, cond)
BOOST_FUSION_ADAPT_STRUCT(vigil::rules::ast::EmitItem, name, expr)
BOOST_FUSION_ADAPT_STRUCT(vigil::rules::ast::ComputeItem, agg, name)
