#pragma once
// The Source port: where a stream's events come from (language.md §2 `from`, cli.md
// `--input`). Implementations: JSON Lines files and standard input (file_source.h), Kafka
// (engine/kafka/kafka_source.h). The job's input stage polls every source of a run from one
// thread; a source never needs threads of its own to be polled.
//
// A source has one or more partitions (a file: one; a Kafka topic: one per topic partition).
// Each partition is an ordered sequence of records; the job tracks a watermark per partition
// (the stream's watermark is the minimum over its active partitions) and `idle after` per
// partition. Records of one partition are returned in order; a record's `seq` increases
// within its partition and is the same in every run over the same data (a file's line
// number, a Kafka offset): it orders equal timestamps and names the event in record ids.
//
// Checkpoints: Position() describes, as opaque bytes, the position just after the last
// record returned by Poll() (for every partition); Seek(position) on a freshly opened source
// resumes there, so that a restored job reads exactly the records after its checkpoint.
// Positions are stored in Vigil's checkpoints (never only in Kafka's committed offsets).
//
// Thread-compatible: one thread at a time (the input stage's).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::engine {

// One record read from a source. `text` is a view valid until the next Poll() on the same
// source, followed by at least kSourcePadding readable bytes (simdjson parses in place).
struct SourceRecord {
  std::string_view text;  // one JSON object (a line without its terminator; a Kafka value)
  int partition = 0;      // 0 .. partitions() - 1
  uint64_t seq = 0;       // position in the partition: 1-based line number, or Kafka offset
  // An explicit watermark, not an event (a `{"$watermark": T}` line of an input that enables
  // them, watermark_line.h): raises the partition's watermark to watermark_ms, in order with
  // the partition's events. Its seq and position count like any record's. When
  // watermark_error is not empty the line was malformed: the job sends it to the dead-letter
  // output with that reason (a static string).
  bool watermark = false;
  int64_t watermark_ms = 0;
  std::string_view watermark_error = {};
  // `text` is an event already decoded and encoded with core/codec.h (Encoder::Ev: values,
  // raw JSON, time, seq): a repartition source's record, not JSON to decode. Its seq is kept
  // (it names the event's origin), and the event only goes to the rules whose key group lives
  // in this partition (Event::shard).
  bool encoded_event = false;
};
inline constexpr size_t kSourcePadding = 64;

// Where a record came from, for dead-letter records: a file's line, or a Kafka topic,
// partition and offset.
struct RecordOrigin {
  std::string_view topic;  // Kafka: the topic; empty for files
  int32_t partition = -1;  // Kafka: the topic partition; -1 for files
  uint64_t position = 0;   // files: the line number; Kafka: the offset
};

enum class PollState : uint8_t {
  kData,  // *out holds at least one record
  kWait,  // no record available now; more may come (poll again, or wait on wait_fd())
  kEnd,   // the source has ended: every partition is exhausted (bounded sources only)
};

// Partition assignment changes of a source whose partitions are shared with other
// processes (a Kafka consumer group). Called from inside Poll().
class PartitionListener {
 public:
  virtual ~PartitionListener() = default;
  // These partitions are now read by this process (positions already restored).
  virtual void OnAssigned(const std::vector<int>& partitions) = 0;
  // These partitions are no longer read by this process (after the call returns).
  virtual void OnRevoked(const std::vector<int>& partitions) = 0;
};

class SharedSource;

class Source {
 public:
  virtual ~Source() = default;

  // For messages: "txn.jsonl", "-" (standard input), "kafka://127.0.0.1:9092/txn".
  virtual const std::string& name() const = 0;
  // The number of partitions; fixed once the source is open.
  virtual int partitions() const = 0;

  // Appends up to `max_records` records to *out (cleared first). Never blocks for long:
  // returns kWait when nothing is available now. Errors: Internal on a read error, or the
  // underlying client's error (the message names the source).
  virtual absl::StatusOr<PollState> Poll(size_t max_records, std::vector<SourceRecord>* out) = 0;

  // A descriptor that becomes readable when Poll() may return data (for poll(2) while the
  // job waits on several sources), or -1: the job then polls again on its tick.
  virtual int wait_fd() const { return -1; }
  // True when the source ends by itself (a file, standard input, a bounded Kafka read).
  virtual bool bounded() const = 0;
  // True when data may arrive later than the job reads it (pipes, standard input, followed
  // files, Kafka): such partitions can go idle (`idle after`), and the job ticks the clock
  // while it waits for them. Regular files that are not followed are never idle, so bounded
  // runs over files stay deterministic.
  virtual bool live() const = 0;
  // True when partition p has nothing more available right now (caught up with its end).
  // Only a caught-up partition of a live source can be marked idle.
  virtual bool caught_up(int partition) const = 0;

  // The position after the last record returned (see above). Seek() must be called before
  // the first Poll(). Errors: Unimplemented when the source cannot rewind (standard input:
  // the job then warns and reads on); InvalidArgument/DataLoss for a position it cannot use.
  virtual std::string Position() const = 0;
  virtual absl::Status Seek(std::string_view position) = 0;

  // Where the record came from (for dead letters).
  virtual RecordOrigin Origin(const SourceRecord& r) const = 0;

  // Sources shared with other processes report assignment changes here (optional).
  virtual void SetPartitionListener(PartitionListener* listener) {}

  // Watermarks come only from explicit watermark records (a repartition source, whose
  // partitions interleave events of many writers): the job does not derive them from event
  // times.
  virtual bool explicit_watermarks_only() const { return false; }
  // A source whose partitions (and the state behind them) move between processes
  // (shared_source.h); null for ordinary sources.
  virtual SharedSource* AsShared() { return nullptr; }
};

}  // namespace vigil::engine
