// The semantic front end: diagnostics rendering, binding, type checking and lowering to the
// cep IR (rules/binder, rules/compiler.h). Error messages themselves are covered by the golden
// files in tests/rules_logic/check/.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cep/rule_set.h"
#include "rules/compiler.h"
#include "rules/diagnostics.h"

namespace vigil::rules {
namespace {

using cep::ExprOp;

CompileResult Compile(const std::string& text) { return CompileSources({{"t.vgl", text}}); }

// Compiles and expects success; prints the diagnostics otherwise.
std::shared_ptr<const cep::RuleSet> MustCompile(const std::string& text) {
  CompileResult r = Compile(text);
  std::string all;
  for (const Diagnostic& d : r.diagnostics) all += Render(r.sources, d);
  EXPECT_TRUE(r.ok()) << all;
  return r.rule_set;
}

std::vector<std::string> Errors(const CompileResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diagnostics) {
    if (d.severity != Severity::kError) continue;
    SourceManager::LineCol lc = r.sources.Locate(d.span.file, d.span.begin);
    out.push_back(r.sources.name(d.span.file) + ":" + std::to_string(lc.line) + ":" +
                  std::to_string(lc.col) + ": " + d.message);
  }
  return out;
}

const cep::ExprNode& Root(const cep::ExprPtr& e) { return e->nodes()[e->root()]; }

constexpr char kTxn[] =
    "stream txn (card string, amount float, merchant string, geo.country string, "
    "`http-status` int, at timestamp)\n"
    "  event time at out of order 5s idle after 1m late to audit\n"
    "sink audit file (path \"alerts.jsonl\")\n"
    "sink hook webhook (url \"http://127.0.0.1:8080/alerts\", timeout 2s, retries 5)\n";

// ---- diagnostics ----

TEST(SourceManagerTest, LocatesLinesAndColumns) {
  SourceManager sm;
  uint32_t f = sm.Add("a.vgl", "ab\ncde\n\nf");
  EXPECT_EQ(f, 0u);
  EXPECT_EQ(sm.Locate(f, 0).line, 1u);
  EXPECT_EQ(sm.Locate(f, 0).col, 1u);
  EXPECT_EQ(sm.Locate(f, 4).line, 2u);
  EXPECT_EQ(sm.Locate(f, 4).col, 2u);
  EXPECT_EQ(sm.Locate(f, 7).line, 3u);
  EXPECT_EQ(sm.Locate(f, 8).line, 4u);
  EXPECT_EQ(sm.LineText(f, 2), "cde");
  EXPECT_EQ(sm.LineText(f, 3), "");
  EXPECT_EQ(sm.LineText(f, 4), "f");
  EXPECT_EQ(sm.LineText(f, 9), "");
}

TEST(RenderTest, CompilerStyle) {
  SourceManager sm;
  std::string text = "rule r\n  define\n    large as amout >= 500\n";
  sm.Add("fraud.vgl", text);
  uint32_t b = static_cast<uint32_t>(text.find("amout"));
  Diagnostic d{Severity::kError, Span{0, b, b + 5},
               "unknown field 'amout' in stream 'txn' (did you mean 'amount'?)"};
  EXPECT_EQ(Render(sm, d),
            "fraud.vgl:3:14: error: unknown field 'amout' in stream 'txn' (did you mean "
            "'amount'?)\n"
            "    3 |     large as amout >= 500\n"
            "      |              ^~~~~\n");
  Diagnostic w{Severity::kWarning, Span{0, 0, 0}, "w"};
  EXPECT_EQ(Render(sm, w), "fraud.vgl:1:1: warning: w\n    1 | rule r\n      | ^\n");
}

TEST(RenderTest, SpanClippedToItsLine) {
  SourceManager sm;
  sm.Add("x.vgl", "ab cd\nef\n");
  Diagnostic d{Severity::kError, Span{0, 3, 9}, "m"};
  EXPECT_EQ(Render(sm, d), "x.vgl:1:4: error: m\n    1 | ab cd\n      |    ^~\n");
}

TEST(ClosestMatchTest, SuggestsOnlyCloseNames) {
  std::vector<std::string> c = {"amount", "merchant", "card", "at"};
  EXPECT_EQ(ClosestMatch("amout", c), "amount");
  EXPECT_EQ(ClosestMatch("amuont", c), "amount");  // transposition
  EXPECT_EQ(ClosestMatch("merchnat", c), "merchant");
  EXPECT_EQ(ClosestMatch("zzz", c), "");
  EXPECT_EQ(ClosestMatch("card", c), "");  // never the name itself
  EXPECT_EQ(ClosestMatch("b", {"a"}), "a");
  EXPECT_EQ(ClosestMatch("x", {}), "");
}

// ---- streams and sinks ----

TEST(BinderTest, StreamSchemaAndTiming) {
  auto rs = MustCompile(std::string(kTxn) + "rule r from txn when amount > 1\n");
  ASSERT_EQ(rs->streams.size(), 1u);
  const cep::StreamDef& s = rs->streams[0];
  EXPECT_EQ(s.name, "txn");
  ASSERT_EQ(s.schema.size(), 6u);
  EXPECT_EQ(s.schema.field(3).name, "geo.country");
  EXPECT_EQ(s.schema.field(3).path, (std::vector<std::string>{"geo", "country"}));
  EXPECT_EQ(s.schema.field(4).name, "http-status");
  EXPECT_EQ(s.schema.field(4).path, (std::vector<std::string>{"http-status"}));
  EXPECT_EQ(s.schema.field(4).type, Type::kInt);
  EXPECT_EQ(s.event_time_slot, 5);
  EXPECT_EQ(s.out_of_order, Duration(5000));
  ASSERT_TRUE(s.idle_after.has_value());
  EXPECT_EQ(*s.idle_after, Duration(60000));
  EXPECT_EQ(s.late_to, (std::vector<int>{0}));
  EXPECT_EQ(s.source.kind, "");
}

TEST(BinderTest, BackquotedComponentWithADotStaysWhole) {
  auto rs = MustCompile(
      "stream s (a.`b.c` string, `x.y` int) from file(path \"s.jsonl\")\n"
      "rule r from s when a.`b.c` == \"v\" and `x.y` > 1\n");
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->streams[0].schema.field(0).path, (std::vector<std::string>{"a", "b.c"}));
  EXPECT_EQ(rs->streams[0].schema.field(1).path, (std::vector<std::string>{"x.y"}));
  EXPECT_EQ(rs->streams[0].source.kind, "file");
  ASSERT_EQ(rs->streams[0].source.options.size(), 1u);
  EXPECT_EQ(rs->streams[0].source.options[0].first, "path");
  EXPECT_EQ(rs->streams[0].source.options[0].second.as_string(), "s.jsonl");
}

TEST(BinderTest, SinkOptionsAreLiterals) {
  auto rs = MustCompile(std::string(kTxn) +
                        "sink console stdout\n"
                        "rule r from txn when amount > 1 to hook, console\n");
  ASSERT_EQ(rs->sinks.size(), 3u);
  const cep::SinkDef& hook = rs->sinks[1];
  EXPECT_EQ(hook.kind, "webhook");
  ASSERT_EQ(hook.options.size(), 3u);
  EXPECT_EQ(hook.options[1].first, "timeout");
  EXPECT_EQ(hook.options[1].second.type(), Type::kInt);  // durations are milliseconds
  EXPECT_EQ(hook.options[1].second.as_int(), 2000);
  EXPECT_EQ(hook.options[2].second.as_int(), 5);
  EXPECT_EQ(rs->sinks[2].kind, "stdout");
  EXPECT_EQ(rs->rules[0].to, (std::vector<int>{1, 2}));
}

// ---- expressions ----

TEST(BinderTest, WhereAndPartitionSlots) {
  auto rs = MustCompile(std::string(kTxn) +
                        "rule r from txn where geo.country != \"GB\" partition by card, "
                        "`http-status` when amount > 1\n");
  const cep::RuleDef& r = rs->rules[0];
  ASSERT_TRUE(r.where);
  const cep::ExprNode& ne = Root(r.where);
  EXPECT_EQ(ne.op, ExprOp::kNe);
  EXPECT_EQ(ne.type, Type::kBool);
  EXPECT_EQ(r.where->nodes()[ne.a].op, ExprOp::kField);
  EXPECT_EQ(r.where->nodes()[ne.a].index, 3);
  EXPECT_EQ(r.where->nodes()[ne.b].op, ExprOp::kConst);
  EXPECT_EQ(r.partition_slots, (std::vector<int>{0, 4}));
  EXPECT_EQ(r.partition_names, (std::vector<std::string>{"card", "http-status"}));
  ASSERT_TRUE(r.when.has_value());
  EXPECT_FALSE(r.pattern.has_value());
}

// The static type of `when EXPR` for a few expressions.
Type TypeOf(const std::string& expr) {
  auto rs = MustCompile(std::string(kTxn) + "rule r from txn when (" + expr + ") is not null\n");
  if (!rs) return Type::kNull;
  const cep::ExprPtr& e = rs->rules[0].when->cond;
  return e->nodes()[Root(e).a].type;
}

TEST(BinderTest, TypeRules) {
  EXPECT_EQ(TypeOf("at - at"), Type::kInt);
  EXPECT_EQ(TypeOf("at + 5m"), Type::kTimestamp);
  EXPECT_EQ(TypeOf("at - 1"), Type::kTimestamp);
  EXPECT_EQ(TypeOf("5m"), Type::kInt);
  EXPECT_EQ(TypeOf("1 + 2"), Type::kInt);
  EXPECT_EQ(TypeOf("1 + amount"), Type::kFloat);
  EXPECT_EQ(TypeOf("4 / 2"), Type::kFloat);
  EXPECT_EQ(TypeOf("`http-status` % 100"), Type::kInt);
  EXPECT_EQ(TypeOf("-amount"), Type::kFloat);
  EXPECT_EQ(TypeOf("len(card)"), Type::kInt);
  EXPECT_EQ(TypeOf("upper(card)"), Type::kString);
  EXPECT_EQ(TypeOf("min(1, 2.5)"), Type::kFloat);
  EXPECT_EQ(TypeOf("max(at, at)"), Type::kTimestamp);
  EXPECT_EQ(TypeOf("abs(`http-status`)"), Type::kInt);
  EXPECT_EQ(TypeOf("coalesce(null, card)"), Type::kString);
  EXPECT_EQ(TypeOf("card =~ \"^4\""), Type::kBool);
  EXPECT_EQ(TypeOf("at - at > 5m"), Type::kBool);
}

TEST(BinderTest, RegexAndCallsLower) {
  auto rs = MustCompile(std::string(kTxn) +
                        "rule r from txn when card =~ r\"^4\\d+\" and "
                        "starts_with(merchant, \"a\") and card in (\"1\", \"2\")\n");
  const cep::ExprPtr& e = rs->rules[0].when->cond;
  int regex = 0, call = 0, in = 0;
  for (const cep::ExprNode& n : e->nodes()) {
    if (n.op == ExprOp::kRegexMatch) {
      ++regex;
      EXPECT_EQ(n.index, 0);
    }
    if (n.op == ExprOp::kCall) {
      ++call;
      EXPECT_EQ(n.index, static_cast<int>(cep::Function::kStartsWith));
      EXPECT_EQ(n.args.size(), 2u);
    }
    if (n.op == ExprOp::kIn) {
      ++in;
      EXPECT_EQ(n.args.size(), 2u);
    }
  }
  EXPECT_EQ(regex, 1);
  EXPECT_EQ(call, 1);
  EXPECT_EQ(in, 1);
}

// ---- patterns ----

TEST(BinderTest, CardTestingLowering) {
  auto rs = MustCompile(std::string(kTxn) + R"(
rule card_testing
  from txn
  partition by card
  pattern small -> large
  define
    small as amount < 1.00,
    large as amount >= 500 and merchant != small.merchant and large.amount > small.amount
  within 10m
  emit first_amount = small.amount, total = sum(large.amount), both = total + first_amount
  labels { severity: "critical" }
  annotations { summary: "card {card}: {small.amount} then {total}" }
  to hook
  on timeout to audit
)");
  ASSERT_TRUE(rs);
  const cep::RuleDef& r = rs->rules[0];
  ASSERT_TRUE(r.pattern.has_value());
  const cep::Pattern& p = *r.pattern;
  ASSERT_EQ(p.vars.size(), 2u);
  EXPECT_EQ(p.vars[0].name, "small");
  EXPECT_EQ(p.vars[1].name, "large");
  EXPECT_FALSE(p.vars[0].quantified);
  ASSERT_TRUE(p.vars[0].condition);
  ASSERT_TRUE(p.vars[1].condition);
  EXPECT_EQ(p.root.kind, cep::PatternNode::Kind::kSeq);
  ASSERT_EQ(p.root.children.size(), 2u);
  EXPECT_EQ(p.root.children[0].var, 0);
  EXPECT_EQ(p.root.children[1].var, 1);
  ASSERT_EQ(p.root.conn.size(), 2u);
  EXPECT_EQ(p.root.conn[1], cep::Contiguity::kRelaxed);
  EXPECT_EQ(p.within, Duration(600000));
  EXPECT_EQ(p.skip, cep::SkipStrategy::kSkipPastLast);
  // Captures are deduplicated: small.merchant, small.amount (used in define and emit).
  ASSERT_EQ(p.captures.size(), 2u);
  EXPECT_EQ(p.captures[0].var, 0);
  EXPECT_EQ(p.captures[0].slot, 2);
  EXPECT_EQ(p.captures[1].var, 0);
  EXPECT_EQ(p.captures[1].slot, 1);
  ASSERT_EQ(p.aggs.size(), 1u);
  EXPECT_EQ(p.aggs[0].fn, cep::AggFn::kSum);
  EXPECT_EQ(p.aggs[0].var, 1);
  EXPECT_EQ(p.aggs[0].slot, 1);
  // In `define large`, large.amount is the candidate's field.
  bool candidate_field = false;
  for (const cep::ExprNode& n : p.vars[1].condition->nodes()) {
    if (n.op == ExprOp::kField && n.index == 1) candidate_field = true;
    EXPECT_NE(n.op, ExprOp::kLocal);
  }
  EXPECT_TRUE(candidate_field);
  // emit: captures, aggregates and locals (partition values first, then earlier emits).
  ASSERT_EQ(r.emit.size(), 3u);
  EXPECT_EQ(Root(r.emit[0].expr).op, ExprOp::kCapture);
  EXPECT_EQ(Root(r.emit[0].expr).index, 1);
  EXPECT_EQ(Root(r.emit[1].expr).op, ExprOp::kAgg);
  EXPECT_EQ(Root(r.emit[1].expr).b, static_cast<int>(cep::AggFn::kSum));
  EXPECT_EQ(Root(r.emit[1].expr).type, Type::kFloat);
  const cep::ExprPtr& both = r.emit[2].expr;
  EXPECT_EQ(both->nodes()[Root(both).a].op, ExprOp::kLocal);
  EXPECT_EQ(both->nodes()[Root(both).a].index, 2);  // card=0, first_amount=1, total=2
  EXPECT_EQ(both->nodes()[Root(both).b].index, 1);
  // Template: literal, local (card), literal, capture, literal, local (total).
  ASSERT_EQ(r.annotations.size(), 1u);
  const cep::Template& t = r.annotations[0].second;
  ASSERT_EQ(t.parts.size(), 6u);
  EXPECT_EQ(t.parts[0].literal, "card ");
  EXPECT_EQ(Root(t.parts[1].expr).op, ExprOp::kLocal);
  EXPECT_EQ(Root(t.parts[1].expr).index, 0);
  EXPECT_EQ(Root(t.parts[3].expr).op, ExprOp::kCapture);
  EXPECT_EQ(Root(t.parts[5].expr).index, 2);
  EXPECT_EQ(r.to, (std::vector<int>{1}));
  EXPECT_TRUE(r.on_timeout);
  EXPECT_EQ(r.timeout_to, (std::vector<int>{0}));
  EXPECT_EQ(r.fingerprint.size(), 16u);
}

cep::Quantifier QuantOf(const std::string& term) {
  auto rs = MustCompile(std::string(kTxn) + "rule r from txn pattern x -> " + term + " -> z\n");
  if (!rs) return {};
  return rs->rules[0].pattern->root.children[1].quant;
}

TEST(BinderTest, QuantifierMapping) {
  using Q = cep::Quantifier;
  auto check = [](const std::string& term, int min, int max, bool optional) {
    Q q = QuantOf(term);
    EXPECT_EQ(q.min, min) << term;
    EXPECT_EQ(q.max, max) << term;
    EXPECT_EQ(q.optional, optional) << term;
  };
  check("y", 1, 1, false);
  check("y?", 1, 1, true);
  check("y+", 1, Q::kUnbounded, false);
  check("y*", 1, Q::kUnbounded, true);
  check("y{3}", 3, 3, false);
  check("y{2,}", 2, Q::kUnbounded, false);
  check("y{0,}", 1, Q::kUnbounded, true);
  check("y{2,4}", 2, 4, false);
  check("y{0,2}", 1, 2, true);
  check("y{2} optional", 2, 2, true);
  EXPECT_EQ(QuantOf("y+").inner, cep::Contiguity::kRelaxed);
  EXPECT_EQ(QuantOf("y+ consecutive").inner, cep::Contiguity::kStrict);
  EXPECT_EQ(QuantOf("y{2} combinations").inner, cep::Contiguity::kNonDeterministic);
  EXPECT_TRUE(QuantOf("y* greedy").greedy);
  EXPECT_FALSE(QuantOf("y*").greedy);
  cep::Quantifier u = QuantOf("y{1,} until (amount > 3)");
  ASSERT_TRUE(u.until);
  EXPECT_EQ(u.until->type(), Type::kBool);
}

TEST(BinderTest, PatternStructure) {
  auto rs = MustCompile(std::string(kTxn) + R"(
rule r from txn
  pattern a b ->> (c -> d){2} combinations -> !e -> (f | g h)+
  define b as count(b) == 0, h as count(c) > 1 and last(d.amount) > 0
  within 1h
  after match skip to first c
)");
  ASSERT_TRUE(rs);
  const cep::Pattern& p = *rs->rules[0].pattern;
  ASSERT_EQ(p.vars.size(), 8u);
  const cep::PatternNode& root = p.root;
  ASSERT_EQ(root.children.size(), 5u);
  EXPECT_EQ(root.conn[1], cep::Contiguity::kStrict);
  EXPECT_EQ(root.conn[2], cep::Contiguity::kNonDeterministic);
  EXPECT_EQ(root.conn[3], cep::Contiguity::kRelaxed);
  const cep::PatternNode& group = root.children[2];
  EXPECT_EQ(group.kind, cep::PatternNode::Kind::kSeq);
  EXPECT_EQ(group.quant.min, 2);
  EXPECT_EQ(group.quant.inner, cep::Contiguity::kNonDeterministic);
  EXPECT_TRUE(p.vars[2].quantified);  // c in a quantified group
  EXPECT_TRUE(p.vars[3].quantified);
  EXPECT_FALSE(p.vars[0].quantified);
  EXPECT_TRUE(root.children[3].negated);
  EXPECT_EQ(root.children[3].var, 4);
  const cep::PatternNode& alt_group = root.children[4];
  EXPECT_EQ(alt_group.quant.max, cep::Quantifier::kUnbounded);
  EXPECT_TRUE(p.vars[5].quantified);
  EXPECT_EQ(p.skip, cep::SkipStrategy::kSkipToFirst);
  EXPECT_EQ(p.skip_var, 2);
  EXPECT_EQ(p.within, Duration(3600000));
  ASSERT_EQ(p.aggs.size(), 3u);  // count(b), count(c), last(d.amount)
  EXPECT_EQ(p.aggs[0].slot, -1);
  EXPECT_FALSE(p.vars[0].condition);  // undefined: any event
}

TEST(BinderTest, TimeBoundsLowerParallelToConnectors) {
  auto rs = MustCompile(std::string(kTxn) + R"(
rule r from txn
  pattern a ->[5m] b -> (c [30s] d)+ ->>[1m] !e
  within 1h
)");
  ASSERT_TRUE(rs);
  const cep::PatternNode& root = rs->rules[0].pattern->root;
  ASSERT_EQ(root.bound.size(), 4u);
  EXPECT_EQ(root.bound[0], Duration(0));
  EXPECT_EQ(root.bound[1], Duration(300000));
  EXPECT_EQ(root.bound[2], Duration(0));
  EXPECT_EQ(root.bound[3], Duration(60000));
  const cep::PatternNode& group = root.children[2];
  ASSERT_EQ(group.bound.size(), 2u);
  EXPECT_EQ(group.bound[1], Duration(30000));
  EXPECT_TRUE(cep::HasStepBounds(root));
  // Without any bound the vector stays empty.
  auto plain = MustCompile(std::string(kTxn) + "rule r from txn pattern a -> b\n");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->rules[0].pattern->root.bound.empty());
  EXPECT_FALSE(cep::HasStepBounds(plain->rules[0].pattern->root));
}

TEST(BinderTest, OnTimeoutWithOnlyATimeBoundIsNotWarned) {
  CompileResult bounded =
      Compile(std::string(kTxn) + "rule r from txn pattern a ->[1m] b on timeout\n");
  EXPECT_TRUE(bounded.ok());
  EXPECT_TRUE(bounded.diagnostics.empty());
  CompileResult unbounded =
      Compile(std::string(kTxn) + "rule r from txn pattern a -> b on timeout\n");
  EXPECT_TRUE(unbounded.ok());
  ASSERT_EQ(unbounded.diagnostics.size(), 1u);
  EXPECT_EQ(unbounded.diagnostics[0].severity, Severity::kWarning);
}

TEST(BinderTest, TrailingNotNextNeedsNoWithin) {
  EXPECT_TRUE(Compile(std::string(kTxn) + "rule r from txn pattern a !b\n").ok());
  EXPECT_TRUE(Compile(std::string(kTxn) + "rule r from txn pattern a -> (c | d !b)\n").ok());
  EXPECT_FALSE(
      Compile(std::string(kTxn) + "rule r from txn pattern a -> (c !b | d -> !b2)\n").ok());
}

TEST(BinderTest, OptionalIsNotQuantified) {
  auto rs =
      MustCompile(std::string(kTxn) + "rule r from txn pattern a -> b? -> c emit x = b.amount\n");
  ASSERT_TRUE(rs);
  EXPECT_FALSE(rs->rules[0].pattern->vars[1].quantified);
}

// ---- windows and when ----

TEST(BinderTest, WindowRecordSchema) {
  auto rs = MustCompile(R"(
stream metrics (host string, name string, value float, at timestamp) event time at
rule cpu from metrics
  where name == "cpu"
  partition by host
  window 1m slide 10s
  compute avg(value) as cpu, count() as n, quantile(0.5, value) as p50, max(value) as hi
  when cpu > 90 and window_end > window_start for 5m keep firing for 1m clear when cpu < 70
    no data after 10m
  emit spread = hi - cpu
)");
  ASSERT_TRUE(rs);
  const cep::RuleDef& r = rs->rules[0];
  ASSERT_TRUE(r.window.has_value());
  EXPECT_EQ(r.window->size, Duration(60000));
  EXPECT_EQ(r.window->slide, Duration(10000));
  ASSERT_EQ(r.window->aggs.size(), 4u);
  EXPECT_EQ(r.window->aggs[0].fn, cep::WindowAggFn::kAvg);
  EXPECT_EQ(r.window->aggs[1].fn, cep::WindowAggFn::kCount);
  EXPECT_FALSE(r.window->aggs[1].arg);
  EXPECT_EQ(r.window->aggs[2].fn, cep::WindowAggFn::kQuantile);
  EXPECT_DOUBLE_EQ(r.window->aggs[2].q, 0.5);
  EXPECT_EQ(r.window->aggs[3].type, Type::kFloat);
  const Schema& rec = r.window->record_schema;
  ASSERT_EQ(rec.size(), 7u);
  EXPECT_EQ(rec.field(0).name, "host");
  EXPECT_EQ(rec.field(1).name, "cpu");
  EXPECT_EQ(rec.field(2).type, Type::kInt);
  EXPECT_EQ(rec.field(5).name, "window_start");
  EXPECT_EQ(rec.field(6).type, Type::kTimestamp);
  ASSERT_TRUE(r.when.has_value());
  EXPECT_EQ(r.when->for_duration, Duration(300000));
  EXPECT_EQ(r.when->keep_firing_for, Duration(60000));
  EXPECT_EQ(r.when->no_data_after, Duration(600000));
  ASSERT_TRUE(r.when->clear_when);
  // when over the record: `cpu` is slot 1 of the record.
  const cep::ExprPtr& clear = r.when->clear_when;
  EXPECT_EQ(clear->nodes()[Root(clear).a].op, ExprOp::kField);
  EXPECT_EQ(clear->nodes()[Root(clear).a].index, 1);
  ASSERT_EQ(r.emit.size(), 1u);
  EXPECT_EQ(Root(r.emit[0].expr).type, Type::kFloat);
}

// ---- files, namespace, limits ----

TEST(CompilerTest, NamesAcrossFilesInAnyOrder) {
  CompileResult r = CompileSources({
      {"rules.vgl", "rule r from s pattern a -> b emit t = a.v + b.v to out\n"},
      {"sinks.vgl", "sink out file (path \"x.jsonl\")\n"},
      {"streams.vgl", "stream s (k string, v int)\n"},
  });
  ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].message);
  EXPECT_EQ(r.rule_set->rules[0].stream, 0);
  EXPECT_EQ(r.rule_set->rules[0].to, (std::vector<int>{0}));
}

TEST(CompilerTest, DuplicateAcrossFilesAndSortedErrors) {
  CompileResult r = CompileSources({
      {"a.vgl", "stream s (v int)\nrule r from s when w > 1\n"},
      {"b.vgl", "sink s stdout\nrule q from s when v > \"x\"\n"},
  });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (std::vector<std::string>{
                           "a.vgl:2:20: unknown field 'w' in stream 's' (did you mean 'v'?)",
                           "b.vgl:1:6: duplicate name 's' (already declared as a stream)",
                           "b.vgl:2:22: cannot compare int with string",
                       }));
  // The duplicate carries a note at the first declaration.
  bool note = false;
  for (const Diagnostic& d : r.diagnostics) {
    if (d.severity == Severity::kNote) {
      note = true;
      EXPECT_EQ(d.span.file, 0u);
    }
  }
  EXPECT_TRUE(note);
}

TEST(CompilerTest, AtMostTwentyErrors) {
  std::string text = "stream s (v int)\n";
  for (int i = 0; i < 30; ++i) text += "rule r" + std::to_string(i) + " from s when x > 1\n";
  CompileResult r = Compile(text);
  EXPECT_EQ(Errors(r).size(), 20u);
}

TEST(CompilerTest, SyntaxErrorsStopBinding) {
  CompileResult r = Compile("stream s (v int)\nrule r from s when v >\nrule q from s when zz\n");
  std::vector<std::string> e = Errors(r);
  ASSERT_FALSE(e.empty());
  for (const std::string& m : e) EXPECT_EQ(m.find("unknown field"), std::string::npos) << m;
}

TEST(CompilerTest, MissingFile) {
  CompileResult r = CompileFiles({"/nonexistent/dir/rules.vgl"});
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("/nonexistent/dir/rules.vgl"), std::string::npos);
  EXPECT_EQ(Render(r.sources, r.diagnostics[0]).rfind("/nonexistent/dir/rules.vgl: error: ", 0),
            0u);
}

TEST(CompilerTest, NullComparisonIsAWarning) {
  CompileResult r = Compile("stream s (v int)\nrule r from s when v == null\n");
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].severity, Severity::kWarning);
}

TEST(CompilerTest, FingerprintIsStable) {
  const std::string stream = "stream s (v int, k string)\n";
  auto fp = [&](const std::string& rule) {
    CompileResult r = Compile(stream + rule);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.rule_set->rules[0].fingerprint : std::string();
  };
  std::string a = fp("rule r from s when v > 1\n");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, fp("rule r   from s  # comment\n  when v > 1\n"));
  EXPECT_NE(a, fp("rule r from s when v > 2\n"));
  CompileResult other = Compile("stream s (v int, k int)\nrule r from s when v > 1\n");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(a, other.rule_set->rules[0].fingerprint);  // the stream's schema counts
}

}  // namespace
}  // namespace vigil::rules
