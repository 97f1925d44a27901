#pragma once
// A Kafka topic as a Source (engine/source/source.h): `from kafka(brokers "...", topic "...")`
// in a rules file, or `--input STREAM=kafka://HOST:PORT/TOPIC?...` on the command line.
//
// - Each topic partition is a source partition (same number: Kafka partition p is source
//   partition p). A record's `seq` is its Kafka offset; `text` is the record's value copied
//   into the source's own buffer with kSourcePadding bytes after it (a null value, a
//   tombstone, is an empty text: the job dead-letters it as not JSON).
// - Every partition of the topic is assigned to this process (rd_kafka_assign): consumer
//   group membership is not implemented yet (the group id only names the client), and
//   offsets are never committed to Kafka: positions live in Vigil's checkpoints
//   (Position()/Seek()), so a restored job reads exactly the records after its checkpoint.
// - Start (a job without a checkpoint): earliest, latest, or a time (the first record whose
//   Kafka timestamp is at or after it). The start is resolved to concrete offsets when the
//   source opens, so a checkpoint taken before any record arrives still names them.
// - Bounded (`bounded true`): the end offsets are read when the source opens; Poll() returns
//   kEnd once every partition reached its end, and records beyond it are not returned. A
//   bounded source is not live(): like a file, its partitions are never idle.
// - If a checkpointed offset is no longer in the partition (deleted by retention), reading
//   resumes at the oldest record still there (librdkafka's auto.offset.reset=earliest).
//
// Thread-compatible (the job's input stage): one thread at a time. librdkafka fetches on its
// own threads into a bounded prefetch queue; Poll() never blocks.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/kafka/kafka_client.h"
#include "engine/kafka/kafka_source_options.h"
#include "engine/source/source.h"
#include "engine/source/source_registry.h"

namespace vigil::engine {

class KafkaSource : public Source {
 public:
  // Connects, reads the topic's partitions and the offsets the start option (and `bounded`)
  // need, waiting at most options.open_timeout for the brokers. Nothing is fetched before the
  // first Poll(). Errors (messages name the brokers and the topic):
  //   InvalidArgument  a configuration value librdkafka rejects, an unset password variable
  //   NotFound         the topic does not exist
  //   Unavailable      no broker answered in time, or the offsets could not be listed
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Open(KafkaSourceOptions options);
  ~KafkaSource() override;
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  const std::string& name() const override { return name_; }  // kafka://BROKERS/TOPIC
  int partitions() const override { return static_cast<int>(next_.size()); }

  // Up to max_records records from the prefetch queue, in offset order per partition.
  // Transient broker errors (a broker down, a timeout) are logged and retried by librdkafka;
  // errors returned (the source cannot go on): Unavailable for a deleted or forbidden topic
  // or failed authentication, Internal for a fatal client error.
  absl::StatusOr<PollState> Poll(size_t max_records, std::vector<SourceRecord>* out) override;
  // Readable when records or errors are waiting for Poll() (librdkafka writes to a pipe when
  // its queue becomes non-empty; Poll() drains it).
  int wait_fd() const override { return wake_read_; }
  bool bounded() const override { return options_.bounded; }
  bool live() const override { return !options_.bounded; }
  // True when partition p's next offset is at its end: the high watermark last seen (at open
  // or in a fetch response), or librdkafka reported the partition's end since its last record.
  bool caught_up(int partition) const override;

  std::string Position() const override;  // kafka_position.h
  // Restores next offsets from Position(). Partitions added to the topic since (beyond the
  // position's count) start at their oldest record. Errors: FailedPrecondition after the
  // first Poll(); DataLoss for bytes that are not a Kafka position; InvalidArgument for a
  // position of another topic or of more partitions than the topic has now.
  absl::Status Seek(std::string_view position) override;
  RecordOrigin Origin(const SourceRecord& r) const override {
    return RecordOrigin{options_.topic, r.partition, r.seq};
  }

  // The offset of the next record of partition p (what Position() records).
  int64_t next_offset(int partition) const { return next_[partition]; }
  // Bounded: partition p's end offset (read at open); otherwise the high watermark at open.
  int64_t end_offset(int partition) const { return end_[partition]; }

 private:
  explicit KafkaSource(KafkaSourceOptions options);
  absl::Status Connect();
  // Partition count from the topic's metadata (retried until the open timeout).
  absl::Status ReadPartitions();
  // Per partition, the offset ListOffsets gives for `timestamp` (a time in ms, or
  // RD_KAFKA_OFFSET_BEGINNING / RD_KAFKA_OFFSET_END); -1 when no record is at or after it.
  absl::StatusOr<std::vector<int64_t>> ListOffsets(int64_t timestamp) const;
  absl::Status Assign();
  // Handles an error event from the queue; returns an error when the source cannot go on.
  absl::Status OnErrorEvent(const rd_kafka_message_t& m);
  bool done(int p) const { return options_.bounded && next_[p] >= end_[p]; }
  void PausePartition(int p);  // a bounded partition at its end: stop fetching it
  void DrainWakePipe();
  std::string Describe() const;  // "kafka source kafka://B/T"

  KafkaSourceOptions options_;
  std::string name_;
  kafka::ClientContext ctx_;  // outlives the handle (declared before it)
  kafka::HandlePtr rk_;
  kafka::QueuePtr queue_;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::vector<int64_t> next_;  // next offset to return, by partition
  std::vector<int64_t> end_;   // see end_offset()
  std::vector<char> at_eof_;   // librdkafka reported the end since the last record
  bool assigned_ = false;
  std::vector<rd_kafka_message_t*> batch_;
  std::vector<char> buffer_;   // values of the last Poll(), each followed by padding
  int last_logged_error_ = 0;  // a transient error is logged once until data flows again
};

// Registers the `kafka` source kind (options: cep/connectors/connector_options.cc). The
// source's librdkafka warnings go to standard error.
void RegisterKafkaSource(SourceRegistry* registry);

}  // namespace vigil::engine
