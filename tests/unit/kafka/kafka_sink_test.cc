#include "alerting/kafka/kafka_sink.h"

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "alerting/kafka/pending_records.h"
#include "tests/unit/kafka/kafka_test_util.h"

namespace vigil::kafka_test {
namespace {

using alerting::KafkaSink;
using alerting::KafkaSinkOptions;
using engine::Record;

EventPtr MakeEvent(const std::string& raw, std::vector<Value> values, int64_t time, uint64_t seq) {
  auto e = std::make_shared<Event>();
  e->raw = raw;
  e->values = std::move(values);
  e->time = EventTime(time);
  e->seq = seq;
  return e;
}

// A record of rule "fraud" for `card`, with two events, fields of every type, labels and
// annotations.
Record MakeRecord(const std::string& id, const std::string& card) {
  Record r;
  r.id = id;
  r.rule = "fraud";
  r.kind = engine::RecordKind::kMatch;
  r.key = {{"card", Value::String(card)}};
  r.time = EventTime(1714564800000);
  r.events = {{"a",
               {MakeEvent("{\"card\":\"" + card + "\",\"amount\":5}",
                          {Value::String(card), Value::Int(5)}, 1714564799000, 3)}},
              {"b",
               {MakeEvent("{\"card\":\"" + card + "\",\"amount\":900.5}",
                          {Value::String(card), Value::Float(900.5)}, 1714564800000, 4),
                nullptr}}};
  r.fields = {{"total", Value::Float(905.5)},
              {"n", Value::Int(2)},
              {"flag", Value::Bool(true)},
              {"none", Value::Null()},
              {"at", Value::Timestamp(EventTime(1714564800000))}};
  r.labels = {{"alertname", "fraud"}, {"severity", "page"}};
  r.annotations = {{"summary", "card " + card + " \"quoted\""}};
  return r;
}

// Collects what a sink dead-letters (from its delivery thread).
struct DeadLetters {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> got;  // (record id, reason)
  engine::SinkContext Context(const std::string& name = "bus") {
    engine::SinkContext ctx;
    ctx.name = name;
    ctx.dead_letter = [this](const Record& r, std::string_view reason) {
      std::lock_guard<std::mutex> lock(mu);
      got.emplace_back(r.id, std::string(reason));
    };
    ctx.now_ms = [] { return int64_t{0}; };
    ctx.log = [](std::string_view) {};
    return ctx;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return got.size();
  }
};

std::string HeaderOf(const kafka_mock::ReadRecord& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<none>";
}

class KafkaSinkTest : public KafkaTest {
 protected:
  KafkaSinkOptions SinkOptions(const std::string& topic) {
    KafkaSinkOptions o;
    o.client.brokers = cluster_->bootstrap();
    o.topic = topic;
    o.timeout = Duration::Seconds(10);
    return o;
  }
};

TEST(KafkaRecordKeyTest, IsThePartitionKeyAsAJsonObject) {
  Record r = MakeRecord("0000000000000001", "c1");
  EXPECT_EQ(alerting::KafkaRecordKey(r), "{\"card\":\"c1\"}");
  r.key = {{"card", Value::String("c\"2")}, {"region", Value::Int(7)}};
  EXPECT_EQ(alerting::KafkaRecordKey(r), "{\"card\":\"c\\\"2\",\"region\":7}");
  r.key.clear();
  EXPECT_EQ(alerting::KafkaRecordKey(r), "");
}

TEST_F(KafkaSinkTest, ProducesKeyValueAndIdHeader) {
  CreateTopic("alerts", 3);
  DeadLetters dead;
  auto sink = KafkaSink::Open(SinkOptions("alerts"), dead.Context());
  ASSERT_TRUE(sink.ok()) << sink.status();
  std::vector<Record> written;
  for (int i = 0; i < 12; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "%016x", i + 1);
    written.push_back(MakeRecord(id, "c" + std::to_string(i % 4)));
    ASSERT_TRUE((*sink)->Write(written.back()).ok());
  }
  Record late;  // no partition key: no message key
  late.id = "00000000000000ff";
  late.kind = engine::RecordKind::kLate;
  late.stream = "txn";
  written.push_back(late);
  ASSERT_TRUE((*sink)->Write(late).ok());
  ASSERT_TRUE((*sink)->Flush().ok());
  ASSERT_TRUE((*sink)->Close().ok());
  engine::SinkStats stats = (*sink)->stats();
  EXPECT_EQ(stats.sent, 13u);
  EXPECT_EQ(stats.dead_lettered, 0u);
  EXPECT_EQ(stats.queue_depth, 0u);
  EXPECT_EQ(dead.size(), 0u);

  auto read = kafka_mock::ReadTopic(cluster_->bootstrap(), "alerts", Duration::Seconds(10));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 13u);
  std::map<std::string, const Record*> by_id;
  for (const Record& r : written) by_id[r.id] = &r;
  std::map<std::string, std::set<int>> partitions_of_key;
  for (const kafka_mock::ReadRecord& m : *read) {
    std::string id = HeaderOf(m, "vigil-record-id");
    ASSERT_TRUE(by_id.contains(id)) << id;
    const Record& r = *by_id[id];
    ASSERT_TRUE(m.value.has_value());
    EXPECT_EQ(*m.value, engine::RecordToJson(r));
    if (r.key.empty()) {
      EXPECT_FALSE(m.key.has_value());
    } else {
      ASSERT_TRUE(m.key.has_value());
      EXPECT_EQ(*m.key, alerting::KafkaRecordKey(r));
      partitions_of_key[*m.key].insert(m.partition);
    }
    by_id.erase(id);  // each id exactly once
  }
  EXPECT_EQ(by_id.size(), 0u);
  // One key, one partition.
  ASSERT_EQ(partitions_of_key.size(), 4u);
  for (const auto& [key, parts] : partitions_of_key) EXPECT_EQ(parts.size(), 1u) << key;
}

TEST_F(KafkaSinkTest, WriteAfterCloseIsRefused) {
  CreateTopic("closed", 1);
  DeadLetters dead;
  auto sink = KafkaSink::Open(SinkOptions("closed"), dead.Context());
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ((*sink)->Write(MakeRecord("0000000000000001", "c")).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KafkaSinkTest, AcknowledgedRecordsLeaveTheSnapshot) {
  CreateTopic("acked", 1);
  DeadLetters dead;
  auto sink = KafkaSink::Open(SinkOptions("acked"), dead.Context());
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(MakeRecord("0000000000000001", "c1")).ok());
  ASSERT_TRUE((*sink)->Write(MakeRecord("0000000000000002", "c2")).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*sink)->stats().sent < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ((*sink)->stats().sent, 2u);
  auto state = (*sink)->SnapshotState(1);
  ASSERT_TRUE(state.ok());
  auto pending = alerting::DecodePendingRecords(*state);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_TRUE(pending->empty());
  ASSERT_TRUE((*sink)->Close().ok());
}

// Brokers that never answer: records stay pending, the snapshot holds them, and a sink
// restored from it delivers them, unchanged, once brokers are there.
TEST_F(KafkaSinkTest, SnapshotHoldsPendingRecordsAndRestoreDeliversThem) {
  CreateTopic("resent", 2);
  std::vector<Record> written = {MakeRecord("00000000000000a1", "c1"),
                                 MakeRecord("00000000000000a2", "c2"),
                                 MakeRecord("00000000000000a3", "c1")};
  std::string state;
  {
    DeadLetters dead;
    KafkaSinkOptions o = SinkOptions("resent");
    o.client.brokers = "127.0.0.1:1";  // nothing listens there
    auto down = KafkaSink::Open(o, dead.Context());
    ASSERT_TRUE(down.ok()) << down.status();  // Open does not wait for brokers
    for (const Record& r : written) ASSERT_TRUE((*down)->Write(r).ok());
    EXPECT_EQ((*down)->stats().queue_depth, 3u);
    auto snap = (*down)->SnapshotState(7);
    ASSERT_TRUE(snap.ok());
    state = *snap;
    // The job crashes here: the sink is destroyed without Close().
  }
  auto pending = alerting::DecodePendingRecords(state);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(engine::RecordToJson((*pending)[i]), engine::RecordToJson(written[i]));
  }

  DeadLetters dead;
  auto sink = KafkaSink::Open(SinkOptions("resent"), dead.Context());
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Restore(state).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ((*sink)->stats().sent, 3u);
  auto read = kafka_mock::ReadTopic(cluster_->bootstrap(), "resent", Duration::Seconds(10));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  std::set<std::string> values;
  for (const auto& m : *read) values.insert(*m.value);
  std::set<std::string> want;
  for (const Record& r : written) want.insert(engine::RecordToJson(r));
  EXPECT_EQ(values, want);
}

TEST_F(KafkaSinkTest, RestoreRejectsACorruptState) {
  CreateTopic("corrupt", 1);
  DeadLetters dead;
  auto sink = KafkaSink::Open(SinkOptions("corrupt"), dead.Context());
  ASSERT_TRUE(sink.ok());
  EXPECT_TRUE((*sink)->Restore("").ok());  // a fresh sink's empty state
  EXPECT_EQ((*sink)->Restore("\x01\x05garbage").code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE((*sink)->Close().ok());
}

// Delivery failures need a cluster of their own: the errors injected would hit other tests.
class KafkaSinkFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = kafka_mock::MockCluster::Start(1);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopic("alerts", 1).ok());
  }
  std::unique_ptr<kafka_mock::MockCluster> cluster_;
};

TEST_F(KafkaSinkFailureTest, RecordsNotAcknowledgedInTimeAreDeadLettered) {
  // Every produce request fails with a retriable error: librdkafka retries until the
  // records' timeout, then reports them failed.
  std::vector<rd_kafka_resp_err_t> errors(2000, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  rd_kafka_mock_push_request_errors_array(cluster_->raw(), 0 /* Produce */, errors.size(),
                                          errors.data());
  DeadLetters dead;
  KafkaSinkOptions o;
  o.client.brokers = cluster_->bootstrap();
  o.topic = "alerts";
  o.timeout = Duration::Seconds(1);
  auto sink = KafkaSink::Open(o, dead.Context());
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(MakeRecord("00000000000000b1", "c1")).ok());
  ASSERT_TRUE((*sink)->Write(MakeRecord("00000000000000b2", "c2")).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (dead.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(dead.size(), 2u);
  std::set<std::string> ids;
  for (const auto& [id, reason] : dead.got) {
    ids.insert(id);
    EXPECT_NE(reason.find("kafka://" + cluster_->bootstrap() + "/alerts: "), std::string::npos)
        << reason;
    EXPECT_NE(reason.find("timed out"), std::string::npos) << reason;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"00000000000000b1", "00000000000000b2"}));
  engine::SinkStats stats = (*sink)->stats();
  EXPECT_EQ(stats.dead_lettered, 2u);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_EQ(stats.queue_depth, 0u);
  rd_kafka_mock_clear_request_errors(cluster_->raw(), 0);
  ASSERT_TRUE((*sink)->Close().ok());
}

TEST_F(KafkaSinkFailureTest, AFullQueueBlocksWriteUntilRoomIsMade) {
  DeadLetters dead;
  KafkaSinkOptions o;
  o.client.brokers = "127.0.0.1:1";  // never acknowledges: records time out
  o.topic = "alerts";
  o.timeout = Duration::Millis(800);
  o.max_pending = 2;
  auto sink = KafkaSink::Open(o, dead.Context());
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(MakeRecord("00000000000000c1", "c1")).ok());
  ASSERT_TRUE((*sink)->Write(MakeRecord("00000000000000c2", "c1")).ok());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE((*sink)->Write(MakeRecord("00000000000000c3", "c1")).ok());  // waits
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_GE(dead.size(), 1u);  // room was made by a record given up on
  EXPECT_EQ((*sink)->stats().overflowed, 1u);
  ASSERT_TRUE((*sink)->Close().ok());  // the last record times out too
  EXPECT_EQ(dead.size(), 3u);
  EXPECT_EQ((*sink)->stats().dead_lettered, 3u);
}

TEST(KafkaSinkOptionsTest, ReadFromTheDeclaration) {
  cep::SinkDef def;
  def.name = "bus";
  def.kind = "kafka";
  def.options = {{"brokers", Value::String("b1:9092,b2:9092")},
                 {"topic", Value::String("alerts")},
                 {"timeout", Value::Int(5000)},
                 {"security_protocol", Value::String("sasl_ssl")},
                 {"sasl_mechanism", Value::String("SCRAM-SHA-512")},
                 {"sasl_username", Value::String("vigil")},
                 {"sasl_password_env", Value::String("VIGIL_TEST_KAFKA_PASSWORD")}};
  KafkaSinkOptions o = alerting::KafkaSinkOptionsFrom(def);
  EXPECT_EQ(o.client.brokers, "b1:9092,b2:9092");
  EXPECT_EQ(o.topic, "alerts");
  EXPECT_EQ(o.timeout.ms, 5000);
  EXPECT_EQ(o.client.security_protocol, "sasl_ssl");
  EXPECT_EQ(o.client.sasl_mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(o.client.sasl_username, "vigil");
  EXPECT_EQ(o.client.sasl_password_env, "VIGIL_TEST_KAFKA_PASSWORD");

  def.options.resize(2);
  EXPECT_EQ(alerting::KafkaSinkOptionsFrom(def).timeout.ms, 30000);  // the default
}

TEST(KafkaSinkOptionsTest, PasswordComesFromTheEnvironmentAndStaysSecret) {
  cep::SinkDef def;
  def.name = "bus";
  def.kind = "kafka";
  def.options = {{"brokers", Value::String("127.0.0.1:1")},
                 {"topic", Value::String("alerts")},
                 {"security_protocol", Value::String("sasl_plaintext")},
                 {"sasl_mechanism", Value::String("PLAIN")},
                 {"sasl_username", Value::String("vigil")},
                 {"sasl_password_env", Value::String("VIGIL_TEST_KAFKA_PASSWORD")}};
  unsetenv("VIGIL_TEST_KAFKA_PASSWORD");
  DeadLetters dead;
  auto missing = alerting::MakeKafkaSink(def, dead.Context());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("VIGIL_TEST_KAFKA_PASSWORD"), std::string::npos);

  setenv("VIGIL_TEST_KAFKA_PASSWORD", "hunter2-secret", 1);
  std::vector<std::string> logged;
  std::mutex mu;
  engine::SinkContext ctx = dead.Context();
  ctx.log = [&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    logged.emplace_back(line);
  };
  auto sink = alerting::MakeKafkaSink(def, ctx);
  ASSERT_TRUE(sink.ok()) << sink.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let it fail to connect
  sink->reset();
  unsetenv("VIGIL_TEST_KAFKA_PASSWORD");
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(logged.empty()) << "the connection failure was not logged";
  for (const std::string& line : logged) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  }
}

TEST(PendingRecordsTest, RoundTripLosslesslyAndRejectCorruptBytes) {
  Record a = MakeRecord("0000000000000001", "c1");
  Record b;
  b.id = "0000000000000002";
  b.kind = engine::RecordKind::kLate;
  b.stream = "txn";
  b.events = {{"txn", {MakeEvent("{\"x\":1}", {Value::Int(1)}, 5, 9)}}};
  std::string bytes = alerting::EncodePendingRecords({&a, &b});
  auto back = alerting::DecodePendingRecords(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ(engine::RecordToJson((*back)[0]), engine::RecordToJson(a));
  EXPECT_EQ(engine::RecordToJson((*back)[1]), engine::RecordToJson(b));
  // Beyond the JSON rendering: event values, times and positions survive too.
  const Event& e = *(*back)[0].events[1].second[0];
  EXPECT_EQ(e.values[1], Value::Float(900.5));
  EXPECT_EQ(e.time.ms, 1714564800000);
  EXPECT_EQ(e.seq, 4u);
  EXPECT_EQ((*back)[0].events[1].second[1], nullptr);
  EXPECT_EQ((*back)[0].fields, a.fields);
  EXPECT_EQ((*back)[0].labels, a.labels);
  EXPECT_EQ((*back)[0].annotations, a.annotations);
  EXPECT_EQ((*back)[1].kind, engine::RecordKind::kLate);

  auto empty = alerting::DecodePendingRecords(alerting::EncodePendingRecords({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(alerting::DecodePendingRecords(bytes.substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_FALSE(alerting::DecodePendingRecords(bytes + "\x01").ok());
}

}  // namespace
}  // namespace vigil::kafka_test
