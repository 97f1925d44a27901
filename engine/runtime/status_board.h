#pragma once
// What a running job shows about itself (the admin API and the dashboard read it through
// Job::Status() and Job::Firing()): the units publish snapshots here from their own threads,
// readers copy them out under one lock. Publishing is rate-limited by the publishers (the
// router after a tick, workers every 250 ms, the coordinator per checkpoint), so the board
// costs nothing per event.
//
// Firing alerts: the output stage reports every firing/resolved/nodata record it writes; the
// board keeps the alerts firing now per (rule, key), the latest `firing` not yet resolved.
//
// Thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time.h"
#include "core/value.h"
#include "engine/operator/operator.h"
#include "engine/record.h"
#include "engine/runtime/stream_router.h"

namespace vigil::engine {

struct PartitionSnapshot {
  std::string name;  // "txn.jsonl", "-", "kafka://h:p/txn#3"
  Watermark watermark = Watermark::Min();
  bool idle = false;
};

struct StreamSnapshot {
  runtime::StreamStats stats;
  Watermark watermark = Watermark::Min();
  std::vector<PartitionSnapshot> partitions;
};

struct RuleSnapshot {
  std::string name;
  std::string stream;
  OperatorStats op;  // summed over workers
};

struct CheckpointSnapshot {
  bool enabled = false;
  uint64_t last_id = 0;           // 0: none completed by this process yet
  int64_t last_unix_ms = 0;       // when it was committed
  int64_t last_duration_ms = 0;   // barrier injected -> committed
  uint64_t completed = 0;
  uint64_t failures = 0;
  bool in_flight = false;
};

struct FiringSnapshot {
  std::string rule;
  std::vector<std::pair<std::string, Value>> key;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  EventTime since;
  uint64_t order = 0;  // increases with every alert that starts firing (newest = largest)
};

namespace runtime {

class StatusBoard {
 public:
  StatusBoard(int workers, size_t rules);

  // Router.
  void PublishStreams(std::vector<StreamSnapshot> streams);
  // Worker w: its operators' stats by rule index (rules not run: default), for the rules of
  // topology `version` (a worker still on older rules is ignored after a deploy).
  void PublishWorker(int w, uint64_t version, std::vector<OperatorStats> by_rule);
  // A deploy: the rules of topology `version`, `rules` of them (workers re-publish).
  void ResetRules(uint64_t version, size_t rules);
  // Coordinator.
  void PublishCheckpoint(const CheckpointSnapshot& c);
  void SetCheckpointInFlight(bool in_flight);
  // Output stage: a record was written.
  void OnRecord(const Record& r);
  // A rule was removed by a deploy: its alerts are no longer firing.
  void ForgetRule(const std::string& rule);

  std::vector<StreamSnapshot> streams() const;
  // Summed over workers, by rule index.
  std::vector<OperatorStats> rules() const;
  CheckpointSnapshot checkpoint() const;
  // The alerts firing now, newest first; at most `limit`, and the total.
  std::pair<std::vector<FiringSnapshot>, uint64_t> Firing(size_t limit) const;
  // The number of alerts of `rule` firing now.
  int64_t FiringOf(const std::string& rule) const;

 private:
  mutable std::mutex mu_;
  std::vector<StreamSnapshot> streams_;
  std::vector<std::vector<OperatorStats>> workers_;  // [worker][rule]
  size_t rules_;
  uint64_t version_ = 0;
  CheckpointSnapshot checkpoint_;
  // (rule, key as JSON text) -> alert
  std::map<std::pair<std::string, std::string>, FiringSnapshot> firing_;
  uint64_t next_order_ = 1;
};

}  // namespace runtime
}  // namespace vigil::engine
