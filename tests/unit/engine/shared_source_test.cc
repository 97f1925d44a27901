// The job's side of scale-out (engine/source/shared_source.h, runtime/partition_mover.h): a
// fake shared source with two repartition partitions, each feeding a stream of its own,
// encoded events with shards, explicit watermarks, partitions that move away and come back
// with their state, and the changelog the workers and the coordinator write.
#include <chrono>
#include <deque>
#include <set>
#include <thread>
#include <map>
#include <mutex>

#include "engine/job.h"
#include "engine/operator/key_group.h"
#include "engine/scaleout/exchange_messages.h"
#include "engine/sink/collecting_sink.h"
#include "engine/source/shared_source.h"
#include "engine/state/heap_backend.h"
#include "engine/state/state_key.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

constexpr int kPartitions = 2;
constexpr char kRules[] = R"(
stream txn (card string, amount float, at timestamp) event time at
rule card_testing from txn partition by card
  pattern small -> large
  define small as amount < 1, large as amount >= 500
  within 10m
)";

int PartitionOfKeyGroup(uint16_t kg) { return kg * kPartitions / kMaxKeyGroups; }

// What the source reads: per step, an optional assignment change, then records.
struct Step {
  std::optional<AssignmentChange> change;
  std::vector<std::pair<int, std::string>> records;  // (partition, encoded event) or watermark
  std::vector<std::pair<int, int64_t>> watermarks;   // (partition, wm) after the records
};

class FakeChangelog final : public PartitionStateSink {
 public:
  void Changed(uint64_t checkpoint, uint16_t key_group, std::string_view key,
               const std::string* value) override {
    std::lock_guard<std::mutex> lock(mu);
    changes.push_back({checkpoint, PartitionOfKeyGroup(key_group), std::string(key),
                       value ? std::optional<std::string>(*value) : std::nullopt});
  }
  absl::Status Commit(uint64_t checkpoint, const std::vector<PartitionCommit>& parts) override {
    std::lock_guard<std::mutex> lock(mu);
    commits.push_back({checkpoint, parts});
    return absl::OkStatus();
  }
  struct Change {
    uint64_t checkpoint;
    int partition;
    std::string key;
    std::optional<std::string> value;
  };
  std::mutex mu;
  std::vector<Change> changes;
  std::vector<std::pair<uint64_t, std::vector<PartitionCommit>>> commits;
};

class FakeShared final : public SharedSource {
 public:
  explicit FakeShared(std::deque<Step> steps) : steps_(std::move(steps)) {}
  const std::string& name() const override { return name_; }
  int partitions() const override { return kPartitions; }
  absl::StatusOr<PollState> Poll(size_t, std::vector<SourceRecord>* out) override {
    out->clear();
    held_.clear();
    // Slow enough for a checkpoint (every 1 ms) between two steps.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (steps_.empty()) return PollState::kEnd;
    Step step = std::move(steps_.front());
    steps_.pop_front();
    if (step.change) {
      for (int p : step.change->revoked) owned_[p] = false;
      for (const auto& a : step.change->assigned) owned_[a.partition] = true;
      pending_ = std::move(step.change);
    }
    for (auto& [p, text] : step.records) {
      held_.push_back(text + std::string(kSourcePadding, '\0'));
      SourceRecord r;
      r.text = std::string_view(held_.back().data(), text.size());
      r.partition = p;
      r.seq = ++seq_;
      r.encoded_event = true;
      out->push_back(r);
    }
    for (auto [p, wm] : step.watermarks) {
      SourceRecord r;
      r.partition = p;
      r.seq = ++seq_;
      r.watermark = true;
      r.watermark_ms = wm;
      out->push_back(r);
    }
    return out->empty() ? PollState::kWait : PollState::kData;
  }
  bool bounded() const override { return true; }
  bool live() const override { return false; }
  bool caught_up(int) const override { return false; }
  std::string Position() const override { return ""; }
  absl::Status Seek(std::string_view) override { return absl::OkStatus(); }
  RecordOrigin Origin(const SourceRecord& r) const override { return {"repart", r.partition, r.seq}; }
  std::optional<AssignmentChange> TakeAssignmentChange() override {
    return std::exchange(pending_, std::nullopt);
  }
  std::vector<int> owned() const override {
    std::vector<int> out;
    for (int p = 0; p < kPartitions; ++p) {
      if (owned_[p]) out.push_back(p);
    }
    return out;
  }
  std::string PartitionState(int p) const override { return "pos" + std::to_string(p); }
  PartitionStateSink* state_sink() override { return &changelog; }
  int PartitionOfKeyGroup(uint16_t kg) const override { return engine::PartitionOfKeyGroup(kg); }

  FakeChangelog changelog;

 private:
  std::string name_ = "repart";
  std::deque<Step> steps_;
  std::optional<AssignmentChange> pending_;
  bool owned_[kPartitions] = {false, false};
  std::deque<std::string> held_;
  uint64_t seq_ = 0;
};

// A card whose key group lives in partition `p`.
std::string CardIn(int p, int n = 0) {
  for (int i = 0;; ++i) {
    std::string card = "c" + std::to_string(i);
    if (PartitionOfKeyGroup(KeyGroupOfValues({Value::String(card)})) == p && n-- == 0) return card;
  }
}

std::string Txn(const std::string& card, double amount, int64_t at, uint64_t offset) {
  Event e;
  e.values = {Value::String(card), Value::Float(amount), Value::Timestamp(EventTime(at))};
  e.raw = "{\"card\":\"" + card + "\",\"amount\":" + std::to_string(amount) + "}";
  e.time = EventTime(at);
  e.seq = offset;  // input partition 0
  return scaleout::EncodeEventMessage(e).substr(1);  // the codec's Event (without the tag)
}

struct Run {
  std::vector<Record> records;
  FakeShared* source;
  absl::Status status;
};

std::unique_ptr<Job> MakeJob(std::deque<Step> steps, CollectingSink* out, DeadLetterWriter* dead,
                             state::StateBackend* backend, FakeShared** source, int parallelism) {
  auto compiled = rules::CompileSources({{"t.vgl", kRules}});
  EXPECT_TRUE(compiled.ok());
  // Each repartition partition feeds a stream of its own: the rules set is the stream and its
  // rule, once per partition (docs/scale-out.md).
  auto expanded = std::make_shared<cep::RuleSet>(*compiled.rule_set);
  expanded->streams.push_back(expanded->streams[0]);
  expanded->rules.push_back(expanded->rules[0]);
  expanded->rules[1].stream = 1;
  auto src = std::make_unique<FakeShared>(std::move(steps));
  *source = src.get();
  std::vector<JobInput> in;
  in.push_back(JobInput{0, std::move(src), {0, 1}});
  JobOptions options;
  options.parallelism = parallelism;
  options.backend = backend;
  options.checkpoint_interval_ms = 1;
  auto job = Job::Create(expanded, std::move(options), std::move(in),
                         JobOutputs{{}, {}, out, {}, true, dead});
  EXPECT_TRUE(job.ok()) << job.status();
  return std::move(job).value();
}

TEST(SharedSource, RoutesByShardAndFollowsEachPartitionsWatermark) {
  for (int parallelism : {1, 2}) {
    const std::string a = CardIn(0), b = CardIn(1);
    std::deque<Step> steps;
    Step s1;
    s1.change = AssignmentChange{{}, {{0, {}, ""}, {1, {}, ""}}};
    // The same event arrives on both partitions (a writer sends it to every partition one of
    // its rules' keys maps to); each partition handles only its own keys.
    s1.records = {{0, Txn(a, 0.5, 1000, 1)}, {1, Txn(a, 0.5, 1000, 1)},
                  {1, Txn(b, 0.5, 1000, 2)}, {0, Txn(a, 900, 2000, 3)},
                  {1, Txn(b, 900, 2000, 4)}};
    s1.watermarks = {{0, 5000}};  // partition 1 has no watermark yet: its match waits
    steps.push_back(std::move(s1));
    CollectingSink out;
    std::string dead_text;
    DeadLetterWriter dead(&dead_text);
    FakeShared* src = nullptr;
    auto job = MakeJob(std::move(steps), &out, &dead, nullptr, &src, parallelism);
    ASSERT_TRUE(job->Run().ok());
    // Both matched by the end of input (bounded source: watermark +infinity).
    ASSERT_EQ(out.records().size(), 2u) << parallelism;
    std::set<std::string> keys;
    for (const Record& r : out.records()) keys.insert(r.key[0].second.as_string());
    EXPECT_EQ(keys, (std::set<std::string>{a, b}));
    EXPECT_EQ(dead_text, "");
  }
}

TEST(SharedSource, MovedPartitionsDropAndRestoreStateAndCheckpointsGoToTheChangelog) {
  const std::string a = CardIn(0), b = CardIn(1);
  // Partition 1's state as another process committed it: b's small charge, open.
  std::deque<Step> first;
  {
    Step s;
    s.change = AssignmentChange{{}, {{0, {}, ""}, {1, {}, ""}}};
    s.records = {{0, Txn(a, 0.5, 1000, 1)}, {1, Txn(b, 0.5, 1000, 2)}};
    s.watermarks = {{0, 1500}, {1, 1500}};
    first.push_back(std::move(s));
  }
  CollectingSink out1;
  std::string dead_text;
  DeadLetterWriter dead(&dead_text);
  auto backend = std::make_unique<state::HeapBackend>();
  FakeShared* src = nullptr;
  auto job = MakeJob(std::move(first), &out1, &dead, backend.get(), &src, 2);
  ASSERT_TRUE(job->Run().ok());
  // The open partial matches of both partitions reached the changelog, each change tagged with
  // its partition, and every checkpoint committed both owned partitions' states.
  std::lock_guard<std::mutex> lock(src->changelog.mu);
  ASSERT_FALSE(src->changelog.commits.empty());
  std::set<int> parts;
  for (const auto& c : src->changelog.changes) {
    parts.insert(c.partition);
    EXPECT_EQ(PartitionOfKeyGroup(*state::KeyGroupOf(c.key)), c.partition);
  }
  EXPECT_EQ(parts, (std::set<int>{0, 1}));
  const auto& last = src->changelog.commits.back().second;
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].partition, 0);
  EXPECT_EQ(last[0].source_state, "pos0");
  EXPECT_EQ(last[1].source_state, "pos1");
}

TEST(SharedSource, ARestoredPartitionContinuesItsPartialMatchesAndARevokedOneStops) {
  const std::string a = CardIn(0), b = CardIn(1);
  // Round 1 (to capture partition 1's state): b's small charge, checkpointed.
  std::deque<Step> steps1;
  {
    Step s;
    s.change = AssignmentChange{{}, {{1, {}, ""}}};
    s.records = {{1, Txn(b, 0.5, 1000, 2)}};
    s.watermarks = {{1, 1100}};
    steps1.push_back(std::move(s));
    // Quiet polls: time for a checkpoint with b's partial match open.
    for (int i = 0; i < 5; ++i) steps1.push_back(Step{});
  }
  CollectingSink out1;
  std::string dead1;
  DeadLetterWriter dl1(&dead1);
  auto backend1 = std::make_unique<state::HeapBackend>();
  FakeShared* src1 = nullptr;
  auto job1 = MakeJob(std::move(steps1), &out1, &dl1, backend1.get(), &src1, 1);
  ASSERT_TRUE(job1->Run().ok());
  // The latest state of partition 1 (what a fold of its changelog would give).
  std::map<std::string, std::string> state1;
  std::string buffered1;
  {
    std::lock_guard<std::mutex> lock(src1->changelog.mu);
    // The first checkpoint that has b's open partial match (the fold of the changelog up to
    // its marker).
    uint64_t ckpt = 0;
    for (const auto& c : src1->changelog.changes) {
      if (ckpt == 0 && c.value) ckpt = c.checkpoint;
    }
    for (const auto& c : src1->changelog.changes) {
      if (c.checkpoint > ckpt) continue;
      if (c.value) state1[c.key] = *c.value; else state1.erase(c.key);
    }
    for (const auto& [id, commits] : src1->changelog.commits) {
      if (id != ckpt) continue;
      for (const auto& pc : commits) {
        if (pc.partition == 1) buffered1 = pc.job_state;
      }
    }
  }
  ASSERT_FALSE(state1.empty());
  // Round 2: this process owns partition 0, then partition 1 arrives with that state and b's
  // large charge follows: it matches the restored small charge. Then partition 0 is revoked:
  // a's large charge after that is never matched here.
  std::deque<Step> steps2;
  {
    Step s;
    s.change = AssignmentChange{{}, {{0, {}, ""}}};
    s.records = {{0, Txn(a, 0.5, 1000, 1)}};
    s.watermarks = {{0, 1100}};
    steps2.push_back(std::move(s));
  }
  {
    PartitionRestore r;
    r.partition = 1;
    r.keyed.assign(state1.begin(), state1.end());
    r.job_state = buffered1;
    Step s;
    s.change = AssignmentChange{{0}, {std::move(r)}};
    s.records = {{1, Txn(b, 900, 2000, 4)}};
    s.watermarks = {{1, 3000}};
    steps2.push_back(std::move(s));
  }
  {
    Step s;
    s.records = {{0, Txn(a, 900, 2000, 3)}};  // not owned any more: never arrives in reality
    steps2.push_back(std::move(s));
  }
  CollectingSink out2;
  std::string dead2;
  DeadLetterWriter dl2(&dead2);
  FakeShared* src2 = nullptr;
  auto job2 = MakeJob(std::move(steps2), &out2, &dl2, nullptr, &src2, 2);
  ASSERT_TRUE(job2->Run().ok());
  ASSERT_EQ(out2.records().size(), 1u);
  EXPECT_EQ(out2.records()[0].key[0].second.as_string(), b);
  EXPECT_EQ(out2.records()[0].kind, RecordKind::kMatch);
}

}  // namespace
}  // namespace vigil::engine
