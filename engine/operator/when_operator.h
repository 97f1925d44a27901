#pragma once
// The keyed alert-lifecycle operator of one monitoring rule with `when COND [for D]
// [keep firing for K] [clear when EXPR] [no data after N]` (language.md §4): turns each
// partition's records into `firing`, `resolved` and `nodata` output records.
//
// Input records: the rule's window records (from its WindowOperator) when the rule has a
// `window` — the partition values are then the record's first fields — or else the events of
// the rule's stream that ALREADY passed `where` (the operator does not evaluate `where`),
// with the partition values at RuleDef::partition_slots. Records must come in event-time
// order per key.
//
// Lifecycle per partition key (a "run" is a maximal sequence of records on which COND holds):
// - idle --(COND true at t0)--> pending(run_start = t0); fires at once when there is no `for`.
// - pending --(COND true at t, t - run_start >= D)--> firing: one `firing` record, on that
//   record. A run of 4m59s does not fire for 5m. pending --(COND false)--> idle, silently.
// - firing: the "resolving condition" is `clear when EXPR` if given (hysteresis: COND turning
//   false alone does not resolve), else `not COND`. The operator resolves on the first record
//   at which the resolving condition has held on every record since the first record of the
//   current streak for at least K of event time (`keep firing for K`; without it, K = 0: the
//   first such record resolves). A record on which it does not hold ends the streak. One
//   `resolved` record, on that record; the key is then idle. The resolving record never starts
//   a new run (with `clear when`, COND may hold on it; the next true record starts one).
// - `no data after N`: a firing key that gets no record for more than N of event time emits
//   one `nodata` record at time last_record_time + N and becomes idle (the run is over: a later
//   true record starts a new run, that fires again after `for`). It is emitted from
//   AdvanceWatermark(wm) once wm >= last + N, or from Process() when the key's next record
//   is later than last + N (before that record is handled). A record at exactly last + N
//   counts as data. Watermark::Max() (all inputs ended) thus emits `nodata` for every key
//   still firing (time last + N, as Flink fires all event-time timers at the end). Pending or
//   idle keys never emit `nodata`; nothing marks a still-firing alert at end of input
//   otherwise.
//
// Output records (engine::Record, routed to RuleDef::to through the RecordRouter):
// - rule = the rule's name; key = the partition fields (name, value);
// - time = the triggering record's time (nodata: last + N);
// - fields = every field of the triggering record (nodata: the key's last record) by its
//   schema name, in schema order, followed by the rule's `emit` values evaluated with
//   EvalEnv{fields = that record} (an emit whose name equals a record field replaces that
//   field's value in place);
// - labels = alertname, the partition fields (Value::ToString), then the rule's labels
//   rendered with EvalEnv{fields = that record} (a later key replaces an earlier one in place);
//   annotations likewise;
// - events: empty;
// - id = StableRecordId(rule, kind, key, {seq of the triggering record}, time).
// (RecordBuilder, record_builder.h, assembles them as it does a pattern's.)
//
// State (engine/operator/keyed_state.h): only pending and firing keys are kept (a few words
// each, plus the last record while firing with `no data after`); idle keys are freed. One
// nodata timer per firing key in the toolkit's min-heap (lazily re-armed when the deadline
// moved on); timers due at the same time fire in key slot order.
//
// Thread-compatible: one instance per worker and rule. `rules` is kept alive by the operator,
// `router` must outlive it.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cep/rule_set.h"
#include "core/event.h"
#include "core/schema.h"
#include "core/status.h"
#include "core/time.h"
#include "engine/operator/keyed_state.h"
#include "engine/operator/operator.h"
#include "engine/operator/record_builder.h"
#include "engine/operator/record_router.h"
#include "engine/record.h"

namespace vigil::engine {

struct WhenOperatorStats {
  uint64_t records = 0;  // input records processed
  uint64_t firing = 0;
  uint64_t resolved = 0;
  uint64_t nodata = 0;
  uint64_t keys_created = 0;
  size_t live_keys = 0;  // pending or firing
};

class WhenOperator {
 public:
  // `rules->rules[rule_index]` must have a `when`. Errors: InvalidArgument when it has none or
  // no condition.
  static absl::StatusOr<std::unique_ptr<WhenOperator>> Create(
      std::shared_ptr<const cep::RuleSet> rules, int rule_index, RecordRouter* router);
  ~WhenOperator();

  // One input record (see the header comment). A nodata record due for this key before the
  // record is emitted first. Errors: the router's.
  absl::Status Process(const EventPtr& record);
  // Emits the nodata records due at `wm` (deadline <= wm), in (deadline, key slot) order.
  // Errors: the router's.
  absl::Status AdvanceWatermark(Watermark wm);

  const cep::RuleDef& rule() const { return *rule_; }
  // The schema of the input records: the window record schema, or the stream's.
  const Schema& input_schema() const { return *schema_; }
  WhenOperatorStats stats() const;

  // Checkpoint hooks, with the signatures of RuleOperator (engine/operator/operator.h) so that
  // the rule operator that owns this one can delegate to them: KeyedState's snapshots
  // (keyed_state.h: envelope, changed keys, deletes of stored keys freed since). A composite
  // that also snapshots an upstream WindowOperator must prefix the keys to keep them apart.
  // Body (engine/state/codec.h, format kStateFormat): U32 phase (0 pending, 1 firing),
  // I64 run_start, Bool streak, I64 streak_since, Bool has_last, [Ev last, I64 nodata
  // deadline].
  static constexpr uint32_t kStateFormat = 1;
  absl::Status Snapshot(SnapshotWriter* out, bool full);
  // Forgets the changed keys without writing them (jobs that never checkpoint).
  void DiscardChanges() { keys_.DiscardChanges(); }
  // Restores one key written by Snapshot (before any record) and re-arms its nodata timer.
  // Errors: DataLoss on a malformed value, one whose key or key group differs from `key` /
  // `key_group`, or a key live already.
  absl::Status Restore(uint16_t key_group, std::string_view key, std::string_view value);

 private:
  enum class Phase : uint8_t { kPending, kFiring };
  struct KeyState {
    Phase phase = Phase::kPending;
    int64_t run_start = 0;  // pending: time of the run's first true record
    bool streak = false;    // firing: the resolving condition holds since streak_since
    int64_t streak_since = 0;
    EventPtr last;  // firing with `no data after`: the last record
    int64_t nodata_deadline = 0;
    void Clear() { *this = KeyState(); }
  };
  using Keys = KeyedState<KeyState>;

  WhenOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
               RecordRouter* router);

  absl::Status Fire(uint32_t slot, const EventPtr& r);
  void TouchFiring(uint32_t slot, const EventPtr& r);  // keeps `last`, arms the nodata timer
  absl::Status Emit(uint32_t slot, RecordKind kind, const Event& r, EventTime time);
  // Emits the key's nodata record and frees it.
  absl::Status EmitNodata(uint32_t slot);

  std::shared_ptr<const cep::RuleSet> rules_;
  const cep::RuleDef* rule_;
  const cep::WhenSpec* spec_;
  const Schema* schema_;
  RecordRouter* router_;
  int64_t for_ms_ = 0;
  int64_t keep_ms_ = 0;
  std::optional<int64_t> no_data_ms_;
  RecordBuilder builder_;
  Keys keys_;
  WhenOperatorStats stats_;
};

}  // namespace vigil::engine
