// Unit tests of the syntactic front end (rules/parser): AST shapes, precedence, literals,
// templates, error messages and their locations, recovery, limits.
#include "rules/parser/parser.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/ast/dump.h"

namespace vigil::rules {
namespace {

using ::testing::HasSubstr;

ParseResult P(std::string_view text) { return Parse(0, text); }

std::string ErrorsOf(const ParseResult& r) {
  std::string s;
  for (const auto& d : r.diagnostics)
    s += std::to_string(d.span.begin) + "-" + std::to_string(d.span.end) + ": " + d.message + "\n";
  return s;
}

// Parses `rule r from s where EXPR` and returns the dumped where expression.
std::string Ex(const std::string& expr) {
  auto r = P("rule r from s where " + expr);
  EXPECT_TRUE(r.ok()) << expr << "\n" << ErrorsOf(r);
  if (r.file.rules.size() != 1 || !r.file.rules[0].where) return "<error>";
  return ast::DumpExpr(*r.file.rules[0].where);
}

std::string Pat(const std::string& pattern) {
  auto r = P("rule r from s pattern " + pattern);
  EXPECT_TRUE(r.ok()) << pattern << "\n" << ErrorsOf(r);
  if (r.file.rules.size() != 1 || !r.file.rules[0].pattern) return "<error>";
  return ast::DumpPattern(*r.file.rules[0].pattern);
}

// The first diagnostic of a text that must fail: "begin-end: message".
std::string Err(std::string_view text) {
  auto r = P(text);
  EXPECT_FALSE(r.ok()) << text;
  if (r.diagnostics.empty()) return "<no error>";
  const auto& d = r.diagnostics[0];
  return std::to_string(d.span.begin) + "-" + std::to_string(d.span.end) + ": " + d.message;
}

std::string_view SpanText(std::string_view text, Span s) {
  return text.substr(s.begin, s.end - s.begin);
}

TEST(ParserTest, EmptyAndComments) {
  EXPECT_TRUE(P("").ok());
  EXPECT_TRUE(P("  # only a comment\n\n# another").ok());
}

TEST(ParserTest, StreamDeclaration) {
  std::string text = R"(
stream txn (
  card     string,
  amount   float,
  geo.country string,        # nested JSON
  `http-status` int,
  time timestamp,
  type bool,
)
  event time time
  out of order 5s
  idle after 1m
  late to audit, pager
  from file(path "txn.jsonl"))";
  auto r = P(text);
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  ASSERT_EQ(r.file.streams.size(), 1u);
  const auto& s = r.file.streams[0];
  EXPECT_EQ(s.name.name, "txn");
  ASSERT_EQ(s.fields.size(), 6u);
  EXPECT_EQ(s.fields[0].name.ToString(), "card");
  EXPECT_EQ(s.fields[0].type, Type::kString);
  EXPECT_EQ(s.fields[1].type, Type::kFloat);
  ASSERT_EQ(s.fields[2].name.parts.size(), 2u);
  EXPECT_EQ(s.fields[2].name.ToString(), "geo.country");
  EXPECT_EQ(SpanText(text, s.fields[2].name.span), "geo.country");
  EXPECT_EQ(s.fields[3].name.parts[0].name, "http-status");
  EXPECT_TRUE(s.fields[3].name.parts[0].quoted);
  EXPECT_EQ(s.fields[3].type, Type::kInt);
  EXPECT_EQ(s.fields[4].name.ToString(), "time");
  EXPECT_EQ(s.fields[4].type, Type::kTimestamp);
  EXPECT_EQ(s.fields[5].type, Type::kBool);
  EXPECT_EQ(SpanText(text, s.fields[5].type_span), "bool");
  ASSERT_TRUE(s.event_time);
  EXPECT_EQ(s.event_time->ToString(), "time");
  ASSERT_TRUE(s.out_of_order);
  EXPECT_EQ(s.out_of_order->ms, 5000);
  ASSERT_TRUE(s.idle_after);
  EXPECT_EQ(s.idle_after->ms, 60000);
  ASSERT_EQ(s.late_to.size(), 2u);
  EXPECT_EQ(s.late_to[1].name, "pager");
  ASSERT_TRUE(s.source);
  EXPECT_EQ(s.source->kind.name, "file");
  ASSERT_EQ(s.source->options.size(), 1u);
  EXPECT_EQ(s.source->options[0].key.name, "path");
  EXPECT_EQ(s.source->options[0].value.s, "txn.jsonl");
  EXPECT_EQ(SpanText(text, s.span).substr(0, 10), "stream txn");
  EXPECT_EQ(text.substr(s.span.end - 2, 2), "\")");
}

TEST(ParserTest, StreamSources) {
  auto r =
      P("stream a (x int) from stdin\nstream b (x int) from kafka(brokers \"h:1\", topic \"t\")");
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  ASSERT_EQ(r.file.streams.size(), 2u);
  EXPECT_EQ(r.file.streams[0].source->kind.name, "stdin");
  EXPECT_TRUE(r.file.streams[0].source->options.empty());
  EXPECT_EQ(r.file.streams[1].source->options.size(), 2u);
}

TEST(ParserTest, StreamClausesAnyOrderButOnce) {
  EXPECT_TRUE(P("stream s (t timestamp) out of order 1s event time t").ok());
  EXPECT_EQ(Err("stream s (t timestamp) event time t event time t"),
            "47-48: duplicate 'event time' clause in stream 's'");
}

TEST(ParserTest, Sinks) {
  auto r = P(R"(
sink pager alertmanager (url "http://127.0.0.1:9093")
sink hook webhook (url "http://x/alerts", timeout 2s, retries 5, backoff -1, ratio 0.5, tls false)
sink console stdout)");
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  ASSERT_EQ(r.file.sinks.size(), 3u);
  EXPECT_EQ(r.file.sinks[0].kind.name, "alertmanager");
  const auto& o = r.file.sinks[1].options;
  ASSERT_EQ(o.size(), 6u);
  EXPECT_EQ(o[1].value.kind, ast::LiteralKind::kDuration);
  EXPECT_EQ(o[1].value.i, 2000);
  EXPECT_EQ(o[2].value.i, 5);
  EXPECT_EQ(o[3].value.i, -1);
  EXPECT_EQ(o[4].value.kind, ast::LiteralKind::kFloat);
  EXPECT_EQ(o[5].value.kind, ast::LiteralKind::kBool);
  EXPECT_EQ(r.file.sinks[2].name.name, "console");
  EXPECT_EQ(r.file.sinks[2].kind.name, "stdout");
  EXPECT_TRUE(r.file.sinks[2].options.empty());
}

TEST(ParserTest, FullPatternRule) {
  std::string text = R"(rule card_testing   # comment
  from txn
  where geo.country != "GB"
  partition by card, geo.country
  pattern small -> large
  define
    small as amount < 1.00,
    large as amount >= 500 and merchant != small.merchant
  within 10m
  after match skip past last
  emit first_amount = small.amount, total = sum(large.amount)
  labels { severity: "critical", team: "fraud", }
  annotations { summary: "card {card}: {small.amount} then {large.amount}" }
  to pager, audit
  on timeout to audit)";
  auto r = P(text);
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  ASSERT_EQ(r.file.rules.size(), 1u);
  const auto& rule = r.file.rules[0];
  EXPECT_EQ(rule.name.name, "card_testing");
  EXPECT_EQ(rule.from.name, "txn");
  EXPECT_EQ(ast::DumpExpr(*rule.where), "(!= geo.country \"GB\")");
  ASSERT_EQ(rule.partition_by.size(), 2u);
  EXPECT_EQ(rule.partition_by[1].ToString(), "geo.country");
  EXPECT_EQ(ast::DumpPattern(*rule.pattern), "(seq small -> large)");
  EXPECT_EQ(SpanText(text, rule.pattern_span), "pattern small -> large");
  ASSERT_EQ(rule.define.size(), 2u);
  EXPECT_EQ(rule.define[0].var.name, "small");
  EXPECT_EQ(ast::DumpExpr(rule.define[0].cond), "(< amount 1f)");
  EXPECT_EQ(ast::DumpExpr(rule.define[1].cond),
            "(and (>= amount 500) (!= merchant small.merchant))");
  EXPECT_EQ(SpanText(text, rule.define[1].span),
            "large as amount >= 500 and merchant != small.merchant");
  EXPECT_EQ(rule.within->ms, 600000);
  EXPECT_EQ(rule.after_match->kind, ast::SkipKind::kSkipPastLast);
  ASSERT_EQ(rule.emit.size(), 2u);
  EXPECT_EQ(rule.emit[1].name.name, "total");
  EXPECT_EQ(ast::DumpExpr(rule.emit[1].expr), "(call sum large.amount)");
  ASSERT_EQ(rule.labels.size(), 2u);
  EXPECT_EQ(rule.labels[0].key.name, "severity");
  EXPECT_EQ(ast::DumpTemplate(rule.labels[0].value), "<critical>");
  ASSERT_EQ(rule.annotations.size(), 1u);
  EXPECT_EQ(ast::DumpTemplate(rule.annotations[0].value),
            "<card >{card}<: >{small.amount}< then >{large.amount}");
  ASSERT_EQ(rule.to.size(), 2u);
  ASSERT_TRUE(rule.on_timeout);
  ASSERT_EQ(rule.on_timeout->to.size(), 1u);
  EXPECT_EQ(rule.on_timeout->to[0].name, "audit");
  EXPECT_FALSE(rule.when);
  EXPECT_EQ(SpanText(text, rule.span).substr(0, 17), "rule card_testing");
  EXPECT_EQ(text.substr(rule.span.end - 5, 5), "audit");
}

TEST(ParserTest, MonitoringRule) {
  auto r = P(R"(
rule cpu_hot
  from metrics
  where name == "cpu"
  partition by host
  window 1m slide 10s
  compute avg(value) as cpu, count() as samples, quantile(0.99, latency) as p99
  when cpu > 90 for 5m keep firing for 1m clear when cpu < 70 no data after 10m
  labels { severity: "page" }
  annotations { summary: "{host} CPU {cpu}% for 5m" }
  on timeout)");
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  const auto& rule = r.file.rules[0];
  ASSERT_TRUE(rule.window);
  EXPECT_EQ(rule.window->size.ms, 60000);
  EXPECT_EQ(rule.window->slide->ms, 10000);
  ASSERT_EQ(rule.window->compute.size(), 3u);
  EXPECT_EQ(ast::DumpExpr(rule.window->compute[1].agg), "(call count)");
  EXPECT_EQ(rule.window->compute[1].name.name, "samples");
  EXPECT_EQ(ast::DumpExpr(rule.window->compute[2].agg), "(call quantile 0.99f latency)");
  ASSERT_TRUE(rule.when);
  EXPECT_EQ(ast::DumpExpr(rule.when->cond), "(> cpu 90)");
  EXPECT_EQ(rule.when->for_duration->ms, 300000);
  EXPECT_EQ(rule.when->keep_firing_for->ms, 60000);
  EXPECT_EQ(ast::DumpExpr(*rule.when->clear_when), "(< cpu 70)");
  EXPECT_EQ(rule.when->no_data_after->ms, 600000);
  ASSERT_TRUE(rule.on_timeout);
  EXPECT_TRUE(rule.on_timeout->to.empty());
  EXPECT_FALSE(rule.pattern);
}

TEST(ParserTest, TumblingWindowAndMinimalWhen) {
  auto r = P("rule r from s window 5m compute sum(x) as t when t > 1");
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  EXPECT_FALSE(r.file.rules[0].window->slide);
  EXPECT_FALSE(r.file.rules[0].when->for_duration);
}

TEST(ParserTest, AfterMatchStrategies) {
  auto skip = [](const std::string& s) {
    auto r = P("rule r from s pattern a b after match " + s);
    EXPECT_TRUE(r.ok()) << s << ErrorsOf(r);
    return r.ok() ? r.file.rules[0].after_match->kind : ast::SkipKind::kNoSkip;
  };
  EXPECT_EQ(skip("no skip"), ast::SkipKind::kNoSkip);
  EXPECT_EQ(skip("skip to next"), ast::SkipKind::kSkipToNext);
  EXPECT_EQ(skip("skip past last"), ast::SkipKind::kSkipPastLast);
  EXPECT_EQ(skip("skip to first a"), ast::SkipKind::kSkipToFirst);
  EXPECT_EQ(skip("skip to last b"), ast::SkipKind::kSkipToLast);
  auto r = P("rule r from s pattern a b after match skip to last b");
  EXPECT_EQ(r.file.rules[0].after_match->var.name, "b");
}

TEST(ParserTest, ExpressionPrecedence) {
  EXPECT_EQ(Ex("a or b and c"), "(or a (and b c))");
  EXPECT_EQ(Ex("a || b && c"), "(or a (and b c))");
  EXPECT_EQ(Ex("not a == b"), "(not (== a b))");
  EXPECT_EQ(Ex("!a and b"), "(and (not a) b)");
  EXPECT_EQ(Ex("a + b * c == d - e / f % g"), "(== (+ a (* b c)) (- d (% (/ e f) g)))");
  EXPECT_EQ(Ex("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(Ex("(a - b) * -c"), "(* (- a b) (neg c))");
  EXPECT_EQ(Ex("- -x"), "(neg (neg x))");
  EXPECT_EQ(Ex("a < b and c >= d or e <= f and g > h"),
            "(or (and (< a b) (>= c d)) (and (<= e f) (> g h)))");
  EXPECT_EQ(Ex("name =~ r\"^a\\d+\" and name !~ \"x\""),
            "(and (=~ name r\"^a\\d+\") (!~ name \"x\"))");
  EXPECT_EQ(Ex("x in (1, 2, 3)"), "(in x 1 2 3)");
  EXPECT_EQ(Ex("x not in (\"a\")"), "(notin x \"a\")");
  EXPECT_EQ(Ex("x is null or y is not null"), "(or (isnull x) (isnotnull y))");
  EXPECT_EQ(Ex("not x is null"), "(not (isnull x))");
  EXPECT_EQ(Ex("a + 1 in (2)"), "(in (+ a 1) 2)");
  EXPECT_EQ(Ex("coalesce(a, b, \"x\") == lower(c)"),
            "(== (call coalesce a b \"x\") (call lower c))");
  EXPECT_EQ(Ex("count() > 2 and count(v) < 3"), "(and (> (call count) 2) (< (call count v) 3))");
  EXPECT_EQ(Ex("quantile(0.5, x) > 1"), "(> (call quantile 0.5f x) 1)");
  EXPECT_EQ(Ex("abs ( x ) > 1"), "(> (call abs x) 1)");
  EXPECT_EQ(Ex("small.amount * 2 > large.amount"), "(> (* small.amount 2) large.amount)");
  EXPECT_EQ(Ex("`http-status` >= 500"), "(>= http-status 500)");
  EXPECT_EQ(Ex("geo.`country code` == \"FR\""), "(== geo.country code \"FR\")");
  EXPECT_EQ(Ex("time > 1 and type == name and count == 2"),
            "(and (and (> time 1) (== type name)) (== count 2))");
  EXPECT_EQ(Ex("orx or andy"), "(or orx andy)");
  EXPECT_EQ(Ex("a==b"), "(== a b)");
  EXPECT_EQ(Ex("a-1"), "(- a 1)");
}

TEST(ParserTest, ExpressionSpans) {
  std::string text = "rule r from s where a.b + 10 > f(x, 2)";
  auto r = P(text);
  ASSERT_TRUE(r.ok());
  const auto& e = *r.file.rules[0].where;
  EXPECT_EQ(SpanText(text, e.span), "a.b + 10 > f(x, 2)");
  EXPECT_EQ(SpanText(text, e.op_span), ">");
  EXPECT_EQ(SpanText(text, e.args[0].span), "a.b + 10");
  EXPECT_EQ(SpanText(text, e.args[0].args[0].span), "a.b");
  EXPECT_EQ(SpanText(text, e.args[0].args[0].name.parts[1].span), "b");
  EXPECT_EQ(SpanText(text, e.args[0].args[1].span), "10");
  EXPECT_EQ(SpanText(text, e.args[1].span), "f(x, 2)");
  EXPECT_EQ(SpanText(text, e.args[1].func.span), "f");
  std::string t2 = "rule r from s where x in (1, 2)  and y is not null";
  auto r2 = P(t2);
  ASSERT_TRUE(r2.ok());
  const auto& e2 = *r2.file.rules[0].where;
  EXPECT_EQ(SpanText(t2, e2.args[0].span), "x in (1, 2)");
  EXPECT_EQ(SpanText(t2, e2.args[1].span), "y is not null");
  EXPECT_EQ(SpanText(t2, e2.args[1].op_span), "is not null");
}

TEST(ParserTest, Literals) {
  EXPECT_EQ(Ex("x == 42"), "(== x 42)");
  EXPECT_EQ(Ex("x == -7"), "(== x -7)");
  EXPECT_EQ(Ex("x == 3.25"), "(== x 3.25f)");
  EXPECT_EQ(Ex("x == 1e6"), "(== x 1e+06f)");
  EXPECT_EQ(Ex("x == 2.5e-3"), "(== x 0.0025f)");
  EXPECT_EQ(Ex("x == null or y == true or z == false"),
            "(or (or (== x null) (== y true)) (== z false))");
  EXPECT_EQ(Ex("x == 9223372036854775807"), "(== x 9223372036854775807)");
  // Negative literals are folded; the span covers the sign.
  std::string text = "rule r from s where x == -7";
  auto r = P(text);
  EXPECT_EQ(SpanText(text, r.file.rules[0].where->args[1].span), "-7");
  EXPECT_EQ(r.file.rules[0].where->args[1].literal.kind, ast::LiteralKind::kInt);
}

TEST(ParserTest, Durations) {
  EXPECT_EQ(Ex("d < 250ms"), "(< d 250ms)");
  EXPECT_EQ(Ex("d < 5s"), "(< d 5000ms)");
  EXPECT_EQ(Ex("d < 10m"), "(< d 600000ms)");
  EXPECT_EQ(Ex("d < 1h30m"), "(< d 5400000ms)");
  EXPECT_EQ(Ex("d < 2d"), "(< d 172800000ms)");
  EXPECT_EQ(Ex("d < 1m30s500ms"), "(< d 90500ms)");
  EXPECT_EQ(Ex("d < 0s"), "(< d 0ms)");
  auto r = P("rule r from s pattern a within 1h30m");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.file.rules[0].within->ms, 5400000);
  EXPECT_THAT(Err("rule r from s where d < 5min"), HasSubstr("invalid number '5min'"));
  EXPECT_THAT(Err("rule r from s where d < 1h30"), HasSubstr("invalid number '1h30'"));
  EXPECT_THAT(Err("rule r from s where d < 1.5s"), HasSubstr("invalid number '1.5s'"));
  EXPECT_THAT(Err("rule r from s pattern a within 10"),
              HasSubstr("expected a duration after 'within' (e.g. 10m), found '10'"));
  EXPECT_THAT(Err("rule r from s where d < 99999999999999999999d"),
              HasSubstr("duration out of range"));
  EXPECT_THAT(Err("rule r from s where d < 99999999999999999999"),
              HasSubstr("integer out of range"));
}

TEST(ParserTest, StringEscapes) {
  auto str = [](const std::string& lit) {
    auto r = P("rule r from s where x == " + lit);
    EXPECT_TRUE(r.ok()) << lit << ErrorsOf(r);
    return r.ok() ? r.file.rules[0].where->args[1].literal.s : "<error>";
  };
  EXPECT_EQ(str(R"("a\\b")"), "a\\b");
  EXPECT_EQ(str(R"("q\"q")"), "q\"q");
  EXPECT_EQ(str(R"('it\'s')"), "it's");
  EXPECT_EQ(str(R"('say "hi"')"), "say \"hi\"");
  EXPECT_EQ(str(R"("l1\nl2\tx")"), "l1\nl2\tx");
  EXPECT_EQ(str(R"("\u{41}\u{e9}\u{20AC}\u{1F600}")"), "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(str(R"(r"\d+\.\w")"), "\\d+\\.\\w");
  EXPECT_EQ(str(R"(r'a"b')"), "a\"b");
  EXPECT_EQ(str("\"\""), "");
  EXPECT_THAT(Err(R"(rule r from s where x == "a\qb")"), HasSubstr("unknown escape '\\q'"));
  EXPECT_EQ(Err(R"(rule r from s where x == "a\qb")"),
            std::string("27-29: unknown escape '\\q' in string (use \\\\ \\\" \\' \\n \\t "
                        "\\u{hex}, or a raw string r\"...\")"));
  EXPECT_THAT(Err(R"(rule r from s where x == "\u{D800}")"), HasSubstr("invalid code point"));
  EXPECT_THAT(Err(R"(rule r from s where x == "\u{110000}")"), HasSubstr("invalid code point"));
  EXPECT_THAT(Err(R"(rule r from s where x == "\u41")"), HasSubstr("expected '{' after \\u"));
  EXPECT_EQ(Err("rule r from s where x == \"abc"), "25-26: unterminated string literal");
}

TEST(ParserTest, Templates) {
  std::string text =
      R"(rule r from s when x > 1 annotations { a: "v={x + 1} {{lit}} {lower(\"A\")}!", b: "", "odd-key": r"{y}" })";
  auto r = P(text);
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  const auto& ann = r.file.rules[0].annotations;
  ASSERT_EQ(ann.size(), 3u);
  EXPECT_EQ(ast::DumpTemplate(ann[0].value), "<v=>{(+ x 1)}< {lit} >{(call lower \"A\")}<!>");
  EXPECT_TRUE(ann[1].value.parts.empty());
  EXPECT_EQ(ann[2].key.name, "odd-key");
  EXPECT_TRUE(ann[2].key.quoted);
  EXPECT_EQ(ast::DumpTemplate(ann[2].value), "{y}");
  // Hole spans point into the source, across escapes.
  const auto& parts = ann[0].value.parts;
  EXPECT_EQ(SpanText(text, parts[1].span), "{x + 1}");
  EXPECT_EQ(SpanText(text, parts[1].expr.span), "x + 1");
  EXPECT_EQ(SpanText(text, parts[1].expr.args[0].span), "x");
  EXPECT_EQ(SpanText(text, parts[3].expr.span), "lower(\\\"A\\\")");
  EXPECT_EQ(SpanText(text, parts[3].expr.args[0].span), "\\\"A\\\"");
  EXPECT_EQ(SpanText(text, parts[2].span), " {{lit}} ");
  EXPECT_EQ(parts[2].literal, " {lit} ");
}

TEST(ParserTest, TemplateErrors) {
  EXPECT_THAT(Err(R"(rule r from s when x labels { a: "x {y" })"),
              HasSubstr("expected '}' to close '{' in the template"));
  EXPECT_THAT(Err(R"(rule r from s when x labels { a: "x } y" })"),
              HasSubstr("unmatched '}' in template"));
  EXPECT_THAT(Err(R"(rule r from s when x labels { a: "x {} y" })"),
              HasSubstr("expected an expression in '{...}'"));
  // The error inside a hole is located in the source.
  std::string text = R"(rule r from s when x labels { a: "ab {x +} y" })";
  EXPECT_EQ(Err(text), "41-42: expected an expression after the operator, found '}'");
}

TEST(ParserTest, Patterns) {
  EXPECT_EQ(Pat("a"), "(seq a)");
  EXPECT_EQ(Pat("a b c"), "(seq a b c)");
  EXPECT_EQ(Pat("a -> b ->> c"), "(seq a -> b ->> c)");
  EXPECT_EQ(Pat("a->b->>c"), "(seq a -> b ->> c)");
  EXPECT_EQ(Pat("a | b c"), "(alt (seq a) (seq b c))");
  EXPECT_EQ(Pat("(a | b) -> c"), "(seq (alt (seq a) (seq b)) -> c)");
  EXPECT_EQ(Pat("a? b+ c* d{2} e{2,} f{2,5}"), "(seq a? b+ c* d{2} e{2,} f{2,5})");
  EXPECT_EQ(Pat("a{ 2 , 5 }"), "(seq a{2,5})");
  EXPECT_EQ(Pat("a+ greedy consecutive -> b{2} optional -> c* combinations"),
            "(seq a+ greedy consecutive -> b{2} optional -> c* combinations)");
  EXPECT_EQ(Pat("a{2,} until (x > 1 and y) -> b"), "(seq a{2,} until((and (> x 1) y)) -> b)");
  EXPECT_EQ(Pat("(a -> b){2}"), "(seq (seq a -> b){2})");
  EXPECT_EQ(Pat("beat -> !later"), "(seq beat -> !later)");
  EXPECT_EQ(Pat("a !b c"), "(seq a !b c)");
  EXPECT_EQ(Pat("((a))"), "(seq (seq (seq a)))");
  EXPECT_EQ(Pat("a{0}"), "(seq a{0})");  // semantic checks are the binder's
  auto r = P("rule r from s pattern a -> b+ within 5s");
  const auto& p = *r.file.rules[0].pattern;
  EXPECT_EQ(p.kind, ast::PatternNode::Kind::kSeq);
  ASSERT_EQ(p.connectors.size(), 2u);
  EXPECT_EQ(p.connectors[1], ast::Connector::kRelaxed);
  EXPECT_EQ(p.children[1].quant.kind, ast::QuantKind::kOneOrMore);
  EXPECT_EQ(p.children[1].quant.max, ast::Quantifier::kUnbounded);
}

TEST(ParserTest, PatternSpans) {
  std::string text = "rule r from s pattern a -> !bad{2} greedy -> (x y)+ within 1s";
  auto r = P(text);
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  const auto& p = *r.file.rules[0].pattern;
  EXPECT_EQ(SpanText(text, p.span), "a -> !bad{2} greedy -> (x y)+");
  EXPECT_EQ(SpanText(text, p.children[1].span), "!bad{2} greedy");
  EXPECT_EQ(SpanText(text, p.children[1].var.span), "bad");
  EXPECT_EQ(SpanText(text, p.children[1].quant.span), "{2}");
  EXPECT_EQ(SpanText(text, p.children[1].modifiers[0].span), "greedy");
  EXPECT_EQ(SpanText(text, p.children[2].span), "(x y)+");
}

TEST(ParserTest, TimeBoundsBetweenSteps) {
  EXPECT_EQ(Pat("a ->[5m] b"), "(seq a ->[300000ms] b)");
  EXPECT_EQ(Pat("a->>[1s]b [2s] c -> d"), "(seq a ->>[1000ms] b [2000ms] c -> d)");
  EXPECT_EQ(Pat("a -> [ 1h30m ] !b"), "(seq a ->[5400000ms] !b)");
  EXPECT_EQ(Pat("(a [0s] b)+"), "(seq (seq a [0ms] b)+)");  // the binder rejects 0
  std::string text = "rule r from s pattern a ->[5m] b c within 1h";
  auto r = P(text);
  ASSERT_TRUE(r.ok()) << ErrorsOf(r);
  const auto& p = *r.file.rules[0].pattern;
  ASSERT_EQ(p.bounds.size(), 3u);
  EXPECT_FALSE(p.bounds[0].has_value());
  ASSERT_TRUE(p.bounds[1].has_value());
  EXPECT_EQ(p.bounds[1]->ms, 300000);
  EXPECT_EQ(SpanText(text, p.bounds[1]->span), "5m");
  EXPECT_FALSE(p.bounds[2].has_value());
}

TEST(ParserTest, TimeBoundErrors) {
  EXPECT_EQ(Err("rule r from s pattern a ->[-5m] b"),
            "27-28: expected a duration after '[' (e.g. 5m), found '-'");
  EXPECT_EQ(Err("rule r from s pattern a ->[5m b"),
            "30-31: expected ']' after the time bound, found 'b'");
  EXPECT_EQ(Err("rule r from s pattern a ->[5] b"),
            "27-28: expected a duration after '[' (e.g. 5m), found '5'");
  EXPECT_THAT(Err("rule r from s pattern a ->[5m]"),
              HasSubstr("expected a pattern variable or '(' after the arrow"));
  EXPECT_THAT(Err("rule r from s pattern a [5m] within 1h"),
              HasSubstr("expected a pattern variable or '(' after the time bound"));
  EXPECT_THAT(Err("rule r from s pattern [5m] a -> b"),
              HasSubstr("expected a pattern after 'pattern'"));
}

TEST(ParserTest, QuantifierErrors) {
  EXPECT_EQ(Err("rule r from s pattern a{-1}"),
            "24-25: expected a non-negative integer in quantifier '{n}', '{n,}' or '{n,m}', "
            "found '-'");
  EXPECT_THAT(Err("rule r from s pattern a{3,2}"), HasSubstr("quantifier {n,m} needs n <= m"));
  EXPECT_THAT(Err("rule r from s pattern a{2"), HasSubstr("expected ',' or '}' in quantifier"));
  EXPECT_THAT(Err("rule r from s pattern a{99999999999}"),
              HasSubstr("quantifier count out of range"));
  EXPECT_THAT(Err("rule r from s pattern a{1,x}"),
              HasSubstr("expected an integer or '}' after ',' in quantifier"));
}

TEST(ParserTest, ErrorMessagesAndLocations) {
  EXPECT_EQ(Err("rule r from s pattern a define a is x > 1"),
            "33-35: expected 'as' after variable name in define, found 'is'");
  EXPECT_EQ(Err("rule r from s whre a > 1"),
            "14-18: unexpected 'whre', expected a clause (where, partition by, window, pattern, "
            "define, within, after match, when, emit, labels, annotations, to, on timeout) or "
            "the next declaration");
  EXPECT_THAT(Err("rule r from s when a > 1 where b"),
              HasSubstr("25-30: unexpected 'where': it is repeated or out of order"));
  EXPECT_EQ(Err("rule r from"), "11-11: expected a stream name after 'from', found end of file");
  EXPECT_EQ(Err("rule r where x"), "7-12: expected 'from' after the rule name, found 'where'");
  EXPECT_EQ(Err("foo"),
            "0-3: unexpected 'foo', expected a declaration ('stream', 'sink' or 'rule')");
  EXPECT_EQ(Err("stream s (a strng)"),
            "12-17: expected a type (bool, int, float, string, timestamp), found 'strng'");
  EXPECT_EQ(Err("stream s (a int"), "15-15: expected ')' or ',' after a field, found end of file");
  EXPECT_EQ(Err("rule r from s where (a > 1"), "26-26: expected ')', found end of file");
  EXPECT_EQ(Err("rule r from s where a >"),
            "23-23: expected an expression after the comparison operator, found end of file");
  EXPECT_EQ(Err("rule r from s where f(a,)"), "24-25: expected an expression after ',', found ')'");
  EXPECT_EQ(Err("rule r from s where x in 1"), "25-26: expected '(' after 'in', found '1'");
  EXPECT_EQ(Err("rule r from s where x is 1"),
            "25-26: expected 'null' or 'not null' after 'is', found '1'");
  EXPECT_EQ(Err("rule r from s pattern a ->"),
            "26-26: expected a pattern variable or '(' after the arrow, found end of file");
  EXPECT_EQ(Err("rule r from s pattern (a b"),
            "26-26: expected ')' to close the pattern group, found end of file");
  EXPECT_EQ(Err("rule r from s pattern a within 1m after match skip"),
            "50-50: expected 'to next', 'past last', 'to first VAR' or 'to last VAR' after "
            "'skip', found end of file");
  EXPECT_EQ(Err("rule r from s when x emit a == 1"),
            "28-30: expected '=' after the emit name, found '=='");
  EXPECT_EQ(Err("rule r from s when x labels { a: 1 }"),
            "33-34: expected a string template after ':', found '1'");
  EXPECT_EQ(Err("sink a"),
            "6-6: expected a sink kind (file, stdout, webhook, alertmanager, "
            "kafka), found end of file");
  EXPECT_EQ(Err("sink a file (path)"),
            "17-18: expected a literal value after the option name, found ')'");
  EXPECT_EQ(Err("rule r from s window 1m when x"),
            "24-28: expected 'compute' after the window size, found 'when'");
  EXPECT_EQ(Err("rule r from s when x for 5"),
            "25-26: expected a duration after 'for' (e.g. 5m), found '5'");
  EXPECT_EQ(Err("rule r from s when x = 1"),
            "21-22: unexpected '=', expected a clause (where, "
            "partition by, window, pattern, define, within, after match, when, emit, labels, "
            "annotations, to, on timeout) or the next declaration");
  EXPECT_EQ(Err("rule r from s where `a"), "20-22: unterminated backquoted name");
}

TEST(ParserTest, RecoveryReportsSeveralErrors) {
  std::string text = R"(stream s (a strng)
sink k file (path)
rule ok1 from s when a > 1
rule bad from s where (a
rule r2 from s pattern a define a is 1
stream t (x int)
)";
  auto r = P(text);
  ASSERT_EQ(r.diagnostics.size(), 4u) << ErrorsOf(r);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("expected a type"));
  EXPECT_THAT(r.diagnostics[1].message, HasSubstr("expected a literal value"));
  EXPECT_THAT(r.diagnostics[2].message, HasSubstr("expected ')'"));
  EXPECT_THAT(r.diagnostics[3].message, HasSubstr("expected 'as'"));
  // Good declarations are kept, bad ones dropped.
  ASSERT_EQ(r.file.rules.size(), 1u);
  EXPECT_EQ(r.file.rules[0].name.name, "ok1");
  ASSERT_EQ(r.file.streams.size(), 1u);
  EXPECT_EQ(r.file.streams[0].name.name, "t");
  EXPECT_TRUE(r.file.sinks.empty());
}

TEST(ParserTest, RecoverySkipsKeywordsInStringsAndComments) {
  auto r = P("rule a from s where x == \"rule z\" ! # rule y\n rule b from s when x");
  ASSERT_EQ(r.diagnostics.size(), 1u) << ErrorsOf(r);
  ASSERT_EQ(r.file.rules.size(), 1u);
  EXPECT_EQ(r.file.rules[0].name.name, "b");
}

TEST(ParserTest, ErrorLimit) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "rule r from\n";
  auto r = P(text);
  EXPECT_EQ(r.diagnostics.size(), kMaxParseErrors);
}

TEST(ParserTest, DeepNestingIsADiagnostic) {
  std::string deep = "rule r from s where " + std::string(100000, '(') + "x";
  EXPECT_THAT(Err(deep), HasSubstr("nesting too deep"));
  EXPECT_THAT(Err("rule r from s where " + std::string(50000, '-') + "x"),
              HasSubstr("nesting too deep"));
  std::string nots;
  for (int i = 0; i < 50000; ++i) nots += "not ";
  EXPECT_THAT(Err("rule r from s where " + nots + "x"), HasSubstr("nesting too deep"));
  EXPECT_THAT(Err("rule r from s pattern " + std::string(50000, '(') + "a"),
              HasSubstr("nesting too deep"));
  std::string chain = "rule r from s where x";
  for (int i = 0; i < 5000; ++i) chain += " + x";
  EXPECT_THAT(Err(chain), HasSubstr("expression too deeply nested"));
  // Moderate nesting is fine.
  EXPECT_EQ(Ex(std::string(50, '(') + "x" + std::string(50, ')')), "x");
}

TEST(ParserTest, GarbageNeverCrashes) {
  const char* inputs[] = {"\xff\xfe\x00",
                          "rule",
                          "stream",
                          "sink",
                          "rule r from s pattern",
                          "rule r from s labels {",
                          "\"",
                          "r\"",
                          "`",
                          "{{{{",
                          "rule r from s where \"\\u{",
                          "stream s (",
                          "rule r from s pattern a{",
                          "rule r from s when x labels { a: \"{\" }"};
  for (const char* in : inputs) {
    auto r = P(std::string_view(in, std::char_traits<char>::length(in)));
    EXPECT_FALSE(r.ok()) << in;
  }
  EXPECT_FALSE(P(std::string_view("rule r from s\0", 14)).ok());
}

}  // namespace
}  // namespace vigil::rules
