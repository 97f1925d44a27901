// Unit tests of the Alertmanager sink against an in-process fake endpoint: the payload of each
// record kind, the active set and its re-sends, several URLs, snapshot/restore.
#include "alerting/alertmanager_sink.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "alerting/alertmanager_alert.h"
#include "delivery_test_util.h"
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

constexpr int64_t kNow = 1'700'000'100'000;   // 2023-11-14T22:15:00.000Z
constexpr int64_t kT = 1'700'000'000'000;     // 2023-11-14T22:13:20.000Z, the records' time

HttpSinkOptions Options(std::vector<std::string> urls = {"http://am.test/api/v2/alerts"},
                        int64_t resend_ms = 60'000) {
  HttpSinkOptions o;
  o.urls = std::move(urls);
  o.retry.retries = 1;
  o.retry.backoff_ms = 10;
  o.retry.max_backoff_ms = 10;
  o.resend_ms = resend_ms;
  o.resolve_after_ms = 300'000;
  o.external_url = "https://vigil.example";
  return o;
}

struct Harness {
  TestEnv t;
  DeadLetters dead;
  Logs logs;
  std::unique_ptr<AlertmanagerSink> sink;

  explicit Harness(HttpSinkOptions o = Options()) {
    t.now = kNow;
    engine::SinkContext ctx;
    ctx.name = "pager";
    ctx.dead_letter = dead.Fn();
    ctx.log = logs.Fn();
    auto s = AlertmanagerSink::Create(std::move(o), ctx, t.Env());
    EXPECT_TRUE(s.ok()) << s.status();
    sink = std::move(s).value();
  }
};

// The JSON of one alert as the sink renders it (labels sorted by name).
std::string Alert(const std::string& labels, const std::string& annotations,
                  const std::string& starts, const std::string& ends,
                  const std::string& rule = "card_testing") {
  return "{\"labels\":{" + labels + "},\"annotations\":{" + annotations + "},\"startsAt\":\"" +
         starts + "\",\"generatorURL\":\"https://vigil.example/rules/" + rule +
         "\",\"endsAt\":\"" + ends + "\"}";
}
const std::string kLabels4111 =
    "\"alertname\":\"card_testing\",\"card\":\"4111\",\"severity\":\"critical\"";
const std::string kAnn4111 = "\"summary\":\"card 4111: 900\"";

TEST(AlertmanagerAlert, TimesAndLabels) {
  EXPECT_EQ(FormatRfc3339Ms(kT), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(FormatRfc3339Ms(kT + 1234), "2023-11-14T22:13:21.234Z");
  EXPECT_EQ(FormatRfc3339Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(SanitizeLabelName("geo.country"), "geo_country");
  EXPECT_EQ(SanitizeLabelName("9lives"), "_9lives");
  EXPECT_EQ(SanitizeLabelName("ok_Name9"), "ok_Name9");

  Record r = MakeRecord("1");
  r.labels = {{"alertname", "card_testing"}, {"geo.country", "FR"}, {"empty", ""},
              {"severity", "page"}, {"severity", "critical"}};
  EXPECT_EQ(AlertLabels(r), (LabelSet{{"alertname", "card_testing"},
                                      {"geo_country", "FR"},
                                      {"severity", "critical"}}));
  Record late;
  late.kind = RecordKind::kLate;
  late.stream = "txn";
  EXPECT_EQ(AlertLabels(late), (LabelSet{{"alertname", "late_event"}, {"stream", "txn"}}));
}

TEST(AlertmanagerSink, FiringIsAnActiveAlertEndingFourResendsFromNow) {
  Harness h;
  ASSERT_TRUE(h.sink->Write(MakeRecord("a1", RecordKind::kFiring)).ok());
  ASSERT_EQ(h.t.server.WaitForRequests(1), 1u);
  const auto reqs = h.t.server.requests();
  EXPECT_EQ(reqs[0].url, "http://am.test/api/v2/alerts");
  // endsAt = now + 4 x resend (1m) = 22:15:00 + 4m.
  EXPECT_EQ(reqs[0].body, "[" +
                              Alert(kLabels4111, kAnn4111, "2023-11-14T22:13:20.000Z",
                                    "2023-11-14T22:19:00.000Z") +
                              "]");
  EXPECT_EQ(h.sink->active_alerts(), 1u);
}

TEST(AlertmanagerSink, StillFiringAlertsAreResentWithAFreshEnd) {
  Harness h(Options({"http://am.test/api/v2/alerts"}, /*resend_ms=*/50));
  ASSERT_TRUE(h.sink->Write(MakeRecord("a1", RecordKind::kFiring, "4111")).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("a2", RecordKind::kFiring, "5500")).ok());
  ASSERT_GE(h.t.server.WaitForRequests(2), 2u);
  h.t.now = kNow + 60'000;  // a minute later
  // Both alerts in one re-send, each with endsAt = the new now + 4 x 50ms.
  const std::string labels5500 =
      "\"alertname\":\"card_testing\",\"card\":\"5500\",\"severity\":\"critical\"";
  const std::string want = "[" +
                           Alert(kLabels4111, kAnn4111, "2023-11-14T22:13:20.000Z",
                                 "2023-11-14T22:16:00.200Z") +
                           "," +
                           Alert(labels5500, "\"summary\":\"card 5500: 900\"",
                                 "2023-11-14T22:13:20.000Z", "2023-11-14T22:16:00.200Z") +
                           "]";
  auto resent = [&] {
    size_t n = 0;
    for (const auto& r : h.t.server.requests()) n += r.body == want ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return resent() >= 2; })) << h.t.server.requests().back().body;
  EXPECT_EQ(h.sink->active_alerts(), 2u);
  EXPECT_GE(h.sink->stats().sent, 4u);  // re-sends count as deliveries
}

TEST(AlertmanagerSink, ResolvedEndsTheAlertAndStopsItsResends) {
  Harness h(Options({"http://am.test/api/v2/alerts"}, /*resend_ms=*/50));
  ASSERT_TRUE(h.sink->Write(MakeRecord("a1", RecordKind::kFiring, "4111", kT)).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("a2", RecordKind::kResolved, "4111", kT + 30'000)).ok());
  EXPECT_EQ(h.sink->active_alerts(), 0u);
  ASSERT_GE(h.t.server.WaitForRequests(1), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // several resend periods
  ASSERT_TRUE(h.sink->Close().ok());
  std::vector<std::string> bodies;
  for (const auto& r : h.t.server.requests()) bodies.push_back(r.body);
  // Whatever re-sends ran before the resolve, the last alert sent is the resolve itself.
  ASSERT_GE(bodies.size(), 1u);
  const std::string resolved = Alert(kLabels4111, kAnn4111, "2023-11-14T22:13:20.000Z",
                                     "2023-11-14T22:13:50.000Z") + "]";
  ASSERT_GE(bodies.back().size(), resolved.size());
  EXPECT_EQ(bodies.back().substr(bodies.back().size() - resolved.size()), resolved)
      << bodies.back();
}

TEST(AlertmanagerSink, ResolvedEndsTheFiringAlertOfItsKeyEvenIfALabelChanged) {
  Harness h;
  Record firing = MakeRecord("k1", RecordKind::kFiring, "4111", kT);
  firing.labels.emplace_back("level", "90");  // a templated label, e.g. "{cpu}"
  Record resolved = MakeRecord("k2", RecordKind::kResolved, "4111", kT + 10'000);
  resolved.labels.emplace_back("level", "42");
  resolved.annotations = {{"summary", "back to normal"}};
  ASSERT_TRUE(h.sink->Write(firing).ok());
  ASSERT_TRUE(h.sink->Write(resolved).ok());
  EXPECT_EQ(h.sink->active_alerts(), 0u);  // nothing left to re-send forever
  ASSERT_TRUE(h.sink->Close().ok());
  std::string all;
  for (const auto& r : h.t.server.requests()) all += r.body;
  const std::string firing_labels =
      "\"alertname\":\"card_testing\",\"card\":\"4111\",\"level\":\"90\",\"severity\":\"critical\"";
  EXPECT_NE(all.find(Alert(firing_labels, "\"summary\":\"back to normal\"",
                           "2023-11-14T22:13:20.000Z", "2023-11-14T22:13:30.000Z")),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find("\"level\":\"42\""), std::string::npos) << all;
}

TEST(AlertmanagerSink, ResolvedTimesStayConsistent) {
  Harness h;
  // Resolved in the future (clock skew, replayed data): it ends now, not then.
  ASSERT_TRUE(h.sink->Write(MakeRecord("r1", RecordKind::kFiring, "1", kNow + 50'000)).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("r2", RecordKind::kResolved, "1", kNow + 90'000)).ok());
  // Resolved before the firing alert started: startsAt is lowered to endsAt.
  ASSERT_TRUE(h.sink->Write(MakeRecord("r3", RecordKind::kFiring, "2", kT)).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("r4", RecordKind::kResolved, "2", kT - 5'000)).ok());
  // Resolved without a firing alert (e.g. fired before a restart without state): starts = ends.
  ASSERT_TRUE(h.sink->Write(MakeRecord("r5", RecordKind::kResolved, "3", kT)).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  std::string all;
  for (const auto& r : h.t.server.requests()) all += r.body;
  auto labels = [](const char* card) {
    return "\"alertname\":\"card_testing\",\"card\":\"" + std::string(card) +
           "\",\"severity\":\"critical\"";
  };
  auto ann = [](const char* card) { return "\"summary\":\"card " + std::string(card) + ": 900\""; };
  // The firing alert starting in the future is ended at now (start lowered to now too).
  EXPECT_NE(all.find(Alert(labels("1"), ann("1"), "2023-11-14T22:15:00.000Z",
                           "2023-11-14T22:15:00.000Z")),
            std::string::npos)
      << all;
  EXPECT_NE(all.find(Alert(labels("2"), ann("2"), "2023-11-14T22:13:15.000Z",
                           "2023-11-14T22:13:15.000Z")),
            std::string::npos)
      << all;
  EXPECT_NE(all.find(Alert(labels("3"), ann("3"), "2023-11-14T22:13:20.000Z",
                           "2023-11-14T22:13:20.000Z")),
            std::string::npos)
      << all;
  EXPECT_EQ(h.sink->active_alerts(), 0u);
}

TEST(AlertmanagerSink, MatchesEndAfterResolveAfterAndAreNotResent) {
  Harness h;
  ASSERT_TRUE(h.sink->Write(MakeRecord("m1", RecordKind::kMatch, "4111", kT)).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("m2", RecordKind::kTimeout, "6011", kNow + 60'000)).ok());
  Record late;
  late.id = "l1";
  late.kind = RecordKind::kLate;
  late.stream = "txn";
  late.time = EventTime(kT);
  ASSERT_TRUE(h.sink->Write(late).ok());
  ASSERT_TRUE(h.sink->Close().ok());
  std::string all;
  for (const auto& r : h.t.server.requests()) all += r.body;
  // match: endsAt = max(time, now) + 5m = now + 5m.
  EXPECT_NE(all.find(Alert(kLabels4111, kAnn4111, "2023-11-14T22:13:20.000Z",
                           "2023-11-14T22:20:00.000Z")),
            std::string::npos)
      << all;
  // a record from the future: endsAt = its time + 5m.
  EXPECT_NE(all.find("\"startsAt\":\"2023-11-14T22:16:00.000Z\",\"generatorURL\":\"https://"
                     "vigil.example/rules/card_testing\",\"endsAt\":\"2023-11-14T22:21:00.000Z\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("{\"labels\":{\"alertname\":\"late_event\",\"stream\":\"txn\"},"
                     "\"annotations\":{},\"startsAt\":\"2023-11-14T22:13:20.000Z\","
                     "\"generatorURL\":\"https://vigil.example/streams/txn\",\"endsAt\":\"2023-11-"
                     "14T22:20:00.000Z\"}"),
            std::string::npos)
      << all;
  EXPECT_EQ(h.sink->active_alerts(), 0u);
}

TEST(AlertmanagerSink, NodataIsADistinctAlertEndedByTheNextRecord) {
  Harness h;
  ASSERT_TRUE(h.sink->Write(MakeRecord("n1", RecordKind::kFiring, "4111", kT)).ok());
  ASSERT_TRUE(h.sink->Write(MakeRecord("n2", RecordKind::kNodata, "4111", kT + 60'000)).ok());
  EXPECT_EQ(h.sink->active_alerts(), 2u);  // firing stays; nodata is its own alert
  ASSERT_TRUE(h.sink->Write(MakeRecord("n3", RecordKind::kFiring, "4111", kT + 90'000)).ok());
  EXPECT_EQ(h.sink->active_alerts(), 1u);
  ASSERT_TRUE(h.sink->Close().ok());
  const auto reqs = h.t.server.requests();
  std::string all;
  for (const auto& r : reqs) all += r.body;
  const std::string nodata_labels =
      "\"alertname\":\"card_testing\",\"alertstate\":\"nodata\",\"card\":\"4111\","
      "\"severity\":\"critical\"";
  EXPECT_NE(all.find(Alert(nodata_labels, kAnn4111, "2023-11-14T22:14:20.000Z",
                           "2023-11-14T22:19:00.000Z")),
            std::string::npos)
      << all;
  // ...ended when the partition fired again (at that record's time).
  EXPECT_NE(all.find(Alert(nodata_labels, kAnn4111, "2023-11-14T22:14:20.000Z",
                           "2023-11-14T22:14:50.000Z")),
            std::string::npos)
      << all;
  // The repeated firing keeps the first startsAt.
  EXPECT_NE(all.rfind(Alert(kLabels4111, kAnn4111, "2023-11-14T22:13:20.000Z",
                            "2023-11-14T22:19:00.000Z")),
            std::string::npos);
}

TEST(AlertmanagerSink, EveryUrlGetsEveryAlertAndADeadOneHoldsBackNoOther) {
  HttpSinkOptions o = Options({"http://am-a.test/api/v2/alerts", "http://am-b.test/api/v2/alerts"});
  Harness h(o);
  // am-b never answers in time: its requests fail; am-a answers.
  h.t.server.respond = [](const testing::SeenRequest& req, int) {
    if (req.url.find("am-b") != std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return testing::TimedOut();
    }
    return testing::Status(200);
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(h.sink->Write(MakeRecord("h" + std::to_string(i), RecordKind::kMatch,
                                         std::to_string(1000 + i)))
                    .ok());
  }
  // am-a has all three while am-b is still on its first attempt.
  auto a_alerts = [&] {
    size_t n = 0;
    for (const auto& r : h.t.server.requests()) {
      if (r.url.find("am-a") == std::string::npos) continue;
      for (size_t at = r.body.find("\"labels\""); at != std::string::npos;
           at = r.body.find("\"labels\"", at + 1)) {
        ++n;
      }
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return a_alerts() == 3; }, std::chrono::milliseconds(250)))
      << a_alerts();
  ASSERT_TRUE(h.sink->Close().ok());
  const auto dead = h.dead.Get();
  ASSERT_EQ(dead.size(), 3u);  // each record once, for am-b only
  for (const auto& [id, reason] : dead) {
    EXPECT_EQ(reason.rfind("alertmanager http://am-b.test/api/v2/alerts: ", 0), 0u) << reason;
  }
}

TEST(AlertmanagerSink, SnapshotKeepsActiveAlertsAndQueuesAcrossARestart) {
  std::string state;
  {
    Harness h(Options({"http://am-a.test/api/v2/alerts", "http://gone.test/api/v2/alerts"}));
    h.t.server.Hold();
    ASSERT_TRUE(h.sink->Write(MakeRecord("s1", RecordKind::kFiring, "4111")).ok());
    ASSERT_TRUE(h.sink->Write(MakeRecord("s2", RecordKind::kMatch, "5500")).ok());
    ASSERT_EQ(h.t.server.WaitForRequests(2), 2u);  // one in flight per URL
    auto snap = h.sink->SnapshotState(3);
    ASSERT_TRUE(snap.ok()) << snap.status();
    state = *snap;
    h.t.server.Release();
  }
  Harness h2(Options({"http://am-a.test/api/v2/alerts"}));
  h2.t.server.Hold();
  ASSERT_TRUE(h2.sink->Restore(state).ok());
  EXPECT_EQ(h2.sink->active_alerts(), 1u);
  h2.t.server.Release();
  ASSERT_TRUE(h2.sink->Close().ok());
  std::string all;
  for (const auto& r : h2.t.server.requests()) {
    EXPECT_EQ(r.url, "http://am-a.test/api/v2/alerts");
    all += r.body;
  }
  // The restored queue (firing s1, match s2) and the immediate re-send of the active alert.
  size_t firing = 0;
  for (size_t at = all.find("\"card\":\"4111\""); at != std::string::npos;
       at = all.find("\"card\":\"4111\"", at + 1)) {
    ++firing;
  }
  EXPECT_GE(firing, 1u);
  EXPECT_NE(all.find("\"card\":\"5500\""), std::string::npos);
  EXPECT_NE(h2.logs.All().find("alerts pending for http://gone.test/api/v2/alerts (no longer "
                               "configured) dropped"),
            std::string::npos)
      << h2.logs.All();
  EXPECT_EQ(h2.sink->Restore(state.substr(0, 10)).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vigil::alerting
