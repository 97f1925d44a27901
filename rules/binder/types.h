#pragma once
// Static typing rules of the expression language (language.md §6), independent of the AST:
// the binder asks these helpers for the result type of each operator and function and reports
// the message they return as a diagnostic at the operator's span.
//
// Typing decisions where the spec is silent (also written in cep/expr/expr.h):
// - `int` and `float` mix as `float`; `int / int` is `float`; `%` on two ints is `int`.
// - `timestamp - timestamp` is `int` (milliseconds); `timestamp +/- int` and `int + timestamp`
//   are `timestamp`. Duration literals are `int` milliseconds.
// - A timestamp compares only with a timestamp (compare differences with durations).
// - The `null` literal may be an operand of arithmetic (the result is null at run time) and of
//   comparisons (always false: the binder warns and suggests `is null`).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cep/expr/expr.h"
#include "core/value.h"

namespace vigil::rules {

// Result of `a op b` for + - * / %; nullopt with *error set if the operands are invalid.
std::optional<Type> ArithmeticType(cep::ExprOp op, Type a, Type b, std::string* error);
// Result of unary minus.
std::optional<Type> NegateType(Type a, std::string* error);
// `a op b` for == != < <= > >=: bool, or nullopt with *error. Sets *null_compare when one side
// is the null literal (always false at run time).
std::optional<Type> CompareType(cep::ExprOp op, Type a, Type b, std::string* error,
                                bool* null_compare);
// True if values of the two types may be tested for equality (`==`, `in`).
bool EqualityComparable(Type a, Type b);
// The type two values unify to (coalesce, min/max): int+float -> float; null with x -> x.
std::optional<Type> CommonType(Type a, Type b);

// Built-in scalar functions (language.md §6).
struct FunctionInfo {
  std::string_view name;
  cep::Function fn;
  int min_args;
  int max_args;  // -1: unbounded
};
const FunctionInfo* FindFunction(std::string_view name);
std::vector<std::string> FunctionNames();
// "function 'lower' takes 1 argument, got 2"; empty if `n` is a valid count.
std::string ArityError(const FunctionInfo& f, int n);
// Type-checks the arguments of a call with a valid arity. On error returns nullopt, sets *error
// and *bad_arg to the index of the offending argument.
std::optional<Type> CallType(const FunctionInfo& f, const std::vector<Type>& args,
                             std::string* error, int* bad_arg);

// The pattern aggregates over a variable (count(v), sum(v.f), ...).
std::optional<cep::AggFn> FindPatternAgg(std::string_view name);
std::string_view AggName(cep::AggFn fn);
// Result type of a pattern aggregate over a field of type `t` (ignored for count).
std::optional<Type> PatternAggType(cep::AggFn fn, Type t, std::string* error);

// A 64-bit FNV-1a hash as 16 lower-case hex digits.
std::string Fingerprint64(std::string_view text);
// The source text reduced to a canonical form: comments removed, whitespace runs (outside
// string literals and backquoted names) collapsed to one space, trimmed.
std::string CanonicalSource(std::string_view text);

}  // namespace vigil::rules
