#include "engine/job.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

class MemorySink : public Sink {
 public:
  absl::Status Write(const Record& r) override {
    records.push_back(r);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    ++flushes;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SnapshotState(uint64_t) override { return std::string(); }
  absl::Status Restore(std::string_view) override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  SinkStats stats() const override { return {}; }
  std::vector<Record> records;
  int flushes = 0;
};

std::unique_ptr<JsonlSource> Pipe(const std::string& text) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  EXPECT_EQ(write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fds[1]);
  return std::make_unique<JsonlSource>(fds[0], "pipe", true);
}

struct Harness {
  std::shared_ptr<const cep::RuleSet> rules;
  MemorySink out;
  std::vector<std::unique_ptr<MemorySink>> sinks;
  std::string dead_text;
  DeadLetterWriter dead{&dead_text};
  std::unique_ptr<Job> job;

  absl::Status Start(const std::string& source,
                     std::vector<std::pair<std::string, std::string>> inputs,
                     JobOptions options = {}) {
    auto res = rules::CompileSources({{"t.vgl", source}});
    if (!res.ok()) return absl::InvalidArgumentError(res.diagnostics[0].message);
    rules = res.rule_set;
    std::vector<Sink*> ptrs;
    for (size_t i = 0; i < rules->sinks.size(); ++i) {
      sinks.push_back(std::make_unique<MemorySink>());
      ptrs.push_back(sinks.back().get());
    }
    std::vector<JobInput> in;
    for (auto& [stream, text] : inputs) in.push_back({rules->FindStream(stream), Pipe(text)});
    VIGIL_ASSIGN_OR_RETURN(
        job, Job::Create(rules, std::move(options), std::move(in), ptrs, &out, &dead));
    return job->Run();
  }
};

constexpr char kRules[] = R"(
stream s (name string, t timestamp) event time t out of order 10ms late to audit
sink audit stdout
rule r from s pattern a b define a as name == "a", b as name == "b"
)";

TEST(Job, ReordersCountsAndRoutesLateEvents) {
  Harness h;
  ASSERT_TRUE(h.Start(kRules, {{"s",
                                "{\"name\":\"b\",\"t\":105}\n"
                                "{\"name\":\"a\",\"t\":100}\n"
                                "not json\n"
                                "{\"name\":\"x\",\"t\":200}\n"
                                "{\"name\":\"a\",\"t\":150}\n"}})
                  .ok());
  ASSERT_EQ(h.out.records.size(), 1u);
  EXPECT_EQ(h.out.records[0].events[0].second[0]->seq, 2u);  // a (line 2) before b (line 1)
  ASSERT_EQ(h.sinks[0]->records.size(), 1u);
  const Record& late = h.sinks[0]->records[0];
  EXPECT_EQ(late.kind, RecordKind::kLate);
  EXPECT_EQ(late.stream, "s");
  EXPECT_EQ(late.time, EventTime(150));
  EXPECT_EQ(late.events[0].first, "s");
  EXPECT_EQ(late.id.size(), 16u);
  JobStats st = h.job->stats();
  EXPECT_EQ(st.events(), 4u);
  EXPECT_EQ(st.invalid(), 1u);
  EXPECT_EQ(st.late(), 1u);
  EXPECT_EQ(st.matches(), 1u);
  EXPECT_NE(h.dead_text.find("\"reason\":\"line 3: invalid JSON"), std::string::npos)
      << h.dead_text;
  EXPECT_GE(h.out.flushes, 1);
}

TEST(Job, TwoInputsOfOneStreamArePartitions) {
  Harness h;
  // The watermark is the minimum over both inputs: partition 2's old events are not late.
  ASSERT_TRUE(
      h.Start("stream s (name string, t timestamp) event time t\n"
              "rule r from s pattern a -> b define a as name == \"a\", b as name == \"b\"\n",
              {{"s", "{\"name\":\"x\",\"t\":1000}\n{\"name\":\"b\",\"t\":1001}\n"},
               {"s", "{\"name\":\"a\",\"t\":5}\n"}})
          .ok());
  EXPECT_EQ(h.job->stats().late(), 0u);
  ASSERT_EQ(h.out.records.size(), 1u);
  EXPECT_EQ(h.out.records[0].time, EventTime(1001));
}

TEST(Job, ProcessingTimeStreamsUseTheClock) {
  Harness h;
  int64_t now = 1000;
  JobOptions opts;
  opts.now_ms = [&now] { return now += 5; };
  ASSERT_TRUE(
      h.Start("stream s (name string)\n"
              "rule r from s pattern a -> b define a as name == \"a\", b as name == \"b\"\n",
              {{"s", "{\"name\":\"a\"}\n{\"name\":\"b\"}\n"}}, std::move(opts))
          .ok());
  ASSERT_EQ(h.out.records.size(), 1u);
  EXPECT_EQ(h.out.records[0].time, EventTime(1010));
}

TEST(Job, RunsMonitoringRulesThroughMakeRuleOperator) {
  Harness h;
  absl::Status st =
      h.Start("stream m (v float)\nrule hot from m when v > 1\n", {{"m", "{\"v\":2}\n"}});
  EXPECT_TRUE(st.ok()) << st;
}

}  // namespace
}  // namespace vigil::engine
