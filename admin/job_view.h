#pragma once
// JobView: the read-only data port of a running job, read by the web dashboard (ui_server.h)
// and by the admin API. The job (engine/ wired by src/) implements it; readers only ever get
// snapshots: plain structs copied out under the implementation's own locks, never references
// into live engine state.
//
// Contract for implementations:
// - Every getter is thread-safe and may be called concurrently from any thread, at any rate
//   (the dashboard polls every 1-2 s; several browsers may be open), while the job runs.
// - Getters never block on the data path for long: a snapshot is taken from counters and
//   copies, not by pausing workers.
// - Counters are cumulative since the job started (or since the checkpoint it restored from,
//   where the engine restores them); rates are computed by the implementation.
// - Values that are unknown are left at their defaults (documented per field), never made up.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cep/rule_set.h"
#include "core/time.h"
#include "core/value.h"

namespace vigil::admin {

// Wall-clock instants (checkpoint times) are system_clock points; event-time values use the
// core/time.h types.
using WallTime = std::chrono::system_clock::time_point;

struct CheckpointStatus {
  bool enabled = false;  // the job runs with --state (otherwise the rest stays default)
  uint64_t last_id = 0;  // id of the last completed checkpoint; 0: none yet
  std::optional<WallTime> last_time;  // when the last completed checkpoint was committed
  Duration last_duration{0};          // barrier injected -> committed, of the last one
  uint64_t failures = 0;              // checkpoints that failed since start
  bool in_flight = false;             // a checkpoint is being taken right now
};

// One input partition of a stream (one `--input` of it, or one Kafka partition).
struct PartitionStatus {
  std::string name;                        // e.g. the input path, "-" for standard input, "topic/3"
  Watermark watermark = Watermark::Min();  // Min(): no event yet
  bool idle = false;                       // marked idle by `idle after`
};

struct StreamStatus {
  std::string name;
  uint64_t events = 0;   // events accepted (valid, not late)
  uint64_t late = 0;     // late events (language.md §7)
  uint64_t invalid = 0;  // events that failed decoding or typing (language.md §2)
  Watermark watermark = Watermark::Min();  // the stream's watermark: min over partitions
  // Wall clock minus watermark for event-time streams; nullopt when there is no watermark yet
  // or the inputs have ended (Watermark::Max()).
  std::optional<Duration> lag;
  std::vector<PartitionStatus> partitions;
};

enum class RuleKind : uint8_t { kPattern, kWhen, kWindow };
std::string_view RuleKindName(RuleKind k);  // "pattern", "when", "window"
// A rule with a `window` is kWindow (whatever runs on its window records); otherwise kPattern
// when it has a pattern, else kWhen.
RuleKind RuleKindOf(const cep::RuleDef& rule);

struct RuleStatus {
  std::string name;
  RuleKind kind = RuleKind::kPattern;
  std::string stream;
  uint64_t events = 0;           // events that reached the rule (after `where`)
  double events_per_second = 0;  // recent rate of `events`, as the implementation measures it
  uint64_t matches = 0;          // match records (pattern) or firing records (when)
  uint64_t timeouts = 0;         // timeout records (`on timeout`)
  int64_t partial_matches = 0;   // live partial matches over all keys (gauge)
  int64_t live_keys = 0;         // keys holding state (gauge)
  uint64_t dropped_partial_matches = 0;  // dropped by --max-partial-matches
  int64_t firing = 0;                    // alerts of this rule firing now (gauge)
};

struct SinkStatus {
  std::string name;  // the sink's name; "output" for --output / standard output
  std::string kind;  // "file", "stdout", "webhook", "alertmanager", "kafka"
  uint64_t sent = 0;
  uint64_t failed = 0;
  uint64_t retried = 0;
  uint64_t dead_lettered = 0;
  int64_t queue_depth = 0;
  // Delivery latency quantiles in milliseconds; nullopt until something was delivered.
  std::optional<double> latency_p50_ms;
  std::optional<double> latency_p99_ms;
};

struct JobStatus {
  Duration uptime{0};
  int parallelism = 0;
  CheckpointStatus checkpoint;
  std::vector<StreamStatus> streams;  // in rule-set order
  std::vector<RuleStatus> rules;      // in rule-set order
  std::vector<SinkStatus> sinks;
};

// One alert firing now: the latest `firing` record of a (rule, key) not yet `resolved`.
struct FiringAlert {
  std::string rule;
  std::vector<std::pair<std::string, Value>> key;  // partition fields
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  EventTime since;  // event time of the record that started it firing
};

// Some of the alerts firing now, and how many there are in all (a rule partitioned by a
// high-cardinality key can have very many: readers ask for a bounded number).
struct FiringAlerts {
  std::vector<FiringAlert> alerts;
  uint64_t total = 0;  // alerts firing now; alerts.size() < total when limited
};

class JobView {
 public:
  virtual ~JobView() = default;

  virtual JobStatus Status() const = 0;
  // At most `limit` of the alerts firing now: the ones that started firing last, newest first
  // (ties by rule, then key), with the total count.
  virtual FiringAlerts Firing(size_t limit) const = 0;
  // At most `limit` of the most recent sampled output records (RecordTap), each one rendered
  // record JSON object (language.md §8), oldest first and newest last.
  virtual std::vector<std::string> RecentRecords(size_t limit) const = 0;
  // The compiled rule set the job runs; never null for a running job.
  virtual std::shared_ptr<const cep::RuleSet> Rules() const = 0;
};

}  // namespace vigil::admin
