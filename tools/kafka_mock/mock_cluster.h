#pragma once
// A mock Kafka cluster in this process: librdkafka's rdkafka_mock, which speaks the Kafka
// protocol over TCP on 127.0.0.1 (random ports), so any client, in this process or another,
// can use it as its bootstrap servers. Used by the kafka-mock program and by tests.
//
// What the mock does not do (librdkafka 2.0.2): it ignores transaction aborts and
// read_committed; it answers every ListOffsets by time with "no offset"; it keeps only the
// newest 5 MiB (and 100000 message batches) of each partition, dropping older data.
//
// Thread-safe (librdkafka's mock runs on its own thread).
#include <memory>
#include <string>

#include "core/status.h"
#include "engine/kafka/kafka_client.h"

// rdkafka_mock.h needs rdkafka.h first (kafka_client.h includes it).
#include <librdkafka/rdkafka_mock.h>

namespace vigil::kafka_mock {

class MockCluster {
 public:
  // Starts `brokers` brokers (1..16). Errors: InvalidArgument for a bad count, Internal when
  // librdkafka cannot start the cluster.
  static absl::StatusOr<std::unique_ptr<MockCluster>> Start(int brokers);
  ~MockCluster();  // stops the brokers; clients still connected see them go down
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:PORT[,127.0.0.1:PORT...]", for bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }
  // Creates a topic (replication factor 1). Create topics before clients ask for them.
  // Errors: InvalidArgument for an empty name or partitions outside 1..10000; Internal with
  // librdkafka's reason otherwise (e.g. the topic exists).
  absl::Status CreateTopic(const std::string& topic, int partitions);
  // For tests that inject errors (rd_kafka_mock_push_request_errors, ...).
  rd_kafka_mock_cluster_t* raw() const { return cluster_; }

 private:
  MockCluster() = default;
  engine::kafka::HandlePtr rk_;  // the client the mock needs for its bookkeeping
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace vigil::kafka_mock
