#pragma once
// NfaCompiler: translates a cep::Pattern into the immutable state graph that `Nfa` runs, after
// Flink CEP's NFACompiler. The graph is built back to front: the final state first, then one
// group of states per pattern element, each pointing at the states of the element after it.
//
// Every state has ordered outgoing edges of three kinds (Flink's StateTransitionAction):
//   TAKE    consume the event into the state's variable and move to the target;
//   IGNORE  skip the event and move to the target (often the state itself);
//   PROCEED an epsilon move to the target, evaluated against the same event.
// Edge conditions are small boolean trees (true / NOT / AND over the rule's `define` and
// `until` expressions) stored in an arena and evaluated without allocation.
//
// Thread-safety: a CompiledGraph is immutable after Compile and may be shared freely.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cep/expr/expr.h"
#include "cep/pattern.h"

namespace vigil::cep::nfa_internal {

// A node of a condition tree. Index -1 (kTrueCond) is the constant true.
struct CondNode {
  enum class Op : uint8_t { kLit, kNot, kAnd };
  Op op = Op::kLit;
  int32_t a = -1;  // kLit: literal index; kNot: operand; kAnd: left operand
  int32_t b = -1;  // kAnd: right operand
};
inline constexpr int32_t kTrueCond = -1;

// A `define` or `until` expression referenced by conditions. Literals are de-duplicated by
// expression identity so that a result can be memoised per event / per partial match.
struct CondLiteral {
  const Expr* expr = nullptr;  // never null
  bool reads_match = false;    // reads captures or aggregates: depends on the partial match
};

enum class EdgeAction : uint8_t { kTake, kIgnore, kProceed };

struct Edge {
  EdgeAction action = EdgeAction::kTake;
  int32_t target = -1;
  int32_t cond = kTrueCond;
};

enum class StateKind : uint8_t { kNormal, kStart, kFinal, kStop, kPending };

struct State {
  std::string name;  // unique: the variable's name, with ":N" for further states of it
  int32_t var = -1;  // pattern variable bound by this state's TAKE edges; -1 for none
  StateKind kind = StateKind::kNormal;
  // A time bound between steps (Flink windowTimes, PREVIOUS_AND_CURRENT): a partial match
  // resting here expires at the time of its last event + bound_ms, and this state's TAKE and
  // IGNORE edges do not apply to an event at or after that time. 0: none. Set on the states
  // that wait for the first event of a bounded step (its entry state and that state's ignore
  // state), on a bounded trailing notNext state and on a bounded pending state.
  int64_t bound_ms = 0;
  std::vector<Edge> edges;  // in Flink's order (decides the order of branches)
};

struct CompiledGraph {
  std::vector<State> states;
  int32_t start = -1;
  std::vector<CondNode> conds;
  std::vector<CondLiteral> literals;
  std::vector<ExprPtr> exprs;  // keeps every literal's expression alive
  bool has_pending = false;    // the pattern ends with a negation closed by `within`
  bool has_bounds = false;     // some state has a bound_ms
};

// Compiles `pattern`. Errors (InvalidArgument): a trailing notFollowedBy without `within` or a
// time bound, a negation that starts the pattern or is quantified, a variable index out of
// range, a skip strategy naming no variable, a time bound before a group or on a first step.
absl::StatusOr<CompiledGraph> CompilePattern(const Pattern& pattern);

// Renders a condition for `vigil explain`.
std::string CondToString(const CompiledGraph& g, int32_t cond);

}  // namespace vigil::cep::nfa_internal
