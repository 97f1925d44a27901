#include "engine/operator/record_builder.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/record_id.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

class Collect : public RecordRouter {
 public:
  absl::Status Route(const Record& r, const std::vector<int>& sinks) override {
    out.push_back(r);
    dests.push_back(sinks);
    return absl::OkStatus();
  }
  std::vector<Record> out;
  std::vector<std::vector<int>> dests;
};

std::shared_ptr<const cep::RuleSet> Compile(const std::string& src) {
  auto res = rules::CompileSources({{"t.vgl", src}});
  EXPECT_TRUE(res.ok()) << (res.diagnostics.empty() ? "" : res.diagnostics[0].message);
  return res.rule_set;
}

using Fields = std::vector<std::pair<std::string, Value>>;
using Labels = std::vector<std::pair<std::string, std::string>>;

TEST(RecordBuilder, PatternRecordsEmitOverLocalsAndGoToTimeoutSinks) {
  auto rules = Compile(R"(
stream s (k string, n int, v int, t timestamp) event time t
sink alerts stdout
sink late stdout
rule r from s partition by k, n
  pattern a -> b define a as v > 0, b as v > a.v within 1s
  emit total = a.v + b.v, doubled = total * 2
  labels { severity: "high", k: "key {k}" }
  annotations { summary: "{k}/{n}: {total} {doubled}" }
  to alerts
  on timeout to late
)");
  ASSERT_NE(rules, nullptr);
  const cep::RuleDef& rule = rules->rules[0];
  RecordBuilder builder(&rule, "s");
  const std::vector<Value> key = {Value::String("x"), Value::Int(7)};
  // Every capture (a.v, b.v) is 5: total = 10, and doubled reads total from the locals.
  std::vector<Value> captures(rule.pattern->captures.size(), Value::Int(5));

  Collect router;
  for (RecordKind kind : {RecordKind::kMatch, RecordKind::kTimeout}) {
    Record r;
    r.labels.emplace_back("stale", "from an earlier record");  // Start resets everything
    builder.Start(kind, EventTime(1500), key, &r);
    r.events.emplace_back("a", std::vector<EventPtr>{});
    cep::EvalEnv env;
    env.captures = captures.data();
    std::vector<cep::AggAcc> aggs(rule.pattern->aggs.size());
    env.aggs = aggs.data();
    builder.AddPatternEmits(key, &env, &r);
    builder.AddLabels(key, env, &r);
    ASSERT_TRUE(builder.Finish({3, 9}, &r, &router).ok());
  }
  ASSERT_EQ(router.out.size(), 2u);
  const Record& m = router.out[0];
  EXPECT_EQ(m.rule, "r");
  EXPECT_EQ(m.stream, "s");
  EXPECT_EQ(m.kind, RecordKind::kMatch);
  EXPECT_EQ(m.time, EventTime(1500));
  EXPECT_EQ(m.key, (Fields{{"k", Value::String("x")}, {"n", Value::Int(7)}}));
  EXPECT_EQ(m.fields, (Fields{{"total", Value::Int(10)}, {"doubled", Value::Int(20)}}));
  // alertname first; a rule label named like a partition field replaces it in place.
  EXPECT_EQ(m.labels, (Labels{{"alertname", "r"}, {"k", "key x"}, {"n", "7"}, {"severity", "high"}}));
  EXPECT_EQ(m.annotations, (Labels{{"summary", "x/7: 10 20"}}));
  EXPECT_EQ(m.id, StableRecordId("r", RecordKind::kMatch, m.key, {3, 9}, EventTime(1500)));
  EXPECT_EQ(router.dests[0], std::vector<int>{rules->FindSink("alerts")});
  // The timeout: its own id and the `on timeout` sinks.
  EXPECT_EQ(router.out[1].id,
            StableRecordId("r", RecordKind::kTimeout, m.key, {3, 9}, EventTime(1500)));
  EXPECT_NE(router.out[1].id, m.id);
  EXPECT_EQ(router.dests[1], std::vector<int>{rules->FindSink("late")});
}

TEST(RecordBuilder, WhenRecordsCarryTheRecordFieldsAndEmitsReplaceInPlace) {
  auto rules = Compile(R"(
stream m (host string, cpu float, t timestamp) event time t
rule hot from m partition by host when cpu > 90
  emit cpu = cpu / 100, level = "hot"
  labels { team: "sre-{host}" }
  annotations { summary: "{host} at {cpu}" }
)");
  ASSERT_NE(rules, nullptr);
  const cep::RuleDef& rule = rules->rules[0];
  RecordBuilder builder(&rule, "m");
  Event e;
  e.values = {Value::String("db"), Value::Float(95), Value::Timestamp(EventTime(60000))};
  e.seq = 17;
  const std::vector<Value> key = {Value::String("db")};
  cep::EvalEnv env;
  env.fields = e.values.data();
  Record r;
  builder.Start(RecordKind::kFiring, EventTime(60000), key, &r);
  builder.AddRecordFields(rules->streams[0].schema, e, env, &r);
  builder.AddLabels(key, env, &r);
  Collect router;
  ASSERT_TRUE(builder.Finish({e.seq}, &r, &router).ok());
  ASSERT_EQ(router.out.size(), 1u);
  const Record& out = router.out[0];
  EXPECT_EQ(out.fields, (Fields{{"host", Value::String("db")},
                                {"cpu", Value::Float(0.95)},
                                {"t", Value::Timestamp(EventTime(60000))},
                                {"level", Value::String("hot")}}));
  EXPECT_EQ(out.labels, (Labels{{"alertname", "hot"}, {"host", "db"}, {"team", "sre-db"}}));
  EXPECT_EQ(out.annotations, (Labels{{"summary", "db at 95"}}));  // the record's cpu
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.id, StableRecordId("hot", RecordKind::kFiring, out.key, {17}, EventTime(60000)));
  EXPECT_EQ(router.dests[0], std::vector<int>{});  // the default output
}

}  // namespace
}  // namespace vigil::engine
