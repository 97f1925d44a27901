#include "engine/metrics/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigil::engine::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A minimal HTTP/1.0 GET over a POSIX socket (the server closes the connection after the
// response). Returns the whole response, status line included, or "" on a socket error.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = send(fd, request.data() + sent, request.size() - sent, 0);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    char buf[4096];
    for (;;) {
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      response.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return response;
}

TEST(MetricsTest, RendersEveryMetricWithHelpTypeAndLabels) {
  Metrics m(MetricsOptions{.version = "1.2.3", .now_ms = [] { return int64_t{0}; }});
  m.StreamEventsIn("txn");
  m.StreamLateEvents("txn");
  m.StreamInvalidEvents("txn");
  m.StreamWatermarkLag("txn")->Set(Watermark(0));
  m.RuleMatches("fraud");
  m.RuleTimeouts("fraud");
  m.RulePartialMatches("fraud");
  m.RuleDroppedPartialMatches("fraud");
  m.QueueDepth("worker-0");
  m.SinkRecords("pager");
  m.SinkErrors("pager");
  const std::string text = m.RenderText();

  struct Expected {
    const char* name;
    const char* type;
    const char* sample;  // a series line, without its value
  };
  const Expected expected[] = {
      {"vigil_stream_events_total", "counter", "vigil_stream_events_total{stream=\"txn\"}"},
      {"vigil_stream_late_events_total", "counter",
       "vigil_stream_late_events_total{stream=\"txn\"}"},
      {"vigil_stream_invalid_events_total", "counter",
       "vigil_stream_invalid_events_total{stream=\"txn\"}"},
      {"vigil_rule_matches_total", "counter", "vigil_rule_matches_total{rule=\"fraud\"}"},
      {"vigil_rule_timeouts_total", "counter", "vigil_rule_timeouts_total{rule=\"fraud\"}"},
      {"vigil_rule_partial_matches", "gauge", "vigil_rule_partial_matches{rule=\"fraud\"}"},
      {"vigil_rule_dropped_partial_matches_total", "counter",
       "vigil_rule_dropped_partial_matches_total{rule=\"fraud\"}"},
      {"vigil_state_size_bytes", "gauge", "vigil_state_size_bytes"},
      {"vigil_watermark_lag_seconds", "gauge", "vigil_watermark_lag_seconds{stream=\"txn\"}"},
      {"vigil_queue_depth", "gauge", "vigil_queue_depth{queue=\"worker-0\"}"},
      {"vigil_checkpoint_duration_seconds", "histogram",
       "vigil_checkpoint_duration_seconds_bucket{le=\"+Inf\"}"},
      {"vigil_checkpoint_size_bytes", "gauge", "vigil_checkpoint_size_bytes"},
      {"vigil_checkpoint_failures_total", "counter", "vigil_checkpoint_failures_total"},
      {"vigil_checkpoints_total", "counter", "vigil_checkpoints_total"},
      {"vigil_sink_records_total", "counter", "vigil_sink_records_total{sink=\"pager\"}"},
      {"vigil_sink_errors_total", "counter", "vigil_sink_errors_total{sink=\"pager\"}"},
      {"vigil_build_info", "gauge", "vigil_build_info{version=\"1.2.3\"}"},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.name);
    EXPECT_THAT(text, HasSubstr(std::string("# HELP ") + e.name + " "));
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE ") + e.name + " " + e.type + "\n"));
    EXPECT_THAT(text, HasSubstr(std::string("\n") + e.sample + " "));
  }
  EXPECT_THAT(text, HasSubstr("\nvigil_build_info{version=\"1.2.3\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_stream_events_total{stream=\"txn\"} 0\n"));
}

TEST(MetricsTest, CountersIncrementAndHandlesAreStable) {
  Metrics m;
  Counter* c = m.StreamEventsIn("txn");
  c->Inc();
  c->Inc(5);
  EXPECT_EQ(c->Value(), 6u);
  EXPECT_EQ(m.StreamEventsIn("txn"), c);     // same series, same handle
  EXPECT_NE(m.StreamLateEvents("txn"), c);   // same label, other metric
  EXPECT_NE(m.StreamEventsIn("clicks"), c);  // other label
  EXPECT_EQ(m.StreamEventsIn("clicks")->Value(), 0u);
  m.SinkRecords("file")->Inc(3);
  m.Checkpoints()->Inc();
  m.CheckpointFailures()->Inc(2);

  const std::string text = m.RenderText();
  EXPECT_THAT(text, HasSubstr("\nvigil_stream_events_total{stream=\"txn\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_stream_events_total{stream=\"clicks\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_sink_records_total{sink=\"file\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoints_total 1\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoint_failures_total 2\n"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m;
  m.RuleMatches("a\"b\\c")->Inc();
  EXPECT_THAT(m.RenderText(), HasSubstr("vigil_rule_matches_total{rule=\"a\\\"b\\\\c\"} 1\n"));
}

TEST(MetricsTest, GaugesAndHistogram) {
  Metrics m;
  Gauge* g = m.RulePartialMatches("fraud");
  g->Inc(10);
  g->Dec(3);
  g->Dec();
  EXPECT_EQ(g->Value(), 6);
  m.StateSizeBytes()->Set(4096);
  m.CheckpointSizeBytes()->Set(1'000'000);
  m.QueueDepth("in")->Set(7);
  m.CheckpointDuration()->Observe(0.02);
  m.CheckpointDuration()->Observe(3);

  const std::string text = m.RenderText();
  EXPECT_THAT(text, HasSubstr("\nvigil_rule_partial_matches{rule=\"fraud\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_state_size_bytes 4096\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoint_size_bytes 1000000\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_queue_depth{queue=\"in\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoint_duration_seconds_count 2\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoint_duration_seconds_sum 3.02"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoint_duration_seconds_bucket{le=\"0.01\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoint_duration_seconds_bucket{le=\"0.025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nvigil_checkpoint_duration_seconds_bucket{le=\"5\"} 2\n"));
}

TEST(MetricsTest, WatermarkLagIsComputedWhenScraped) {
  std::atomic<int64_t> now{1'000'000};
  Metrics m(MetricsOptions{.now_ms = [&] { return now.load(); }});
  WatermarkLag* lag = m.StreamWatermarkLag("txn");
  EXPECT_EQ(m.StreamWatermarkLag("txn"), lag);
  // No watermark yet: no series (the family is still described).
  EXPECT_THAT(m.RenderText(), Not(HasSubstr("vigil_watermark_lag_seconds{")));
  EXPECT_THAT(m.RenderText(), HasSubstr("# TYPE vigil_watermark_lag_seconds gauge\n"));

  lag->Set(Watermark(995'000));
  EXPECT_THAT(m.RenderText(), HasSubstr("\nvigil_watermark_lag_seconds{stream=\"txn\"} 5\n"));
  now = 1'002'500;  // the stream stalls: its lag grows without any update
  EXPECT_THAT(m.RenderText(), HasSubstr("\nvigil_watermark_lag_seconds{stream=\"txn\"} 7.5\n"));
  lag->Set(Watermark::Max());  // all inputs ended
  EXPECT_THAT(m.RenderText(), HasSubstr("\nvigil_watermark_lag_seconds{stream=\"txn\"} 0\n"));
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Metrics m;
  Counter* c = m.RuleMatches("r");
  Gauge* g = m.QueueDepth("q");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Handles obtained concurrently with updates and scrapes are fine too.
      Counter* mine = m.SinkRecords("sink-" + std::to_string(t));
      for (int i = 0; i < kPerThread; ++i) {
        c->Inc();
        g->Inc();
        g->Dec();
        mine->Inc();
        if (i % 10'000 == 0) (void)m.RenderText();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c->Value(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(g->Value(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(m.SinkRecords("sink-" + std::to_string(t))->Value(), uint64_t{kPerThread});
  }
}

// Each served Metrics takes ~2 s to shut down (civetweb), so the serving tests share servers.
TEST(MetricsTest, ServesMetricsOverHttpOnAnEphemeralPort) {
  Metrics m;
  EXPECT_EQ(m.BoundPort(), 0);
  m.StreamEventsIn("txn")->Inc(42);
  ASSERT_TRUE(m.Serve("127.0.0.1:0").ok());
  const int port = m.BoundPort();
  ASSERT_GT(port, 0);

  std::string response = HttpGet(port, "/metrics");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("\r\n\r\n# HELP "));
  EXPECT_THAT(response, HasSubstr("\nvigil_stream_events_total{stream=\"txn\"} 42\n"));

  // Live: a later update shows in the next scrape, the watermark lag too.
  m.StreamEventsIn("txn")->Inc();
  m.StreamWatermarkLag("txn")->Set(Watermark::Max());
  response = HttpGet(port, "/metrics");
  EXPECT_THAT(response, HasSubstr("\nvigil_stream_events_total{stream=\"txn\"} 43\n"));
  EXPECT_THAT(response, HasSubstr("\nvigil_watermark_lag_seconds{stream=\"txn\"} 0\n"));

  EXPECT_EQ(m.Serve("127.0.0.1:0").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.BoundPort(), port);

  // Port in use: an error with the reason, and nothing served.
  Metrics other;
  const absl::Status st = other.Serve("127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(st.message(), HasSubstr("in use"));
  EXPECT_EQ(other.BoundPort(), 0);
}

// civetweb's accept loop waits up to 2 s between looks at its stop flag; a job must not hang
// that long at exit. Stopping wakes it: well under a second (typically ~5 ms), and the port
// is free again afterwards.
TEST(MetricsTest, StoppingTheServerDoesNotWaitForTheAcceptLoopTimeout) {
  int port = 0;
  const auto start = std::chrono::steady_clock::now();
  {
    Metrics m;
    ASSERT_TRUE(m.Serve("127.0.0.1:0").ok());
    port = m.BoundPort();
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));
  Metrics again;
  EXPECT_TRUE(again.Serve("127.0.0.1:" + std::to_string(port)).ok());
}

TEST(MetricsTest, MalformedAddressesAreRejected) {
  for (const char* addr : {"", "9090", ":9090", "0", ":0", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
                           "127.0.0.1:-1", "127.0.0.1:65536", "127.0.0.1:123456", "127.0.0.1:9090s",
                           "127.0.0.1:9090r", "127.0.0.1:0,0.0.0.0:0", "127.0.0.1 :0", "::1:9090",
                           "[::1:9090", "[]:9090", "[[::1]]:9090"}) {
    Metrics m;
    const absl::Status st = m.Serve(addr);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << "'" << addr << "': " << st;
    EXPECT_EQ(m.BoundPort(), 0);
  }
}

TEST(MetricsTest, MissingHostNeverMeansEveryInterface) {
  Metrics m;
  const absl::Status st = m.Serve(":9464");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("missing host"));
}

TEST(MetricsTest, ExplicitWildcardIsHonoured) {
  Metrics m;
  ASSERT_TRUE(m.Serve("0.0.0.0:0").ok());
  ASSERT_GT(m.BoundPort(), 0);
  EXPECT_THAT(HttpGet(m.BoundPort(), "/metrics"), HasSubstr("vigil_build_info"));
}

TEST(MetricsTest, UnbindableAddressIsAnError) {
  struct Case {
    const char* addr;
    const char* why;
  };
  // 203.0.113.1 is TEST-NET-3 (RFC 5737): never an address of this machine.
  for (const Case& c :
       {Case{"203.0.113.1:0", "assign requested address"}, Case{"256.1.1.1:0", "cannot resolve"},
        Case{"no-such-host.invalid:0", "cannot resolve"}}) {
    Metrics m;
    const absl::Status st = m.Serve(c.addr);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << c.addr << ": " << st;
    EXPECT_THAT(st.message(), HasSubstr(c.why)) << c.addr;
    EXPECT_EQ(m.BoundPort(), 0);
  }
}

TEST(MetricsTest, HostNamesAndIpv6) {
  {
    Metrics m;
    const absl::Status st = m.Serve("localhost:0");
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_GT(m.BoundPort(), 0);
    EXPECT_THAT(HttpGet(m.BoundPort(), "/metrics"), HasSubstr("vigil_build_info"));
  }
  // Bracketed IPv6 passes the syntax check; whether it can be served depends on the HTTP
  // server's build, and when it cannot the error says so.
  Metrics m;
  const absl::Status st = m.Serve("[::1]:0");
  if (st.ok()) {
    EXPECT_GT(m.BoundPort(), 0);
  } else {
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(st.message(), HasSubstr("IPv6")) << st;
  }
}

}  // namespace
}  // namespace vigil::engine::metrics
