#pragma once
// Compiled expressions: a flat tree of typed nodes evaluated against slots, with no name
// lookups at run time. Produced by the binder (rules/), evaluated by the NFA (conditions),
// the engine (where, windows, when) and alerting (emit, templates).
//
// Semantics (language.md §6; where the spec is silent the choice is written here):
// - Arithmetic with null is null; every comparison with null is false; `is null` tests it.
// - int and float mix as float. `int / int` is float (alerting ratios); `%` on ints is int.
//   Division or modulo by zero yields null.
// - timestamp - timestamp is int (milliseconds); timestamp +/- int is timestamp.
// - `and` / `or` use SQL three-valued logic where null is "unknown"; the result of a condition
//   counts as true only if it is the bool `true`.
// - `=~` is an unanchored RE2 search; the regex is a string literal compiled by the binder.
//   `=~` and `!~` on null are both false; so are `in` and `not in` with a null left operand.
//   `not in` is true iff no item equals the operand (null items equal nothing).
// - Integer overflow (+ - * unary minus, abs) yields null. Comparisons of incomparable types
//   (rejected by the binder) or with NaN are false, `!=` included.
// - Functions: null arguments give null (coalesce excepted); lower/upper map ASCII letters
//   only; len counts UTF-8 code points; min/max of int and float give float.
// - Aggregates: count(v) and sum(v.f) over no events (or no non-null value) are 0, as in
//   Flink's iterative conditions (`sum(v.price) + price < 5` inside `define v` works on the
//   first event); avg/min/max/first/last over no value are null;
//   sum of ints is int (float if it overflows), of floats float; avg is float.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/value.h"

namespace re2 {
class RE2;
}

namespace vigil::cep {

enum class ExprOp : uint8_t {
  kConst,    // consts[index]
  kField,    // env.fields[index]: the current event (or window record)
  kCapture,  // env.captures[index]: a field of the last event bound to a pattern variable
  kAgg,      // env.aggs[index] finalised with AggFn(b): an aggregate over a pattern variable
  kLocal,    // env.locals[index]: partition fields, then earlier `emit` names
  kNeg,      // -a
  kNot,      // not a
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,  // a op b
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,  // a op b
  kAnd,
  kOr,             // a op b
  kRegexMatch,     // a =~ regexes[index]
  kRegexNotMatch,  // a !~ regexes[index]
  kIn,             // a in (args...)
  kNotIn,          // a not in (args...)
  kIsNull,         // a is null
  kIsNotNull,      // a is not null
  kCall,           // Function(index)(args...)
};

enum class Function : uint8_t {
  kAbs,         // abs(x)
  kMin,         // min(a, b)
  kMax,         // max(a, b)
  kLower,       // lower(s)
  kUpper,       // upper(s)
  kLen,         // len(s) -> int: Unicode code points
  kContains,    // contains(s, sub) -> bool
  kStartsWith,  // starts_with(s, prefix) -> bool
  kEndsWith,    // ends_with(s, suffix) -> bool
  kCoalesce,    // coalesce(a, ...) -> first non-null
};

// The operator as written in the language ("==", "not in", "=~"); "?" for non-operators.
std::string_view ExprOpText(ExprOp op);

// Aggregates over a pattern variable's events (language.md §6).
enum class AggFn : uint8_t { kCount, kSum, kAvg, kMin, kMax, kFirst, kLast };

struct ExprNode {
  ExprOp op = ExprOp::kConst;
  Type type = Type::kNull;    // static result type (kNull only for the null literal)
  int32_t index = -1;         // const / field / capture / agg / local / regex / function index
  int32_t a = -1;             // first operand node
  int32_t b = -1;             // second operand node; for kAgg: static_cast<int32_t>(AggFn)
  std::vector<int32_t> args;  // kIn / kNotIn list items, kCall arguments
};

// Incremental accumulator for one aggregate of one pattern variable in one partial match.
// Add() is called once per event accepted into the variable, with the aggregated field's value
// (ignored for count(v)). Nulls are skipped by sum/avg/min/max; first/last keep the first/last
// value seen, null included.
struct AggAcc {
  int64_t count = 0;  // events added (count(v))
  int64_t n = 0;      // non-null values added
  Value value;        // sum / min / max / first / last
  double fsum = 0;    // avg
  void Add(AggFn fn, const Value& v);
  // `type` is the aggregate's static type (the zero of sum is Int(0) or Float(0)).
  Value Result(AggFn fn, Type type) const;
};

// Where an expression reads its inputs. Pointers may be null when the expression has no node
// of the matching kind (the binder guarantees it).
struct EvalEnv {
  const Value* fields = nullptr;
  const Value* captures = nullptr;
  const AggAcc* aggs = nullptr;
  const Value* locals = nullptr;
};

// An immutable compiled expression; thread-safe to evaluate concurrently.
class Expr {
 public:
  Expr();
  ~Expr();
  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;

  // Building (binder only). Returns the new node's index.
  int32_t AddNode(ExprNode n);
  int32_t AddConst(Value v);
  // Compiles an RE2 pattern; returns its index, or -1 with *error set if it does not compile.
  int32_t AddRegex(const std::string& pattern, std::string* error);
  void set_root(int32_t r) { root_ = r; }
  // Optional debug name of a node (e.g. "amount", "small.amount"), used only by ToString();
  // without one a leaf renders by index: `$3` (field), `capture[1]`, `local[0]`, `agg[2]`.
  void set_name(int32_t node, std::string name);

  int32_t root() const { return root_; }
  Type type() const { return nodes_[root_].type; }
  const std::vector<ExprNode>& nodes() const { return nodes_; }
  const std::vector<Value>& consts() const { return consts_; }

  Value Eval(const EvalEnv& env) const { return EvalNode(root_, env); }
  // A condition holds iff it evaluates to the bool true.
  bool Test(const EvalEnv& env) const;

  // Debug rendering for `vigil explain`: "($0 == 'a')", or "(country == 'a')" with names.
  std::string ToString() const;

 private:
  Value EvalNode(int32_t i, const EvalEnv& env) const;
  bool TestNode(int32_t i, const EvalEnv& env) const;
  const Value& Operand(int32_t i, const EvalEnv& env, Value* tmp) const;
  Value Call(const ExprNode& n, const EvalEnv& env) const;
  void Render(int32_t i, std::string* out) const;
  std::vector<ExprNode> nodes_;
  std::vector<Value> consts_;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;
  std::vector<std::string> names_;  // debug names by node; may be shorter than nodes_
  int32_t root_ = -1;
};

using ExprPtr = std::shared_ptr<const Expr>;

// A label/annotation value: literal text with `{EXPR}` holes.
struct Template {
  struct Part {
    std::string literal;  // used when expr is null
    ExprPtr expr;
  };
  std::vector<Part> parts;
  // Renders holes with Value::ToString(); a null hole renders as "null".
  std::string Render(const EvalEnv& env) const;
};

}  // namespace vigil::cep
