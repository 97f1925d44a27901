#include "admin/rule_graph.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cep/nfa/nfa.h"
#include "rules/compiler.h"

namespace vigil::admin {
namespace {

constexpr const char* kRules = R"(
stream txn (card string, amount float, merchant string, at timestamp)
  event time at

stream metrics (host string, name string, value float, at timestamp)
  event time at

rule card_testing
  from txn
  partition by card
  pattern small -> large
  define
    small as amount < 1.00,
    large as amount >= 500 and merchant != small.merchant
  within 10m

rule loops
  from txn
  where merchant != "test"
  pattern a b+ greedy -> (c | d)? -> !e -> f
  define a as amount > 1, b as amount > 2, c as amount > 3, d as amount > 4,
         e as amount > 5, f as amount > 6
  within 1h

rule missing
  from txn
  partition by card
  pattern beat -> !later
  within 1m

rule cpu_high
  from metrics
  where name == "cpu"
  partition by host
  window 1m slide 10s
  compute avg(value) as cpu, count() as samples
  when cpu > 90 for 5m

rule plain_when
  from metrics
  when value > 3
)";

std::shared_ptr<const cep::RuleSet> Compile() {
  rules::CompileResult r = rules::CompileSources({{"test.vgl", kRules}});
  EXPECT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].message);
  return r.rule_set;
}

std::string DotUnescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
    out.push_back(s[i]);
  }
  return out;
}

// The graph `vigil explain --format dot` prints for the rule, read back from its dot text.
RuleGraph FromDot(const cep::RuleDef& rule) {
  auto nfa = cep::Nfa::Compile(*rule.pattern, cep::NfaOptions{});
  EXPECT_TRUE(nfa.ok());
  RuleGraph g;
  const std::regex node_re(R"re(^  s(\d+) \[label="((?:[^"\\]|\\.)*)\\n(\w+)", shape=\w+\];$)re");
  const std::regex edge_re(R"re(^  s(\d+) -> s(\d+) \[label="((?:[^"\\]|\\.)*)", style=\w+\];$)re");
  std::istringstream in((*nfa)->ToDot());
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, node_re)) {
      g.nodes.push_back({std::stoi(m[1]), DotUnescape(m[2]), m[3], ""});
    } else if (std::regex_match(line, m, edge_re)) {
      std::string label = DotUnescape(m[3]);
      const size_t colon = label.find(": ");
      RuleGraph::Edge e{std::stoi(m[1]), std::stoi(m[2]), label.substr(0, colon), ""};
      if (colon != std::string::npos) e.condition = label.substr(colon + 2);
      g.edges.push_back(e);
    }
  }
  return g;
}

TEST(RuleGraphTest, PatternRulesGiveTheNfaThatExplainDraws) {
  auto rules = Compile();
  ASSERT_NE(rules, nullptr);
  int compared = 0;
  for (const cep::RuleDef& rule : rules->rules) {
    if (!rule.pattern.has_value()) continue;
    SCOPED_TRACE(rule.name);
    absl::StatusOr<RuleGraph> g = BuildRuleGraph(*rules, rule.name);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->graph, "nfa");
    EXPECT_EQ(g->rule_kind, "pattern");
    const RuleGraph dot = FromDot(rule);
    ASSERT_FALSE(dot.nodes.empty());
    ASSERT_EQ(g->nodes.size(), dot.nodes.size());
    for (size_t i = 0; i < dot.nodes.size(); ++i) {
      EXPECT_EQ(g->nodes[i].id, dot.nodes[i].id);
      EXPECT_EQ(g->nodes[i].name, dot.nodes[i].name);
      EXPECT_EQ(g->nodes[i].kind, dot.nodes[i].kind);
    }
    ASSERT_EQ(g->edges.size(), dot.edges.size());
    for (size_t i = 0; i < dot.edges.size(); ++i) {
      EXPECT_EQ(g->edges[i].from, dot.edges[i].from);
      EXPECT_EQ(g->edges[i].to, dot.edges[i].to);
      EXPECT_EQ(g->edges[i].action, dot.edges[i].action);
      EXPECT_EQ(g->edges[i].condition, dot.edges[i].condition);
    }
    ++compared;
  }
  EXPECT_EQ(compared, 3);
}

TEST(RuleGraphTest, CardTestingHasStartTakeEdgesAndAFinalState) {
  auto rules = Compile();
  ASSERT_NE(rules, nullptr);
  absl::StatusOr<RuleGraph> g = BuildRuleGraph(*rules, "card_testing");
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(g->within.has_value());
  EXPECT_EQ(g->within->ms, 600000);
  EXPECT_EQ(g->chain, (std::vector<std::string>{"stream txn", "partition by card",
                                                "pattern small -> large within 10m"}));
  ASSERT_FALSE(g->nodes.empty());
  EXPECT_EQ(g->nodes[0].name, "small");
  EXPECT_EQ(g->nodes[0].kind, "start");
  int finals = 0;
  for (const RuleGraph::Node& n : g->nodes) finals += n.kind == "final";
  EXPECT_EQ(finals, 1);
  bool take_small = false;
  bool take_large = false;
  for (const RuleGraph::Edge& e : g->edges) {
    if (e.action == "take" && e.condition.find("amount < 1") != std::string::npos)
      take_small = true;
    if (e.action == "take" && e.condition.find("amount >= 500") != std::string::npos) {
      take_large = true;
    }
  }
  EXPECT_TRUE(take_small);
  EXPECT_TRUE(take_large);
}

TEST(RuleGraphTest, NegationGivesAStopOrPendingStateAndTheChainShowsThePattern) {
  auto rules = Compile();
  ASSERT_NE(rules, nullptr);
  absl::StatusOr<RuleGraph> loops = BuildRuleGraph(*rules, "loops");
  ASSERT_TRUE(loops.ok()) << loops.status();
  EXPECT_EQ(loops->chain[1], "where (merchant != 'test')");
  EXPECT_EQ(loops->chain[2], "pattern a b+ -> (c | d)? -> !e -> f within 1h");
  bool stop = false;
  for (const RuleGraph::Node& n : loops->nodes) stop |= n.kind == "stop";
  EXPECT_TRUE(stop);

  absl::StatusOr<RuleGraph> missing = BuildRuleGraph(*rules, "missing");
  ASSERT_TRUE(missing.ok()) << missing.status();
  bool pending = false;
  for (const RuleGraph::Node& n : missing->nodes) pending |= n.kind == "pending";
  EXPECT_TRUE(pending);
}

TEST(RuleGraphTest, WhenRulesGiveTheirOperatorChain) {
  auto rules = Compile();
  ASSERT_NE(rules, nullptr);
  absl::StatusOr<RuleGraph> g = BuildRuleGraph(*rules, "cpu_high");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->graph, "operators");
  EXPECT_EQ(g->rule_kind, "window");
  EXPECT_FALSE(g->within.has_value());
  std::vector<std::string> names;
  for (const RuleGraph::Node& n : g->nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"stream", "where", "partition by", "window", "when",
                                             "records"}));
  EXPECT_EQ(g->nodes[0].kind, "start");
  EXPECT_EQ(g->nodes.back().kind, "final");
  EXPECT_EQ(g->nodes[3].detail, "window 1m slide 10s compute cpu, samples");
  EXPECT_EQ(g->nodes[4].detail, "when (cpu > 90) for 5m");
  ASSERT_EQ(g->edges.size(), 5u);
  for (size_t i = 0; i < g->edges.size(); ++i) {
    EXPECT_EQ(g->edges[i].from, static_cast<int>(i));
    EXPECT_EQ(g->edges[i].to, static_cast<int>(i) + 1);
    EXPECT_EQ(g->edges[i].action, "then");
  }

  absl::StatusOr<RuleGraph> plain = BuildRuleGraph(*rules, "plain_when");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->rule_kind, "when");
  EXPECT_EQ(plain->nodes.size(), 3u);  // stream -> when -> records
}

TEST(RuleGraphTest, UnknownRuleIsNotFound) {
  auto rules = Compile();
  ASSERT_NE(rules, nullptr);
  absl::StatusOr<RuleGraph> g = BuildRuleGraph(*rules, "nope");
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(absl::IsNotFound(g.status()));
  EXPECT_NE(g.status().message().find("nope"), std::string::npos);
}

TEST(RuleGraphTest, JsonHoldsEveryNodeAndEdge) {
  auto rules = Compile();
  ASSERT_NE(rules, nullptr);
  absl::StatusOr<RuleGraph> g = BuildRuleGraph(*rules, "card_testing");
  ASSERT_TRUE(g.ok());
  const std::string json = RuleGraphToJson(*g);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["rule"]), "card_testing");
  EXPECT_EQ(std::string_view(doc["rule_kind"]), "pattern");
  EXPECT_EQ(std::string_view(doc["graph"]), "nfa");
  EXPECT_EQ(int64_t(doc["within_ms"]), 600000);
  simdjson::dom::array nodes = doc["nodes"];
  simdjson::dom::array edges = doc["edges"];
  ASSERT_EQ(nodes.size(), g->nodes.size());
  ASSERT_EQ(edges.size(), g->edges.size());
  size_t i = 0;
  for (simdjson::dom::element n : nodes) {
    EXPECT_EQ(int64_t(n["id"]), g->nodes[i].id);
    EXPECT_EQ(std::string_view(n["name"]), g->nodes[i].name);
    EXPECT_EQ(std::string_view(n["kind"]), g->nodes[i].kind);
    ++i;
  }
  i = 0;
  for (simdjson::dom::element e : edges) {
    EXPECT_EQ(int64_t(e["from"]), g->edges[i].from);
    EXPECT_EQ(int64_t(e["to"]), g->edges[i].to);
    EXPECT_EQ(std::string_view(e["action"]), g->edges[i].action);
    EXPECT_EQ(std::string_view(e["condition"]), g->edges[i].condition);
    ++i;
  }
  // A rule without `within` says null.
  absl::StatusOr<RuleGraph> when = BuildRuleGraph(*rules, "plain_when");
  ASSERT_TRUE(when.ok());
  ASSERT_EQ(parser.parse(RuleGraphToJson(*when)).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(doc["within_ms"].is_null());
}

}  // namespace
}  // namespace vigil::admin
