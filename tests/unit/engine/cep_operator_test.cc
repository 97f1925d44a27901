#include "engine/operator/cep_operator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/operator/key_group.h"
#include "engine/record.h"
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
  EXPECT_EQ(op_->keys_created(), 0u);
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
  EXPECT_EQ(op_->timer_firings(), 1000u);
  EXPECT_EQ(op_->stats().live_keys, 0u);
}

// ---------------------------------------------------------------- timers

TEST_F(CepOperatorTest, EventsDoNotAdvanceTheNfaBeforeADeadline) {
  // Many events of one key inside the window: the only timer firing is the real expiry.
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(op_->Process(Ev("x", "a", 1, 100 + i)).ok());
  ASSERT_TRUE(op_->AdvanceWatermark(Watermark(109)).ok());
  EXPECT_EQ(op_->timer_firings(), 0u);
  ASSERT_TRUE(op_->AdvanceWatermark(Watermark(110)).ok());
  EXPECT_EQ(op_->timer_firings(), 1u);
  ASSERT_EQ(router_.out.size(), 1u);
  EXPECT_EQ(router_.out[0].record.time, EventTime(110));
  EXPECT_EQ(op_->stats().partial_matches, 8u);
  EXPECT_GT(op_->stats().state_bytes, 0u);
}

TEST_F(CepOperatorTest, SimultaneousTimeoutsFireInKeyCreationOrder) {
  ASSERT_TRUE(op_->Process(Ev("z", "a", 1, 100)).ok());
  ASSERT_TRUE(op_->Process(Ev("y", "a", 1, 100)).ok());
  ASSERT_TRUE(op_->Process(Ev("x", "a", 1, 100)).ok());
  ASSERT_TRUE(op_->AdvanceWatermark(Watermark(200)).ok());
  ASSERT_EQ(router_.out.size(), 3u);
  EXPECT_EQ(router_.out[0].record.key[0].second, Value::String("z"));
  EXPECT_EQ(router_.out[1].record.key[0].second, Value::String("y"));
  EXPECT_EQ(router_.out[2].record.key[0].second, Value::String("x"));
}

// ---------------------------------------------------------------- snapshots

// The job's view of a snapshot store: the latest value of every (group, key).
class MapStore : public SnapshotWriter {
 public:
  void Put(uint16_t key_group, std::string_view key, std::string_view value) override {
    kv[{key_group, std::string(key)}] = std::string(value);
    ++puts;
  }
  void Delete(uint16_t key_group, std::string_view key) override {
    kv.erase({key_group, std::string(key)});
    ++deletes;
  }
  void ResetCounts() { puts = deletes = 0; }
  std::map<std::pair<uint16_t, std::string>, std::string> kv;
  int puts = 0;
  int deletes = 0;
};

constexpr char kLoopRules[] = R"(
stream s (k string, name string, v int, t timestamp) event time t
sink late_sink stdout
rule loop
  from s
  where v >= 0
  partition by k
  pattern a -> b+ -> c
  define a as name == "a", b as name == "b" and coalesce(sum(b.v), 0) + v <= 20,
    c as name == "c"
  within 30ms
  emit total = sum(b.v), n = count(b), first = a.v
  on timeout to late_sink
rule pair
  from s
  partition by k, name
  pattern a -> b
  define a as v > 5, b as v < 3
rule miss
  from s
  partition by k
  pattern a -> !c
  define a as name == "a", c as name == "c"
  within 12ms
)";

struct Step {
  EventPtr event;  // or a watermark
  Watermark wm;
};

std::vector<Step> MakeSteps(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  const char* names[] = {"a", "b", "b", "c", "x"};
  std::vector<Step> steps;
  int64_t t = 0;
  for (int i = 0; i < n; ++i) {
    t += static_cast<int64_t>(rng() % 3);
    if (i % 6 == 5) {
      steps.push_back({nullptr, Watermark(t - 2)});
      continue;
    }
    auto e = std::make_shared<Event>();
    std::string k = "k" + std::to_string(rng() % 7);
    std::string name = names[rng() % 5];
    int64_t v = static_cast<int64_t>(rng() % 12) - 1;
    e->values = {Value::String(k), Value::String(name), Value::Int(v),
                 Value::Timestamp(EventTime(t))};
    e->time = EventTime(t);
    e->seq = static_cast<uint64_t>(i + 1);
    e->raw = "{\"k\":\"" + k + "\",\"name\":\"" + name + "\",\"v\":" + std::to_string(v) + "}";
    steps.push_back({e, Watermark()});
  }
  return steps;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto res = rules::CompileSources({{"loop.vgl", kLoopRules}});
    ASSERT_TRUE(res.ok()) << (res.diagnostics.empty() ? "" : res.diagnostics[0].message);
    rules_ = res.rule_set;
  }
  std::unique_ptr<CepOperator> NewOp(int rule, Collect* router) {
    auto op = CepOperator::Create(rules_, rule, CepOperatorOptions{}, router);
    EXPECT_TRUE(op.ok()) << op.status();
    return op.ok() ? std::move(op).value() : nullptr;
  }
  static void Apply(CepOperator* op, const Step& s) {
    absl::Status st = s.event ? op->Process(s.event) : op->AdvanceWatermark(s.wm);
    ASSERT_TRUE(st.ok()) << st;
  }
  static std::vector<std::string> Render(const Collect& c) {
    std::vector<std::string> out;
    for (const Routed& r : c.out) {
      std::string line = RecordToJson(r.record);
      for (int sink : r.sinks) line += " ->" + std::to_string(sink);
      out.push_back(std::move(line));
    }
    return out;
  }
  // The records of a run that snapshots every `every` steps (the first one full) and, at step
  // `split`, is killed and restored from the snapshot store into a new operator.
  std::vector<std::string> Run(int rule, const std::vector<Step>& steps, int split, int every,
                               uint32_t seed) {
    Collect before, after;
    MapStore store;
    std::unique_ptr<CepOperator> op = NewOp(rule, &before);
    bool first = true;
    for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
      if (i == split || (every > 0 && i % every == 0 && i < split)) {
        EXPECT_TRUE(op->Snapshot(&store, first).ok());
        first = false;
      }
      if (i == split) {
        // Restore in a shuffled order: the output must not depend on it.
        std::vector<std::pair<std::pair<uint16_t, std::string>, std::string>> entries(
            store.kv.begin(), store.kv.end());
        std::shuffle(entries.begin(), entries.end(), std::mt19937(seed));
        op = NewOp(rule, &after);
        for (const auto& [gk, value] : entries) {
          absl::Status st = op->Restore(gk.first, gk.second, value);
          EXPECT_TRUE(st.ok()) << st;
        }
        EXPECT_EQ(op->stats().live_keys, store.kv.size());
      }
      Apply(op.get(), steps[i]);
    }
    EXPECT_TRUE(op->AdvanceWatermark(Watermark::Max()).ok());
    std::vector<std::string> out = Render(before);
    for (std::string& r : Render(after)) out.push_back(std::move(r));
    return out;
  }

  std::shared_ptr<const cep::RuleSet> rules_;
};

TEST_F(SnapshotTest, RestoreMidStreamGivesIdenticalRecords) {
  for (int rule = 0; rule < 3; ++rule) {
    for (uint32_t seed : {1u, 2u}) {
      std::vector<Step> steps = MakeSteps(150, seed);
      const std::vector<std::string> want = Run(rule, steps, -1, 0, seed);
      EXPECT_GE(want.size(), 3u) << "rule " << rule;
      for (int split = 0; split < static_cast<int>(steps.size()); split += 3) {
        for (int every : {0, 4, 11}) {
          ASSERT_EQ(Run(rule, steps, split, every, seed + split), want)
              << "rule " << rule << " seed " << seed << " split " << split << " every " << every;
        }
      }
    }
  }
}

TEST_F(SnapshotTest, IncrementalSnapshotWritesOnlyDirtyKeysAndDeletesFreedOnes) {
  Collect router;
  std::unique_ptr<CepOperator> op = NewOp(0, &router);  // a -> b+ -> c within 30ms
  auto ev = [](const std::string& k, const std::string& name, int64_t t) {
    auto e = std::make_shared<Event>();
    e->values = {Value::String(k), Value::String(name), Value::Int(1),
                 Value::Timestamp(EventTime(t))};
    e->time = EventTime(t);
    e->seq = static_cast<uint64_t>(t);
    return e;
  };
  MapStore store;
  ASSERT_TRUE(op->Snapshot(&store, true).ok());
  EXPECT_EQ(store.puts + store.deletes, 0);

  ASSERT_TRUE(op->Process(ev("x", "a", 1)).ok());
  ASSERT_TRUE(op->Process(ev("y", "a", 2)).ok());
  ASSERT_TRUE(op->Process(ev("z", "x", 3)).ok());  // no partial match: never a live key
  ASSERT_TRUE(op->Snapshot(&store, false).ok());
  EXPECT_EQ(store.puts, 2);
  EXPECT_EQ(store.deletes, 0);
  ASSERT_EQ(store.kv.size(), 2u);
  // Keys are the encoded partition key, in the key's group.
  auto x_it = std::find_if(store.kv.begin(), store.kv.end(), [](const auto& e) {
    return e.first.second.find('x') != std::string::npos;
  });
  ASSERT_NE(x_it, store.kv.end());
  Event probe;
  probe.values = {Value::String("x")};
  EXPECT_EQ(x_it->first.first, KeyGroupOf(PartitionKeyHash({0}, probe)));

  // Only x changes: one put.
  store.ResetCounts();
  ASSERT_TRUE(op->Process(ev("x", "b", 4)).ok());
  ASSERT_TRUE(op->Snapshot(&store, false).ok());
  EXPECT_EQ(store.puts, 1);
  EXPECT_EQ(store.deletes, 0);

  // Nothing changes: nothing written (a watermark before any deadline touches no key).
  store.ResetCounts();
  ASSERT_TRUE(op->AdvanceWatermark(Watermark(10)).ok());
  ASSERT_TRUE(op->Snapshot(&store, false).ok());
  EXPECT_EQ(store.puts + store.deletes, 0);

  // x matches and is freed: a delete, no put. w lives and dies between two snapshots: nothing.
  store.ResetCounts();
  ASSERT_TRUE(op->Process(ev("x", "c", 11)).ok());
  ASSERT_TRUE(op->Process(ev("w", "a", 12)).ok());
  ASSERT_TRUE(op->Process(ev("w", "b", 13)).ok());
  ASSERT_TRUE(op->Process(ev("w", "c", 14)).ok());
  EXPECT_EQ(router.out.size(), 2u);
  ASSERT_TRUE(op->Snapshot(&store, false).ok());
  EXPECT_EQ(store.puts, 0);
  EXPECT_EQ(store.deletes, 1);
  EXPECT_EQ(store.kv.size(), 1u);

  // y times out (timer firing): its key is freed and deleted. y is back before the snapshot:
  // a put overwrites the stored entry, no delete.
  store.ResetCounts();
  ASSERT_TRUE(op->AdvanceWatermark(Watermark(32)).ok());
  EXPECT_EQ(op->stats().live_keys, 0u);
  ASSERT_TRUE(op->Process(ev("y", "a", 40)).ok());
  ASSERT_TRUE(op->Snapshot(&store, false).ok());
  EXPECT_EQ(store.puts, 1);
  EXPECT_EQ(store.deletes, 0);
  ASSERT_EQ(store.kv.size(), 1u);

  // A full snapshot writes every live key, dirty or not.
  store.ResetCounts();
  ASSERT_TRUE(op->Snapshot(&store, true).ok());
  EXPECT_EQ(store.puts, 1);

  // Without a backend (null writer) the changes are just forgotten.
  ASSERT_TRUE(op->Process(ev("y", "b", 41)).ok());
  ASSERT_TRUE(op->Snapshot(nullptr, false).ok());
  store.ResetCounts();
  ASSERT_TRUE(op->Snapshot(&store, false).ok());
  EXPECT_EQ(store.puts + store.deletes, 0);

  // The end of input frees y: deleted at the next snapshot.
  store.ResetCounts();
  ASSERT_TRUE(op->AdvanceWatermark(Watermark::Max()).ok());
  ASSERT_TRUE(op->Snapshot(&store, false).ok());
  EXPECT_EQ(store.puts, 0);
  EXPECT_EQ(store.deletes, 1);
  EXPECT_TRUE(store.kv.empty());
  EXPECT_EQ(op->stats().partial_matches, 0u);
  EXPECT_EQ(op->stats().live_keys, 0u);
}

TEST_F(SnapshotTest, RestoreRejectsCorruptEntries) {
  Collect router;
  std::unique_ptr<CepOperator> op = NewOp(0, &router);
  auto e = std::make_shared<Event>();
  e->values = {Value::String("x"), Value::String("a"), Value::Int(1),
               Value::Timestamp(EventTime(1))};
  e->time = EventTime(1);
  ASSERT_TRUE(op->Process(e).ok());
  MapStore store;
  ASSERT_TRUE(op->Snapshot(&store, true).ok());
  ASSERT_EQ(store.kv.size(), 1u);
  const uint16_t group = store.kv.begin()->first.first;
  const std::string key = store.kv.begin()->first.second;
  const std::string value = store.kv.begin()->second;

  auto restore = [&](uint16_t g, const std::string& k, const std::string& v) {
    std::unique_ptr<CepOperator> fresh = NewOp(0, &router);
    absl::Status st = fresh->Restore(g, k, v);
    if (!st.ok()) {
      EXPECT_EQ(fresh->stats().live_keys, 0u);
    }
    return st;
  };
  EXPECT_TRUE(restore(group, key, value).ok());
  EXPECT_EQ(restore(static_cast<uint16_t>((group + 1) % kMaxKeyGroups), key, value).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(restore(group, key + "?", value).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(restore(group, key, value + "?").code(), absl::StatusCode::kDataLoss);
  for (size_t n = 0; n < value.size(); ++n) {
    EXPECT_EQ(restore(group, key, value.substr(0, n)).code(), absl::StatusCode::kDataLoss) << n;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    std::string bad = value;
    bad[i] ^= 0x5a;
    absl::Status st = restore(group, key, bad);
    if (!st.ok()) {
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    }
  }
  std::unique_ptr<CepOperator> twice = NewOp(0, &router);
  ASSERT_TRUE(twice->Restore(group, key, value).ok());
  EXPECT_EQ(twice->Restore(group, key, value).code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotTest, RestoredKeysRearmTheirTimers) {
  Collect before, after;
  std::unique_ptr<CepOperator> op = NewOp(0, &before);
  auto e = std::make_shared<Event>();
  e->values = {Value::String("x"), Value::String("a"), Value::Int(1),
               Value::Timestamp(EventTime(5))};
  e->time = EventTime(5);
  ASSERT_TRUE(op->Process(e).ok());
  MapStore store;
  ASSERT_TRUE(op->Snapshot(&store, true).ok());
  std::unique_ptr<CepOperator> restored = NewOp(0, &after);
  for (const auto& [gk, v] : store.kv) ASSERT_TRUE(restored->Restore(gk.first, gk.second, v).ok());
  EXPECT_EQ(restored->stats().partial_matches, 1u);
  ASSERT_TRUE(restored->AdvanceWatermark(Watermark(34)).ok());
  EXPECT_TRUE(after.out.empty());
  ASSERT_TRUE(restored->AdvanceWatermark(Watermark(35)).ok());
  ASSERT_EQ(after.out.size(), 1u);
  EXPECT_EQ(after.out[0].record.kind, RecordKind::kTimeout);
  EXPECT_EQ(after.out[0].record.time, EventTime(35));
  EXPECT_EQ(restored->stats().live_keys, 0u);
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
