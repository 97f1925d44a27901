#include "engine/kafka/kafka_source.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/kafka/kafka_position.h"
#include "engine/source/source_registry.h"
#include "tests/unit/kafka/kafka_test_util.h"

namespace vigil::kafka_test {
namespace {

using engine::KafkaSource;
using engine::KafkaStart;
using engine::PollState;

// {"p":P,"i":I} as ProduceMany writes it.
std::string Value(int p, int i) {
  return "{\"p\":" + std::to_string(p) + ",\"i\":" + std::to_string(i) + "}";
}

// Checks that `got` holds, per partition, consecutive offsets from `first[p]` in order, each
// with the value ProduceMany wrote at that offset (i = offset * partitions + p when the topic
// was filled from i = 0), and returns the count per partition.
std::map<int, int> CheckOrderedRun(const std::vector<Got>& got, int partitions,
                                   std::map<int, uint64_t> first = {}) {
  std::map<int, int> count;
  std::map<int, uint64_t> next = first;
  for (const Got& g : got) {
    EXPECT_GE(g.partition, 0);
    EXPECT_LT(g.partition, partitions);
    EXPECT_EQ(g.seq, next[g.partition]) << "partition " << g.partition;
    EXPECT_EQ(g.text, Value(g.partition, static_cast<int>(g.seq) * partitions + g.partition));
    next[g.partition] = g.seq + 1;
    ++count[g.partition];
  }
  return count;
}

TEST_F(KafkaTest, ReadsEveryRecordOfEveryPartitionInOrder) {
  CreateTopic("txn", 3);
  ProduceMany("txn", 3, 30);
  auto source = OpenSource(SourceOptions("txn"));
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->partitions(), 3);
  EXPECT_EQ(source->name(), "kafka://" + cluster_->bootstrap() + "/txn");
  EXPECT_TRUE(source->live());
  EXPECT_FALSE(source->bounded());
  EXPECT_GE(source->wait_fd(), 0);

  std::vector<Got> got = ReadRecords(source.get(), 30, std::chrono::seconds(10), 4);
  ASSERT_EQ(got.size(), 30u);
  std::map<int, int> per_partition = CheckOrderedRun(got, 3);
  EXPECT_EQ(per_partition, (std::map<int, int>{{0, 10}, {1, 10}, {2, 10}}));
  for (int p = 0; p < 3; ++p) EXPECT_EQ(source->next_offset(p), 10);
  // Nothing more: the source waits (it is not bounded).
  std::vector<engine::SourceRecord> out;
  auto st = source->Poll(100, &out);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, PollState::kWait);
  EXPECT_TRUE(out.empty());
}

TEST_F(KafkaTest, ValuesAreFollowedByReadablePadding) {
  CreateTopic("pad", 1);
  Produce("pad", 0, "{\"a\":1}");
  Produce("pad", 0, "{\"b\":22}");
  auto source = OpenSource(SourceOptions("pad"));
  ASSERT_NE(source, nullptr);
  std::vector<engine::SourceRecord> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(source->Poll(10, &out).ok());
    if (out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(out.size(), 2u);
  for (const engine::SourceRecord& r : out) {
    // The padding is the source's own zeroed bytes, right after the value.
    std::string padding(r.text.data() + r.text.size(), engine::kSourcePadding);
    EXPECT_EQ(padding, std::string(engine::kSourcePadding, '\0'));
  }
  EXPECT_EQ(out[0].text, "{\"a\":1}");
  EXPECT_EQ(out[1].text, "{\"b\":22}");
}

TEST_F(KafkaTest, PositionAndSeekResumeExactlyAfterTheLastRecordReturned) {
  CreateTopic("resume", 3);
  ProduceMany("resume", 3, 30);
  std::vector<Got> first;
  std::string position;
  {
    auto a = OpenSource(SourceOptions("resume"));
    ASSERT_NE(a, nullptr);
    first = ReadRecords(a.get(), 13, std::chrono::seconds(10), 5);
    ASSERT_EQ(first.size(), 13u);
    position = a->Position();
  }
  ProduceMany("resume", 3, 15, 30);  // more records arrive while "the job is down"

  auto b = OpenSource(SourceOptions("resume"));
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Seek(position).ok());
  EXPECT_EQ(b->Position(), position);
  std::vector<Got> second = ReadRecords(b.get(), 45 - 13);
  ASSERT_EQ(second.size(), 32u);

  std::vector<Got> all = first;
  all.insert(all.end(), second.begin(), second.end());
  // Every record exactly once, in order per partition.
  std::stable_sort(all.begin(), all.end(),
                   [](const Got& x, const Got& y) { return x.partition < y.partition; });
  std::map<int, int> per_partition = CheckOrderedRun(all, 3);
  EXPECT_EQ(per_partition, (std::map<int, int>{{0, 15}, {1, 15}, {2, 15}}));
}

TEST_F(KafkaTest, PositionBeforeAnyRecordNamesTheResolvedStart) {
  CreateTopic("early", 2);
  ProduceMany("early", 2, 10);
  auto o = SourceOptions("early");
  o.start.kind = KafkaStart::Kind::kLatest;
  std::string position;
  {
    auto a = OpenSource(o);
    ASSERT_NE(a, nullptr);
    position = a->Position();  // checkpointed before anything was read
  }
  ProduceMany("early", 2, 4, 10);
  // A restart with the same options but from the position must not skip the 4 new records,
  // which "latest" would.
  auto b = OpenSource(o);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Seek(position).ok());
  std::vector<Got> got = ReadRecords(b.get(), 4);
  ASSERT_EQ(got.size(), 4u);
  CheckOrderedRun(got, 2, {{0, 5}, {1, 5}});
}

TEST_F(KafkaTest, StartLatestReadsOnlyNewerRecords) {
  CreateTopic("late", 2);
  ProduceMany("late", 2, 10);
  auto o = SourceOptions("late");
  o.start.kind = KafkaStart::Kind::kLatest;
  auto source = OpenSource(o);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->next_offset(0), 5);
  EXPECT_EQ(source->next_offset(1), 5);
  ProduceMany("late", 2, 6, 10);
  std::vector<Got> got = ReadRecords(source.get(), 6);
  ASSERT_EQ(got.size(), 6u);
  CheckOrderedRun(got, 2, {{0, 5}, {1, 5}});
}

TEST_F(KafkaTest, StartTimeAfterEveryRecordStartsAtTheEnd) {
  // The mock cluster answers every lookup by time with "no such offset", as a real broker
  // does for a time after the newest record: the source then starts at the end.
  CreateTopic("timed", 2);
  ProduceMany("timed", 2, 8);
  auto o = SourceOptions("timed");
  auto start = engine::ParseKafkaStart("2999-01-01T00:00:00Z");
  ASSERT_TRUE(start.ok());
  o.start = *start;
  auto source = OpenSource(o);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->next_offset(0), 4);
  EXPECT_EQ(source->next_offset(1), 4);
  ProduceMany("timed", 2, 2, 8);
  std::vector<Got> got = ReadRecords(source.get(), 2);
  ASSERT_EQ(got.size(), 2u);
  CheckOrderedRun(got, 2, {{0, 4}, {1, 4}});
}

TEST(KafkaStartTest, ParsesEarliestLatestAndTimes) {
  auto s = engine::ParseKafkaStart("");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, KafkaStart::Kind::kEarliest);
  s = engine::ParseKafkaStart("earliest");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, KafkaStart::Kind::kEarliest);
  s = engine::ParseKafkaStart("latest");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, KafkaStart::Kind::kLatest);
  s = engine::ParseKafkaStart("1714564800000");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, KafkaStart::Kind::kTime);
  EXPECT_EQ(s->time.ms, 1714564800000);
  s = engine::ParseKafkaStart("2024-05-01T12:00:00Z");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, KafkaStart::Kind::kTime);
  EXPECT_EQ(s->time.ms, 1714564800000);
  s = engine::ParseKafkaStart("2024-05-01T14:00:00+02:00");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->time.ms, 1714564800000);
  for (const char* bad : {"yesterday", "-5", "12ab", "2024-13-01T00:00:00Z"}) {
    auto b = engine::ParseKafkaStart(bad);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(b.status().message().find("earliest, latest"), std::string::npos);
  }
}

TEST_F(KafkaTest, BoundedSourceEndsAtTheEndOffsetsSeenAtOpen) {
  CreateTopic("backfill", 3);
  ProduceMany("backfill", 3, 20);
  auto o = SourceOptions("backfill");
  o.bounded = true;
  auto source = OpenSource(o);
  ASSERT_NE(source, nullptr);
  EXPECT_TRUE(source->bounded());
  EXPECT_FALSE(source->live());
  ProduceMany("backfill", 3, 9, 20);  // after the open: not part of the read
  std::vector<Got> got;
  ASSERT_TRUE(ReadToEnd(source.get(), &got));
  ASSERT_EQ(got.size(), 20u);
  std::map<int, int> per_partition = CheckOrderedRun(got, 3);
  EXPECT_EQ(per_partition, (std::map<int, int>{{0, 7}, {1, 7}, {2, 6}}));
  std::vector<engine::SourceRecord> out;
  auto st = source->Poll(10, &out);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, PollState::kEnd);
  for (int p = 0; p < 3; ++p) EXPECT_TRUE(source->caught_up(p));
}

TEST_F(KafkaTest, BoundedSourceOverAnEmptyTopicEndsAtOnce) {
  CreateTopic("empty", 2);
  auto o = SourceOptions("empty");
  o.bounded = true;
  auto source = OpenSource(o);
  ASSERT_NE(source, nullptr);
  std::vector<engine::SourceRecord> out;
  auto st = source->Poll(10, &out);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, PollState::kEnd);
}

TEST_F(KafkaTest, CaughtUpFollowsThePartitionsEnds) {
  CreateTopic("lag", 2);
  for (int i = 0; i < 6; ++i) Produce("lag", 0, Value(0, i));  // partition 1 stays empty
  auto source = OpenSource(SourceOptions("lag"));
  ASSERT_NE(source, nullptr);
  EXPECT_FALSE(source->caught_up(0));  // 6 records to read
  EXPECT_TRUE(source->caught_up(1));   // nothing there
  EXPECT_FALSE(source->caught_up(7));  // no such partition
  ASSERT_EQ(ReadRecords(source.get(), 6).size(), 6u);
  EXPECT_TRUE(source->caught_up(0));
  Produce("lag", 1, Value(1, 0));
  // Partition 1 lags until its record is read (the fetch response raises its end first).
  std::vector<Got> got = ReadRecords(source.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].partition, 1);
  EXPECT_TRUE(source->caught_up(1));
}

TEST_F(KafkaTest, InvalidJsonAndTombstonesAreReturnedAsIsWithTheirOrigin) {
  CreateTopic("dirty", 2);
  Produce("dirty", 1, "{\"ok\":1}");
  Produce("dirty", 1, "not json {");
  ASSERT_TRUE(producer_->Produce("dirty", 1, std::string("k"), "").ok());  // empty value
  ASSERT_TRUE(producer_->Flush(Duration::Seconds(10)).ok());
  auto source = OpenSource(SourceOptions("dirty"));
  ASSERT_NE(source, nullptr);
  std::vector<Got> got = ReadRecords(source.get(), 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1], (Got{1, 1, "not json {"}));
  EXPECT_EQ(got[2], (Got{1, 2, ""}));
  engine::SourceRecord r{got[1].text, got[1].partition, got[1].seq};
  engine::RecordOrigin origin = source->Origin(r);
  EXPECT_EQ(origin.topic, "dirty");
  EXPECT_EQ(origin.partition, 1);
  EXPECT_EQ(origin.position, 1u);
}

TEST_F(KafkaTest, WaitFdBecomesReadableWhenARecordArrives) {
  CreateTopic("wake", 1);
  auto source = OpenSource(SourceOptions("wake"));
  ASSERT_NE(source, nullptr);
  std::vector<engine::SourceRecord> out;
  // Drain whatever the first fetches report (the partition's end) until nothing is waiting.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(source->Poll(10, &out).ok());
    pollfd pfd{source->wait_fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) == 0) break;
  }
  pollfd pfd{source->wait_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 0), 0) << "readable with nothing to read";
  Produce("wake", 0, "{\"x\":1}");
  EXPECT_EQ(::poll(&pfd, 1, 10000), 1) << "not woken by the new record";
  std::vector<Got> got = ReadRecords(source.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].text, "{\"x\":1}");
}

TEST_F(KafkaTest, MissingTopicIsAClearErrorNamingTopicAndBrokers) {
  auto start = std::chrono::steady_clock::now();
  auto s = KafkaSource::Open(SourceOptions("nope"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("topic 'nope' does not exist"), std::string::npos)
      << s.status();
  EXPECT_NE(s.status().message().find(cluster_->bootstrap()), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(KafkaSourceOpenTest, UnreachableBrokersFailWithinTheOpenTimeout) {
  engine::KafkaSourceOptions o;
  o.client.brokers = "127.0.0.1:1";  // nothing listens on port 1
  o.topic = "txn";
  o.open_timeout = Duration::Seconds(1);
  o.log = [](std::string_view) {};
  auto start = std::chrono::steady_clock::now();
  auto s = KafkaSource::Open(o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("127.0.0.1:1"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("'txn'"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("within 1s"), std::string::npos) << s.status();
  EXPECT_LT(took, std::chrono::seconds(4));
}

TEST(KafkaSourceOpenTest, UnsetPasswordVariableIsAnError) {
  engine::KafkaSourceOptions o;
  o.client.brokers = "127.0.0.1:1";
  o.client.security_protocol = "sasl_plaintext";
  o.client.sasl_mechanism = "PLAIN";
  o.client.sasl_username = "vigil";
  o.client.sasl_password_env = "VIGIL_TEST_SURELY_UNSET_PASSWORD";
  o.topic = "txn";
  auto s = KafkaSource::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("VIGIL_TEST_SURELY_UNSET_PASSWORD"), std::string::npos)
      << s.status();
}

TEST_F(KafkaTest, SeekRejectsPositionsItCannotUse) {
  CreateTopic("a", 2);
  CreateTopic("b", 1);
  std::string of_a, of_b;
  {
    auto a = OpenSource(SourceOptions("a"));
    ASSERT_NE(a, nullptr);
    of_a = a->Position();
    auto b = OpenSource(SourceOptions("b"));
    ASSERT_NE(b, nullptr);
    of_b = b->Position();
  }
  auto b = OpenSource(SourceOptions("b"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->Seek(of_a).code(), absl::StatusCode::kInvalidArgument);  // another topic
  EXPECT_EQ(b->Seek("garbage").code(), absl::StatusCode::kDataLoss);
  // More partitions than the topic has.
  std::string wide = engine::EncodeKafkaPosition(engine::KafkaPosition{"b", {0, 0, 0}});
  absl::Status st = b->Seek(wide);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("3 partitions"), std::string::npos) << st;
  ASSERT_TRUE(b->Seek(of_b).ok());
  std::vector<engine::SourceRecord> out;
  ASSERT_TRUE(b->Poll(10, &out).ok());
  EXPECT_EQ(b->Seek(of_b).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(KafkaTest, PartitionsAddedSinceTheCheckpointStartAtTheirOldestRecord) {
  CreateTopic("grown", 3);
  ProduceMany("grown", 3, 9);
  // A checkpoint taken when the topic had 2 partitions, both read up to offset 2.
  std::string old = engine::EncodeKafkaPosition(engine::KafkaPosition{"grown", {2, 2}});
  auto source = OpenSource(SourceOptions("grown"));
  ASSERT_NE(source, nullptr);
  ASSERT_TRUE(source->Seek(old).ok());
  std::vector<Got> got = ReadRecords(source.get(), 5);
  ASSERT_EQ(got.size(), 5u);
  CheckOrderedRun(got, 3, {{0, 2}, {1, 2}, {2, 0}});
}

TEST_F(KafkaTest, RegistryOpensKafkaInputUris) {
  CreateTopic("uri", 2);
  ProduceMany("uri", 2, 6);
  engine::SourceRegistry registry;
  EXPECT_FALSE(registry.Has("kafka"));
  engine::RegisterKafkaSource(&registry);
  EXPECT_TRUE(registry.Has("kafka"));
  auto spec = engine::ParseInputUri("kafka://" + cluster_->bootstrap() +
                                    "/uri?bounded=true&group=g1&start=earliest");
  ASSERT_TRUE(spec.ok()) << spec.status();
  cep::StreamDef stream;
  stream.name = "s";
  engine::SourceParams params;
  params.stream = &stream;
  params.spec = *spec;
  auto source = registry.Open(params);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE((*source)->bounded());
  std::vector<Got> got;
  ASSERT_TRUE(ReadToEnd(source->get(), &got));
  EXPECT_EQ(got.size(), 6u);

  spec = engine::ParseInputUri("kafka://" + cluster_->bootstrap() + "/uri?start=someday");
  ASSERT_TRUE(spec.ok());
  params.spec = *spec;
  auto bad = registry.Open(params);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaPositionTest, RoundTripsAndRejectsCorruptBytes) {
  engine::KafkaPosition p{"txn", {0, 5, 1234567890123}};
  std::string bytes = engine::EncodeKafkaPosition(p);
  auto back = engine::DecodeKafkaPosition(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, p);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(engine::DecodeKafkaPosition(bytes.substr(0, n)).ok()) << n;
  }
  EXPECT_EQ(engine::DecodeKafkaPosition(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
  std::string v2 = bytes;
  v2[0] = 2;  // a version this build does not know
  EXPECT_EQ(engine::DecodeKafkaPosition(v2).status().code(), absl::StatusCode::kDataLoss);
}

// Errors injected into fetches need a cluster of their own.
class KafkaSourceFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = kafka_mock::MockCluster::Start(1);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopic("txn", 1).ok());
    auto p = kafka_mock::Producer::Open(cluster_->bootstrap());
    ASSERT_TRUE(p.ok());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*p)->Produce("txn", 0, std::nullopt, Value(0, i)).ok());
    }
    ASSERT_TRUE((*p)->Flush(Duration::Seconds(10)).ok());
  }
  engine::KafkaSourceOptions Options() {
    engine::KafkaSourceOptions o;
    o.client.brokers = cluster_->bootstrap();
    o.topic = "txn";
    o.log = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      logged_.emplace_back(line);
    };
    return o;
  }
  std::unique_ptr<kafka_mock::MockCluster> cluster_;
  std::mutex mu_;
  std::vector<std::string> logged_;
};

TEST_F(KafkaSourceFailureTest, TransientFetchErrorsAreRetried) {
  rd_kafka_mock_push_request_errors(cluster_->raw(), 1 /* Fetch */, 2,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  auto source = KafkaSource::Open(Options());
  ASSERT_TRUE(source.ok()) << source.status();
  std::vector<Got> got = ReadRecords(source->get(), 5);
  ASSERT_EQ(got.size(), 5u);
  CheckOrderedRun(got, 1);
}

TEST_F(KafkaSourceFailureTest, AForbiddenTopicStopsTheSource) {
  rd_kafka_mock_push_request_errors(cluster_->raw(), 1 /* Fetch */, 1,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  auto source = KafkaSource::Open(Options());
  ASSERT_TRUE(source.ok()) << source.status();
  std::vector<engine::SourceRecord> out;
  absl::Status error;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (error.ok() && std::chrono::steady_clock::now() < deadline) {
    auto st = (*source)->Poll(10, &out);
    if (!st.ok()) error = st.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(error.code(), absl::StatusCode::kUnavailable) << error;
  EXPECT_NE(error.message().find("kafka source kafka://"), std::string::npos) << error;
  EXPECT_NE(error.message().find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos) << error;
}

}  // namespace
}  // namespace vigil::kafka_test
