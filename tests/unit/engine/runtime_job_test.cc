// The parallel job: same results for any parallelism, checkpoints through the backend,
// failed checkpoints reported and survived, restore of the last completed one.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/job.h"
#include "engine/state/checkpoint_meta.h"
#include "engine/state/fault_injection.h"
#include "engine/state/heap_backend.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

class MemorySink : public Sink {
 public:
  absl::Status Write(const Record& r) override {
    ids.push_back(r.id);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> SnapshotState(uint64_t) override { return std::string(); }
  absl::Status Restore(std::string_view) override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  SinkStats stats() const override { return {}; }
  std::vector<std::string> ids;
};

constexpr char kRules[] = R"(
stream txn (card string, amount float, at timestamp) event time at out of order 50ms
rule r from txn partition by card
  pattern small -> large
  define small as amount < 1.00, large as amount >= 500
  within 1s
  on timeout
)";

std::string Workload(int n) {
  std::string path = testing::TempDir() + "/runtime_job_" + std::to_string(getpid()) + ".jsonl";
  std::ofstream out(path);
  for (int i = 0; i < n; ++i) {
    double amount = (i % 7 == 0) ? 0.5 : (i % 11 == 0 ? 900 : 20);
    int jitter = (i * 37) % 40;
    out << "{\"card\":\"c" << (i * 13) % 97 << "\",\"amount\":" << amount
        << ",\"at\":" << (100000 + i * 2 - jitter) << "}\n";
  }
  return path;
}

struct JobRun {
  std::vector<std::string> ids;
  JobStats stats;
  absl::Status status;
};

JobRun RunJob(const std::string& input, JobOptions options,
              const state::CheckpointMeta* restore = nullptr) {
  auto res = rules::CompileSources({{"t.vgl", kRules}});
  EXPECT_TRUE(res.ok());
  MemorySink out;
  std::string dead_text;
  DeadLetterWriter dead(&dead_text);
  std::vector<JobInput> in;
  in.push_back({0, JsonlSource::Open(input).value()});
  JobRun r;
  auto job = Job::Create(res.rule_set, std::move(options), std::move(in), {}, &out, &dead);
  if (!job.ok()) {
    r.status = job.status();
    return r;
  }
  if (restore != nullptr) {
    r.status = (*job)->Restore(*restore);
    if (!r.status.ok()) return r;
  }
  r.status = (*job)->Run();
  r.stats = (*job)->stats();
  r.ids = std::move(out.ids);
  std::sort(r.ids.begin(), r.ids.end());
  return r;
}

TEST(RuntimeJob, SameRecordsForAnyParallelism) {
  std::string input = Workload(20000);
  JobOptions one;
  one.parallelism = 1;
  JobRun base = RunJob(input, one);
  ASSERT_TRUE(base.status.ok()) << base.status;
  ASSERT_GT(base.ids.size(), 100u);
  for (int p : {1, 2, 3, 5}) {
    JobOptions o;
    o.parallelism = p;
    o.batch_items = 64;  // more interleaving
    JobRun r = RunJob(input, o);
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.ids, base.ids) << "parallelism " << p;
    if (r.ids != base.ids) {
      std::vector<std::string> d1, d2;
      std::set_difference(base.ids.begin(), base.ids.end(), r.ids.begin(), r.ids.end(),
                          std::back_inserter(d1));
      std::set_difference(r.ids.begin(), r.ids.end(), base.ids.begin(), base.ids.end(),
                          std::back_inserter(d2));
      for (auto& x : d1) std::fprintf(stderr, "missing %s\n", x.c_str());
      for (auto& x : d2) std::fprintf(stderr, "extra %s\n", x.c_str());
    }
    EXPECT_EQ(r.stats.matches(), base.stats.matches());
    EXPECT_EQ(r.stats.timeouts(), base.stats.timeouts());
  }
}

TEST(RuntimeJob, FailedCheckpointIsReportedAndTheJobContinues) {
  std::string input = Workload(60000);
  auto heap = std::make_unique<state::HeapBackend>();
  state::FaultInjectingBackend backend(std::move(heap), {.fail_commit_at = 1});
  std::vector<std::string> logs;
  JobOptions o;
  o.parallelism = 2;
  o.backend = &backend;
  o.checkpoint_interval_ms = 1;
  o.chunk_lines = 256;
  o.log = [&](std::string_view m) { logs.emplace_back(m); };
  JobRun r = RunJob(input, o);
  ASSERT_TRUE(r.status.ok()) << r.status;
  JobOptions plain;
  JobRun base = RunJob(input, plain);
  EXPECT_EQ(r.ids, base.ids);  // checkpoints never change the output
  EXPECT_GE(r.stats.checkpoint_failures, 1u);
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs[0].find("checkpoint 1 failed"), std::string::npos) << logs[0];
  if (r.stats.checkpoints == 0) GTEST_SKIP() << "operators cannot snapshot yet: " << logs.back();
  auto ids = backend.ListCheckpoints();
  ASSERT_TRUE(ids.ok());
  ASSERT_FALSE(ids->empty());
  EXPECT_GT(ids->front(), 1u);  // checkpoint 1 never completed
}

TEST(RuntimeJob, RestoreFromAMidRunCheckpointGivesTheSameOutput) {
  std::string input = Workload(60000);
  JobOptions plain;
  JobRun base = RunJob(input, plain);
  ASSERT_TRUE(base.status.ok());

  // Run with a stop requested part way: a final checkpoint, then restore at another
  // parallelism and finish. Records before + after == uninterrupted.
  state::HeapBackend backend;
  std::atomic<bool> stop{false};
  std::vector<std::string> logs;
  JobOptions o;
  o.parallelism = 2;
  o.backend = &backend;
  o.checkpoint_interval_ms = 0;
  o.chunk_lines = 1024;
  o.stop = &stop;
  o.log = [&](std::string_view m) { logs.emplace_back(m); };
  int64_t calls = 0;
  o.now_ms = [&] { return ++calls; };
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop = true;
  });
  JobRun first = RunJob(input, o);
  stopper.join();
  ASSERT_TRUE(first.status.ok()) << first.status;
  if (first.stats.checkpoints == 0) GTEST_SKIP() << "operators cannot snapshot yet";
  auto restored = backend.RestoreLatest();
  ASSERT_TRUE(restored.ok() && restored->has_value());
  auto meta = state::DecodeCheckpointMeta((*restored)->metadata);
  ASSERT_TRUE(meta.ok());
  JobOptions o2;
  o2.parallelism = 3;
  o2.backend = &backend;
  o2.checkpoint_interval_ms = 0;
  JobRun second = RunJob(input, o2, &*meta);
  ASSERT_TRUE(second.status.ok()) << second.status;
  std::vector<std::string> all = first.ids;
  all.insert(all.end(), second.ids.begin(), second.ids.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, base.ids);
}

}  // namespace
}  // namespace vigil::engine
