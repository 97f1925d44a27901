// Parallel decoding (JobOptions::parallel_decode): workers decode the lines the router reads
// and the router finalizes them in read order. Whatever the parallelism, the task size or
// the checkpoints (each one drains the decode pipeline), the job gives the same records and
// byte-for-byte the same dead-letter output (invalid lines and late events, in read order).
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "engine/job.h"
#include "engine/state/heap_backend.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

class JsonSink : public Sink {
 public:
  absl::Status Write(const Record& r) override {
    lines.push_back(RecordToJson(r));
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> SnapshotState(uint64_t) override { return std::string(); }
  absl::Status Restore(std::string_view) override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  SinkStats stats() const override { return {}; }
  std::vector<std::string> lines;
};

// Two rules on one stream with different partition keys (so an event goes to two workers),
// a timeout rule and a within window.
constexpr char kRules[] = R"(
stream txn (card string, merchant string, amount float, at timestamp)
  event time at
  out of order 50ms
rule by_card from txn partition by card
  pattern small -> large
  define small as amount < 1.00, large as amount >= 500
  within 1s
  on timeout
rule by_merchant from txn partition by merchant
  pattern a -> b
  define a as amount >= 500, b as amount >= 500 and card != a.card
  within 300ms
)";

// Events with jitter, invalid lines of several kinds, blank lines and late events.
std::string WriteInput(const std::string& name, int n, int seed) {
  std::string path =
      testing::TempDir() + "/parallel_decode_" + std::to_string(getpid()) + "_" + name + ".jsonl";
  std::ofstream out(path);
  for (int i = 0; i < n; ++i) {
    int k = i * 7 + seed;
    if (k % 101 == 0) {
      out << "{\"card\":\"c1\",\"amount\":\"lots\",\"merchant\":\"m\",\"at\":" << 1000 + i << "}\n";
      continue;
    }
    if (k % 211 == 0) {
      out << "not json at all\n";
      continue;
    }
    if (k % 307 == 0) out << "   \n";  // blank: skipped, counts as a line
    if (k % 401 == 0) out << "{\"card\":\"c2\",\"amount\":3}\n";  // no event time
    double amount = (k % 5 == 0) ? 0.5 : (k % 9 == 0 ? 900 : 20);
    int jitter = (k * 37) % 40;
    int64_t at = 100000 + i * 2 - jitter;
    if (k % 997 == 0) at -= 5000;  // late
    out << "{\"card\":\"c" << (k * 13) % 89 << "\",\"merchant\":\"m" << (k * 7) % 23
        << "\",\"amount\":" << amount << ",\"at\":" << at << "}\n";
  }
  return path;
}

struct Result {
  absl::Status status;
  std::vector<std::string> records;  // sorted
  std::string dead_letter;           // in write order
  JobStats stats;
};

Result RunJob(const std::vector<std::string>& inputs, JobOptions options) {
  auto compiled = rules::CompileSources({{"t.vgl", kRules}});
  EXPECT_TRUE(compiled.ok());
  JsonSink out;
  Result r;
  DeadLetterWriter dead(&r.dead_letter);
  std::vector<JobInput> in;
  for (const std::string& path : inputs) in.push_back({0, JsonlSource::Open(path).value()});
  auto job = Job::Create(compiled.rule_set, std::move(options), std::move(in), {}, &out, &dead);
  if (!job.ok()) {
    r.status = job.status();
    return r;
  }
  r.status = (*job)->Run();
  r.stats = (*job)->stats();
  r.records = std::move(out.lines);
  std::sort(r.records.begin(), r.records.end());
  return r;
}

class ParallelDecode : public testing::Test {
 protected:
  void SetUp() override {
    inputs_ = {WriteInput("a", 12000, 0), WriteInput("b", 9000, 3)};
    JobOptions one;
    one.parallelism = 1;
    one.chunk_lines = 700;
    base_ = RunJob(inputs_, one);
    ASSERT_TRUE(base_.status.ok()) << base_.status;
    // The workload exercises what it should.
    ASSERT_GT(base_.records.size(), 100u);
    ASSERT_GT(base_.stats.invalid(), 50u);
    ASSERT_GT(base_.stats.late(), 5u);
    ASSERT_GT(base_.stats.timeouts(), 10u);
  }
  void TearDown() override {
    for (const std::string& p : inputs_) std::remove(p.c_str());
  }
  void ExpectSame(const Result& r, const std::string& what) {
    ASSERT_TRUE(r.status.ok()) << what << ": " << r.status;
    EXPECT_EQ(r.records, base_.records) << what;
    EXPECT_EQ(r.dead_letter, base_.dead_letter) << what;
    EXPECT_EQ(r.stats.events(), base_.stats.events()) << what;
    EXPECT_EQ(r.stats.invalid(), base_.stats.invalid()) << what;
    EXPECT_EQ(r.stats.late(), base_.stats.late()) << what;
  }
  std::vector<std::string> inputs_;
  Result base_;
};

TEST_F(ParallelDecode, SameOutputForAnyParallelismAndTaskSize) {
  for (int p : {2, 3, 4}) {
    for (size_t lines : {1, 3, 64, 256}) {
      JobOptions o;
      o.parallelism = p;
      o.chunk_lines = 700;
      o.decode_lines = lines;
      o.batch_items = 32;
      ExpectSame(RunJob(inputs_, o),
                 "parallelism " + std::to_string(p) + ", decode_lines " + std::to_string(lines));
    }
  }
}

TEST_F(ParallelDecode, SameOutputAsDecodingOnTheRouter) {
  JobOptions o;
  o.parallelism = 2;
  o.chunk_lines = 700;
  o.parallel_decode = false;
  ExpectSame(RunJob(inputs_, o), "router decoding");
}

TEST_F(ParallelDecode, CheckpointsDrainThePipelineWithoutChangingTheOutput) {
  state::HeapBackend backend;
  JobOptions o;
  o.parallelism = 3;
  o.chunk_lines = 700;
  o.decode_lines = 16;
  o.backend = &backend;
  o.checkpoint_interval_ms = 1;
  Result r = RunJob(inputs_, o);
  ExpectSame(r, "checkpoints every 1 ms");
  EXPECT_GE(r.stats.checkpoints, 1u);
}

}  // namespace
}  // namespace vigil::engine
