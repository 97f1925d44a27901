#include "tools/kafka_mock/mock_cluster.h"

namespace vigil::kafka_mock {

namespace {
// The cluster's own client has no brokers to talk to; its complaints are noise.
void QuietLog(const rd_kafka_t*, int, const char*, const char*) {}
}  // namespace

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1 || brokers > 16) {
    return absl::InvalidArgumentError("brokers must be 1..16, not " + std::to_string(brokers));
  }
  engine::kafka::ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), QuietLog);
  VIGIL_RETURN_IF_ERROR(engine::kafka::SetConf(conf.get(), "client.id", "kafka-mock"));
  std::unique_ptr<MockCluster> m(new MockCluster());
  VIGIL_ASSIGN_OR_RETURN(m->rk_, engine::kafka::NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  m->cluster_ = rd_kafka_mock_cluster_new(m->rk_.get(), brokers);
  if (m->cluster_ == nullptr) {
    return absl::InternalError("cannot start the mock cluster (rd_kafka_mock_cluster_new)");
  }
  m->bootstrap_ = rd_kafka_mock_cluster_bootstraps(m->cluster_);
  return m;
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

absl::Status MockCluster::CreateTopic(const std::string& topic, int partitions) {
  if (topic.empty()) return absl::InvalidArgumentError("empty topic name");
  if (partitions < 1 || partitions > 10000) {
    return absl::InvalidArgumentError("topic " + topic + ": partitions must be 1..10000");
  }
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError("topic " + topic + ": " + engine::kafka::ErrorText(err));
  }
  return absl::OkStatus();
}

}  // namespace vigil::kafka_mock
