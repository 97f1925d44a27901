#pragma once
// Plain Kafka clients for the kafka-mock program and tests: a producer that waits for its
// deliveries, JSON Lines loading, and reading a topic back. They talk to any cluster (the
// mock or a real one) through its bootstrap servers.
//
// Thread-compatible: one thread at a time per Producer.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "engine/kafka/kafka_client.h"

namespace vigil::kafka_mock {

// The number of partitions of `topic`. Errors: NotFound for a missing topic; Unavailable when
// no broker answers within `timeout`.
absl::StatusOr<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, Duration timeout);

// An idempotent producer (acks=all) with Java clients' murmur2 partitioner for keyed records.
class Producer {
 public:
  static absl::StatusOr<std::unique_ptr<Producer>> Open(const std::string& bootstrap);
  ~Producer();

  // Queues one record (waits while librdkafka's queue is full). partition -1: by key (murmur2)
  // or, without a key, librdkafka's choice. Headers are (name, value) pairs.
  // Errors: Internal with librdkafka's reason when it refuses the record.
  absl::Status Produce(const std::string& topic, int partition, std::optional<std::string> key,
                       const std::string& value,
                       const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Waits until every queued record is acknowledged. Errors: DeadlineExceeded when some are
  // still pending after `timeout`; Internal naming the first delivery error and how many
  // records failed.
  absl::Status Flush(Duration timeout);

  // Bytes of values acknowledged per partition of `topic`, over this producer's life (index:
  // partition; partitions past the last one written to are absent).
  std::vector<uint64_t> delivered_bytes(const std::string& topic) const;
  uint64_t delivered() const { return delivered_; }
  rd_kafka_t* handle() const { return rk_.get(); }

 private:
  Producer() = default;
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);

  engine::kafka::ClientContext ctx_;
  engine::kafka::HandlePtr rk_;
  uint64_t delivered_ = 0;
  uint64_t failures_ = 0;
  std::string first_error_;
  std::vector<std::pair<std::string, std::vector<uint64_t>>> bytes_;  // by topic, partition
};

// What `--load TOPIC=FILE[:KEYFIELD]` does: produces each non-blank line of the file to the
// topic. With a key field, the key is that top-level field's value (a string as is, any other
// JSON value as its compact JSON text), and the record goes to murmur2(key)'s partition;
// without one, line i (0-based, blank lines skipped) goes to partition i mod partitions, so a
// load is always spread the same way. Lines are sent as they are (invalid JSON included) when
// there is no key field. `stop` is polled between lines; returning true abandons the load.
// Returns the number of records loaded (all acknowledged).
// Errors: NotFound for a missing file or topic; InvalidArgument "FILE:LINE: ..." for a line
// without the key field or that is not JSON when a key field is given; the producer's errors.
absl::StatusOr<uint64_t> LoadJsonl(Producer* producer, const std::string& topic,
                                   const std::string& path, const std::string& key_field,
                                   const std::function<bool()>& stop);

// A record read back.
struct ReadRecord {
  int partition = 0;
  int64_t offset = 0;
  int64_t timestamp = 0;  // ms since the epoch (Kafka's record timestamp)
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt for a null value (a tombstone)
  std::vector<std::pair<std::string, std::string>> headers;
};

// Reads every partition of `topic` from its start. With min_records == 0, up to the end
// offsets when the call starts; otherwise until at least min_records records were read
// (waiting for them). Records are in offset order per partition, partitions interleaved.
// Errors: NotFound for a missing topic; DeadlineExceeded (with the count read) when the end
// or min_records is not reached within `timeout`.
absl::StatusOr<std::vector<ReadRecord>> ReadTopic(const std::string& bootstrap,
                                                  const std::string& topic, Duration timeout,
                                                  size_t min_records = 0);

}  // namespace vigil::kafka_mock
