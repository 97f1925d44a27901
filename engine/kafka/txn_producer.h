#pragma once
// A transactional producer (scale-out, docs/scale-out.md): everything a stage of a process
// writes between two checkpoints (repartitioned events and watermark markers; state changes
// and checkpoint markers) is one Kafka transaction, committed at the checkpoint. Records also
// carry stable ids and sequence numbers, because readers must drop duplicates themselves
// where the broker gives no isolation (librdkafka's mock cluster ignores aborts and
// read_committed, and does not fence: engine/kafka/README.md).
//
// transactional.id = the caller's id (e.g. "vigil.<app>.<instance>.ingest"): a process that
// restarts with the same id fences its previous incarnation.
//
// Thread-safety: Produce may be called from any number of threads at once; Begin, Commit,
// Abort and Flush from one thread at a time, never concurrently with Produce calls that belong
// to the transaction being committed (the caller orders them: e.g. workers produce at a
// barrier, the committer commits after the barrier is aligned).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/kafka/kafka_client.h"

namespace vigil::engine::kafka {

struct TxnProducerOptions {
  ClientOptions client;
  std::string transactional_id;
  int transaction_timeout_ms = 60000;
  // Produce() blocks while this many records await acknowledgement (backpressure).
  int max_in_flight = 100000;
  LogFn log;
};

class TxnProducer {
 public:
  // Connects and initialises transactions (fencing an earlier producer with the same id),
  // then begins the first transaction. Errors: InvalidArgument for configuration;
  // Unavailable when the brokers do not answer within `timeout_ms`.
  static absl::StatusOr<std::unique_ptr<TxnProducer>> Open(TxnProducerOptions options,
                                                           int timeout_ms = 10000);
  ~TxnProducer();  // aborts the open transaction (best effort)

  // Queues one record for partition `partition` of `topic` (copied; an empty key is no key).
  // Blocks while max_in_flight records await acknowledgement. Delivery errors are kept and
  // returned by the next Flush()/Commit(). Errors now: Unavailable when the producer is fenced
  // or failed fatally; InvalidArgument for a partition < 0 or one the topic does not have (once
  // its metadata is known; otherwise the delivery fails); FailedPrecondition when the
  // transaction already failed (Commit or Abort it); DeadlineExceeded when no room was made
  // within transaction_timeout_ms.
  absl::Status Produce(std::string_view topic, int32_t partition, std::string_view key,
                       std::string_view value,
                       const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Waits until every queued record is acknowledged. Errors: the first delivery error since
  // the last Commit/Abort (Unavailable, naming topic, partition and the count of failures);
  // DeadlineExceeded; Unavailable when fenced.
  absl::Status Flush(int timeout_ms = 30000);
  // Flushes, commits the transaction and begins the next one. Errors:
  //  - Aborted: a record failed or the broker refused the commit (an abortable error); the
  //    transaction was aborted and a new one begun. The caller's checkpoint failed; its
  //    records may still be visible to readers that do not honour aborts.
  //  - DeadlineExceeded: not committed within timeout_ms (retriable): the transaction stays
  //    open; call Commit again (it resumes) or Abort.
  //  - Unavailable: fenced (a newer producer with the same id) or another fatal error; the
  //    producer is unusable (every later call returns Unavailable): close and reopen.
  absl::Status Commit(int timeout_ms = 30000);
  // Aborts the open transaction (its queued records are dropped) and begins a new one.
  // Errors: Unavailable when fenced; DeadlineExceeded (retriable: call Abort again).
  absl::Status Abort(int timeout_ms = 30000);

  uint64_t produced() const;   // records queued since Open
  uint64_t committed() const;  // transactions committed since Open
  struct Impl;

 private:
  explicit TxnProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::engine::kafka
