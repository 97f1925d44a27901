#pragma once
// Pattern IR: what the binder lowers a rule's `pattern`/`define`/`within`/`after match` to, and
// what NfaCompiler consumes. Mirrors Flink CEP's Pattern API (language.md §5).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cep/expr/expr.h"
#include "core/time.h"

namespace vigil::cep {

enum class Contiguity : uint8_t {
  kStrict,            // `a b`    Flink next / consecutive()
  kRelaxed,           // `a -> b` Flink followedBy (default inside loops)
  kNonDeterministic,  // `a ->> b` Flink followedByAny / allowCombinations()
};

enum class SkipStrategy : uint8_t {
  kNoSkip,
  kSkipToNext,
  kSkipPastLast,
  kSkipToFirst,
  kSkipToLast
};

struct Quantifier {
  static constexpr int kUnbounded = -1;
  int min = 1;
  int max = 1;            // kUnbounded for `+`, `*`, `{n,}`
  bool optional = false;  // `?`, `*`, or the `optional` modifier
  bool greedy = false;
  Contiguity inner = Contiguity::kRelaxed;  // between iterations: consecutive / combinations
  ExprPtr until;                            // `until (EXPR)`: null if absent; over the event

  bool IsSingle() const { return min == 1 && max == 1 && !optional; }
  bool IsLooping() const { return max == kUnbounded || max > 1; }
};

struct PatternNode {
  enum class Kind : uint8_t { kVar, kSeq, kAlt };
  Kind kind = Kind::kVar;
  int var = -1;          // kVar: index into Pattern::vars
  bool negated = false;  // kVar only: `!x` (notNext after strict, notFollowedBy after -> / ->>)
  Quantifier quant;      // of the variable or of the group (kSeq / kAlt)
  std::vector<PatternNode> children;  // kSeq: terms in order; kAlt: alternatives
  std::vector<Contiguity> conn;       // kSeq: conn[i] connects children[i-1] to children[i];
                                      // conn[0] is unused (kStrict)
  // kSeq, parallel to `conn` (may be empty: no bounds): bound[i] > 0 is a time bound between
  // steps (`a ->[5m] b`, Flink within(d, PREVIOUS_AND_CURRENT)): children[i] (a variable) must
  // take its first event at a time < the time of the match's previous event + bound[i]; a
  // partial match waiting for it longer expires (a timeout, as for `within`), and a trailing
  // negation so bounded matches when the bound runs out. 0: no bound.
  std::vector<Duration> bound;
};

// Whether `n` or a node below it has a time bound between steps.
inline bool HasStepBounds(const PatternNode& n) {
  for (Duration d : n.bound) {
    if (d.ms > 0) return true;
  }
  for (const PatternNode& c : n.children) {
    if (HasStepBounds(c)) return true;
  }
  return false;
}

struct PatternVar {
  std::string name;
  ExprPtr condition;        // `define`; null: matches any event
  bool quantified = false;  // may bind more than one event (own or enclosing quantifier)
};

// A value captured from a pattern variable: `slot` of the last event bound to `var`
// (an ExprOp::kCapture index refers to an entry here).
struct CaptureSpec {
  int var = -1;
  int slot = -1;
};

// An aggregate over a pattern variable's events (an ExprOp::kAgg index refers to an entry
// here). slot == -1 for count(v).
struct AggSpec {
  AggFn fn = AggFn::kCount;
  int var = -1;
  int slot = -1;
};

// The whole pattern of one rule. Conditions (define, until) are evaluated with
// EvalEnv{fields = candidate event, captures = the partial match's captures, aggs = the
// partial match's accumulators over events accepted so far}.
struct Pattern {
  PatternNode root;  // normally a kSeq
  std::vector<PatternVar> vars;
  std::vector<CaptureSpec> captures;
  std::vector<AggSpec> aggs;
  std::optional<Duration> within;
  SkipStrategy skip = SkipStrategy::kSkipPastLast;
  int skip_var = -1;  // kSkipToFirst / kSkipToLast
};

}  // namespace vigil::cep
