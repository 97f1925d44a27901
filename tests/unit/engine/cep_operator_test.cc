#include "engine/operator/cep_operator.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

constexpr char kRules[] = R"(
stream s (k string, name string, v int, t timestamp) event time t
sink late_sink stdout
rule r
  from s
  where v >= 0
  partition by k
  pattern a -> b
  define a as name == "a", b as name == "b"
  within 10ms
  emit total = a.v + b.v, doubled = total * 2
  labels { severity: "high", k: "overridden {k}" }
  annotations { summary: "{k}: {total}/{doubled}" }
  on timeout to late_sink
)";

struct Routed {
  Record record;
  std::vector<int> sinks;
};

class Collect : public RecordRouter {
 public:
  absl::Status Route(const Record& r, const std::vector<int>& sinks) override {
    out.push_back({r, sinks});
    return absl::OkStatus();
  }
  std::vector<Routed> out;
};

class CepOperatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto res = rules::CompileSources({{"t.vgl", kRules}});
    ASSERT_TRUE(res.ok()) << (res.diagnostics.empty() ? "" : res.diagnostics[0].message);
    rules_ = res.rule_set;
    auto op = CepOperator::Create(rules_, 0, CepOperatorOptions{}, &router_);
    ASSERT_TRUE(op.ok()) << op.status();
    op_ = std::move(op).value();
  }

  EventPtr Ev(const std::string& k, const std::string& name, int64_t v, int64_t t) {
    auto e = std::make_shared<Event>();
    e->values = {Value::String(k), Value::String(name), Value::Int(v),
                 Value::Timestamp(EventTime(t))};
    e->time = EventTime(t);
    e->seq = ++seq_;
    e->raw = "{\"k\":\"" + k + "\"}";
    return e;
  }

  std::shared_ptr<const cep::RuleSet> rules_;
  Collect router_;
  std::unique_ptr<CepOperator> op_;
  uint64_t seq_ = 0;
};

TEST_F(CepOperatorTest, MatchPerKeyBecomesARecord) {
  ASSERT_TRUE(op_->Process(Ev("x", "a", 1, 0)).ok());
  ASSERT_TRUE(op_->Process(Ev("y", "a", 10, 1)).ok());
  ASSERT_TRUE(op_->Process(Ev("x", "b", 2, 2)).ok());
  ASSERT_EQ(router_.out.size(), 1u);
  const Record& r = router_.out[0].record;
  EXPECT_TRUE(router_.out[0].sinks.empty());  // default output
  EXPECT_EQ(r.rule, "r");
  EXPECT_EQ(r.kind, RecordKind::kMatch);
  ASSERT_EQ(r.key.size(), 1u);
  EXPECT_EQ(r.key[0].first, "k");
  EXPECT_EQ(r.key[0].second, Value::String("x"));
  EXPECT_EQ(r.time, EventTime(2));
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].first, "a");
  EXPECT_EQ(r.events[0].second[0]->seq, 1u);
  EXPECT_EQ(r.events[1].first, "b");
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.fields[0].second, Value::Int(3));
  EXPECT_EQ(r.fields[1].second, Value::Int(6));
  ASSERT_GE(r.labels.size(), 3u);
  EXPECT_EQ(r.labels[0], (std::pair<std::string, std::string>{"alertname", "r"}));
  EXPECT_EQ(r.labels[1], (std::pair<std::string, std::string>{"k", "overridden x"}));
  EXPECT_EQ(r.labels[2], (std::pair<std::string, std::string>{"severity", "high"}));
  ASSERT_EQ(r.annotations.size(), 1u);
  EXPECT_EQ(r.annotations[0].second, "x: 3/6");
  EXPECT_EQ(r.id.size(), 16u);
  // x is idle again and freed; y holds a partial match.
  EXPECT_EQ(op_->stats().live_keys, 1u);
  EXPECT_EQ(op_->stats().matches, 1u);
}

TEST_F(CepOperatorTest, WhereFiltersBeforeKeys) {
  ASSERT_TRUE(op_->Process(Ev("x", "a", -1, 0)).ok());
  EXPECT_EQ(op_->stats().filtered, 1u);
  EXPECT_EQ(op_->stats().keys_created, 0u);
}

TEST_F(CepOperatorTest, TimeoutsFireWhenTheWatermarkPassesTheDeadline) {
  ASSERT_TRUE(op_->Process(Ev("x", "a", 1, 100)).ok());
  ASSERT_TRUE(op_->Process(Ev("y", "a", 1, 105)).ok());
  ASSERT_TRUE(op_->AdvanceWatermark(Watermark(109)).ok());
  EXPECT_TRUE(router_.out.empty());
  ASSERT_TRUE(op_->AdvanceWatermark(Watermark(110)).ok());
  ASSERT_EQ(router_.out.size(), 1u);
  EXPECT_EQ(router_.out[0].record.kind, RecordKind::kTimeout);
  EXPECT_EQ(router_.out[0].record.time, EventTime(110));
  EXPECT_EQ(router_.out[0].sinks, std::vector<int>{rules_->FindSink("late_sink")});
  EXPECT_EQ(op_->stats().live_keys, 1u);
  ASSERT_TRUE(op_->AdvanceWatermark(Watermark::Max()).ok());
  ASSERT_EQ(router_.out.size(), 2u);
  EXPECT_EQ(router_.out[1].record.time, EventTime(115));
  EXPECT_EQ(op_->stats().live_keys, 0u);
}

TEST_F(CepOperatorTest, AnEventPastTheDeadlineExpiresItsKeyFirst) {
  ASSERT_TRUE(op_->Process(Ev("x", "a", 1, 100)).ok());
  ASSERT_TRUE(op_->Process(Ev("x", "b", 1, 110)).ok());  // too late for the window
  ASSERT_EQ(router_.out.size(), 1u);
  EXPECT_EQ(router_.out[0].record.kind, RecordKind::kTimeout);
}

TEST_F(CepOperatorTest, WatermarksOnlyTouchDueKeys) {
  // 1000 keys with a partial match each, deadlines spread over 1000 ms.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(op_->Process(Ev("k" + std::to_string(i), "a", 1, i)).ok());
  }
  // Advancing the watermark ms by ms fires each key's timer once, not every key each time.
  for (int64_t wm = 0; wm < 1020; ++wm) ASSERT_TRUE(op_->AdvanceWatermark(Watermark(wm)).ok());
  EXPECT_EQ(op_->stats().timeouts, 1000u);
  EXPECT_EQ(op_->stats().timer_firings, 1000u);
  EXPECT_EQ(op_->stats().live_keys, 0u);
}

TEST(CepOperatorCreate, RejectsMonitoringRules) {
  auto res = rules::CompileSources(
      {{"w.vgl", "stream m (h string, v float)\nrule hot from m partition by h when v > 90\n"}});
  ASSERT_TRUE(res.ok());
  Collect router;
  auto op = CepOperator::Create(res.rule_set, 0, {}, &router);
  EXPECT_FALSE(op.ok());
  EXPECT_NE(std::string(op.status().message()).find("not supported yet"), std::string::npos);
}

}  // namespace
}  // namespace vigil::engine
