#include "admin/rule_graph.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/job_view.h"
#include "admin/json_writer.h"
#include "cep/nfa/nfa_compiler.h"

namespace vigil::admin {
namespace {

namespace ni = cep::nfa_internal;

const char* StateKindName(ni::StateKind k) {
  switch (k) {
    case ni::StateKind::kNormal:
      return "normal";
    case ni::StateKind::kStart:
      return "start";
    case ni::StateKind::kFinal:
      return "final";
    case ni::StateKind::kStop:
      return "stop";
    case ni::StateKind::kPending:
      return "pending";
  }
  return "?";
}

const char* ActionName(ni::EdgeAction a) {
  switch (a) {
    case ni::EdgeAction::kTake:
      return "take";
    case ni::EdgeAction::kIgnore:
      return "ignore";
    case ni::EdgeAction::kProceed:
      return "proceed";
  }
  return "?";
}

// The quantifier as written: "", "?", "+", "*", "{2}", "{2,4}", "{2,}".
std::string QuantText(const cep::Quantifier& q) {
  const bool unbounded = q.max == cep::Quantifier::kUnbounded;
  if (q.min == 1 && q.max == 1) return q.optional ? "?" : "";
  if (unbounded && q.min <= 1) return q.optional || q.min == 0 ? "*" : "+";
  std::string out = "{" + std::to_string(q.min);
  if (unbounded) {
    out += ",}";
  } else if (q.max != q.min) {
    out += "," + std::to_string(q.max) + "}";
  } else {
    out += "}";
  }
  if (q.optional) out += "?";
  return out;
}

const char* ConnText(cep::Contiguity c) {
  switch (c) {
    case cep::Contiguity::kStrict:
      return " ";
    case cep::Contiguity::kRelaxed:
      return " -> ";
    case cep::Contiguity::kNonDeterministic:
      return " ->> ";
  }
  return " ";
}

void PatternText(const cep::Pattern& p, const cep::PatternNode& n, bool top, std::string* out) {
  switch (n.kind) {
    case cep::PatternNode::Kind::kVar:
      if (n.negated) out->push_back('!');
      if (n.var >= 0 && static_cast<size_t>(n.var) < p.vars.size()) {
        out->append(p.vars[n.var].name);
      } else {
        out->append("?");
      }
      break;
    case cep::PatternNode::Kind::kSeq:
    case cep::PatternNode::Kind::kAlt: {
      // A one-term group (the binder wraps alternatives so) is just its term.
      if (n.kind == cep::PatternNode::Kind::kSeq && n.children.size() == 1) {
        PatternText(p, n.children[0], top, out);
        break;
      }
      const bool paren = !top || !n.quant.IsSingle();
      if (paren) out->push_back('(');
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) {
          out->append(n.kind == cep::PatternNode::Kind::kAlt
                          ? " | "
                          : ConnText(i < n.conn.size() ? n.conn[i] : cep::Contiguity::kStrict));
        }
        PatternText(p, n.children[i], false, out);
      }
      if (paren) out->push_back(')');
      break;
    }
  }
  out->append(QuantText(n.quant));
}

std::string ExprText(const cep::ExprPtr& e) { return e == nullptr ? "true" : e->ToString(); }

std::vector<std::string> Chain(const cep::RuleSet& rules, const cep::RuleDef& rule) {
  std::vector<std::string> chain;
  const bool has_stream =
      rule.stream >= 0 && static_cast<size_t>(rule.stream) < rules.streams.size();
  chain.push_back("stream " + (has_stream ? rules.streams[rule.stream].name : std::string("?")));
  if (rule.where != nullptr) chain.push_back("where " + ExprText(rule.where));
  if (!rule.partition_names.empty()) {
    chain.push_back("partition by " + absl::StrJoin(rule.partition_names, ", "));
  }
  if (rule.window.has_value()) {
    const cep::WindowSpec& w = *rule.window;
    std::string text = "window " + FormatDuration(w.size);
    if (w.slide.ms != w.size.ms) absl::StrAppend(&text, " slide ", FormatDuration(w.slide));
    std::vector<std::string> names;
    for (const cep::WindowAgg& a : w.aggs) names.push_back(a.name);
    if (!names.empty()) absl::StrAppend(&text, " compute ", absl::StrJoin(names, ", "));
    chain.push_back(std::move(text));
  }
  if (rule.pattern.has_value()) {
    std::string text = "pattern ";
    PatternText(*rule.pattern, rule.pattern->root, true, &text);
    if (rule.pattern->within.has_value()) {
      absl::StrAppend(&text, " within ", FormatDuration(*rule.pattern->within));
    }
    chain.push_back(std::move(text));
  }
  if (rule.when.has_value()) {
    const cep::WhenSpec& w = *rule.when;
    std::string text = "when " + ExprText(w.cond);
    if (w.for_duration.has_value())
      absl::StrAppend(&text, " for ", FormatDuration(*w.for_duration));
    chain.push_back(std::move(text));
  }
  return chain;
}

absl::Status AddNfa(const cep::Pattern& pattern, RuleGraph* graph) {
  absl::StatusOr<ni::CompiledGraph> compiled = ni::CompilePattern(pattern);
  if (!compiled.ok()) return compiled.status();
  const ni::CompiledGraph& g = *compiled;
  // Breadth-first from the start state, like explain: unreachable states are not drawn.
  std::vector<int32_t> order = {g.start};
  std::vector<bool> seen(g.states.size(), false);
  seen[g.start] = true;
  for (size_t i = 0; i < order.size(); ++i) {
    for (const ni::Edge& e : g.states[order[i]].edges) {
      if (!seen[e.target]) {
        seen[e.target] = true;
        order.push_back(e.target);
      }
    }
  }
  for (int32_t s : order) {
    graph->nodes.push_back({s, g.states[s].name, StateKindName(g.states[s].kind), ""});
  }
  for (int32_t s : order) {
    for (const ni::Edge& e : g.states[s].edges) {
      graph->edges.push_back({s, e.target, ActionName(e.action),
                              e.cond == ni::kTrueCond ? "" : ni::CondToString(g, e.cond)});
    }
  }
  return absl::OkStatus();
}

// stream -> [where] -> [window] -> when -> out: one node per chain entry, then the output.
void AddOperators(const cep::RuleDef& rule, RuleGraph* graph) {
  const std::vector<std::string>& chain = graph->chain;
  int id = 0;
  for (const std::string& text : chain) {
    std::string name = text.substr(0, text.find(' '));
    if (name == "partition") name = "partition by";
    graph->nodes.push_back({id, name, id == 0 ? "start" : "normal", text});
    if (id > 0) graph->edges.push_back({id - 1, id, "then", ""});
    ++id;
  }
  graph->nodes.push_back(
      {id, "records", "final", rule.when.has_value() ? "firing / resolved" : ""});
  graph->edges.push_back({id - 1, id, "then", ""});
}

}  // namespace

absl::StatusOr<RuleGraph> BuildRuleGraph(const cep::RuleSet& rules, std::string_view rule_name) {
  const cep::RuleDef* rule = nullptr;
  for (const cep::RuleDef& r : rules.rules) {
    if (r.name == rule_name) rule = &r;
  }
  if (rule == nullptr)
    return absl::NotFoundError(absl::StrCat("no rule named '", std::string(rule_name), "'"));
  RuleGraph graph;
  graph.rule = rule->name;
  graph.rule_kind = std::string(RuleKindName(RuleKindOf(*rule)));
  graph.chain = Chain(rules, *rule);
  if (rule->pattern.has_value()) {
    graph.graph = "nfa";
    if (rule->pattern->within.has_value()) graph.within = *rule->pattern->within;
    absl::Status st = AddNfa(*rule->pattern, &graph);
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("rule '", rule->name, "': ", st.message()));
    }
  } else {
    graph.graph = "operators";
    AddOperators(*rule, &graph);
  }
  return graph;
}

std::string RuleGraphToJson(const RuleGraph& graph) {
  JsonWriter w;
  w.BeginObject();
  w.Key("rule").String(graph.rule);
  w.Key("rule_kind").String(graph.rule_kind);
  w.Key("graph").String(graph.graph);
  w.Key("chain").BeginArray();
  for (const std::string& c : graph.chain) w.String(c);
  w.EndArray();
  w.Key("within_ms");
  if (graph.within.has_value()) {
    w.Int(graph.within->ms);
  } else {
    w.Null();
  }
  w.Key("nodes").BeginArray();
  for (const RuleGraph::Node& n : graph.nodes) {
    w.BeginObject().Key("id").Int(n.id).Key("name").String(n.name).Key("kind").String(n.kind);
    w.Key("detail").String(n.detail).EndObject();
  }
  w.EndArray();
  w.Key("edges").BeginArray();
  for (const RuleGraph::Edge& e : graph.edges) {
    w.BeginObject().Key("from").Int(e.from).Key("to").Int(e.to).Key("action").String(e.action);
    w.Key("condition").String(e.condition).EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace vigil::admin
