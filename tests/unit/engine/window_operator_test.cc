#include "engine/operator/window_operator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cep/expr/expr.h"
#include "cep/rule_set.h"
#include "engine/operator/key_group.h"
#include "engine/operator/window_aggregates.h"
#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

using cep::WindowAggFn;

// Stream slots.
constexpr int kHost = 0;   // string
constexpr int kValue = 1;  // float
constexpr int kTs = 2;     // timestamp
constexpr int kUser = 3;   // string
constexpr int kCount = 4;  // int

cep::ExprPtr FieldExpr(int slot, Type t) {
  auto e = std::make_shared<cep::Expr>();
  cep::ExprNode n;
  n.op = cep::ExprOp::kField;
  n.type = t;
  n.index = slot;
  e->set_root(e->AddNode(n));
  return e;
}

Type SlotType(int slot) {
  switch (slot) {
    case kHost:
    case kUser:
      return Type::kString;
    case kValue:
      return Type::kFloat;
    case kTs:
      return Type::kTimestamp;
    default:
      return Type::kInt;
  }
}

cep::WindowAgg Agg(WindowAggFn fn, std::string name, int slot = -1, double q = 0) {
  cep::WindowAgg a;
  a.fn = fn;
  a.name = std::move(name);
  a.q = q;
  if (slot >= 0) a.arg = FieldExpr(slot, SlotType(slot));
  switch (fn) {
    case WindowAggFn::kCount:
    case WindowAggFn::kCountOf:
    case WindowAggFn::kDistinct:
      a.type = Type::kInt;
      break;
    case WindowAggFn::kAvg:
    case WindowAggFn::kQuantile:
      a.type = Type::kFloat;
      break;
    default:
      a.type = SlotType(slot);
  }
  return a;
}

// One stream (host, value, ts, user, n) and one rule `r` with the given window.
std::shared_ptr<cep::RuleSet> MakeRules(int64_t size, int64_t slide,
                                        std::vector<cep::WindowAgg> aggs, bool partition = true) {
  auto rs = std::make_shared<cep::RuleSet>();
  cep::StreamDef s;
  s.name = "metrics";
  s.schema = Schema("metrics");
  for (auto [name, t] : std::vector<std::pair<std::string, Type>>{{"host", Type::kString},
                                                                  {"value", Type::kFloat},
                                                                  {"ts", Type::kTimestamp},
                                                                  {"user", Type::kString},
                                                                  {"n", Type::kInt}}) {
    s.schema.AddField(FieldDef{name, {name}, t});
  }
  s.event_time_slot = kTs;
  rs->streams.push_back(std::move(s));
  cep::RuleDef r;
  r.name = "r";
  r.stream = 0;
  if (partition) {
    r.partition_slots = {kHost};
    r.partition_names = {"host"};
  }
  cep::WindowSpec w;
  w.size = Duration(size);
  w.slide = Duration(slide);
  w.record_schema = Schema("r");
  if (partition) w.record_schema.AddField(FieldDef{"host", {"host"}, Type::kString});
  for (const cep::WindowAgg& a : aggs) w.record_schema.AddField(FieldDef{a.name, {a.name}, a.type});
  w.record_schema.AddField(FieldDef{"window_start", {"window_start"}, Type::kTimestamp});
  w.record_schema.AddField(FieldDef{"window_end", {"window_end"}, Type::kTimestamp});
  w.aggs = std::move(aggs);
  r.window = std::move(w);
  rs->rules.push_back(std::move(r));
  return rs;
}

Event Ev(std::string host, Value value, int64_t t, std::string user = "u", int64_t n = 1) {
  Event e;
  e.values = {Value::String(std::move(host)), std::move(value), Value::Timestamp(EventTime(t)),
              Value::String(std::move(user)), Value::Int(n)};
  e.time = EventTime(t);
  return e;
}
Event Ev(std::string host, double value, int64_t t) {
  return Ev(std::move(host), Value::Float(value), t);
}

struct Harness {
  std::shared_ptr<cep::RuleSet> rules;
  std::unique_ptr<WindowOperator> op;
  std::vector<EventPtr> out;

  explicit Harness(std::shared_ptr<cep::RuleSet> rs) : rules(std::move(rs)) {
    auto made = WindowOperator::Create(rules, 0, [this](const EventPtr& r) {
      out.push_back(r);
      return absl::OkStatus();
    });
    EXPECT_TRUE(made.ok()) << made.status();
    op = std::move(made).value();
  }
  void Add(const Event& e) { ASSERT_TRUE(op->Process(e).ok()); }
  std::vector<EventPtr> Advance(int64_t wm) {
    out.clear();
    EXPECT_TRUE(op->AdvanceWatermark(Watermark(wm)).ok());
    return out;
  }
  std::vector<EventPtr> Finish() { return Advance(Watermark::Max().ms); }
  const Schema& schema() const { return op->record_schema(); }
  Value Get(const EventPtr& r, const std::string& field) const {
    int slot = schema().Find(field);
    EXPECT_GE(slot, 0) << field;
    return slot < 0 ? Value() : r->values[slot];
  }
  int64_t Int(const EventPtr& r, const std::string& f) const { return Get(r, f).as_int(); }
};

TEST(WindowOperator, CreateRejectsRulesWithoutWindow) {
  auto rs = MakeRules(1000, 1000, {Agg(WindowAggFn::kCount, "n")});
  rs->rules[0].window.reset();
  auto op = WindowOperator::Create(rs, 0, [](const EventPtr&) { return absl::OkStatus(); });
  EXPECT_EQ(op.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = MakeRules(1000, 2000, {Agg(WindowAggFn::kCount, "n")});
  EXPECT_FALSE(
      WindowOperator::Create(bad, 0, [](const EventPtr&) { return absl::OkStatus(); }).ok());
}

TEST(WindowOperator, TumblingBoundaries) {
  Harness h(MakeRules(60000, 60000, {Agg(WindowAggFn::kCount, "n")}));
  h.Add(Ev("a", 1, 0));
  h.Add(Ev("a", 1, 59999));
  h.Add(Ev("a", 1, 60000));  // exactly at the first window's end: the next window
  EXPECT_TRUE(h.Advance(59998).empty());
  auto r = h.Advance(59999);  // covers the window's last millisecond
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(h.Int(r[0], "n"), 2);
  EXPECT_EQ(h.Get(r[0], "window_start"), Value::Timestamp(EventTime(0)));
  EXPECT_EQ(h.Get(r[0], "window_end"), Value::Timestamp(EventTime(60000)));
  EXPECT_EQ(r[0]->time, EventTime(60000));
  EXPECT_EQ(h.Get(r[0], "host"), Value::String("a"));
  EXPECT_TRUE(h.Advance(119998).empty());
  r = h.Advance(119999);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(h.Int(r[0], "n"), 1);
  EXPECT_EQ(h.Int(r[0], "window_start"), 60000);
  EXPECT_TRUE(h.Finish().empty());
  EXPECT_EQ(h.op->stats().live_keys, 0u);
}

TEST(WindowOperator, SlidingWindowsContainEveryEventOnce) {
  Harness h(MakeRules(60000, 20000, {Agg(WindowAggFn::kCount, "n")}));
  h.Add(Ev("a", 1, 0));
  h.Add(Ev("a", 1, 30000));
  auto r = h.Finish();
  // Windows containing 0: starts -40000, -20000, 0; containing 30000: -20000, 0, 20000.
  ASSERT_EQ(r.size(), 4u);
  std::vector<std::pair<int64_t, int64_t>> got;
  for (const EventPtr& e : r) got.emplace_back(h.Int(e, "window_start"), h.Int(e, "n"));
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, int64_t>>{
                     {-40000, 1}, {-20000, 2}, {0, 2}, {20000, 1}}));
  for (const EventPtr& e : r) EXPECT_EQ(h.Int(e, "window_end") - h.Int(e, "window_start"), 60000);
}

TEST(WindowOperator, SlidingWindowEndBoundary) {
  Harness h(MakeRules(10000, 5000, {Agg(WindowAggFn::kCount, "n")}));
  h.Add(Ev("a", 1, 5000));   // windows [0,10000) and [5000,15000)
  h.Add(Ev("a", 1, 10000));  // windows [5000,15000) and [10000,20000), not [0,10000)
  auto r = h.Advance(9999);
  ASSERT_EQ(r.size(), 1u);  // [0, 10000) holds only the event at 5000
  EXPECT_EQ(h.Int(r[0], "window_end"), 10000);
  EXPECT_EQ(h.Int(r[0], "n"), 1);
  r = h.Finish();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(h.Int(r[0], "window_start"), 5000);
  EXPECT_EQ(h.Int(r[0], "n"), 2);
  EXPECT_EQ(h.Int(r[1], "window_start"), 10000);
  EXPECT_EQ(h.Int(r[1], "n"), 1);
}

TEST(WindowOperator, EveryAggregate) {
  Harness h(MakeRules(
      60000, 60000,
      {Agg(WindowAggFn::kCount, "cnt"), Agg(WindowAggFn::kCountOf, "cnt_v", kValue),
       Agg(WindowAggFn::kSum, "sum_v", kValue), Agg(WindowAggFn::kSum, "sum_n", kCount),
       Agg(WindowAggFn::kAvg, "avg_v", kValue), Agg(WindowAggFn::kMin, "min_v", kValue),
       Agg(WindowAggFn::kMax, "max_v", kValue), Agg(WindowAggFn::kMin, "min_u", kUser),
       Agg(WindowAggFn::kFirst, "first_v", kValue), Agg(WindowAggFn::kLast, "last_v", kValue),
       Agg(WindowAggFn::kLast, "last_u", kUser), Agg(WindowAggFn::kDistinct, "dist_v", kValue),
       Agg(WindowAggFn::kDistinct, "dist_u", kUser), Agg(WindowAggFn::kQuantile, "p0", kValue, 0),
       Agg(WindowAggFn::kQuantile, "p25", kValue, 0.25),
       Agg(WindowAggFn::kQuantile, "p50", kValue, 0.5),
       Agg(WindowAggFn::kQuantile, "p90", kValue, 0.9),
       Agg(WindowAggFn::kQuantile, "p100", kValue, 1)}));
  h.Add(Ev("a", Value::Float(1), 100, "x", 2));
  h.Add(Ev("a", Value::Float(5), 200, "y", 3));
  h.Add(Ev("a", Value(), 300, "x", 4));
  h.Add(Ev("a", Value::Float(3), 400, "z", 5));
  h.Add(Ev("a", Value::Float(5), 500, "y", 6));
  h.Add(Ev("a", Value(), 600, "x", 7));  // last(value) is this null
  auto r = h.Finish();
  ASSERT_EQ(r.size(), 1u);
  const EventPtr& w = r[0];
  EXPECT_EQ(h.Get(w, "cnt"), Value::Int(6));
  EXPECT_EQ(h.Get(w, "cnt_v"), Value::Int(4));
  EXPECT_EQ(h.Get(w, "sum_v"), Value::Float(14));
  EXPECT_EQ(h.Get(w, "sum_n"), Value::Int(27));  // ints sum as int
  EXPECT_EQ(h.Get(w, "avg_v"), Value::Float(3.5));
  EXPECT_EQ(h.Get(w, "min_v"), Value::Float(1));
  EXPECT_EQ(h.Get(w, "max_v"), Value::Float(5));
  EXPECT_EQ(h.Get(w, "min_u"), Value::String("x"));
  EXPECT_EQ(h.Get(w, "first_v"), Value::Float(1));
  EXPECT_TRUE(h.Get(w, "last_v").is_null());
  EXPECT_EQ(h.Get(w, "last_u"), Value::String("x"));
  EXPECT_EQ(h.Get(w, "dist_v"), Value::Int(3));  // 1, 5, 3 (null not counted)
  EXPECT_EQ(h.Get(w, "dist_u"), Value::Int(3));
  // Sorted non-null values: 1 3 5 5; numpy.quantile(..., method="linear").
  EXPECT_EQ(h.Get(w, "p0"), Value::Float(1));
  EXPECT_EQ(h.Get(w, "p25"), Value::Float(2.5));  // h = 0.75: 1 + 0.75 * 2
  EXPECT_EQ(h.Get(w, "p50"), Value::Float(4));    // h = 1.5: 3 + 0.5 * 2
  EXPECT_EQ(h.Get(w, "p90"), Value::Float(5));    // h = 2.7: 5 + 0.7 * 0
  EXPECT_EQ(h.Get(w, "p100"), Value::Float(5));
}

TEST(WindowOperator, AggregatesOverOnlyNullsAreNull) {
  Harness h(MakeRules(
      1000, 1000,
      {Agg(WindowAggFn::kCountOf, "c", kValue), Agg(WindowAggFn::kSum, "s", kValue),
       Agg(WindowAggFn::kAvg, "a", kValue), Agg(WindowAggFn::kMin, "m", kValue),
       Agg(WindowAggFn::kDistinct, "d", kValue), Agg(WindowAggFn::kQuantile, "q", kValue, 0.5)}));
  h.Add(Ev("a", Value(), 10));
  auto r = h.Finish();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(h.Get(r[0], "c"), Value::Int(0));
  EXPECT_TRUE(h.Get(r[0], "s").is_null());
  EXPECT_TRUE(h.Get(r[0], "a").is_null());
  EXPECT_TRUE(h.Get(r[0], "m").is_null());
  EXPECT_EQ(h.Get(r[0], "d"), Value::Int(0));
  EXPECT_TRUE(h.Get(r[0], "q").is_null());
}

TEST(WindowOperator, ExactQuantileMatchesNumpyLinear) {
  auto q = [](std::vector<double> v, double p) { return ExactQuantile(&v, p); };
  // numpy.quantile([1, 2, 3, 4], p)
  EXPECT_DOUBLE_EQ(q({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(q({4, 1, 3, 2}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(q({4, 1, 3, 2}, 0.9), 3.7);
  EXPECT_DOUBLE_EQ(q({4, 1, 3, 2}, 0), 1);
  EXPECT_DOUBLE_EQ(q({4, 1, 3, 2}, 1), 4);
  EXPECT_DOUBLE_EQ(q({7}, 0.3), 7);
  // numpy.quantile([10, 20, 30, 40, 50], 0.99) == 49.6
  EXPECT_DOUBLE_EQ(q({50, 10, 40, 20, 30}, 0.99), 49.6);
  EXPECT_DOUBLE_EQ(q({1, 1, 1, 100}, 0.5), 1);
}

TEST(WindowOperator, EmptyWindowsEmitNothing) {
  Harness h(MakeRules(60000, 60000, {Agg(WindowAggFn::kCount, "n")}));
  h.Add(Ev("a", 1, 1000));
  h.Add(Ev("a", 1, 301000));  // four empty windows in between
  auto r = h.Finish();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(h.Int(r[0], "window_start"), 0);
  EXPECT_EQ(h.Int(r[1], "window_start"), 300000);
}

TEST(WindowOperator, KeysAreIndependentAndEmittedInWindowEndOrder) {
  Harness h(MakeRules(10000, 10000, {Agg(WindowAggFn::kSum, "s", kValue)}));
  h.Add(Ev("b", 1, 500));
  h.Add(Ev("a", 2, 1000));
  h.Add(Ev("b", 4, 12000));
  h.Add(Ev("a", 8, 25000));
  h.Add(Ev("b", 16, 26000));
  auto r = h.Finish();
  std::vector<std::tuple<int64_t, std::string, double>> got;
  for (const EventPtr& e : r) {
    got.emplace_back(h.Int(e, "window_end"), h.Get(e, "host").as_string(),
                     h.Get(e, "s").as_float());
  }
  // Within one window end, keys come in the order they were first seen (slot order).
  EXPECT_EQ(
      got,
      (std::vector<std::tuple<int64_t, std::string, double>>{
          {10000, "b", 1}, {10000, "a", 2}, {20000, "b", 4}, {30000, "b", 16}, {30000, "a", 8}}));
}

TEST(WindowOperator, RecordRawJsonAndStableSeq) {
  auto rs = MakeRules(10000, 10000,
                      {Agg(WindowAggFn::kCount, "n"), Agg(WindowAggFn::kAvg, "avg", kValue)});
  Harness h1(rs), h2(rs);
  for (Harness* h : {&h1, &h2}) {
    h->Add(Ev("a", 1, 0));
    h->Add(Ev("a", 2, 1));
    h->Add(Ev("b", 3, 2));
    h->Add(Ev("a", 3, 10000));
  }
  auto r1 = h1.Finish();
  auto r2 = h2.Finish();
  ASSERT_EQ(r1.size(), 3u);
  EXPECT_EQ(r1[0]->raw, R"({"host":"a","n":2,"avg":1.5,"window_start":0,"window_end":10000})");
  EXPECT_EQ(r1[1]->raw, R"({"host":"b","n":1,"avg":3.0,"window_start":0,"window_end":10000})");
  std::set<uint64_t> seqs;
  for (size_t i = 0; i < r1.size(); ++i) {
    EXPECT_EQ(r1[i]->seq, r2[i]->seq);  // stable across runs
    seqs.insert(r1[i]->seq);
  }
  EXPECT_EQ(seqs.size(), 3u);  // distinct per key and window
}

TEST(WindowOperator, WithoutPartition) {
  Harness h(MakeRules(1000, 1000, {Agg(WindowAggFn::kCount, "n")}, /*partition=*/false));
  h.Add(Ev("a", 1, 0));
  h.Add(Ev("b", 1, 10));
  auto r = h.Finish();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->values.size(), 3u);  // n, window_start, window_end
  EXPECT_EQ(r[0]->values[0], Value::Int(2));
  EXPECT_EQ(r[0]->raw, R"({"n":2,"window_start":0,"window_end":1000})");
}

TEST(WindowOperator, WatermarkNotAdvancingIsNoOpAndLateEventsDoNotRefire) {
  Harness h(MakeRules(1000, 1000, {Agg(WindowAggFn::kCount, "n")}));
  h.Add(Ev("a", 1, 100));
  EXPECT_EQ(h.Advance(999).size(), 1u);
  EXPECT_TRUE(h.Advance(999).empty());
  EXPECT_TRUE(h.Advance(500).empty());
  h.Add(Ev("a", 1, 200));  // late: its only window fired already
  EXPECT_EQ(h.op->stats().late_events, 1u);
  EXPECT_TRUE(h.Finish().empty());
}

TEST(WindowOperator, PanesAreDroppedAndKeysFreed) {
  Harness h(MakeRules(60000, 10000, {Agg(WindowAggFn::kCount, "n")}));
  for (int64_t t = 0; t < 600000; t += 1000) h.Add(Ev("a", 1, t));
  EXPECT_EQ(h.op->stats().live_panes, 60u);
  h.Advance(599999);
  // Panes [550000, 600000) still feed windows ending after 600000.
  EXPECT_EQ(h.op->stats().live_panes, 5u);
  h.Finish();
  EXPECT_EQ(h.op->stats().live_keys, 0u);
  EXPECT_EQ(h.op->stats().live_panes, 0u);
}

// Brute force: every window [s, s + size) with s a multiple of slide that holds an event.
struct Expected {
  int64_t end;
  std::string host;
  int64_t count;
  double sum;
  double min;
  double first;
  double last;
  int64_t distinct;
  double median;
};

TEST(WindowOperator, RandomisedAgainstBruteForce) {
  std::mt19937 rng(7);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{1000, 1000}, {1000, 250}, {1000, 300},
                                                           {700, 700},   {1200, 500}, {3000, 1000}};
  for (auto [size, slide] : shapes) {
    for (int round = 0; round < 5; ++round) {
      Harness h(
          MakeRules(size, slide,
                    {Agg(WindowAggFn::kCount, "n"), Agg(WindowAggFn::kSum, "s", kValue),
                     Agg(WindowAggFn::kMin, "mn", kValue), Agg(WindowAggFn::kFirst, "f", kValue),
                     Agg(WindowAggFn::kLast, "l", kValue), Agg(WindowAggFn::kDistinct, "d", kValue),
                     Agg(WindowAggFn::kQuantile, "med", kValue, 0.5)}));
      std::vector<Event> events;
      int64_t t = -5000 + static_cast<int64_t>(rng() % 1000);
      for (int i = 0; i < 200; ++i) {
        t += static_cast<int64_t>(rng() % 400);
        if (rng() % 10 == 0) t += 5000;  // gaps: empty windows
        std::string host = rng() % 2 ? "a" : "b";
        events.push_back(Ev(host, static_cast<double>(rng() % 20), t));
      }
      std::vector<EventPtr> got;
      int64_t wm = -10000;
      for (size_t i = 0; i < events.size(); ++i) {
        // The job processes the events up to the watermark, then advances it; the next event
        // is always later than the watermark.
        h.Add(events[i]);
        if (i + 1 < events.size() && rng() % 3 == 0) {
          int64_t next = events[i + 1].time.ms;
          if (next > events[i].time.ms) {
            int64_t span = next - events[i].time.ms;
            wm = std::max(wm, events[i].time.ms + static_cast<int64_t>(rng()) % span);
            for (const EventPtr& r : h.Advance(wm)) got.push_back(r);
          }
        }
      }
      for (const EventPtr& r : h.Finish()) got.push_back(r);

      // Expected windows by brute force.
      std::map<std::pair<int64_t, std::string>, std::vector<double>> windows;
      for (const Event& e : events) {
        int64_t t0 = e.time.ms;
        int64_t s = t0 - ((t0 % slide) + slide) % slide;  // floor to slide
        for (; s > t0 - size; s -= slide) {
          windows[{s + size, e.values[kHost].as_string()}].push_back(e.values[kValue].as_float());
        }
      }
      std::vector<Expected> want;
      for (auto& [k, vals] : windows) {
        Expected x;
        x.end = k.first;
        x.host = k.second;
        x.count = static_cast<int64_t>(vals.size());
        x.sum = 0;
        for (double v : vals) x.sum += v;
        x.min = *std::min_element(vals.begin(), vals.end());
        x.first = vals.front();
        x.last = vals.back();
        x.distinct = static_cast<int64_t>(std::set<double>(vals.begin(), vals.end()).size());
        std::vector<double> sorted = vals;
        std::sort(sorted.begin(), sorted.end());
        double hh = 0.5 * static_cast<double>(sorted.size() - 1);
        size_t lo = static_cast<size_t>(std::floor(hh));
        x.median = lo + 1 < sorted.size()
                       ? sorted[lo] + (hh - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo])
                       : sorted[lo];
        want.push_back(x);
      }
      std::sort(want.begin(), want.end(), [](const Expected& a, const Expected& b) {
        return a.end != b.end ? a.end < b.end : a.host < b.host;
      });
      std::vector<Expected> have;
      for (const EventPtr& r : got) {
        Expected x;
        x.end = h.Int(r, "window_end");
        x.host = h.Get(r, "host").as_string();
        x.count = h.Int(r, "n");
        x.sum = h.Get(r, "s").as_float();
        x.min = h.Get(r, "mn").as_float();
        x.first = h.Get(r, "f").as_float();
        x.last = h.Get(r, "l").as_float();
        x.distinct = h.Int(r, "d");
        x.median = h.Get(r, "med").as_float();
        EXPECT_EQ(h.Int(r, "window_start"), x.end - size);
        have.push_back(x);
      }
      // Emission is in window-end order.
      for (size_t i = 1; i < have.size(); ++i) EXPECT_LE(have[i - 1].end, have[i].end);
      std::sort(have.begin(), have.end(), [](const Expected& a, const Expected& b) {
        return a.end != b.end ? a.end < b.end : a.host < b.host;
      });
      ASSERT_EQ(have.size(), want.size()) << size << "/" << slide;
      for (size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE(testing::Message() << size << "/" << slide << " window " << i);
        EXPECT_EQ(have[i].end, want[i].end);
        EXPECT_EQ(have[i].host, want[i].host);
        EXPECT_EQ(have[i].count, want[i].count);
        EXPECT_DOUBLE_EQ(have[i].sum, want[i].sum);
        EXPECT_EQ(have[i].min, want[i].min);
        EXPECT_EQ(have[i].first, want[i].first);
        EXPECT_EQ(have[i].last, want[i].last);
        EXPECT_EQ(have[i].distinct, want[i].distinct);
        EXPECT_DOUBLE_EQ(have[i].median, want[i].median);
      }
    }
  }
}

struct FakeWriter : SnapshotWriter {
  std::map<std::string, std::pair<uint16_t, std::string>> puts;
  std::vector<std::string> deletes;
  void Put(uint16_t kg, std::string_view key, std::string_view value) override {
    puts[std::string(key)] = {kg, std::string(value)};
  }
  void Delete(uint16_t kg, std::string_view key) override { deletes.emplace_back(key); }
};

TEST(WindowOperator, SnapshotRestoreRoundTrip) {
  auto rs = MakeRules(
      60000, 20000,
      {Agg(WindowAggFn::kCount, "n"), Agg(WindowAggFn::kSum, "s", kValue),
       Agg(WindowAggFn::kDistinct, "d", kUser), Agg(WindowAggFn::kQuantile, "q", kValue, 0.5),
       Agg(WindowAggFn::kFirst, "f", kValue)});
  Harness a(rs), b(rs);
  for (const Event& e : {Ev("a", Value::Float(1), 1000, "x"), Ev("b", Value::Float(2), 5000, "y"),
                         Ev("a", Value::Float(3), 25000, "z"), Ev("a", Value(), 41000, "x")}) {
    a.Add(e);
  }
  a.Advance(39999);
  FakeWriter snap;
  ASSERT_TRUE(a.op->Snapshot(&snap, /*full=*/true).ok());
  ASSERT_EQ(snap.puts.size(), 2u);
  for (const auto& [key, kv] : snap.puts) {
    EXPECT_EQ(kv.first, KeyGroupOfValues({Value::String(key.back() == 'a' ? "a" : "b")}));
    ASSERT_TRUE(b.op->Restore(kv.first, key, kv.second).ok());
  }
  EXPECT_EQ(b.op->watermark(), Watermark(39999));
  const auto& [key0, kv0] = *snap.puts.begin();
  // A key restored twice is a corrupt store (RuleOperator::Restore's DataLoss).
  EXPECT_EQ(b.op->Restore(kv0.first, key0, kv0.second).code(), absl::StatusCode::kDataLoss);
  Harness c(rs);
  EXPECT_EQ(c.op->Restore(kv0.first, key0, kv0.second.substr(0, kv0.second.size() - 1)).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.op->Restore(kv0.first, "other", kv0.second).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.op->stats().live_keys, 0u);
  for (Harness* h : {&a, &b}) h->Add(Ev("b", Value::Float(7), 70000, "w"));
  auto ra = a.Finish();
  auto rb = b.Finish();
  ASSERT_EQ(ra.size(), rb.size());
  ASSERT_GT(ra.size(), 3u);
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i]->raw, rb[i]->raw);
    EXPECT_EQ(ra[i]->seq, rb[i]->seq);
  }
}

TEST(WindowOperator, IncrementalSnapshotWritesChangedAndFreedKeys) {
  Harness h(MakeRules(1000, 1000, {Agg(WindowAggFn::kCount, "n")}));
  h.Add(Ev("a", 1, 100));
  h.Add(Ev("b", 1, 200));
  FakeWriter s1;
  ASSERT_TRUE(h.op->Snapshot(&s1, false).ok());
  EXPECT_EQ(s1.puts.size(), 2u);
  FakeWriter s2;
  ASSERT_TRUE(h.op->Snapshot(&s2, false).ok());
  EXPECT_TRUE(s2.puts.empty());
  h.Add(Ev("b", 1, 300));
  FakeWriter s3;
  ASSERT_TRUE(h.op->Snapshot(&s3, false).ok());
  EXPECT_EQ(s3.puts.size(), 1u);
  h.Advance(999);  // both windows fire; both keys are freed
  FakeWriter s4;
  ASSERT_TRUE(h.op->Snapshot(&s4, false).ok());
  EXPECT_TRUE(s4.puts.empty());
  EXPECT_EQ(s4.deletes.size(), 2u);
}

}  // namespace
}  // namespace vigil::engine
