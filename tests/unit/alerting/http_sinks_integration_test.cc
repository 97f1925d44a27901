// The HTTP sinks over real sockets (libcurl): against tests/e2e/http_receiver.py, a local
// receiver that refuses connections, answers 500 and 429, hangs past the timeout and drops
// connections before it recovers (or never recovers), and against real Alertmanagers started
// by tests/e2e/alertmanager_harness.py (skipped when prometheus-alertmanager is missing).
// The sinks are driven directly (the job wires them into its output stage).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "alerting/alertmanager_sink.h"
#include "alerting/http_client.h"
#include "alerting/http_options.h"
#include "alerting/webhook_sink.h"
#include "delivery_test_util.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace vigil::alerting {
namespace {

using engine::Record;
using engine::RecordKind;
using testing::Child;
using testing::DeadLetters;
using testing::E2eDir;
using testing::Logs;
using testing::MakeRecord;
using testing::WaitFor;

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string TempFile(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vigil_http_sinks_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// A receiver process; Start() returns its base URL ("" if it did not start).
struct Receiver {
  Child child;
  std::string log;
  std::string Start(const std::string& name, std::vector<std::string> args) {
    log = TempFile(name + ".jsonl");
    std::filesystem::remove(log);
    std::vector<std::string> argv = {"python3", E2eDir() + "/http_receiver.py", "--log", log};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!child.Start(argv)) return "";
    const std::string line = child.ReadLine();
    if (line.rfind("PORT ", 0) != 0) return "";
    return "http://127.0.0.1:" + line.substr(5);
  }
  // The log's entries: (status, body, X-Vigil-Record-Id header).
  struct Entry {
    std::string status;
    std::string body;
    std::string id_header;
  };
  std::vector<Entry> Entries() const {
    std::vector<Entry> out;
    std::ifstream in(log);
    std::string line;
    simdjson::dom::parser parser;
    while (std::getline(in, line)) {
      simdjson::dom::element e;
      if (parser.parse(line).get(e) != simdjson::SUCCESS) continue;
      Entry entry;
      int64_t status;
      std::string_view s;
      if (e["status"].get(status) == simdjson::SUCCESS) {
        entry.status = std::to_string(status);
      } else if (e["status"].get(s) == simdjson::SUCCESS) {
        entry.status = std::string(s);
      }
      if (e["body"].get(s) == simdjson::SUCCESS) entry.body = std::string(s);
      if (e["headers"]["x-vigil-record-id"].get(s) == simdjson::SUCCESS) {
        entry.id_header = std::string(s);
      }
      out.push_back(std::move(entry));
    }
    return out;
  }
};

std::string IdOf(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  std::string_view id;
  if (parser.parse(body).get(e) != simdjson::SUCCESS || e["id"].get(id) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(id);
}

std::unique_ptr<WebhookSink> Webhook(const std::string& name, cep::Options options,
                                     DeadLetters* dead, Logs* logs) {
  auto o = ReadHttpSinkOptions({name, "webhook", std::move(options)}, ProcessEnv());
  EXPECT_TRUE(o.ok()) << o.status();
  engine::SinkContext ctx;
  ctx.name = name;
  ctx.dead_letter = dead->Fn();
  ctx.log = logs->Fn();
  auto s = WebhookSink::Create(std::move(o).value(), ctx);
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(s).value();
}

TEST(WebhookOverHttp, EveryRecordArrivesOnceTheReceiverRecovers) {
  Receiver rx;
  const int port = FreePort();
  // Refused for 1 s, then three 500s, two requests hung past the client's timeout (answered
  // 200 later: duplicates from the sender's view), a dropped connection and a 429; then 200s.
  const std::string url = rx.Start("recovering", {"--port", std::to_string(port), "--refuse-for",
                                                  "1.0", "--script", "500x3,hang:1.2x2,close,429"});
  ASSERT_FALSE(url.empty()) << "could not start tests/e2e/http_receiver.py";
  DeadLetters dead;
  Logs logs;
  auto sink = Webhook("hook",
                      {{"url", Value::String(url + "/alerts")},
                       {"timeout", Value::Int(400)},
                       {"retries", Value::Int(30)},
                       {"backoff", Value::Int(50)},
                       {"max_backoff", Value::Int(300)}},
                      &dead, &logs);
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Record r = MakeRecord("", RecordKind::kMatch, std::to_string(4000 + i));
    char id[17];
    std::snprintf(id, sizeof(id), "%016x", 0xa000 + i);
    r.id = id;
    ids.insert(r.id);
    ASSERT_TRUE(sink->Write(r).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return sink->stats().sent == 20; }, std::chrono::seconds(30)))
      << logs.All();
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_TRUE(dead.Get().empty());

  std::map<std::string, std::set<std::string>> bodies_by_id;
  std::map<std::string, int> deliveries;
  std::multiset<std::string> statuses;
  for (const auto& e : rx.Entries()) {
    statuses.insert(e.status);
    if (e.status != "200") continue;
    const std::string id = IdOf(e.body);
    ASSERT_FALSE(id.empty()) << e.body;
    EXPECT_EQ(e.id_header, id);
    bodies_by_id[id].insert(e.body);
    ++deliveries[id];
  }
  // Every record arrived; a record seen twice was the same record (same id, same body).
  std::set<std::string> got;
  for (const auto& [id, bodies] : bodies_by_id) {
    got.insert(id);
    EXPECT_EQ(bodies.size(), 1u) << id;
  }
  EXPECT_EQ(got, ids);
  EXPECT_EQ(statuses.count("500"), 3u);
  EXPECT_EQ(statuses.count("429"), 1u);
  EXPECT_EQ(statuses.count("close"), 1u);
  int duplicates = 0;
  for (const auto& [id, n] : deliveries) duplicates += n - 1;
  EXPECT_EQ(duplicates, 2);  // the two hung requests, answered after the client gave up
  const engine::SinkStats s = sink->stats();
  EXPECT_GE(s.failed, 7u);  // refused (>= 1), 3 x 500, 2 timeouts, a drop, a 429
  EXPECT_EQ(s.retried, s.failed);
  EXPECT_EQ(s.dead_lettered, 0u);
  const std::string log_text = logs.All();
  EXPECT_NE(log_text.find("failing: "), std::string::npos) << log_text;
  EXPECT_NE(log_text.find("delivering again after"), std::string::npos) << log_text;
}

TEST(WebhookOverHttp, ADeadEndpointDeadLettersWhileAnotherSinkKeepsReceiving) {
  Receiver dead_rx, live_rx;
  const std::string dead_url = dead_rx.Start("never", {"--then", "500"});
  const std::string live_url = live_rx.Start("live", {});
  ASSERT_FALSE(dead_url.empty());
  ASSERT_FALSE(live_url.empty());
  DeadLetters dead_a, dead_b;
  Logs logs;
  auto a = Webhook("broken",
                   {{"url", Value::String(dead_url + "/hook")},
                    {"retries", Value::Int(2)},
                    {"backoff", Value::Int(100)},
                    {"overflow", Value::String("dead_letter")}},
                   &dead_a, &logs);
  auto b = Webhook("healthy", {{"url", Value::String(live_url + "/hook")}}, &dead_b, &logs);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    const Record r = MakeRecord("00000000000b" + std::to_string(1000 + i));
    ASSERT_TRUE(a->Write(r).ok());
    ASSERT_TRUE(b->Write(r).ok());
  }
  // Writing never waited for the failing endpoint.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_TRUE(WaitFor([&] { return b->stats().sent == 10; }, std::chrono::seconds(10)));
  EXPECT_LT(a->stats().dead_lettered, 10u);  // the broken sink is still retrying meanwhile
  // Each record gets its three attempts, then goes to the dead-letter output with the reason.
  ASSERT_TRUE(WaitFor([&] { return a->stats().dead_lettered == 10; }, std::chrono::seconds(30)));
  ASSERT_TRUE(a->Close().ok());
  ASSERT_TRUE(b->Close().ok());
  const auto dead = dead_a.Get();
  ASSERT_EQ(dead.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(dead[i].first, "00000000000b" + std::to_string(1000 + i));
    EXPECT_EQ(dead[i].second, "webhook " + dead_url + "/hook: HTTP 500 after 3 attempts");
  }
  EXPECT_EQ(a->stats().failed, 30u);
  EXPECT_TRUE(dead_b.Get().empty());
  EXPECT_EQ(live_rx.Entries().size(), 10u);
}

TEST(WebhookOverHttp, ConnectionRefusedForeverIsDeadLetteredWithTheReason) {
  const std::string url = "http://127.0.0.1:" + std::to_string(FreePort()) + "/x";
  DeadLetters dead;
  Logs logs;
  auto sink = Webhook("gone", {{"url", Value::String(url)}, {"retries", Value::Int(1)},
                               {"backoff", Value::Int(10)}},
                      &dead, &logs);
  ASSERT_TRUE(sink->Write(MakeRecord("00000000000c0001")).ok());
  ASSERT_TRUE(sink->Close().ok());
  const auto d = dead.Get();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].second.find("webhook " + url + ": "), std::string::npos) << d[0].second;
  EXPECT_NE(d[0].second.find("after 2 attempts"), std::string::npos) << d[0].second;
  EXPECT_NE(d[0].second.find("onnect"), std::string::npos) << d[0].second;  // curl's words
}

// ---- Alertmanager ----------------------------------------------------------------------------

struct AmAlert {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string state, starts, ends, generator;
};

std::vector<AmAlert> GetAlerts(const std::string& base) {
  HttpClient client;
  const HttpResult r = client.Get(base + "/api/v2/alerts", 5000);
  EXPECT_EQ(r.status, 200) << r.error;
  std::vector<AmAlert> out;
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(r.body).get(arr) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element e : arr) {
    AmAlert a;
    simdjson::dom::object obj;
    if (e["labels"].get(obj) == simdjson::SUCCESS) {
      for (auto [k, v] : obj) a.labels[std::string(k)] = std::string(v.get_string().value());
    }
    if (e["annotations"].get(obj) == simdjson::SUCCESS) {
      for (auto [k, v] : obj) a.annotations[std::string(k)] = std::string(v.get_string().value());
    }
    std::string_view s;
    if (e["status"]["state"].get(s) == simdjson::SUCCESS) a.state = std::string(s);
    if (e["startsAt"].get(s) == simdjson::SUCCESS) a.starts = std::string(s);
    if (e["endsAt"].get(s) == simdjson::SUCCESS) a.ends = std::string(s);
    if (e["generatorURL"].get(s) == simdjson::SUCCESS) a.generator = std::string(s);
    out.push_back(std::move(a));
  }
  return out;
}

const AmAlert* FindCard(const std::vector<AmAlert>& alerts, const std::string& card) {
  for (const AmAlert& a : alerts) {
    auto it = a.labels.find("card");
    if (it != a.labels.end() && it->second == card) return &a;
  }
  return nullptr;
}

TEST(AlertmanagerOverHttp, AlertsLiveResendAndResolveInARealAlertmanagerPair) {
  Child harness;
  ASSERT_TRUE(harness.Start({"python3", E2eDir() + "/alertmanager_harness.py", "--count", "2"}));
  const std::string first = harness.ReadLine(std::chrono::seconds(60));
  if (first.empty()) {
    const int rc = harness.Stop();
    if (rc == 77) GTEST_SKIP() << "prometheus-alertmanager is not installed (scripts/setup)";
    FAIL() << "alertmanager_harness.py did not start Alertmanager (exit " << rc << ")";
  }
  const std::string second = harness.ReadLine(std::chrono::seconds(60));
  ASSERT_EQ(first.rfind("URL ", 0), 0u) << first;
  ASSERT_EQ(second.rfind("URL ", 0), 0u) << second;
  const std::string am1 = first.substr(4), am2 = second.substr(4);
  const std::string dead_url = "http://127.0.0.1:" + std::to_string(FreePort());

  auto o = ReadHttpSinkOptions({"pager",
                                "alertmanager",
                                {{"url", Value::String(am1 + "," + am2 + "," + dead_url)},
                                 {"resend", Value::Int(1000)},
                                 {"resolve_after", Value::Int(2000)},
                                 {"retries", Value::Int(1)},
                                 {"backoff", Value::Int(50)},
                                 {"timeout", Value::Int(1000)},
                                 {"external_url", Value::String("http://vigil.test")}}},
                               ProcessEnv());
  ASSERT_TRUE(o.ok()) << o.status();
  DeadLetters dead;
  Logs logs;
  engine::SinkContext ctx;
  ctx.name = "pager";
  ctx.dead_letter = dead.Fn();
  ctx.log = logs.Fn();
  auto sink = AlertmanagerSink::Create(std::move(o).value(), ctx);
  ASSERT_TRUE(sink.ok()) << sink.status();

  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Record f1 = MakeRecord("00000000000d0001", RecordKind::kFiring, "4111", now - 60'000);
  f1.labels.emplace_back("geo.country", "FR");
  const Record f2 = MakeRecord("00000000000d0002", RecordKind::kFiring, "5500", now - 30'000);
  const Record m3 = MakeRecord("00000000000d0003", RecordKind::kMatch, "6011", now);
  ASSERT_TRUE((*sink)->Write(f1).ok());
  ASSERT_TRUE((*sink)->Write(f2).ok());
  ASSERT_TRUE((*sink)->Write(m3).ok());

  // Both Alertmanagers hold the three alerts (the dead third URL delays neither).
  for (const std::string& am : {am1, am2}) {
    ASSERT_TRUE(WaitFor([&] { return GetAlerts(am).size() == 3; }, std::chrono::seconds(5)))
        << am << "\n" << logs.All();
    const auto alerts = GetAlerts(am);
    const AmAlert* a = FindCard(alerts, "4111");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->labels, (std::map<std::string, std::string>{{"alertname", "card_testing"},
                                                             {"card", "4111"},
                                                             {"geo_country", "FR"},
                                                             {"severity", "critical"}}));
    EXPECT_EQ(a->annotations.at("summary"), "card 4111: 900");
    EXPECT_EQ(a->generator, "http://vigil.test/rules/card_testing");
    EXPECT_TRUE(a->state == "active" || a->state == "unprocessed") << a->state;
    ASSERT_NE(FindCard(alerts, "5500"), nullptr);  // two keys, two alerts
    ASSERT_NE(FindCard(alerts, "6011"), nullptr);
  }
  const std::string first_end = FindCard(GetAlerts(am1), "4111")->ends;

  // 6 s later: a firing alert's first endsAt (now + 4 x 1s) has passed, so only the re-sends
  // keep it; the match's alert ended after resolve_after (2 s).
  std::this_thread::sleep_for(std::chrono::seconds(6));
  for (const std::string& am : {am1, am2}) {
    const auto alerts = GetAlerts(am);
    const AmAlert* still = FindCard(alerts, "4111");
    ASSERT_NE(still, nullptr) << am;
    EXPECT_EQ(still->state, "active");
    EXPECT_GT(still->ends, first_end);  // RFC 3339 in UTC compares as text
    EXPECT_NE(FindCard(alerts, "5500"), nullptr);
    EXPECT_EQ(FindCard(alerts, "6011"), nullptr) << "the match's alert should have ended";
  }

  // `resolved` ends 4111; 5500 stays.
  ASSERT_TRUE((*sink)->Write(MakeRecord("00000000000d0004", RecordKind::kResolved, "4111", now))
                  .ok());
  for (const std::string& am : {am1, am2}) {
    ASSERT_TRUE(WaitFor([&] { return FindCard(GetAlerts(am), "4111") == nullptr; },
                        std::chrono::seconds(5)))
        << am;
    EXPECT_NE(FindCard(GetAlerts(am), "5500"), nullptr);
  }
  ASSERT_TRUE((*sink)->Close().ok());
  // The dead URL's deliveries went to the dead-letter output, naming it.
  const auto d = dead.Get();
  EXPECT_GE(d.size(), 1u);
  for (const auto& [id, reason] : d) {
    EXPECT_EQ(reason.rfind("alertmanager " + dead_url + "/api/v2/alerts: ", 0), 0u) << reason;
  }
  harness.Stop();
}

}  // namespace
}  // namespace vigil::alerting
