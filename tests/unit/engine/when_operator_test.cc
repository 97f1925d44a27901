#include "engine/operator/when_operator.h"

#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cep/expr/expr.h"
#include "cep/rule_set.h"
#include "engine/operator/window_operator.h"
#include "engine/record_id.h"
#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

constexpr int64_t kMin = 60000;

// Stream slots: host string, value float, ts timestamp.
constexpr int kHost = 0;
constexpr int kValue = 1;

// `field OP constant` over a float field.
cep::ExprPtr Cmp(cep::ExprOp op, int slot, double c) {
  auto e = std::make_shared<cep::Expr>();
  cep::ExprNode f;
  f.op = cep::ExprOp::kField;
  f.type = Type::kFloat;
  f.index = slot;
  int32_t a = e->AddNode(f);
  cep::ExprNode k;
  k.op = cep::ExprOp::kConst;
  k.type = Type::kFloat;
  k.index = e->AddConst(Value::Float(c));
  int32_t b = e->AddNode(k);
  cep::ExprNode n;
  n.op = op;
  n.type = Type::kBool;
  n.a = a;
  n.b = b;
  e->set_root(e->AddNode(n));
  return e;
}

cep::ExprPtr Field(int slot, Type t) {
  auto e = std::make_shared<cep::Expr>();
  cep::ExprNode f;
  f.op = cep::ExprOp::kField;
  f.type = t;
  f.index = slot;
  e->set_root(e->AddNode(f));
  return e;
}

cep::Template Tmpl(std::vector<std::pair<std::string, cep::ExprPtr>> parts) {
  cep::Template t;
  for (auto& [lit, expr] : parts) t.parts.push_back(cep::Template::Part{lit, expr});
  return t;
}

struct WhenConfig {
  double threshold = 90;  // when value > threshold
  std::optional<int64_t> for_ms = std::nullopt;
  std::optional<int64_t> keep_ms = std::nullopt;
  std::optional<double> clear_below = std::nullopt;  // clear when value < x
  std::optional<int64_t> no_data_ms = std::nullopt;
  bool partition = true;
};

std::shared_ptr<cep::RuleSet> MakeRules(const WhenConfig& c) {
  auto rs = std::make_shared<cep::RuleSet>();
  cep::StreamDef s;
  s.name = "metrics";
  s.schema = Schema("metrics");
  s.schema.AddField(FieldDef{"host", {"host"}, Type::kString});
  s.schema.AddField(FieldDef{"value", {"value"}, Type::kFloat});
  s.schema.AddField(FieldDef{"ts", {"ts"}, Type::kTimestamp});
  s.event_time_slot = 2;
  rs->streams.push_back(std::move(s));
  cep::RuleDef r;
  r.name = "hot";
  r.stream = 0;
  if (c.partition) {
    r.partition_slots = {kHost};
    r.partition_names = {"host"};
  }
  cep::WhenSpec w;
  w.cond = Cmp(cep::ExprOp::kGt, kValue, c.threshold);
  if (c.for_ms) w.for_duration = Duration(*c.for_ms);
  if (c.keep_ms) w.keep_firing_for = Duration(*c.keep_ms);
  if (c.clear_below) w.clear_when = Cmp(cep::ExprOp::kLt, kValue, *c.clear_below);
  if (c.no_data_ms) w.no_data_after = Duration(*c.no_data_ms);
  r.when = std::move(w);
  r.labels.emplace_back("severity", Tmpl({{"page", nullptr}}));
  r.annotations.emplace_back("summary", Tmpl({{"", Field(kHost, Type::kString)},
                                              {" at ", nullptr},
                                              {"", Field(kValue, Type::kFloat)}}));
  r.to = {3};
  rs->rules.push_back(std::move(r));
  return rs;
}

class FakeRouter : public RecordRouter {
 public:
  absl::Status Route(const Record& r, const std::vector<int>& sinks) override {
    records.push_back(r);
    last_sinks = sinks;
    return absl::OkStatus();
  }
  std::vector<Record> records;
  std::vector<int> last_sinks;
};

EventPtr Ev(std::string host, double value, int64_t t, uint64_t seq = 0) {
  auto e = std::make_shared<Event>();
  e->values = {Value::String(std::move(host)), Value::Float(value), Value::Timestamp(EventTime(t))};
  e->time = EventTime(t);
  e->seq = seq != 0 ? seq : static_cast<uint64_t>(t) + 1;
  return e;
}

struct Harness {
  std::shared_ptr<cep::RuleSet> rules;
  FakeRouter router;
  std::unique_ptr<WhenOperator> op;

  explicit Harness(const WhenConfig& c) : Harness(MakeRules(c)) {}
  explicit Harness(std::shared_ptr<cep::RuleSet> rs) : rules(std::move(rs)) {
    auto made = WhenOperator::Create(rules, 0, &router);
    EXPECT_TRUE(made.ok()) << made.status();
    op = std::move(made).value();
  }
  // Processes the record; returns "kind@time" of the records it produced.
  std::vector<std::string> Add(const std::string& host, double v, int64_t t) {
    size_t before = router.records.size();
    EXPECT_TRUE(op->Process(Ev(host, v, t)).ok());
    return Since(before);
  }
  std::vector<std::string> Advance(int64_t wm) {
    size_t before = router.records.size();
    EXPECT_TRUE(op->AdvanceWatermark(Watermark(wm)).ok());
    return Since(before);
  }
  std::vector<std::string> Since(size_t before) const {
    std::vector<std::string> out;
    for (size_t i = before; i < router.records.size(); ++i) {
      const Record& r = router.records[i];
      out.push_back(std::string(RecordKindName(r.kind)) + "@" + std::to_string(r.time.ms));
    }
    return out;
  }
};

using Kinds = std::vector<std::string>;

TEST(WhenOperator, CreateRejectsRulesWithoutWhen) {
  auto rs = MakeRules({});
  rs->rules[0].when.reset();
  FakeRouter router;
  EXPECT_EQ(WhenOperator::Create(rs, 0, &router).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WhenOperator, WithoutForFiresOnFirstTrueAndResolvesOnFirstFalse) {
  Harness h(WhenConfig{});
  EXPECT_EQ(h.Add("a", 50, 0), Kinds{});
  EXPECT_EQ(h.Add("a", 95, 10), Kinds{"firing@10"});
  EXPECT_EQ(h.Add("a", 96, 20), Kinds{});  // once per run
  EXPECT_EQ(h.Add("a", 50, 30), Kinds{"resolved@30"});
  EXPECT_EQ(h.Add("a", 40, 40), Kinds{});
  EXPECT_EQ(h.Add("a", 95, 50), Kinds{"firing@50"});  // a new run fires again
  EXPECT_EQ(h.op->stats().firing, 2u);
  EXPECT_EQ(h.op->stats().resolved, 1u);
}

TEST(WhenOperator, ForFiresExactlyWhenDurationReached) {
  Harness h(WhenConfig{.for_ms = 5 * kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{});
  for (int64_t t = kMin; t < 5 * kMin; t += kMin) EXPECT_EQ(h.Add("a", 95, t), Kinds{});
  EXPECT_EQ(h.Add("a", 95, 5 * kMin - 1000), Kinds{});  // 4m59s: not yet
  EXPECT_EQ(h.Add("a", 95, 5 * kMin), Kinds{"firing@300000"});
  EXPECT_EQ(h.Add("a", 95, 6 * kMin), Kinds{});
  EXPECT_EQ(h.Add("a", 10, 7 * kMin), Kinds{"resolved@420000"});
}

TEST(WhenOperator, ForRunBrokenBeforeFiringIsSilentAndRestarts) {
  Harness h(WhenConfig{.for_ms = 5 * kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{});
  EXPECT_EQ(h.Add("a", 95, 4 * kMin), Kinds{});
  EXPECT_EQ(h.Add("a", 50, 4 * kMin + 30000), Kinds{});  // breaks the run: no record
  EXPECT_EQ(h.Add("a", 95, 5 * kMin), Kinds{});          // a new run starts here
  EXPECT_EQ(h.Add("a", 95, 9 * kMin + 59999), Kinds{});
  EXPECT_EQ(h.Add("a", 95, 10 * kMin), Kinds{"firing@600000"});
}

TEST(WhenOperator, NullConditionIsFalse) {
  Harness h(WhenConfig{});
  auto e = Ev("a", 0, 10);
  std::const_pointer_cast<Event>(e)->values[kValue] = Value();
  ASSERT_TRUE(h.op->Process(e).ok());
  EXPECT_TRUE(h.router.records.empty());
}

TEST(WhenOperator, KeepFiringFor) {
  Harness h(WhenConfig{.keep_ms = 2 * kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{"firing@0"});
  EXPECT_EQ(h.Add("a", 50, 100000), Kinds{});  // false since 100000
  EXPECT_EQ(h.Add("a", 50, 200000), Kinds{});  // 100s < 2m
  EXPECT_EQ(h.Add("a", 95, 210000), Kinds{});  // true again: the false streak is over
  EXPECT_EQ(h.Add("a", 50, 220000), Kinds{});  // false since 220000
  EXPECT_EQ(h.Add("a", 50, 339999), Kinds{});
  EXPECT_EQ(h.Add("a", 50, 340000), Kinds{"resolved@340000"});
  EXPECT_EQ(h.Add("a", 95, 350000), Kinds{"firing@350000"});
}

TEST(WhenOperator, ClearWhenHysteresis) {
  Harness h(WhenConfig{.clear_below = 70});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{"firing@0"});
  EXPECT_EQ(h.Add("a", 80, 10), Kinds{});  // COND false but not clear: still firing
  EXPECT_EQ(h.Add("a", 95, 20), Kinds{});  // still the same alert: no new firing
  EXPECT_EQ(h.Add("a", 75, 30), Kinds{});
  EXPECT_EQ(h.Add("a", 60, 40), Kinds{"resolved@40"});
  EXPECT_EQ(h.Add("a", 80, 50), Kinds{});
  EXPECT_EQ(h.Add("a", 91, 60), Kinds{"firing@60"});
}

TEST(WhenOperator, ClearWhenWithKeepFiringFor) {
  Harness h(WhenConfig{.keep_ms = kMin, .clear_below = 70});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{"firing@0"});
  EXPECT_EQ(h.Add("a", 60, 10000), Kinds{});  // clear since 10000
  EXPECT_EQ(h.Add("a", 80, 20000), Kinds{});  // not clear: streak over
  EXPECT_EQ(h.Add("a", 60, 30000), Kinds{});  // clear since 30000
  EXPECT_EQ(h.Add("a", 65, 89999), Kinds{});
  EXPECT_EQ(h.Add("a", 65, 90000), Kinds{"resolved@90000"});
}

TEST(WhenOperator, NoDataAfterFromWatermark) {
  Harness h(WhenConfig{.no_data_ms = 5 * kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{"firing@0"});
  EXPECT_EQ(h.Add("a", 96, kMin), Kinds{});
  EXPECT_EQ(h.Advance(6 * kMin - 1), Kinds{});
  EXPECT_EQ(h.Advance(6 * kMin), Kinds{"nodata@360000"});
  const Record& nd = h.router.records.back();
  EXPECT_EQ(nd.fields[1].first, "value");
  EXPECT_EQ(nd.fields[1].second, Value::Float(96));  // the last record's fields
  EXPECT_TRUE(nd.events.empty());
  EXPECT_EQ(nd.id,
            StableRecordId("hot", RecordKind::kNodata, nd.key, {kMin + 1}, EventTime(6 * kMin)));
  EXPECT_EQ(h.Advance(100 * kMin), Kinds{});  // once
  // The run is over: a later true record fires again.
  EXPECT_EQ(h.Add("a", 95, 101 * kMin), Kinds{"firing@6060000"});
  EXPECT_EQ(h.op->stats().nodata, 1u);
}

TEST(WhenOperator, NoDataBeforeALateRecordAndBoundary) {
  Harness h(WhenConfig{.no_data_ms = 5 * kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{"firing@0"});
  EXPECT_EQ(h.Add("a", 95, 5 * kMin), Kinds{});  // exactly N later: still data
  // More than N later, without a watermark in between: nodata first, then the record
  // (true: a new run, which fires at once without `for`).
  EXPECT_EQ(h.Add("a", 95, 10 * kMin + 1), (Kinds{"nodata@600000", "firing@600001"}));
  EXPECT_EQ(h.Add("a", 10, 11 * kMin), Kinds{"resolved@660000"});
  EXPECT_EQ(h.Advance(1000 * kMin), Kinds{});  // resolved keys have no nodata
}

TEST(WhenOperator, NoDataOnlyForFiringKeys) {
  Harness h(WhenConfig{.for_ms = kMin, .no_data_ms = kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{});  // pending
  EXPECT_EQ(h.Advance(10 * kMin), Kinds{});
  EXPECT_EQ(h.Add("b", 95, 11 * kMin), Kinds{});
  EXPECT_EQ(h.Add("b", 95, 12 * kMin), Kinds{"firing@720000"});
  // End of input: the watermark is +infinity and the firing key reports nodata.
  EXPECT_EQ(h.Advance(Watermark::Max().ms), Kinds{"nodata@780000"});
}

TEST(WhenOperator, NoDataTimerFollowsNewRecords) {
  Harness h(WhenConfig{.no_data_ms = kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{"firing@0"});
  for (int64_t t = 30000; t <= 300000; t += 30000) {
    EXPECT_EQ(h.Add("a", 95, t), Kinds{});
    EXPECT_EQ(h.Advance(t + 100), Kinds{});
  }
  EXPECT_EQ(h.Advance(360000), Kinds{"nodata@360000"});
}

TEST(WhenOperator, KeysAreIndependent) {
  Harness h(WhenConfig{.for_ms = 2 * kMin});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{});
  EXPECT_EQ(h.Add("b", 95, kMin), Kinds{});
  EXPECT_EQ(h.Add("a", 95, 2 * kMin), Kinds{"firing@120000"});
  EXPECT_EQ(h.Add("b", 50, 2 * kMin), Kinds{});
  EXPECT_EQ(h.Add("b", 95, 3 * kMin), Kinds{});
  EXPECT_EQ(h.Add("a", 50, 3 * kMin), Kinds{"resolved@180000"});
  EXPECT_EQ(h.Add("b", 95, 5 * kMin), Kinds{"firing@300000"});
  EXPECT_EQ(h.router.records[0].key[0].second, Value::String("a"));
  EXPECT_EQ(h.router.records[2].key[0].second, Value::String("b"));
  EXPECT_EQ(h.op->stats().live_keys, 1u);
}

TEST(WhenOperator, RecordContents) {
  Harness h(WhenConfig{});
  ASSERT_TRUE(h.op->Process(Ev("web-1", 97.5, 1000, 42)).ok());
  ASSERT_EQ(h.router.records.size(), 1u);
  const Record& r = h.router.records[0];
  EXPECT_EQ(r.rule, "hot");
  EXPECT_EQ(r.kind, RecordKind::kFiring);
  EXPECT_EQ(r.time, EventTime(1000));
  ASSERT_EQ(r.key.size(), 1u);
  EXPECT_EQ(r.key[0], (std::pair<std::string, Value>{"host", Value::String("web-1")}));
  EXPECT_EQ(r.fields, (std::vector<std::pair<std::string, Value>>{
                          {"host", Value::String("web-1")},
                          {"value", Value::Float(97.5)},
                          {"ts", Value::Timestamp(EventTime(1000))}}));
  EXPECT_EQ(r.labels, (std::vector<std::pair<std::string, std::string>>{
                          {"alertname", "hot"}, {"host", "web-1"}, {"severity", "page"}}));
  EXPECT_EQ(r.annotations,
            (std::vector<std::pair<std::string, std::string>>{{"summary", "web-1 at 97.5"}}));
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.id, StableRecordId("hot", RecordKind::kFiring, r.key, {42}, EventTime(1000)));
  EXPECT_EQ(h.router.last_sinks, std::vector<int>{3});
}

TEST(WhenOperator, WithoutPartitionOneKey) {
  Harness h(WhenConfig{.partition = false});
  EXPECT_EQ(h.Add("a", 95, 0), Kinds{"firing@0"});
  EXPECT_EQ(h.Add("b", 95, 1), Kinds{});
  EXPECT_EQ(h.Add("c", 5, 2), Kinds{"resolved@2"});
  EXPECT_TRUE(h.router.records[0].key.empty());
  EXPECT_EQ(h.router.records[0].labels.size(), 2u);  // alertname, severity
}

// window 1m compute avg(value) as cpu; when cpu > 90 for 3m: the when operator reads the
// window records, whose partition value is their first field.
TEST(WhenOperator, OverWindowRecords) {
  auto rs = MakeRules(WhenConfig{});
  cep::RuleDef& r = rs->rules[0];
  cep::WindowSpec w;
  w.size = Duration(kMin);
  w.slide = Duration(kMin);
  cep::WindowAgg avg;
  avg.fn = cep::WindowAggFn::kAvg;
  avg.arg = Field(kValue, Type::kFloat);
  avg.name = "cpu";
  avg.type = Type::kFloat;
  w.aggs.push_back(avg);
  w.record_schema = Schema("hot");
  w.record_schema.AddField(FieldDef{"host", {"host"}, Type::kString});
  w.record_schema.AddField(FieldDef{"cpu", {"cpu"}, Type::kFloat});
  w.record_schema.AddField(FieldDef{"window_start", {"window_start"}, Type::kTimestamp});
  w.record_schema.AddField(FieldDef{"window_end", {"window_end"}, Type::kTimestamp});
  r.window = std::move(w);
  r.when->cond = Cmp(cep::ExprOp::kGt, 1, 90);  // cpu is slot 1 of the record
  r.when->for_duration = Duration(3 * kMin);
  r.annotations.clear();
  r.annotations.emplace_back(
      "summary",
      Tmpl({{"", Field(0, Type::kString)}, {" cpu ", nullptr}, {"", Field(1, Type::kFloat)}}));

  FakeRouter router;
  auto when = WhenOperator::Create(rs, 0, &router).value();
  auto window = WindowOperator::Create(rs, 0, [&](const EventPtr& rec) {
                  return when->Process(rec);
                }).value();
  // avg per minute: 95, 92, 91, 93, 50.
  const double avgs[] = {95, 92, 91, 93, 50};
  for (int m = 0; m < 5; ++m) {
    for (int64_t s = 0; s < 60; s += 20) {
      double v = avgs[m] + (s == 0 ? -1 : s == 20 ? 1 : 0);
      Event e = *Ev("db", v, m * kMin + s * 1000);
      ASSERT_TRUE(window->Process(e).ok());
    }
  }
  ASSERT_TRUE(window->AdvanceWatermark(Watermark::Max()).ok());
  ASSERT_TRUE(when->AdvanceWatermark(Watermark::Max()).ok());
  // Records at window ends 60000 (run starts), 120000, 180000, 240000 (3m: fires), 300000
  // (50: resolves).
  ASSERT_EQ(router.records.size(), 2u);
  EXPECT_EQ(router.records[0].kind, RecordKind::kFiring);
  EXPECT_EQ(router.records[0].time, EventTime(4 * kMin));
  EXPECT_EQ(router.records[0].fields, (std::vector<std::pair<std::string, Value>>{
                                          {"host", Value::String("db")},
                                          {"cpu", Value::Float(93)},
                                          {"window_start", Value::Timestamp(EventTime(3 * kMin))},
                                          {"window_end", Value::Timestamp(EventTime(4 * kMin))}}));
  EXPECT_EQ(router.records[0].key[0].second, Value::String("db"));
  EXPECT_EQ(router.records[0].annotations[0].second, "db cpu 93");
  EXPECT_EQ(router.records[1].kind, RecordKind::kResolved);
  EXPECT_EQ(router.records[1].time, EventTime(5 * kMin));
}

struct FakeWriter : SnapshotWriter {
  std::vector<std::tuple<uint16_t, std::string, std::string>> puts;
  std::vector<std::string> deletes;
  void Put(uint16_t kg, std::string_view key, std::string_view value) override {
    puts.emplace_back(kg, std::string(key), std::string(value));
  }
  void Delete(uint16_t kg, std::string_view key) override { deletes.emplace_back(key); }
};

TEST(WhenOperator, SnapshotRestoreRoundTrip) {
  WhenConfig c{.for_ms = kMin, .keep_ms = kMin, .no_data_ms = 10 * kMin};
  auto rs = MakeRules(c);
  Harness a(rs), b(rs);
  a.Add("x", 95, 0);
  a.Add("x", 95, kMin);       // firing
  a.Add("x", 50, kMin + 10);  // resolving streak
  a.Add("y", 95, 30000);      // pending
  a.Add("z", 95, 30000);      // pending
  a.Add("z", 50, 40000);      // freed
  FakeWriter snap;
  ASSERT_TRUE(a.op->Snapshot(&snap, /*full=*/false).ok());
  ASSERT_EQ(snap.puts.size(), 2u);
  // z lived and died before any snapshot stored it: nothing to delete (KeyedState logs
  // deletes of stored keys only).
  EXPECT_TRUE(snap.deletes.empty());
  for (const auto& [kg, key, value] : snap.puts) ASSERT_TRUE(b.op->Restore(kg, key, value).ok());
  const auto& [kg0, key0, value0] = snap.puts[0];
  EXPECT_EQ(b.op->Restore(kg0, key0, value0).code(), absl::StatusCode::kDataLoss);  // twice
  EXPECT_EQ(b.op->Restore(0, "k", "\x07").code(), absl::StatusCode::kDataLoss);
  for (Harness* h : {&a, &b}) {
    EXPECT_EQ(h->Add("y", 95, 90000), Kinds{"firing@90000"});
    EXPECT_EQ(h->Add("x", 50, 2 * kMin + 10), Kinds{"resolved@120010"});
    EXPECT_EQ(h->Advance(Watermark::Max().ms), Kinds{"nodata@690000"});
  }
  EXPECT_EQ(a.router.records.back().id, b.router.records.back().id);
  FakeWriter after;
  ASSERT_TRUE(a.op->Snapshot(&after, false).ok());
  EXPECT_TRUE(after.puts.empty());
  EXPECT_EQ(after.deletes.size(), 2u);  // x resolved, y nodata
}

}  // namespace
}  // namespace vigil::engine
