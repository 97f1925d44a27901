#pragma once
// A rule's graph as data, for the dashboard to draw: the compiled NFA of a pattern rule (the
// same states and edges `vigil explain --format dot` renders, same ids: dot's `s<N>` is node N)
// or, for a `when` rule, its small operator chain (stream -> where -> window -> when -> out).
//
// The NFA comes from cep's compiler (nfa_internal::CompilePattern, which Nfa::Compile runs
// too); states are listed in breadth-first order from the start state, as explain lists them.
// Pure functions of the rule set; thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cep/rule_set.h"
#include "core/time.h"

namespace vigil::admin {

struct RuleGraph {
  struct Node {
    int id = 0;
    std::string name;    // NFA: the state's name ("small", "large:1", "$final$"); chain: a title
    std::string kind;    // "start", "normal", "final", "stop", "pending"
    std::string detail;  // chain nodes: the operator's text; NFA nodes: ""
  };
  struct Edge {
    int from = 0;
    int to = 0;
    std::string action;     // NFA: "take", "ignore", "proceed"; chain: "then"
    std::string condition;  // NFA: the edge's condition as explain prints it; "" = always
  };
  std::string rule;
  std::string rule_kind;  // RuleKindName: "pattern", "when", "window"
  std::string graph;      // "nfa" (the rule has a pattern) or "operators"
  // The rule's operator chain as short texts, e.g. {"stream txn", "partition by card",
  // "pattern small -> large"}; drawn above the graph.
  std::vector<std::string> chain;
  std::optional<Duration> within;  // the pattern's `within`
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

// The graph of `rule_name`. Errors: NotFound when the rule set has no such rule;
// InvalidArgument when its pattern does not compile (cannot happen for a bound rule set).
absl::StatusOr<RuleGraph> BuildRuleGraph(const cep::RuleSet& rules, std::string_view rule_name);

// {"rule": ..., "rule_kind": ..., "graph": "nfa"|"operators", "chain": [...],
//  "within_ms": N|null, "nodes": [{"id","name","kind","detail"}],
//  "edges": [{"from","to","action","condition"}]}
std::string RuleGraphToJson(const RuleGraph& graph);

}  // namespace vigil::admin
