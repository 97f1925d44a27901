// Unit tests of the HTTP delivery machinery through the webhook sink, against an in-process
// fake endpoint (delivery_test_util.h): retry schedule, what is retried, the dead-letter
// output, queue overflow both ways, batches, snapshot/restore of queued records, headers and
// secret redaction, options, per-sink metrics.
#include "alerting/webhook_sink.h"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alerting/http_options.h"
#include "alerting/retry_policy.h"
#include "delivery_test_util.h"
#include "engine/metrics/metrics.h"
#include "gtest/gtest.h"

namespace vigil::alerting {
namespace {

using engine::Record;
using engine::RecordKind;
using testing::DeadLetters;
using testing::Logs;
using testing::MakeRecord;
using testing::TestEnv;
using testing::WaitFor;

HttpSinkOptions Options(int retries = 3, int64_t backoff = 100, int64_t max_backoff = 250) {
  HttpSinkOptions o;
  o.urls = {"http://receiver.test/hook"};
  o.timeout_ms = 100;
  o.retry.retries = retries;
  o.retry.backoff_ms = backoff;
  o.retry.max_backoff_ms = max_backoff;
  return o;
}

struct Harness {
  TestEnv t;
  DeadLetters dead;
  Logs logs;
  engine::metrics::Metrics metrics;
  std::unique_ptr<WebhookSink> sink;

  void Create(HttpSinkOptions o) {
    engine::SinkContext ctx;
    ctx.name = "hook";
    ctx.dead_letter = dead.Fn();
    ctx.log = logs.Fn();
    ctx.metrics = &metrics;
    auto s = WebhookSink::Create(std::move(o), ctx, t.Env());
    ASSERT_TRUE(s.ok()) << s.status();
    sink = std::move(s).value();
  }
};

// ---- retry policy ----------------------------------------------------------------------------

TEST(RetryPolicy, CapsDoubleUpToMaxBackoff) {
  RetryPolicy p{5, 500, 3000};
  EXPECT_EQ(p.CapMs(1), 500);
  EXPECT_EQ(p.CapMs(2), 1000);
  EXPECT_EQ(p.CapMs(3), 2000);
  EXPECT_EQ(p.CapMs(4), 3000);
  EXPECT_EQ(p.CapMs(60), 3000);  // no overflow for large n
  EXPECT_EQ(p.DelayMs(3, 1.0), 2000);
  EXPECT_EQ(p.DelayMs(3, 0.25), 500);
  EXPECT_EQ(p.DelayMs(3, 0.0), 0);
}

TEST(RetryPolicy, FullJitterStaysWithinTheCapAndSpreads) {
  RetryPolicy p{5, 100, 10000};
  DeliveryEnv env = DeliveryEnv::Real();
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const int64_t d = p.DelayMs(4, env.jitter());
    ASSERT_GE(d, 0);
    ASSERT_LE(d, 800);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 300u);  // spread over the range, not a constant
}

TEST(RetryPolicy, WhatIsRetried) {
  EXPECT_TRUE(IsRetryable(testing::Status(500)));
  EXPECT_TRUE(IsRetryable(testing::Status(503)));
  EXPECT_TRUE(IsRetryable(testing::Status(429)));
  EXPECT_TRUE(IsRetryable(testing::Status(408)));
  EXPECT_TRUE(IsRetryable(testing::Refused()));
  EXPECT_TRUE(IsRetryable(testing::TimedOut()));
  EXPECT_FALSE(IsRetryable(testing::Status(400)));
  EXPECT_FALSE(IsRetryable(testing::Status(401)));
  EXPECT_FALSE(IsRetryable(testing::Status(404)));
  EXPECT_EQ(DescribeFailure(testing::Status(500, "ignored for 5xx")), "HTTP 500");
  EXPECT_EQ(DescribeFailure(testing::Status(400, "bad\nfield")), "HTTP 400: bad field");
  EXPECT_EQ(DescribeFailure(testing::TimedOut()), "timed out after 100 ms");
}

// ---- delivery --------------------------------------------------------------------------------

TEST(WebhookSink, PostsOneRecordPerRequestWithItsId) {
  Harness h;
  h.Create(Options());
  const Record r = MakeRecord("00000000000000a1");
  ASSERT_TRUE(h.sink->Write(r).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  auto reqs = h.t.server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, "http://receiver.test/hook");
  EXPECT_EQ(reqs[0].body, engine::RecordToJson(r));
  EXPECT_NE(std::find(reqs[0].headers.begin(), reqs[0].headers.end(),
                      "X-Vigil-Record-Id: 00000000000000a1"),
            reqs[0].headers.end());
  const engine::SinkStats s = h.sink->stats();
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.queue_depth, 0u);
  EXPECT_TRUE(h.dead.Get().empty());
  EXPECT_FALSE(h.sink->Write(r).ok());  // closed
}

TEST(WebhookSink, RetriesWithExponentialBackoffThenDelivers) {
  Harness h;
  h.t.server.respond = [](const testing::SeenRequest&, int n) {
    if (n == 1) return testing::Status(500);
    if (n == 2) return testing::Refused();
    if (n == 3) return testing::TimedOut();
    return testing::Status(204);
  };
  h.Create(Options(/*retries=*/5, /*backoff=*/100, /*max_backoff=*/250));
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000a1")).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  // jitter 1.0: each delay is its cap: 100, 200, then capped at 250.
  EXPECT_EQ(h.t.Sleeps(), (std::vector<int64_t>{100, 200, 250}));
  const auto reqs = h.t.server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (const auto& r : reqs) EXPECT_EQ(r.body, reqs[0].body);  // the same record each time
  const engine::SinkStats s = h.sink->stats();
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.failed, 3u);
  EXPECT_EQ(s.retried, 3u);
  EXPECT_EQ(s.dead_lettered, 0u);
  EXPECT_TRUE(h.dead.Get().empty());
  const std::string logs = h.logs.All();
  EXPECT_NE(logs.find("sink 'hook': webhook http://receiver.test/hook: failing: HTTP 500"),
            std::string::npos)
      << logs;
  EXPECT_NE(logs.find("delivering again after 3 failed attempts"), std::string::npos) << logs;
}

TEST(WebhookSink, JitterScalesTheDelays) {
  Harness h;
  h.t.jitter = 0.5;
  h.t.server.respond = [](const testing::SeenRequest&, int n) {
    return n <= 3 ? testing::Status(503) : testing::Status(200);
  };
  h.Create(Options(5, 100, 250));
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000a1")).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  EXPECT_EQ(h.t.Sleeps(), (std::vector<int64_t>{50, 100, 125}));
}

TEST(WebhookSink, GivesUpAfterTheLastRetryToTheDeadLetterOutput) {
  Harness h;
  h.t.server.respond = [](const testing::SeenRequest&, int) { return testing::Status(502); };
  h.Create(Options(/*retries=*/2));
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000a1")).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  EXPECT_EQ(h.t.server.requests().size(), 3u);
  const auto dead = h.dead.Get();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].first, "00000000000000a1");
  EXPECT_EQ(dead[0].second, "webhook http://receiver.test/hook: HTTP 502 after 3 attempts");
  const engine::SinkStats s = h.sink->stats();
  EXPECT_EQ(s.sent, 0u);
  EXPECT_EQ(s.failed, 3u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.dead_lettered, 1u);
}

TEST(WebhookSink, ClientErrorsAreNotRetried) {
  Harness h;
  h.t.server.respond = [](const testing::SeenRequest&, int n) {
    return n == 1 ? testing::Status(422, "{\"error\":\"no such field\"}") : testing::Status(200);
  };
  h.Create(Options());
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000a1")).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000a2")).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  EXPECT_TRUE(h.t.Sleeps().empty());
  const auto dead = h.dead.Get();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].first, "00000000000000a1");
  EXPECT_EQ(dead[0].second,
            "webhook http://receiver.test/hook: HTTP 422: {\"error\":\"no such field\"} (not "
            "retried)");
  EXPECT_EQ(h.sink->stats().sent, 1u);  // the next record goes on normally
}

TEST(WebhookSink, ClosingWithAFailingEndpointTriesOneBatchAndDeadLettersTheRest) {
  Harness h;
  h.t.server.respond = [](const testing::SeenRequest&, int) { return testing::Refused(); };
  h.t.server.Hold();
  h.Create(Options(/*retries=*/2));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000b" + std::to_string(i))).ok());
  }
  ASSERT_EQ(h.t.server.WaitForRequests(1), 1u);
  // Close while the first attempt is still out; the endpoint answers after that.
  std::thread closer([&] { EXPECT_TRUE(h.sink->Close().ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  h.t.server.Release();
  closer.join();
  EXPECT_EQ(h.t.server.requests().size(), 3u);  // one record, three attempts
  const auto dead = h.dead.Get();
  ASSERT_EQ(dead.size(), 5u);
  EXPECT_EQ(dead[0].second,
            "webhook http://receiver.test/hook: Failed to connect to 127.0.0.1 port 9: "
            "Connection refused after 3 attempts");
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(dead[i].first, "00000000000000b" + std::to_string(i));
    EXPECT_EQ(dead[i].second,
              "webhook http://receiver.test/hook: not attempted at shutdown (the endpoint was "
              "failing)");
  }
  EXPECT_EQ(h.sink->stats().dead_lettered, 5u);
  EXPECT_EQ(h.sink->stats().queue_depth, 0u);
}

TEST(WebhookSink, BatchesAreJsonArraysOfWhatIsQueued) {
  Harness h;
  h.t.server.Hold();  // the first request waits while the next records queue up
  HttpSinkOptions o = Options();
  o.batch = 3;
  h.Create(o);
  std::vector<Record> records;
  for (int i = 0; i < 7; ++i) records.push_back(MakeRecord("00000000000000c" + std::to_string(i)));
  ASSERT_TRUE(h.sink->Write(records[0]).ok());
  ASSERT_EQ(h.t.server.WaitForRequests(1), 1u);
  for (int i = 1; i < 7; ++i) ASSERT_TRUE(h.sink->Write(records[i]).ok());
  h.t.server.Release();
  ASSERT_TRUE(h.sink->Close().ok());
  const auto reqs = h.t.server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  auto array = [&](int from, int to) {
    std::string s = "[";
    for (int i = from; i < to; ++i) s += (i > from ? "," : "") + engine::RecordToJson(records[i]);
    return s + "]";
  };
  EXPECT_EQ(reqs[0].body, array(0, 1));
  EXPECT_EQ(reqs[1].body, array(1, 4));
  EXPECT_EQ(reqs[2].body, array(4, 7));
  for (const auto& r : reqs) {
    for (const auto& hdr : r.headers) EXPECT_EQ(hdr.rfind("X-Vigil-Record-Id", 0), std::string::npos);
  }
  EXPECT_EQ(h.sink->stats().sent, 7u);
}

// ---- queue overflow --------------------------------------------------------------------------

TEST(WebhookSink, OverflowDeadLetterSpillsAndNeverBlocks) {
  Harness h;
  h.t.server.Hold();
  HttpSinkOptions o = Options();
  o.queue = 2;
  o.overflow = Overflow::kDeadLetter;
  h.Create(o);
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000d0")).ok());
  ASSERT_EQ(h.t.server.WaitForRequests(1), 1u);  // d0 is in flight, the queue is empty
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000d" + std::to_string(i))).ok());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  const auto dead = h.dead.Get();
  ASSERT_EQ(dead.size(), 3u);  // d1, d2 queued; d3..d5 spilled
  EXPECT_EQ(dead[0].first, "00000000000000d3");
  EXPECT_EQ(dead[0].second, "webhook http://receiver.test/hook: queue full (2 records)");
  engine::SinkStats s = h.sink->stats();
  EXPECT_EQ(s.overflowed, 3u);
  EXPECT_EQ(s.dead_lettered, 3u);
  EXPECT_EQ(s.queue_depth, 3u);  // d0 in flight, d1 and d2 queued
  h.t.server.Release();
  ASSERT_TRUE(h.sink->Close().ok());
  EXPECT_EQ(h.sink->stats().sent, 3u);
  EXPECT_NE(h.logs.All().find("queue full (2 records): records go to the dead-letter output"),
            std::string::npos);
}

TEST(WebhookSink, OverflowBlockWaitsForRoom) {
  Harness h;
  h.t.server.Hold();
  HttpSinkOptions o = Options();
  o.queue = 1;
  o.overflow = Overflow::kBlock;
  h.Create(o);
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000e0")).ok());
  ASSERT_EQ(h.t.server.WaitForRequests(1), 1u);
  ASSERT_TRUE(h.sink->Write(MakeRecord("00000000000000e1")).ok());  // fills the queue
  std::atomic<bool> returned{false};
  std::thread writer([&] {
    EXPECT_TRUE(h.sink->Write(MakeRecord("00000000000000e2")).ok());
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(returned.load());  // backpressure: the writer waits
  EXPECT_EQ(h.sink->stats().overflowed, 1u);
  h.t.server.Release();
  writer.join();
  EXPECT_TRUE(returned.load());
  ASSERT_TRUE(h.sink->Close().ok());
  EXPECT_EQ(h.sink->stats().sent, 3u);
  EXPECT_TRUE(h.dead.Get().empty());
}

// ---- checkpoints -----------------------------------------------------------------------------

TEST(WebhookSink, SnapshotHoldsQueuedAndInFlightRecordsAndRestoreRequeuesThem) {
  std::string state;
  std::vector<Record> records;
  for (int i = 0; i < 4; ++i) records.push_back(MakeRecord("00000000000000f" + std::to_string(i)));
  records[2].kind = RecordKind::kTimeout;
  records[3].events.clear();
  {
    Harness h;
    h.t.server.Hold();  // the endpoint never answers before the snapshot
    h.Create(Options());
    for (const Record& r : records) ASSERT_TRUE(h.sink->Write(r).ok());
    ASSERT_EQ(h.t.server.WaitForRequests(1), 1u);
    auto snap = h.sink->SnapshotState(7);  // must not wait for the endpoint
    ASSERT_TRUE(snap.ok()) << snap.status();
    state = *snap;
    h.t.server.Release();
  }
  Harness h2;
  h2.t.server.Hold();
  h2.Create(Options());
  ASSERT_TRUE(h2.sink->Restore(state).ok());
  EXPECT_EQ(h2.sink->stats().queue_depth, 4u);
  h2.t.server.Release();
  ASSERT_TRUE(h2.sink->Close().ok());
  const auto reqs = h2.t.server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(reqs[i].body, engine::RecordToJson(records[i]));

  Harness h3;
  h3.Create(Options());
  EXPECT_TRUE(h3.sink->Restore("").ok());
  EXPECT_EQ(h3.sink->Restore(state.substr(0, state.size() - 3)).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(h3.sink->Restore("\x09garbage").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(h3.sink->stats().queue_depth, 0u);  // nothing queued from a corrupt blob
}

// ---- headers and secrets ---------------------------------------------------------------------

std::optional<std::string> FakeEnv(const std::string& name) {
  static const std::map<std::string, std::string> kEnv = {
      {"HOOK_TOKEN", "s3cr3t-t0ken-value"}, {"TEAM", "fraud"}, {"EVIL", "a\r\nX-Injected: 1"}};
  auto it = kEnv.find(name);
  if (it == kEnv.end()) return std::nullopt;
  return it->second;
}

TEST(HttpHeaders, SubstitutesEnvironmentVariables) {
  auto h = ParseHeaders("X-Team: ${TEAM}-oncall\n\nX-Literal: $HOME {x}\n  X-Two: a ${TEAM} b  ",
                        "HOOK_TOKEN", FakeEnv);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->lines, (std::vector<std::string>{"X-Team: fraud-oncall", "X-Literal: $HOME {x}",
                                                "X-Two: a fraud b",
                                                "Authorization: Bearer s3cr3t-t0ken-value"}));
  EXPECT_EQ(h->Describe(), "X-Team, X-Literal, X-Two, Authorization");
  EXPECT_EQ(h->Redact("echo: Bearer s3cr3t-t0ken-value for fraud-oncall"),
            "echo: Bearer *** for ***");
}

TEST(HttpHeaders, ErrorsNameTheVariableNeverAValue) {
  auto unset = ParseHeaders("Authorization: Bearer ${NOPE}", "", FakeEnv);
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.status().message(),
            "option 'headers': environment variable 'NOPE' (header 'Authorization') is not set");
  auto bearer = ParseHeaders("", "NOPE", FakeEnv);
  EXPECT_EQ(bearer.status().message(),
            "option 'bearer_token_env': environment variable 'NOPE' is not set or empty");
  auto injected = ParseHeaders("X-A: ${EVIL}", "", FakeEnv);
  ASSERT_FALSE(injected.ok());
  EXPECT_EQ(injected.status().message().find("X-Injected"), std::string::npos);
  EXPECT_FALSE(ParseHeaders("no colon here", "", FakeEnv).ok());
  EXPECT_FALSE(ParseHeaders("Bad Name: x", "", FakeEnv).ok());
  EXPECT_FALSE(ParseHeaders("X-A: ${TEAM", "", FakeEnv).ok());
  auto none = ParseHeaders("", "", FakeEnv);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->lines.empty());
  EXPECT_EQ(none->Describe(), "none");
}

TEST(WebhookSink, SendsHeadersButNeverLogsOrDeadLettersTheirValues) {
  Harness h;
  // The endpoint rejects the request and echoes the token back in its error body.
  h.t.server.respond = [](const testing::SeenRequest&, int) {
    return testing::Status(401, "bad token s3cr3t-t0ken-value");
  };
  cep::SinkDef def{"hook", "webhook",
                   {{"url", Value::String("http://user:pw@receiver.test/hook?key=abc&x=1")},
                    {"headers", Value::String("X-Team: ${TEAM}")},
                    {"bearer_token_env", Value::String("HOOK_TOKEN")}}};
  auto o = ReadHttpSinkOptions(def, FakeEnv);
  ASSERT_TRUE(o.ok()) << o.status();
  h.Create(*o);
  ASSERT_TRUE(h.sink->Write(MakeRecord("0000000000000101")).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  const auto reqs = h.t.server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, "http://user:pw@receiver.test/hook?key=abc&x=1");
  EXPECT_NE(std::find(reqs[0].headers.begin(), reqs[0].headers.end(),
                      "Authorization: Bearer s3cr3t-t0ken-value"),
            reqs[0].headers.end());
  EXPECT_NE(std::find(reqs[0].headers.begin(), reqs[0].headers.end(), "X-Team: fraud"),
            reqs[0].headers.end());
  const auto dead = h.dead.Get();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].second,
            "webhook http://***@receiver.test/hook?key=***&x=***: HTTP 401: bad token *** (not "
            "retried)");
  std::string everything = h.logs.All() + dead[0].second;
  for (const char* secret : {"s3cr3t-t0ken-value", "fraud", "pw@", "abc"}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret << " in:\n" << everything;
  }
  EXPECT_NE(h.logs.All().find("headers: X-Team, Authorization"), std::string::npos)
      << h.logs.All();
}

// ---- options ---------------------------------------------------------------------------------

TEST(HttpSinkOptions, DefaultsAndValues) {
  auto d = ReadHttpSinkOptions({"hook", "webhook", {{"url", Value::String("https://x/y")}}},
                               FakeEnv);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->urls, std::vector<std::string>{"https://x/y"});
  EXPECT_EQ(d->timeout_ms, 5000);
  EXPECT_EQ(d->retry.retries, 5);
  EXPECT_EQ(d->retry.backoff_ms, 500);
  EXPECT_EQ(d->retry.max_backoff_ms, 30000);
  EXPECT_EQ(d->queue, 10000u);
  EXPECT_EQ(d->overflow, Overflow::kBlock);
  EXPECT_EQ(d->batch, 1u);

  auto v = ReadHttpSinkOptions(
      {"hook",
       "webhook",
       {{"url", Value::String(" http://x:8080/a ")},
        {"timeout", Value::Int(2000)},
        {"retries", Value::Int(0)},
        {"backoff", Value::Int(50)},
        {"queue", Value::Int(3)},
        {"overflow", Value::String("dead_letter")},
        {"batch", Value::Int(20)}}},
      FakeEnv);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->urls, std::vector<std::string>{"http://x:8080/a"});
  EXPECT_EQ(v->timeout_ms, 2000);
  EXPECT_EQ(v->retry.retries, 0);
  EXPECT_EQ(v->retry.backoff_ms, 50);
  EXPECT_EQ(v->queue, 3u);
  EXPECT_EQ(v->overflow, Overflow::kDeadLetter);
  EXPECT_EQ(v->batch, 20u);

  auto am = ReadHttpSinkOptions(
      {"pager",
       "alertmanager",
       {{"url", Value::String("http://a:9093, http://b:9093/prefix/")},
        {"resend", Value::Int(30000)},
        {"external_url", Value::String("https://vigil.example/")}}},
      FakeEnv);
  ASSERT_TRUE(am.ok()) << am.status();
  EXPECT_EQ(am->urls, (std::vector<std::string>{"http://a:9093/api/v2/alerts",
                                                "http://b:9093/prefix/api/v2/alerts"}));
  EXPECT_EQ(am->resend_ms, 30000);
  EXPECT_EQ(am->resolve_after_ms, 300000);
  EXPECT_EQ(am->external_url, "https://vigil.example");
}

TEST(HttpSinkOptions, Errors) {
  auto err = [](cep::Options opts, const char* kind = "webhook") {
    auto o = ReadHttpSinkOptions({"s", kind, std::move(opts)}, FakeEnv);
    return o.ok() ? std::string("ok") : std::string(o.status().message());
  };
  EXPECT_EQ(err({{"url", Value::String("ftp://x/y")}}),
            "option 'url': 'ftp://x/y' is not an http:// or https:// URL");
  EXPECT_EQ(err({{"url", Value::String("http:///y")}}), "option 'url': 'http:///y' has no host");
  EXPECT_EQ(err({{"url", Value::String("http://a b/")}}),
            "option 'url': 'http://a b/' holds a space or control character");
  EXPECT_EQ(err({{"url", Value::String("http://a,,http://b")}}, "alertmanager"),
            "option 'url': an empty URL in the list");
  EXPECT_EQ(err({{"url", Value::String("http://x")}, {"queue", Value::Int(0)}}),
            "option 'queue': must be from 1 to 10000000");
  EXPECT_EQ(err({{"url", Value::String("http://x")}, {"batch", Value::Int(0)}}),
            "option 'batch': must be from 1 to 10000");
  EXPECT_EQ(err({{"url", Value::String("http://x")}, {"retries", Value::Int(101)}}),
            "option 'retries': must be from 0 to 100");
  EXPECT_EQ(err({{"url", Value::String("http://x")},
                 {"backoff", Value::Int(5000)},
                 {"max_backoff", Value::Int(1000)}}),
            "option 'max_backoff': must not be below 'backoff'");
  EXPECT_EQ(err({{"url", Value::String("http://x")}, {"bearer_token_env", Value::String("NOPE")}}),
            "option 'bearer_token_env': environment variable 'NOPE' is not set or empty");
}

TEST(RedactUrl, MasksUserInformationAndQueryValues) {
  EXPECT_EQ(RedactUrl("http://host:8080/a/b"), "http://host:8080/a/b");
  EXPECT_EQ(RedactUrl("https://u:p@host/x"), "https://***@host/x");
  EXPECT_EQ(RedactUrl("http://host/x?token=abc&flag&k=v#frag"),
            "http://host/x?token=***&flag&k=***#frag");
  EXPECT_EQ(RedactUrl("http://host/a@b"), "http://host/a@b");  // '@' in the path is not userinfo
}

// ---- metrics ---------------------------------------------------------------------------------

TEST(WebhookSink, ExportsPerSinkDeliveryMetrics) {
  Harness h;
  h.t.server.respond = [](const testing::SeenRequest&, int n) {
    return n == 1 ? testing::Status(500) : testing::Status(200);
  };
  h.Create(Options());
  ASSERT_TRUE(h.sink->Write(MakeRecord("0000000000000201")).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("0000000000000202")).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  const std::string text = h.metrics.RenderText();
  for (const char* line : {"vigil_sink_sent_total{sink=\"hook\"} 2",
                           "vigil_sink_send_failures_total{sink=\"hook\"} 1",
                           "vigil_sink_retries_total{sink=\"hook\"} 1",
                           "vigil_sink_dead_lettered_total{sink=\"hook\"} 0",
                           "vigil_sink_overflows_total{sink=\"hook\"} 0",
                           "vigil_sink_queue_depth{sink=\"hook\"} 0",
                           "vigil_sink_delivery_latency_seconds_count{sink=\"hook\"} 2",
                           "vigil_sink_delivery_latency_seconds_bucket{sink=\"hook\",le=\"+Inf\"} 2"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

}  // namespace
}  // namespace vigil::alerting
