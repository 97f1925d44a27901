#include "engine/operator/monitoring_operator.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/operator/rule_operator.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

constexpr int64_t kMin = 60000;

// Stream slots: host string, name string, value float, ts timestamp.
constexpr char kStream[] = R"(
stream m (host string, name string, value float, ts timestamp) event time ts
)";

class Collect : public RecordRouter {
 public:
  absl::Status Route(const Record& r, const std::vector<int>&) override {
    out.push_back(r);
    return absl::OkStatus();
  }
  std::vector<Record> out;
};

// Keeps the latest state of every key, as the job's state backend does.
class MapWriter : public SnapshotWriter {
 public:
  void Put(uint16_t key_group, std::string_view key, std::string_view value) override {
    state[{key_group, std::string(key)}] = std::string(value);
    ++puts;
  }
  void Delete(uint16_t key_group, std::string_view key) override {
    state.erase({key_group, std::string(key)});
    ++deletes;
  }
  std::map<std::pair<uint16_t, std::string>, std::string> state;
  int puts = 0;
  int deletes = 0;
};

std::shared_ptr<const cep::RuleSet> Compile(const std::string& rule) {
  auto res = rules::CompileSources({{"t.vgl", std::string(kStream) + rule}});
  EXPECT_TRUE(res.ok()) << (res.diagnostics.empty() ? "" : res.diagnostics[0].message);
  return res.rule_set;
}

std::unique_ptr<RuleOperator> Make(std::shared_ptr<const cep::RuleSet> rules,
                                   RecordRouter* router) {
  auto op = MakeRuleOperator(std::move(rules), 0, RuleOperatorOptions{}, router);
  EXPECT_TRUE(op.ok()) << op.status();
  return op.ok() ? std::move(op).value() : nullptr;
}

uint64_t seq = 0;

EventPtr Ev(const std::string& host, const std::string& name, double value, int64_t t) {
  auto e = std::make_shared<Event>();
  e->values = {Value::String(host), Value::String(name), Value::Float(value),
               Value::Timestamp(EventTime(t))};
  e->time = EventTime(t);
  e->seq = ++seq;
  e->raw = "{\"host\":\"" + host + "\"}";
  return e;
}

const Value* Field(const Record& r, const std::string& name) {
  for (const auto& [k, v] : r.fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

// (kind, key, time) of every record.
std::vector<std::tuple<RecordKind, std::string, int64_t>> Summary(const std::vector<Record>& rs) {
  std::vector<std::tuple<RecordKind, std::string, int64_t>> out;
  for (const Record& r : rs) {
    out.emplace_back(r.kind, r.key.empty() ? "" : r.key[0].second.ToString(), r.time.ms);
  }
  return out;
}

constexpr char kCpuHot[] = R"(
rule cpu_hot from m where name == "cpu" partition by host
  window 1m compute avg(value) as cpu, count() as samples
  when cpu > 90 for 2m
  labels { severity: "page" }
  annotations { summary: "{host} CPU {cpu}%" }
)";

// One hot-then-cool history for host a (window ends 60000 .. 240000), some noise.
std::vector<EventPtr> CpuHistory() {
  return {Ev("a", "cpu", 94, 0),
          Ev("a", "mem", 10, 1000),
          Ev("a", "cpu", 96, 30000),
          Ev("b", "cpu", 99, 40000),
          Ev("a", "cpu", 95, 1 * kMin),
          Ev("a", "cpu", 95, 2 * kMin),
          Ev("a", "cpu", 97, 2 * kMin + 30000),
          Ev("b", "cpu", 10, 2 * kMin + 40000),
          Ev("a", "cpu", 50, 3 * kMin),
          Ev("b", "cpu", 10, 4 * kMin)};
}

TEST(MonitoringOperatorTest, WindowFeedsWhenThroughTheRuleOperatorInterface) {
  Collect router;
  auto op = Make(Compile(kCpuHot), &router);
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->stream(), 0);
  for (const EventPtr& e : CpuHistory()) {
    ASSERT_TRUE(op->Process(e).ok());
    // Watermark one ms behind each event, as a stream without out-of-order bound.
    ASSERT_TRUE(op->AdvanceWatermark(Watermark(e->time.ms - 1)).ok());
  }
  ASSERT_TRUE(op->AdvanceWatermark(Watermark::Max()).ok());
  // a: hot windows end at 60000, 120000, 180000 -> fires at 180000 (2m after 60000);
  // the window ending 240000 (avg 50) resolves. b: one hot window, never fires.
  ASSERT_EQ(router.out.size(), 2u);
  const Record& f = router.out[0];
  EXPECT_EQ(f.kind, RecordKind::kFiring);
  EXPECT_EQ(f.rule, "cpu_hot");
  EXPECT_EQ(f.time, EventTime(3 * kMin));
  ASSERT_EQ(f.key.size(), 1u);
  EXPECT_EQ(f.key[0].second, Value::String("a"));
  ASSERT_NE(Field(f, "cpu"), nullptr);
  EXPECT_EQ(*Field(f, "cpu"), Value::Float(96));
  EXPECT_EQ(*Field(f, "samples"), Value::Int(2));
  EXPECT_EQ(*Field(f, "window_end"), Value::Timestamp(EventTime(3 * kMin)));
  ASSERT_EQ(f.annotations.size(), 1u);
  EXPECT_EQ(f.annotations[0].second, "a CPU 96%");
  EXPECT_EQ(router.out[1].kind, RecordKind::kResolved);
  EXPECT_EQ(router.out[1].time, EventTime(4 * kMin));

  OperatorStats s = op->stats();
  EXPECT_EQ(s.events, 10u);
  EXPECT_EQ(s.filtered, 1u);  // the mem event
  EXPECT_EQ(s.matches, 1u);   // one firing record
  EXPECT_EQ(s.live_keys, 0u);
}

TEST(MonitoringOperatorTest, WindowRecordsReachWhenBeforeItsNodataTimers) {
  // A window record at exactly last + N is data: the window must emit it before `when`
  // fires the nodata timer at the same watermark.
  Collect router;
  auto op = Make(Compile(R"(
rule r from m partition by host
  window 1m compute max(value) as peak
  when peak > 90 no data after 1m
)"),
                 &router);
  ASSERT_NE(op, nullptr);
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 95, 0)).ok());
  ASSERT_TRUE(op->AdvanceWatermark(Watermark(kMin - 1)).ok());
  ASSERT_EQ(Summary(router.out), (std::vector<std::tuple<RecordKind, std::string, int64_t>>{
                                     {RecordKind::kFiring, "a", kMin}}));
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 95, kMin)).ok());
  // The nodata deadline (2m) and the next window record (end 2m) are due at the same
  // watermark: the record counts as data.
  ASSERT_TRUE(op->AdvanceWatermark(Watermark(2 * kMin)).ok());
  EXPECT_EQ(router.out.size(), 1u);
  ASSERT_TRUE(op->AdvanceWatermark(Watermark(3 * kMin - 1)).ok());
  EXPECT_EQ(router.out.size(), 1u);  // due at 3m, not yet
  ASSERT_TRUE(op->AdvanceWatermark(Watermark(3 * kMin)).ok());
  ASSERT_EQ(router.out.size(), 2u);
  EXPECT_EQ(router.out[1].kind, RecordKind::kNodata);
  EXPECT_EQ(router.out[1].time, EventTime(3 * kMin));
}

TEST(MonitoringOperatorTest, OutputOfOneWatermarkIsInEventTimeOrderAcrossKeys) {
  Collect router;
  auto op = Make(Compile(R"(
rule r from m partition by host
  window 1m compute max(value) as peak
  when peak > 90 no data after 1m
)"),
                 &router);
  ASSERT_NE(op, nullptr);
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 95, 0)).ok());
  ASSERT_TRUE(op->Process(Ev("b", "cpu", 95, 2 * kMin + 10000)).ok());
  ASSERT_TRUE(op->AdvanceWatermark(Watermark::Max()).ok());
  EXPECT_EQ(Summary(router.out), (std::vector<std::tuple<RecordKind, std::string, int64_t>>{
                                     {RecordKind::kFiring, "a", kMin},
                                     {RecordKind::kNodata, "a", 2 * kMin},
                                     {RecordKind::kFiring, "b", 3 * kMin},
                                     {RecordKind::kNodata, "b", 4 * kMin}}));
}

TEST(MonitoringOperatorTest, WhenAloneOverEvents) {
  Collect router;
  auto op = Make(Compile(R"(
rule hot from m where name == "cpu" partition by host
  when value > 90 for 1m
  emit v = value * 2
)"),
                 &router);
  ASSERT_NE(op, nullptr);
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 95, 0)).ok());
  ASSERT_TRUE(op->Process(Ev("a", "mem", 10, 30000)).ok());  // filtered: does not break the run
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 96, kMin)).ok());
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 50, kMin + 1)).ok());
  ASSERT_TRUE(op->AdvanceWatermark(Watermark::Max()).ok());
  ASSERT_EQ(Summary(router.out),
            (std::vector<std::tuple<RecordKind, std::string, int64_t>>{
                {RecordKind::kFiring, "a", kMin}, {RecordKind::kResolved, "a", kMin + 1}}));
  EXPECT_EQ(*Field(router.out[0], "v"), Value::Float(192));
  EXPECT_EQ(op->stats().filtered, 1u);
  EXPECT_EQ(op->stats().matches, 1u);
}

constexpr char kDrop[] = R"(
rule drop from m where name == "cpu" partition by host
  window 1m compute max(value) as peak
  pattern hi lo
  define hi as peak > 90, lo as peak < 50
  emit fall = hi.peak - lo.peak
)";

TEST(MonitoringOperatorTest, PatternOverWindowRecords) {
  Collect router;
  auto op = Make(Compile(kDrop), &router);
  ASSERT_NE(op, nullptr);
  for (const EventPtr& e :
       {Ev("a", "cpu", 95, 10000), Ev("a", "mem", 1, 20000), Ev("a", "cpu", 40, 70000),
        Ev("b", "cpu", 99, 80000), Ev("a", "cpu", 60, 130000), Ev("b", "cpu", 10, 130000)}) {
    ASSERT_TRUE(op->Process(e).ok());
  }
  ASSERT_TRUE(op->AdvanceWatermark(Watermark(2 * kMin - 1)).ok());
  ASSERT_EQ(router.out.size(), 1u);  // a: hi [0, 1m), lo [1m, 2m)
  const Record& m = router.out[0];
  EXPECT_EQ(m.kind, RecordKind::kMatch);
  EXPECT_EQ(m.rule, "drop");
  EXPECT_EQ(m.time, EventTime(2 * kMin));
  ASSERT_EQ(m.key.size(), 1u);
  EXPECT_EQ(m.key[0], (std::pair<std::string, Value>{"host", Value::String("a")}));
  ASSERT_EQ(m.events.size(), 2u);
  EXPECT_EQ(m.events[0].first, "hi");
  EXPECT_EQ(m.events[0].second[0]->raw,
            R"({"host":"a","peak":95.0,"window_start":0,"window_end":60000})");
  ASSERT_EQ(m.fields.size(), 1u);
  EXPECT_EQ(m.fields[0].second, Value::Float(55));
  ASSERT_TRUE(op->AdvanceWatermark(Watermark::Max()).ok());
  ASSERT_EQ(router.out.size(), 2u);  // b: hi [1m, 2m), lo [2m, 3m)
  EXPECT_EQ(router.out[1].key[0].second, Value::String("b"));
  EXPECT_EQ(router.out[1].time, EventTime(3 * kMin));
  OperatorStats s = op->stats();
  EXPECT_EQ(s.events, 6u);
  EXPECT_EQ(s.filtered, 1u);
  EXPECT_EQ(s.matches, 2u);
}

TEST(MonitoringOperatorTest, DerivedRuleSetOfAPatternOverWindows) {
  auto rules = Compile(kDrop);
  auto derived = DeriveWindowPatternRuleSet(*rules, 0);
  ASSERT_TRUE(derived.ok()) << derived.status();
  const cep::RuleSet& d = **derived;
  ASSERT_EQ(d.rules.size(), 1u);
  const cep::RuleDef& r = d.rules[0];
  EXPECT_FALSE(r.window.has_value());
  EXPECT_EQ(r.where, nullptr);
  EXPECT_EQ(r.partition_slots, std::vector<int>{0});
  const cep::StreamDef& s = d.streams[r.stream];
  EXPECT_EQ(s.name, "m");
  EXPECT_EQ(s.schema.size(), 4u);  // host, peak, window_start, window_end
  EXPECT_EQ(s.event_time_slot, 3);
  EXPECT_FALSE(DeriveWindowPatternRuleSet(*Compile(kCpuHot), 0).ok());
}

TEST(MonitoringOperatorTest, RejectsRulesThatAreNotMonitoringRules) {
  Collect router;
  auto rules = Compile(R"(
rule p from m pattern a define a as value > 1
)");
  EXPECT_EQ(MakeMonitoringOperator(rules, 0, RuleOperatorOptions{}, &router).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Runs `events` through a fresh operator, snapshotting (incrementally) after `cut` events
// and restoring a second operator from it that processes the rest; returns both outputs
// (uninterrupted, restored-after-cut). Watermarks trail each event by 1 ms.
std::pair<std::vector<Record>, std::vector<Record>> RoundTrip(const std::string& rule,
                                                              const std::vector<EventPtr>& events,
                                                              size_t cut, MapWriter* snapshot) {
  auto rules = Compile(rule);
  Collect whole, before, after;
  auto a = Make(rules, &whole);
  for (const EventPtr& e : events) {
    EXPECT_TRUE(a->Process(e).ok());
    EXPECT_TRUE(a->AdvanceWatermark(Watermark(e->time.ms - 1)).ok());
  }
  EXPECT_TRUE(a->AdvanceWatermark(Watermark::Max()).ok());

  auto b = Make(rules, &before);
  for (size_t i = 0; i < cut; ++i) {
    EXPECT_TRUE(b->Process(events[i]).ok());
    EXPECT_TRUE(b->AdvanceWatermark(Watermark(events[i]->time.ms - 1)).ok());
    if (i == cut / 2) {
      absl::Status st = b->Snapshot(snapshot, /*full=*/true);
      EXPECT_TRUE(st.ok()) << st;
    }
  }
  absl::Status st = b->Snapshot(snapshot, /*full=*/false);
  EXPECT_TRUE(st.ok()) << st;

  auto c = Make(rules, &after);
  for (const auto& [kk, value] : snapshot->state) {
    st = c->Restore(kk.first, kk.second, value);
    EXPECT_TRUE(st.ok()) << st;
  }
  for (size_t i = cut; i < events.size(); ++i) {
    EXPECT_TRUE(c->Process(events[i]).ok());
    EXPECT_TRUE(c->AdvanceWatermark(Watermark(events[i]->time.ms - 1)).ok());
  }
  EXPECT_TRUE(c->AdvanceWatermark(Watermark::Max()).ok());
  std::vector<Record> resumed = before.out;
  resumed.insert(resumed.end(), after.out.begin(), after.out.end());
  return {whole.out, resumed};
}

TEST(MonitoringOperatorTest, SnapshotRestoreRoundTripOfWindowAndWhen) {
  std::vector<EventPtr> events = CpuHistory();
  // Cut after the 2m+30s event: a's window [2m, 3m) is open and its `for` run is pending.
  for (size_t cut = 1; cut < events.size(); ++cut) {
    MapWriter snapshot;
    auto [whole, resumed] = RoundTrip(kCpuHot, events, cut, &snapshot);
    ASSERT_EQ(Summary(resumed), Summary(whole)) << "cut " << cut;
    for (size_t i = 0; i < whole.size(); ++i) EXPECT_EQ(resumed[i].id, whole[i].id);
    for (const auto& [kk, value] : snapshot.state) {
      ASSERT_FALSE(kk.second.empty());
      EXPECT_TRUE(kk.second[0] == 'w' || kk.second[0] == 'n') << kk.second;
    }
  }
  // At cut 7 (watermark 2m29.999s) the window holds a's open window [2m, 3m) and `when` the
  // pending runs of a (since 1m) and b (its hot window [0, 1m)).
  MapWriter snapshot;
  RoundTrip(kCpuHot, events, 7, &snapshot);
  int windows = 0, whens = 0;
  for (const auto& [kk, value] : snapshot.state) {
    windows += kk.second[0] == 'w';
    whens += kk.second[0] == 'n';
  }
  EXPECT_EQ(windows, 1);
  EXPECT_EQ(whens, 2);
}

TEST(MonitoringOperatorTest, SnapshotDeletesFreedKeysWithTheirPrefix) {
  Collect router;
  auto op = Make(Compile(R"(
rule hot from m partition by host when value > 90
)"),
                 &router);
  MapWriter snapshot;
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 95, 0)).ok());
  ASSERT_TRUE(op->Snapshot(&snapshot, false).ok());
  ASSERT_EQ(snapshot.state.size(), 1u);
  EXPECT_EQ(snapshot.state.begin()->first.second[0], 'n');
  ASSERT_TRUE(op->Process(Ev("a", "cpu", 50, 1)).ok());  // resolves: the key is freed
  ASSERT_TRUE(op->Snapshot(&snapshot, false).ok());
  EXPECT_EQ(snapshot.deletes, 1);
  EXPECT_TRUE(snapshot.state.empty());
}

TEST(MonitoringOperatorTest, RestoreRejectsForeignState) {
  Collect router;
  auto op = Make(Compile(kCpuHot), &router);
  EXPECT_EQ(op->Restore(0, "", "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(op->Restore(0, "zkey", "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(op->Restore(0, "pkey", "x").code(), absl::StatusCode::kDataLoss);  // no pattern
  EXPECT_EQ(op->Restore(0, "wkey", "x").code(), absl::StatusCode::kDataLoss);  // bad value
}

TEST(MonitoringOperatorTest, SnapshotOfAPatternOverWindows) {
  std::vector<EventPtr> events = {Ev("a", "cpu", 95, 10000), Ev("a", "cpu", 40, 70000),
                                  Ev("b", "cpu", 99, 80000), Ev("a", "cpu", 60, 130000),
                                  Ev("b", "cpu", 10, 130000)};
  for (size_t cut = 1; cut < events.size(); ++cut) {
    MapWriter snapshot;
    auto [whole, resumed] = RoundTrip(kDrop, events, cut, &snapshot);
    ASSERT_EQ(whole.size(), 2u);
    ASSERT_EQ(Summary(resumed), Summary(whole)) << "cut " << cut;
    for (size_t i = 0; i < whole.size(); ++i) EXPECT_EQ(resumed[i].id, whole[i].id);
  }
  // At cut 3 (watermark 79999) a's window [0, 1m) went to the pattern (a partial match) and
  // the windows [1m, 2m) of a and b are open.
  MapWriter snapshot;
  RoundTrip(kDrop, events, 3, &snapshot);
  int windows = 0, patterns = 0;
  for (const auto& [kk, value] : snapshot.state) {
    windows += kk.second[0] == 'w';
    patterns += kk.second[0] == 'p';
  }
  EXPECT_EQ(windows, 2);
  EXPECT_EQ(patterns, 1);
}

}  // namespace
}  // namespace vigil::engine
