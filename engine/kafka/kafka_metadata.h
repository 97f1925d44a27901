#pragma once
// Topic metadata shared by the group consumer, the partition reader and PartitionCount.
//
// The metadata of ALL topics is requested: asking for named topics may create them (brokers
// with auto.create.topics.enable before 0.11, and librdkafka's mock cluster, ignore the
// client's allow.auto.create.topics), and a reader must never create what it reads.
//
// Thread-safe (librdkafka's handles are).
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/kafka/kafka_client.h"

namespace vigil::engine::kafka {

// The partition count of each of `topics` (same order), waiting at most `timeout_ms` for an
// answer. Errors: NotFound naming the first topic that does not exist and the brokers;
// Unavailable when no broker answers in time, or a topic stays in error (the error is named).
absl::StatusOr<std::vector<int>> PartitionCounts(rd_kafka_t* rk,
                                                 const std::vector<std::string>& topics,
                                                 const std::string& brokers, int timeout_ms);

}  // namespace vigil::engine::kafka
