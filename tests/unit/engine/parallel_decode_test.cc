// Parallel decoding (JobOptions::parallel_decode): workers decode the lines the router reads
// and the router finalizes them in read order. Whatever the parallelism, the task size or
// the checkpoints (each one drains the decode pipeline), the job gives the same records and
// byte-for-byte the same dead-letter output (invalid lines and late events, in read order).
// Also with explicit watermark lines ({"$watermark": T}) between the events: they are not
// decoded but must stay in read order with the lines decoded around them.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "engine/job.h"
#include "engine/state/heap_backend.h"
#include "engine/sink/collecting_sink.h"
#include "engine/source/file_source.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

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

// Events with jitter, invalid lines of several kinds, blank lines and late events; with
// `watermarks`, explicit watermarks every few lines (a little ahead of the generated
// watermark, so that some of the jittered events after them are late) and a few malformed
// ones.
std::string WriteInput(const std::string& name, int n, int seed, bool watermarks) {
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
    if (watermarks && k % 23 == 0) out << "{\"$watermark\": " << 100000 + i * 2 - 25 << "}\n";
    if (watermarks && k % 1009 == 0) out << "{\"$watermark\": \"soon\"}\n";
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

Result RunJob(const std::vector<std::string>& inputs, JobOptions options, bool watermarks) {
  auto compiled = rules::CompileSources({{"t.vgl", kRules}});
  EXPECT_TRUE(compiled.ok());
  CollectingSink out;
  Result r;
  DeadLetterWriter dead(&r.dead_letter);
  std::vector<JobInput> in;
  for (const std::string& path : inputs) {
    std::unique_ptr<FileSource> f = FileSource::Open(path).value();
    f->SetWatermarkLines(watermarks);
    in.push_back({0, std::move(f)});
  }
  auto job = Job::Create(compiled.rule_set, std::move(options), std::move(in),
                         JobOutputs{{}, {}, &out, {}, true, &dead});
  if (!job.ok()) {
    r.status = job.status();
    return r;
  }
  r.status = (*job)->Run();
  r.stats = (*job)->stats();
  for (const Record& rec : out.records()) r.records.push_back(RecordToJson(rec));
  std::sort(r.records.begin(), r.records.end());
  return r;
}

// The parameter: explicit watermark lines in the inputs.
class ParallelDecode : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    watermarks_ = GetParam();
    inputs_ = {WriteInput("a", 12000, 0, watermarks_), WriteInput("b", 9000, 3, watermarks_)};
    JobOptions one;
    one.parallelism = 1;
    one.chunk_lines = 700;
    base_ = RunJob(inputs_, one, watermarks_);
    ASSERT_TRUE(base_.status.ok()) << base_.status;
    // The workload exercises what it should.
    ASSERT_GT(base_.records.size(), 100u);
    ASSERT_GT(base_.stats.invalid(), 50u);
    ASSERT_GT(base_.stats.late(), 5u);
    ASSERT_GT(base_.stats.timeouts(), 10u);
    if (watermarks_) {
      // The watermark lines take effect: more events are late than with the lines read as
      // (invalid) events, and the malformed ones are dead letters.
      Result off = RunJob(inputs_, one, false);
      ASSERT_TRUE(off.status.ok()) << off.status;
      ASSERT_GT(base_.stats.late(), off.stats.late() + 50);
      ASSERT_NE(base_.dead_letter.find("$watermark: invalid RFC 3339 timestamp"),
                std::string::npos);
    }
  }
  Result Run(JobOptions o) { return RunJob(inputs_, std::move(o), watermarks_); }
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
  bool watermarks_ = false;
  Result base_;
};

TEST_P(ParallelDecode, SameOutputForAnyParallelismAndTaskSize) {
  for (int p : {2, 3, 4}) {
    for (size_t lines : {1, 3, 64, 256}) {
      JobOptions o;
      o.parallelism = p;
      o.chunk_lines = 700;
      o.decode_lines = lines;
      o.batch_items = 32;
      ExpectSame(Run(o),
                 "parallelism " + std::to_string(p) + ", decode_lines " + std::to_string(lines));
    }
  }
}

TEST_P(ParallelDecode, SameOutputAsDecodingOnTheRouter) {
  JobOptions o;
  o.parallelism = 2;
  o.chunk_lines = 700;
  o.parallel_decode = false;
  ExpectSame(Run(o), "router decoding");
}

TEST_P(ParallelDecode, CheckpointsDrainThePipelineWithoutChangingTheOutput) {
  state::HeapBackend backend;
  JobOptions o;
  o.parallelism = 3;
  o.chunk_lines = 700;
  o.decode_lines = 16;
  o.backend = &backend;
  o.checkpoint_interval_ms = 1;
  Result r = Run(o);
  ExpectSame(r, "checkpoints every 1 ms");
  EXPECT_GE(r.stats.checkpoints, 1u);
}

INSTANTIATE_TEST_SUITE_P(Inputs, ParallelDecode, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "WithWatermarkLines" : "EventsOnly";
                         });

}  // namespace
}  // namespace vigil::engine
