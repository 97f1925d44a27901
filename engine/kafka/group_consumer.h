#pragma once
// A consumer in a Kafka consumer group (scale-out, docs/scale-out.md): several `vigil run`
// processes with the same group share the partitions of the subscribed topics, and Kafka
// (the group coordinator) moves partitions when processes join, leave or die. Assignment is
// cooperative-sticky (incremental: only the partitions that move are revoked and assigned).
//
// Offsets are never committed to Kafka: where a partition resumes is decided by the caller
// when it is assigned (AssignedFn returns the offset to start at), from Vigil's own
// checkpoints. The callbacks run inside Poll(), on the caller's thread, before Poll returns
// any record of a newly assigned partition; after a partition is revoked, Poll returns no
// more records of it (records of it fetched earlier are dropped, not returned).
//
// Failover time: a member that closes (destructor) leaves the group at once; a member that
// dies is noticed after session_timeout_ms. Then the coordinator rebalances (a real broker as
// soon as the surviving members rejoined; librdkafka 2.0.2's mock waits session_timeout_ms -
// 1000 ms). Measured on the mock with a 3 s session timeout: ~2.0 s after a clean leave,
// 5-6 s after kill -9 (tests/unit/kafka/group_consumer_test.cc). Brokers refuse session
// timeouts below their group.min.session.timeout.ms (6 s by default): Open succeeds, then
// Poll fails with Unavailable (INVALID_SESSION_TIMEOUT).
//
// Thread-compatible: one thread at a time (Poll and the callbacks run on it).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/kafka/kafka_client.h"

namespace vigil::engine::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
};

// One record of a subscribed topic. Views are valid until the next Poll().
struct ConsumedRecord {
  int topic = 0;  // index into the subscribed topics
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;  // Kafka's record timestamp (-1 when absent)
  std::string_view key;
  std::string_view value;  // followed by at least kPadding readable bytes (simdjson)
  // Headers as (name, value) views.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

struct GroupConsumerOptions {
  ClientOptions client;
  std::string group;                // group.id
  std::string instance;             // client.id suffix and group.instance.id is NOT used
  std::vector<std::string> topics;  // subscribed (must exist)
  int session_timeout_ms = 6000;    // how soon a dead process's partitions move
  int heartbeat_interval_ms = 500;
  // partition.assignment.strategy. cooperative-sticky (incremental) unless a group shares
  // members with eager clients; an eager strategy (range, roundrobin) revokes every partition
  // of every member at each rebalance and assigns the whole new set (the callbacks see that).
  std::string assignment_strategy = "cooperative-sticky";
  LogFn log;
};

class GroupConsumer {
 public:
  static constexpr size_t kPadding = 64;
  // Partitions newly assigned to this process; returns for each the offset to start at
  // (RD_KAFKA_OFFSET_BEGINNING = -2 for the oldest record, RD_KAFKA_OFFSET_END = -1 for the
  // end; an offset before the oldest record left starts at the oldest). An error (or a vector
  // of the wrong size) fails the next Poll(); the partitions then stay with this process,
  // paused, and none of their records is returned, until it closes (the caller is expected
  // to give up and close).
  using AssignedFn = std::function<absl::StatusOr<std::vector<int64_t>>(
      const std::vector<TopicPartition>& partitions)>;
  // Partitions taken away from this process (before they are given to another).
  using RevokedFn = std::function<absl::Status(const std::vector<TopicPartition>& partitions)>;

  // Connects and subscribes (the first rebalance happens in a later Poll). Errors:
  // InvalidArgument for configuration; NotFound for a topic that does not exist (the message
  // names it and the brokers); Unavailable when no broker answers within `open_timeout_ms`.
  static absl::StatusOr<std::unique_ptr<GroupConsumer>> Open(GroupConsumerOptions options,
                                                             AssignedFn on_assigned,
                                                             RevokedFn on_revoked,
                                                             int open_timeout_ms = 10000);
  ~GroupConsumer();  // leaves the group (revoking everything, without calling on_revoked)

  // Up to `max` records (at most 65536), waiting at most `timeout_ms` for the first (0: never
  // waits). Runs the rebalance callbacks when the group rebalances. Errors: the callbacks'
  // errors (returned once); Unavailable for a fatal or permanent consumer error (the group
  // was fenced, authentication failed, a topic vanished, the session timeout was refused);
  // transient errors are logged once and retried by librdkafka.
  absl::Status Poll(size_t max, int timeout_ms, std::vector<ConsumedRecord>* out);

  // Readable when Poll() may return something (records, a rebalance); -1 when unavailable.
  int wait_fd() const;
  // The partitions assigned now.
  std::vector<TopicPartition> assignment() const;
  // High watermark (the end offset) last known for a partition; -1 when unknown.
  int64_t high_watermark(const TopicPartition& tp) const;
  // Stops / resumes fetching a partition (a bounded read at its end). A pause lasts while the
  // partition stays assigned: assigned again after a revoke, it starts unpaused.
  // Errors: FailedPrecondition naming the partition (e.g. not known to this client).
  absl::Status Pause(const TopicPartition& tp);
  absl::Status Resume(const TopicPartition& tp);

  const std::vector<std::string>& topics() const;
  struct Impl;

 private:
  explicit GroupConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The number of partitions of `topic` (metadata request). Errors: NotFound when the topic
// does not exist; Unavailable when no broker answers in time.
absl::StatusOr<int> PartitionCount(const ClientOptions& client, std::string_view topic,
                                   int timeout_ms = 10000);

// Reads partition `partition` of `topic` from `from_offset` (RD_KAFKA_OFFSET_BEGINNING = -2
// for the oldest) up to its high watermark as of the call, calling `fn` for each record in
// offset order (a changelog or positions topic being restored). Errors: NotFound / Unavailable
// as above; DeadlineExceeded when the end is not reached within `timeout_ms`; fn's errors.
absl::Status ReadPartition(const ClientOptions& client, std::string_view topic,
                           int32_t partition, int64_t from_offset,
                           const std::function<absl::Status(const ConsumedRecord&)>& fn,
                           int timeout_ms = 60000);

}  // namespace vigil::engine::kafka
