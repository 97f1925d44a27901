#pragma once
// The `kafka` sink (language.md §3): `sink bus kafka (brokers "...", topic "...")`. Each
// record becomes one Kafka message:
//   key    the record's partition key as a JSON object, {"card":"c1"} (KafkaRecordKey); no key
//          (null) for records without partition fields. Murmur2 partitioning, as Java clients
//          do, so one key's records land in one partition, in order.
//   value  the record as one JSON object (engine::RecordToJson)
//   header vigil-record-id = the record's id (receivers deduplicate by it)
//
// Delivery: an idempotent librdkafka producer (enable.idempotence, acks=all: no duplicates or
// reordering from its own retries). librdkafka sends and retries on its own threads; a
// delivery thread of the sink serves its delivery reports. A record that is not acknowledged
// within `timeout` (librdkafka's message.timeout.ms, retries included) goes to the
// dead-letter output with the reason ("kafka kafka://B/T: Local: Message timed out ...").
//
// Checkpoints (at-least-once): SnapshotState() does not wait for the brokers; it returns the
// records written and not yet acknowledged (pending_records.h). Restore() produces them again,
// so a record is delivered at least once across a crash, possibly twice, always with the same
// id header.
//
// Backpressure: at most `max_pending` records wait for acknowledgement; Write() blocks while
// that many do (until acknowledgements or timeouts free room), counted in stats().overflowed.
//
// Thread-safety: as the Sink port: one caller thread; stats() from any thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cep/rule_set.h"
#include "core/status.h"
#include "core/time.h"
#include "engine/kafka/kafka_client.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

struct KafkaSinkOptions {
  engine::kafka::ClientOptions client;
  std::string topic;
  Duration timeout = Duration::Seconds(30);  // per record, retries included
  size_t max_pending = 10000;                // records produced and not yet acknowledged
};

// From a `sink NAME kafka (...)` declaration (options validated by the binder).
KafkaSinkOptions KafkaSinkOptionsFrom(const cep::SinkDef& def);

// The message key of a record: its partition fields as a compact JSON object in key order,
// e.g. {"card":"c1","region":"eu"}; empty (no key) when the record has no partition fields.
std::string KafkaRecordKey(const engine::Record& r);

inline constexpr std::string_view kRecordIdHeader = "vigil-record-id";

class KafkaSink : public engine::Sink {
 public:
  // Creates the producer and its delivery thread; connects lazily (no broker is contacted
  // here, so a job starts while the brokers are down and its records wait for them).
  // Errors: InvalidArgument for a configuration librdkafka rejects or an unset password
  // variable (messages name the sink's brokers and topic).
  static absl::StatusOr<std::unique_ptr<KafkaSink>> Open(KafkaSinkOptions options,
                                                         engine::SinkContext ctx);
  ~KafkaSink() override;  // without Close(): records still pending are dropped
  KafkaSink(const KafkaSink&) = delete;
  KafkaSink& operator=(const KafkaSink&) = delete;

  // Queues the record for delivery (blocks while max_pending records are pending). A record
  // librdkafka refuses at once (e.g. larger than message.max.bytes) is dead-lettered.
  // Errors: Internal after a fatal producer error (the producer cannot go on: the job stops
  // and a restart resumes from its checkpoint); FailedPrecondition after Close().
  absl::Status Write(const engine::Record& r) override;
  // librdkafka sends on its own (within a few ms); returns the fatal error, if any.
  absl::Status Flush() override;
  // The pending records (never waits). Errors: none.
  absl::StatusOr<std::string> SnapshotState(uint64_t checkpoint_id) override;
  // Produces the records of `state` again. Errors: DataLoss for a corrupt state; Write's.
  absl::Status Restore(std::string_view state) override;
  // Waits up to `timeout` (plus a second) for every pending record; what is still pending
  // then is dead-lettered ("not delivered before the sink closed"). Stops the delivery thread.
  absl::Status Close() override;
  engine::SinkStats stats() const override;

  const std::string& name() const { return name_; }  // kafka://BROKERS/TOPIC

 private:
  KafkaSink(KafkaSinkOptions options, engine::SinkContext ctx);
  absl::Status Start();
  void DeliveryLoop();
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void Delivered(uint64_t seq, rd_kafka_resp_err_t err);
  void DeadLetter(const engine::Record& r, std::string_view why);
  void Log(std::string_view line) const;
  absl::Status FatalStatus() const;

  KafkaSinkOptions options_;
  engine::SinkContext ctx_;
  std::string name_;
  engine::kafka::ClientContext client_ctx_;  // outlives the handle (declared before it)
  engine::kafka::HandlePtr rk_;
  engine::kafka::TopicPtr topic_;

  mutable std::mutex mu_;
  std::condition_variable room_;                // signalled when a pending record is settled
  std::map<uint64_t, engine::Record> pending_;  // by produce order; guarded by mu_
  uint64_t next_seq_ = 0;                       // guarded by mu_
  std::string fatal_;                           // guarded by mu_; non-empty: the producer failed

  std::atomic<bool> stop_{false};
  bool closed_ = false;
  std::thread delivery_;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint64_t> overflowed_{0};
};

// The factory the alerting sink registry calls for `kafka` declarations. Errors: Open's.
absl::StatusOr<std::unique_ptr<engine::Sink>> MakeKafkaSink(const cep::SinkDef& def,
                                                            const engine::SinkContext& ctx);

}  // namespace vigil::alerting
