// TxnProducer against librdkafka's mock cluster, and ReadPartition / PartitionCount (which
// read what it wrote).
//
// The mock (librdkafka 2.0.2) accepts transactions but keeps the records of aborted ones
// visible (it writes no control records), and it does not fence: InitProducerId for a
// transactional id already in use hands out a NEW producer id instead of bumping the epoch of
// the old one, so the older producer goes on committing. Fencing is therefore tested by
// injecting the broker's answer (PRODUCER_FENCED); the two-producer test skips on the mock.
#include "engine/kafka/txn_producer.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "engine/kafka/group_consumer.h"
#include "tests/unit/kafka/kafka_test_util.h"

namespace vigil::kafka_test {
namespace {

using engine::kafka::ClientOptions;
using engine::kafka::ConsumedRecord;
using engine::kafka::PartitionCount;
using engine::kafka::ReadPartition;
using engine::kafka::TxnProducer;
using engine::kafka::TxnProducerOptions;

// Kafka API keys (the protocol's numbers) for rd_kafka_mock_push_request_errors.
constexpr int16_t kApiEndTxn = 26;

// A record as read back, owning its bytes.
struct Read {
  int64_t offset = 0;
  std::string key, value;
  std::vector<std::pair<std::string, std::string>> headers;
};

absl::StatusOr<std::vector<Read>> ReadAll(const std::string& brokers, const std::string& topic,
                                          int partition, int64_t from = RD_KAFKA_OFFSET_BEGINNING,
                                          int timeout_ms = 10000) {
  ClientOptions client;
  client.brokers = brokers;
  std::vector<Read> got;
  absl::Status st = ReadPartition(
      client, topic, partition, from,
      [&got](const ConsumedRecord& r) {
        Read x{r.offset, std::string(r.key), std::string(r.value), {}};
        for (const auto& [n, v] : r.headers) x.headers.emplace_back(n, v);
        got.push_back(std::move(x));
        return absl::OkStatus();
      },
      timeout_ms);
  if (!st.ok()) return st;
  return got;
}

std::vector<int64_t> Offsets(const std::vector<Read>& got) {
  std::vector<int64_t> out;
  for (const Read& r : got) out.push_back(r.offset);
  return out;
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t o = from; o < to; ++o) out.push_back(o);
  return out;
}

class TxnProducerTest : public KafkaTest {
 protected:
  TxnProducerOptions Opts(const std::string& id) {
    TxnProducerOptions o;
    o.client.brokers = cluster_->bootstrap();
    o.transactional_id = id;
    o.log = [](std::string_view) {};
    return o;
  }
  std::unique_ptr<TxnProducer> Open(const TxnProducerOptions& o) {
    auto p = TxnProducer::Open(o);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }
};

TEST_F(TxnProducerTest, CommittedRecordsAreReadableWithKeysAndHeaders) {
  CreateTopic("tp-commit", 2);
  auto p = Open(Opts("vigil.test.commit"));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(p->Produce("tp-commit", i % 2, "k" + std::to_string(i), "v" + std::to_string(i),
                           {{"vigil-seq", std::to_string(i)}})
                    .ok());
  }
  EXPECT_EQ(p->produced(), 100u);
  EXPECT_EQ(p->committed(), 0u);
  ASSERT_TRUE(p->Commit().ok());
  EXPECT_EQ(p->committed(), 1u);
  for (int part = 0; part < 2; ++part) {
    auto got = ReadAll(cluster_->bootstrap(), "tp-commit", part);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), 50u);
    for (size_t j = 0; j < got->size(); ++j) {
      const int i = static_cast<int>(j) * 2 + part;
      const Read& r = (*got)[j];
      EXPECT_EQ(r.offset, static_cast<int64_t>(j));
      EXPECT_EQ(r.key, "k" + std::to_string(i));
      EXPECT_EQ(r.value, "v" + std::to_string(i));
      EXPECT_EQ(
          r.headers,
          (std::vector<std::pair<std::string, std::string>>{{"vigil-seq", std::to_string(i)}}));
    }
  }
  // The next transaction is open: more records, another commit.
  ASSERT_TRUE(p->Produce("tp-commit", 0, "", "late").ok());
  ASSERT_TRUE(p->Commit().ok());
  EXPECT_EQ(p->committed(), 2u);
  auto got = ReadAll(cluster_->bootstrap(), "tp-commit", 0, 50);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].value, "late");
  EXPECT_EQ((*got)[0].key, "");
}

TEST_F(TxnProducerTest, AbortBeginsANewTransactionThatCommits) {
  CreateTopic("tp-abort", 1);
  auto p = Open(Opts("vigil.test.abort"));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(p->Produce("tp-abort", 0, "", "aborted").ok());
  ASSERT_TRUE(p->Flush().ok());
  ASSERT_TRUE(p->Abort().ok());
  EXPECT_EQ(p->committed(), 0u);
  ASSERT_TRUE(p->Produce("tp-abort", 0, "", "kept1").ok());
  ASSERT_TRUE(p->Produce("tp-abort", 0, "", "kept2").ok());
  ASSERT_TRUE(p->Commit().ok());
  EXPECT_EQ(p->committed(), 1u);
  auto got = ReadAll(cluster_->bootstrap(), "tp-abort", 0);
  ASSERT_TRUE(got.ok()) << got.status();
  // A real broker hides the aborted three from read_committed readers (ReadPartition is one);
  // the mock keeps them visible, so only the tail is checked.
  ASSERT_GE(got->size(), 2u);
  EXPECT_EQ((*got)[got->size() - 2].value, "kept1");
  EXPECT_EQ(got->back().value, "kept2");
  if (got->size() == 5) std::printf("note: the mock kept the 3 aborted records visible\n");
}

TEST_F(TxnProducerTest, ConcurrentProducersFromSeveralThreadsLoseNothing) {
  CreateTopic("tp-threads", 3);
  TxnProducerOptions o = Opts("vigil.test.threads");
  o.max_in_flight = 50;  // small: Produce must wait for acknowledgements (backpressure)
  auto p = Open(o);
  ASSERT_NE(p, nullptr);
  constexpr int kThreads = 4, kEach = 2500;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string v = std::to_string(t) + ":" + std::to_string(i);
        if (!p->Produce("tp-threads", (t + i) % 3, "", v).ok()) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(p->produced(), static_cast<uint64_t>(kThreads * kEach));
  ASSERT_TRUE(p->Commit().ok());
  std::set<std::string> seen;
  std::map<int, int> last_i;  // per thread and partition, i must increase (one producer, in order)
  size_t total = 0;
  for (int part = 0; part < 3; ++part) {
    auto got = ReadAll(cluster_->bootstrap(), "tp-threads", part);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(Offsets(*got), Range(0, static_cast<int64_t>(got->size())));
    std::map<int, int> last;
    for (const Read& r : *got) {
      seen.insert(r.value);
      const int t = std::stoi(r.value.substr(0, r.value.find(':')));
      const int i = std::stoi(r.value.substr(r.value.find(':') + 1));
      EXPECT_EQ((t + i) % 3, part);
      if (last.count(t)) {
        EXPECT_GT(i, last[t]) << "thread " << t << " out of order";
      }
      last[t] = i;
    }
    total += got->size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
}

TEST_F(TxnProducerTest, ProduceRejectsPartitionsThatDoNotExist) {
  CreateTopic("tp-badpart", 2);
  auto p = Open(Opts("vigil.test.badpart"));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->Produce("tp-badpart", -1, "", "x").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(p->Produce("tp-badpart", 0, "", "ok").ok());
  ASSERT_TRUE(p->Flush().ok());  // the topic's metadata is known now
  absl::Status st = p->Produce("tp-badpart", 7, "", "x");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
}

TEST_F(TxnProducerTest, ASecondProducerWithTheSameIdFencesTheFirst) {
  CreateTopic("tp-fence", 1);
  auto first = Open(Opts("vigil.test.fence"));
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Produce("tp-fence", 0, "", "one").ok());
  ASSERT_TRUE(first->Commit().ok());
  auto second = Open(Opts("vigil.test.fence"));
  ASSERT_NE(second, nullptr);
  absl::Status st = first->Produce("tp-fence", 0, "", "zombie");
  if (st.ok()) st = first->Commit();
  if (st.ok()) {
    GTEST_SKIP() << "librdkafka 2.0.2's mock cluster does not fence: InitProducerId for a "
                    "transactional id in use returns a new producer id (epoch 0) instead of "
                    "bumping the old one's epoch, so the first producer still commits. "
                    "Fencing is covered by AFencedProducerFailsWithUnavailable.";
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  ASSERT_TRUE(second->Produce("tp-fence", 0, "", "two").ok());
  EXPECT_TRUE(second->Commit().ok());
}

// A suite of its own, so a cluster of its own (KafkaTest starts one per suite): injected
// errors must not reach other tests' clients.
class TxnProducerFailureTest : public TxnProducerTest {};

TEST_F(TxnProducerFailureTest, AFencedProducerFailsWithUnavailable) {
  CreateTopic("tpf-fence", 1);
  auto p = Open(Opts("vigil.test.fenced"));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->Produce("tpf-fence", 0, "", "x").ok());
  rd_kafka_mock_push_request_errors(cluster_->raw(), kApiEndTxn, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  absl::Status st = p->Commit(10000);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("fenced"), std::string::npos) << st;
  EXPECT_EQ(p->Produce("tpf-fence", 0, "", "y").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(p->Commit(1000).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(p->Abort(1000).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(p->committed(), 0u);
}

TEST_F(TxnProducerFailureTest, AnAbortableCommitErrorAbortsAndTheNextTransactionCommits) {
  CreateTopic("tpf-abortable", 1);
  auto p = Open(Opts("vigil.test.abortable"));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->Produce("tpf-abortable", 0, "", "lost").ok());
  rd_kafka_mock_push_request_errors(cluster_->raw(), kApiEndTxn, 1,
                                    RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID);
  absl::Status st = p->Commit(10000);
  EXPECT_EQ(st.code(), absl::StatusCode::kAborted) << st;
  EXPECT_EQ(p->committed(), 0u);
  ASSERT_TRUE(p->Produce("tpf-abortable", 0, "", "next").ok());
  st = p->Commit(10000);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(p->committed(), 1u);
  auto got = ReadAll(cluster_->bootstrap(), "tpf-abortable", 0);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_FALSE(got->empty());
  EXPECT_EQ(got->back().value, "next");
}

TEST(TxnProducerOpenTest, RejectsBadOptionsAndUnreachableBrokers) {
  TxnProducerOptions o;
  o.client.brokers = "127.0.0.1:1";
  o.log = [](std::string_view) {};
  EXPECT_EQ(TxnProducer::Open(o).status().code(), absl::StatusCode::kInvalidArgument);  // no id
  o.transactional_id = "x";
  o.max_in_flight = 0;
  EXPECT_EQ(TxnProducer::Open(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.max_in_flight = 10;
  auto p = TxnProducer::Open(o, 1000);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable) << p.status();
}

// --- ReadPartition and PartitionCount ---------------------------------------------------------

TEST_F(KafkaTest, ReadPartitionReadsExactlyFromTheOffsetToTheEndAtTheCall) {
  CreateTopic("rp-range", 2);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(producer_
                    ->Produce("rp-range", 0, "key" + std::to_string(i), "v" + std::to_string(i),
                              {{"h", std::to_string(i)}})
                    .ok());
  }
  ASSERT_TRUE(producer_->Flush(Duration::Seconds(10)).ok());
  const std::string brokers = cluster_->bootstrap();

  auto all = ReadAll(brokers, "rp-range", 0);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(Offsets(*all), Range(0, 10));
  EXPECT_EQ((*all)[4].key, "key4");
  EXPECT_EQ((*all)[4].value, "v4");
  EXPECT_EQ((*all)[4].headers, (std::vector<std::pair<std::string, std::string>>{{"h", "4"}}));

  auto tail = ReadAll(brokers, "rp-range", 0, 3);
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_EQ(Offsets(*tail), Range(3, 10));
  EXPECT_EQ((*tail)[0].value, "v3");

  for (int64_t from : {int64_t{10}, int64_t{25}}) {
    auto none = ReadAll(brokers, "rp-range", 0, from);
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_TRUE(none->empty()) << from;
  }
  auto empty = ReadAll(brokers, "rp-range", 1);  // a partition never written
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  // Records appended while reading lie past the end fixed at the call.
  ClientOptions client;
  client.brokers = brokers;
  std::vector<int64_t> seen;
  absl::Status st = ReadPartition(client, "rp-range", 0, 8, [&](const ConsumedRecord& r) {
    if (seen.empty()) {
      for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(producer_->Produce("rp-range", 0, std::nullopt, "more").ok());
      EXPECT_TRUE(producer_->Flush(Duration::Seconds(10)).ok());
    }
    seen.push_back(r.offset);
    EXPECT_EQ(r.value.data()[r.value.size()], '\0');  // padded
    return absl::OkStatus();
  });
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(seen, (std::vector<int64_t>{8, 9}));
  auto now = ReadAll(brokers, "rp-range", 0, 8);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(Offsets(*now), Range(8, 15));

  // The callback's error stops the read and is returned as is.
  int calls = 0;
  st = ReadPartition(client, "rp-range", 0, 0, [&](const ConsumedRecord&) {
    return ++calls == 2 ? absl::DataLossError("stop") : absl::OkStatus();
  });
  EXPECT_EQ(st, absl::DataLossError("stop"));
  EXPECT_EQ(calls, 2);
}

TEST_F(KafkaTest, ReadPartitionAndPartitionCountNameWhatIsMissing) {
  CreateTopic("rp-count", 3);
  ClientOptions client;
  client.brokers = cluster_->bootstrap();
  auto n = PartitionCount(client, "rp-count");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3);
  auto missing = PartitionCount(client, "rp-nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("rp-nope"), std::string::npos);

  auto noop = [](const ConsumedRecord&) { return absl::OkStatus(); };
  absl::Status st = ReadPartition(client, "rp-nope", 0, 0, noop);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  st = ReadPartition(client, "rp-count", 3, 0, noop);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  st = ReadPartition(client, "rp-count", 0, -1, noop);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;

  ClientOptions nowhere;
  nowhere.brokers = "127.0.0.1:1";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(PartitionCount(nowhere, "x", 1000).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReadPartition(nowhere, "x", 0, 0, noop, 1000).code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
}

}  // namespace
}  // namespace vigil::kafka_test
