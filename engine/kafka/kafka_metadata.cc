#include "engine/kafka/kafka_metadata.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace vigil::engine::kafka {

namespace {

using Clock = std::chrono::steady_clock;

// Errors a retry does not cure.
bool IsPermanent(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
         err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED || err == RD_KAFKA_RESP_ERR__FATAL;
}

}  // namespace

absl::StatusOr<std::vector<int>> PartitionCounts(rd_kafka_t* rk,
                                                 const std::vector<std::string>& topics,
                                                 const std::string& brokers, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 1));
  std::string last_error = "no answer";
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk, 1, nullptr, &raw, static_cast<int>(left.count()));
    MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = ErrorText(err);
      if (IsPermanent(err)) break;
      continue;  // rd_kafka_metadata waited; try again while time is left
    }
    std::vector<int> counts;
    bool retry = false;
    for (const std::string& topic : topics) {
      const rd_kafka_metadata_topic_t* t = nullptr;
      for (int i = 0; i < md->topic_cnt && t == nullptr; ++i) {
        if (topic == md->topics[i].topic) t = &md->topics[i];
      }
      if (t == nullptr || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return absl::NotFoundError("topic '" + topic + "' does not exist on brokers " + brokers +
                                   " (or this client may not see it)");
      }
      if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        last_error = "topic '" + topic + "': " + ErrorText(t->err);
        if (IsPermanent(t->err)) return absl::UnavailableError(last_error);
        retry = true;
        break;
      }
      if (t->partition_cnt <= 0) {
        last_error = "topic '" + topic + "' has no partitions yet";
        retry = true;
        break;
      }
      counts.push_back(t->partition_cnt);
    }
    if (!retry) return counts;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError("no metadata from brokers " + brokers + " within " +
                                std::to_string(timeout_ms) + " ms: " + last_error);
}

}  // namespace vigil::engine::kafka
