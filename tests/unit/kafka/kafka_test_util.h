#pragma once
// Shared pieces of the Kafka tests: an in-process mock cluster, a producer, and reading a
// Source to a condition (records copied out of the source's buffer).
//
// The tests of a KafkaTest suite share one cluster (stopping one takes a second), so each
// test uses topics of its own. Tests that inject errors start a cluster of their own.
#include <poll.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/kafka/kafka_source.h"
#include "gtest/gtest.h"
#include "tools/kafka_mock/clients.h"
#include "tools/kafka_mock/mock_cluster.h"

namespace vigil::kafka_test {

// A record as read from a source, owning its text.
struct Got {
  int partition = 0;
  uint64_t seq = 0;
  std::string text;
  friend bool operator==(const Got&, const Got&) = default;
};

class KafkaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = kafka_mock::MockCluster::Start(1);
    ASSERT_TRUE(c.ok()) << c.status();
    shared_cluster_ = c->release();
  }
  static void TearDownTestSuite() {
    delete shared_cluster_;
    shared_cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(shared_cluster_, nullptr);
    cluster_ = shared_cluster_;
    auto p = kafka_mock::Producer::Open(cluster_->bootstrap());
    ASSERT_TRUE(p.ok()) << p.status();
    producer_ = std::move(*p);
  }

  void CreateTopic(const std::string& topic, int partitions) {
    ASSERT_TRUE(cluster_->CreateTopic(topic, partitions).ok());
  }

  // Produces `value` to a partition and waits for its acknowledgement.
  void Produce(const std::string& topic, int partition, const std::string& value) {
    ASSERT_TRUE(producer_->Produce(topic, partition, std::nullopt, value).ok());
    ASSERT_TRUE(producer_->Flush(Duration::Seconds(10)).ok());
  }
  // Produces n values {"p":P,"i":I} round-robin over `partitions`, starting at i = first.
  void ProduceMany(const std::string& topic, int partitions, int n, int first = 0) {
    for (int i = first; i < first + n; ++i) {
      int p = i % partitions;
      ASSERT_TRUE(producer_
                      ->Produce(topic, p, std::nullopt,
                                "{\"p\":" + std::to_string(p) + ",\"i\":" + std::to_string(i) + "}")
                      .ok());
    }
    ASSERT_TRUE(producer_->Flush(Duration::Seconds(10)).ok());
  }

  engine::KafkaSourceOptions SourceOptions(const std::string& topic) {
    engine::KafkaSourceOptions o;
    o.client.brokers = cluster_->bootstrap();
    o.topic = topic;
    o.open_timeout = Duration::Seconds(5);
    o.log = [](std::string_view) {};
    return o;
  }

  std::unique_ptr<engine::KafkaSource> OpenSource(const engine::KafkaSourceOptions& o) {
    auto s = engine::KafkaSource::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  static inline kafka_mock::MockCluster* shared_cluster_ = nullptr;
  kafka_mock::MockCluster* cluster_ = nullptr;
  std::unique_ptr<kafka_mock::Producer> producer_;
};

// Polls `source` (waiting on its wait_fd between polls) until `want` records were read, the
// source ends, or `timeout` passes. Each Poll asks for at most `batch` records.
inline std::vector<Got> ReadRecords(engine::Source* source, size_t want,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                    size_t batch = 1000, bool* ended = nullptr) {
  std::vector<Got> got;
  std::vector<engine::SourceRecord> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (ended != nullptr) *ended = false;
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto st = source->Poll(std::min(batch, want - got.size()), &out);
    if (!st.ok()) {
      ADD_FAILURE() << st.status();
      break;
    }
    for (const engine::SourceRecord& r : out) {
      got.push_back(Got{r.partition, r.seq, std::string(r.text)});
    }
    if (*st == engine::PollState::kEnd) {
      if (ended != nullptr) *ended = true;
      break;
    }
    if (*st == engine::PollState::kWait) {
      pollfd pfd{source->wait_fd(), POLLIN, 0};
      ::poll(&pfd, 1, 100);
    }
  }
  return got;
}

// Polls until the source ends (returns true) or `timeout` passes; records are appended.
inline bool ReadToEnd(engine::Source* source, std::vector<Got>* got,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  bool ended = false;
  std::vector<Got> more = ReadRecords(source, SIZE_MAX, timeout, 1000, &ended);
  got->insert(got->end(), more.begin(), more.end());
  return ended;
}

}  // namespace vigil::kafka_test
