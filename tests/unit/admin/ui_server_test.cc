#include "admin/ui_server.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "admin/static_assets.h"
#include "httplib.h"
#include "rules/compiler.h"
#include "tests/unit/admin/fake_job_view.h"

namespace vigil::admin {
namespace {

using testing::FakeJobView;

constexpr const char* kRules = R"(
stream txn (card string, amount float, merchant string, at timestamp)
  event time at
rule card_testing
  from txn
  partition by card
  pattern small -> large
  define small as amount < 1.00, large as amount >= 500
  within 10m
  labels { severity: "critical" }
)";

std::shared_ptr<const cep::RuleSet> Compile() {
  rules::CompileResult r = rules::CompileSources({{"test.vgl", kRules}});
  EXPECT_TRUE(r.ok());
  return r.rule_set;
}

class UiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    view_ = std::make_unique<FakeJobView>(Compile());
    view_->SetStatus(testing::StatusFor(*view_->Rules(), 1000, 2));
    FiringAlert a;
    a.rule = "card_testing";
    a.key = {{"card", Value::String("4111")}};
    a.labels = {{"alertname", "card_testing"}, {"severity", "critical"}};
    a.annotations = {{"summary", "card 4111 \"tested\""}};
    a.since = EventTime(1714557600000);
    view_->SetAlerts({a});
    for (int i = 0; i < 5; ++i) {
      view_->tap().Offer("{\"rule\": \"card_testing\", \"n\": " + std::to_string(i) + "}");
    }
    auto server = UiServer::Start("127.0.0.1:0", view_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(2, 0);
    client_->set_read_timeout(5, 0);
  }

  // GET path; asserts a response and parses it as JSON when it says so.
  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str()); }

  simdjson::dom::element Json(const httplib::Result& res) {
    EXPECT_TRUE(res);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
    simdjson::dom::element doc;
    EXPECT_EQ(parser_.parse(res->body).get(doc), simdjson::SUCCESS) << res->body;
    return doc;
  }

  std::unique_ptr<FakeJobView> view_;
  std::unique_ptr<UiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  simdjson::dom::parser parser_;
};

TEST_F(UiServerTest, StatusHasTheRulesStreamsSinksAndCheckpoint) {
  auto res = Get("/api/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  simdjson::dom::element doc = Json(res);
  EXPECT_EQ(int64_t(doc["uptime_ms"]), 754000);
  EXPECT_EQ(int64_t(doc["parallelism"]), 2);
  EXPECT_EQ(uint64_t(doc["checkpoint"]["last_id"]), 12u);
  EXPECT_EQ(int64_t(doc["checkpoint"]["last_time_ms"]), 1714557600000);
  EXPECT_EQ(int64_t(doc["checkpoint"]["last_duration_ms"]), 38);
  simdjson::dom::array rules = doc["rules"];
  ASSERT_EQ(rules.size(), 1u);
  simdjson::dom::element r = rules.at(0);
  EXPECT_EQ(std::string_view(r["name"]), "card_testing");
  EXPECT_EQ(std::string_view(r["kind"]), "pattern");
  EXPECT_EQ(std::string_view(r["stream"]), "txn");
  EXPECT_EQ(uint64_t(r["events"]), 1000u);
  EXPECT_EQ(uint64_t(r["matches"]), 2u);
  EXPECT_EQ(int64_t(r["partial_matches"]), 7);
  EXPECT_DOUBLE_EQ(double(r["events_per_second"]), 412.5);
  simdjson::dom::element s = doc["streams"].at(0);
  EXPECT_EQ(std::string_view(s["name"]), "txn");
  EXPECT_EQ(uint64_t(s["late"]), 3u);
  EXPECT_EQ(uint64_t(s["invalid"]), 1u);
  EXPECT_EQ(int64_t(s["watermark_ms"]), 1714557990000);
  EXPECT_FALSE(bool(s["ended"]));
  EXPECT_EQ(int64_t(s["lag_ms"]), 1250);
  EXPECT_EQ(std::string_view(s["partitions"].at(0)["name"]), "txn.jsonl");
  simdjson::dom::element k = doc["sinks"].at(0);
  EXPECT_EQ(std::string_view(k["name"]), "output");
  EXPECT_DOUBLE_EQ(double(k["latency_p99_ms"]), 2.5);
}

TEST_F(UiServerTest, WatermarkBeforeTheFirstEventAndAfterTheEndIsNull) {
  JobStatus st = view_->Status();
  st.streams[0].watermark = Watermark::Min();
  st.streams[0].lag.reset();
  st.streams[0].partitions[0].watermark = Watermark::Max();
  st.sinks[0].latency_p50_ms.reset();
  view_->SetStatus(st);
  simdjson::dom::element doc = Json(Get("/api/status"));
  simdjson::dom::element s = doc["streams"].at(0);
  EXPECT_TRUE(s["watermark_ms"].is_null());
  EXPECT_FALSE(bool(s["ended"]));
  EXPECT_TRUE(s["lag_ms"].is_null());
  EXPECT_TRUE(s["partitions"].at(0)["watermark_ms"].is_null());
  EXPECT_TRUE(bool(s["partitions"].at(0)["ended"]));
  EXPECT_TRUE(doc["sinks"].at(0)["latency_p50_ms"].is_null());
}

TEST_F(UiServerTest, AlertsCarryKeyLabelsAnnotationsAndSince) {
  simdjson::dom::element doc = Json(Get("/api/alerts"));
  simdjson::dom::array alerts = doc["alerts"];
  ASSERT_EQ(alerts.size(), 1u);
  simdjson::dom::element a = alerts.at(0);
  EXPECT_EQ(std::string_view(a["rule"]), "card_testing");
  EXPECT_EQ(std::string_view(a["key"]["card"]), "4111");
  EXPECT_EQ(std::string_view(a["labels"]["severity"]), "critical");
  EXPECT_EQ(std::string_view(a["annotations"]["summary"]), "card 4111 \"tested\"");
  EXPECT_EQ(int64_t(a["since_ms"]), 1714557600000);
  EXPECT_EQ(uint64_t(doc["total"]), 1u);

  view_->SetAlerts({});
  doc = Json(Get("/api/alerts"));
  EXPECT_EQ(simdjson::dom::array(doc["alerts"]).size(), 0u);
  EXPECT_EQ(uint64_t(doc["total"]), 0u);
}

TEST_F(UiServerTest, AlertsAreLimitedNewestFirstWithTheTotal) {
  std::vector<FiringAlert> alerts;
  for (int i = 0; i < 3; ++i) {
    FiringAlert a;
    a.rule = "card_testing";
    a.key = {{"card", Value::String("c" + std::to_string(i))}};
    a.since = EventTime(1000 * (i + 1));
    alerts.push_back(a);
  }
  view_->SetAlerts(alerts);
  simdjson::dom::element doc = Json(Get("/api/alerts?limit=2"));
  EXPECT_EQ(uint64_t(doc["total"]), 3u);
  simdjson::dom::array shown = doc["alerts"];
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(std::string_view(shown.at(0)["key"]["card"]), "c2");
  EXPECT_EQ(std::string_view(shown.at(1)["key"]["card"]), "c1");
  auto bad = Get("/api/alerts?limit=5001");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(std::string_view(Json(bad)["error"]).find("1..5000"), std::string_view::npos);
}

TEST_F(UiServerTest, RecordsAreTheNewestUpToTheLimitOldestFirst) {
  simdjson::dom::element doc = Json(Get("/api/records?limit=2"));
  simdjson::dom::array records = doc["records"];
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(int64_t(records.at(0)["n"]), 3);
  EXPECT_EQ(int64_t(records.at(1)["n"]), 4);
  EXPECT_EQ(simdjson::dom::array(Json(Get("/api/records"))["records"]).size(), 5u);
}

TEST_F(UiServerTest, BadRecordLimitsAreRejected) {
  for (const char* q : {"limit=0", "limit=1001", "limit=abc", "limit=", "limit=-3", "limit=5x"}) {
    SCOPED_TRACE(q);
    auto res = Get(std::string("/api/records?") + q);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(std::string_view(Json(res)["error"]).find("1..1000"), std::string_view::npos);
  }
}

TEST_F(UiServerTest, RuleGraphAndUnknownRule) {
  auto res = Get("/api/rules/card_testing/graph");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  simdjson::dom::element doc = Json(res);
  EXPECT_EQ(std::string_view(doc["graph"]), "nfa");
  EXPECT_GE(simdjson::dom::array(doc["nodes"]).size(), 3u);
  EXPECT_GE(simdjson::dom::array(doc["edges"]).size(), 3u);

  auto missing = Get("/api/rules/nope/graph");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(std::string_view(Json(missing)["error"]), "no rule named 'nope'");

  view_->SetRules(nullptr);
  auto none = Get("/api/rules/card_testing/graph");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 503);
}

TEST_F(UiServerTest, UnknownApiPathIsAJson404) {
  auto res = Get("/api/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(std::string_view(Json(res)["error"]), "no endpoint /api/nothing");
}

TEST_F(UiServerTest, ServesThePageAndItsAssets) {
  ASSERT_NE(StaticAssetsBegin(), StaticAssetsEnd()) << "ui/dist was empty at build time";
  auto page = Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<div id=\"app\">"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  // Every script and stylesheet the page names is served, with its type, cacheable.
  int assets = 0;
  for (const StaticAsset* a = StaticAssetsBegin(); a != StaticAssetsEnd(); ++a) {
    if (a->path.rfind("/assets/", 0) != 0) continue;
    const std::string rel = "./" + std::string(a->path.substr(1));
    EXPECT_NE(page->body.find(rel), std::string::npos) << rel;
    auto res = Get(std::string(a->path));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body.size(), a->data.size());
    EXPECT_EQ(res->get_header_value("Content-Type"), a->content_type);
    EXPECT_NE(res->get_header_value("Cache-Control").find("immutable"), std::string::npos);
    if (a->path.ends_with(".js")) {
      EXPECT_EQ(a->content_type, "text/javascript; charset=utf-8");
    }
    if (a->path.ends_with(".css")) {
      EXPECT_EQ(a->content_type, "text/css; charset=utf-8");
    }
    ++assets;
  }
  EXPECT_GE(assets, 2);
  auto missing = Get("/no/such/file.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(UiServerTest, ConcurrentClientsGetConsistentAnswers) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, &ok] {
      httplib::Client c("127.0.0.1", server_->port());
      for (int i = 0; i < 25; ++i) {
        auto res = c.Get(i % 2 ? "/api/status" : "/api/alerts");
        if (res && res->status == 200 && !res->body.empty()) ++ok;
      }
    });
  }
  for (int i = 0; i < 50; ++i) view_->SetStatus(testing::StatusFor(*view_->Rules(), i, i));
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST_F(UiServerTest, AddressInUseIsAClearError) {
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());
  auto second = UiServer::Start(address, view_.get());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status()));
  EXPECT_NE(second.status().message().find("Address already in use"), std::string::npos)
      << second.status();
  EXPECT_NE(second.status().message().find(address), std::string::npos);
}

TEST_F(UiServerTest, StopIsPromptWithAnIdleKeepAliveConnectionAndIdempotent) {
  client_->set_keep_alive(true);
  auto res = Get("/api/status");
  ASSERT_TRUE(res);
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  server_->Stop();
  httplib::Client after("127.0.0.1", server_->port());
  after.set_connection_timeout(1, 0);
  EXPECT_FALSE(after.Get("/api/status"));
}

TEST(UiServerStartTest, RejectsBadAddressesAndANullView) {
  FakeJobView view(nullptr);
  for (const char* bad : {"", "127.0.0.1:", "127.0.0.1:abc", "127.0.0.1:70000", "::1:8080", "[::1",
                          "[::1]8080", "127.0.0.1:-1"}) {
    SCOPED_TRACE(bad);
    auto s = UiServer::Start(bad, &view);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
  }
  auto s = UiServer::Start("127.0.0.1:0", nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
}

TEST(UiServerStartTest, AnAddressNotOfThisMachineIsUnavailable) {
  FakeJobView view(nullptr);
  // 192.0.2.1 (TEST-NET-1) is never an address of this machine: bind fails, nothing is sent.
  auto foreign = UiServer::Start("192.0.2.1:0", &view);
  ASSERT_FALSE(foreign.ok());
  EXPECT_TRUE(absl::IsUnavailable(foreign.status())) << foreign.status();
  EXPECT_NE(foreign.status().message().find("Cannot assign requested address"), std::string::npos)
      << foreign.status();
}

TEST(ParseHostPortTest, DefaultsToLoopbackAndHonoursExplicitHosts) {
  struct Case {
    const char* in;
    const char* host;
    int port;
  };
  for (const Case& c : {Case{":8080", "127.0.0.1", 8080}, Case{"8080", "127.0.0.1", 8080},
                        Case{"localhost:0", "localhost", 0}, Case{"[::1]:9", "::1", 9},
                        Case{"0.0.0.0:80", "0.0.0.0", 80}, Case{"[::]:65535", "::", 65535}}) {
    SCOPED_TRACE(c.in);
    auto hp = ParseHostPort(c.in);
    ASSERT_TRUE(hp.ok()) << hp.status();
    EXPECT_EQ(hp->host, c.host);
    EXPECT_EQ(hp->port, c.port);
  }
}

TEST(UiServerUrlTest, UrlNamesTheBoundPort) {
  FakeJobView view(nullptr);
  auto s = UiServer::Start(":0", &view);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->host(), "127.0.0.1");
  EXPECT_GT((*s)->port(), 0);
  EXPECT_EQ((*s)->url(), "http://127.0.0.1:" + std::to_string((*s)->port()) + "/");
}

}  // namespace
}  // namespace vigil::admin
