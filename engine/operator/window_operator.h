#pragma once
// The keyed window operator of one monitoring rule with `window W [slide S] compute ...`
// (language.md §4): turns each partition's events into one record per non-empty window.
//
// Windows: [start, start + W) with start a multiple of S (aligned to the epoch, start may be
// negative); tumbling when S == W. An event at time t belongs to every window with
// start <= t < start + W: an event exactly at a window's end belongs to the next window only.
//
// Entry points (architecture.md: an event arrived / time moved):
// - Process(e): `e` is an event of the rule's stream that has ALREADY passed the rule's
//   `where` (the operator does not evaluate `where`). Its partition key is read from
//   RuleDef::partition_slots. Events must come in event-time order per key (the job's reorder
//   buffer guarantees it); an event whose windows have all fired already (time <= the last
//   watermark) contributes only to windows that have not fired yet.
// - AdvanceWatermark(wm): emits, for every key, one record per non-empty window whose end is
//   <= wm + 1 (the last millisecond of the window, end - 1, is covered by the watermark: a
//   window [0, 60000) fires when wm >= 59999), in (window end, key slot) order, i.e. in
//   window-end order across all keys. Watermark::Max() (all inputs ended) fires every window
//   and frees every key. A watermark not above the last one is a no-op.
//
// Output records are core Events handed to the Output callback (synchronously, from
// AdvanceWatermark):
// - values follow WindowSpec::record_schema: the partition values (in `partition by` order),
//   then one value per WindowSpec::aggs in order, then window_start and window_end
//   (timestamps);
// - time = window_end (exclusive end), stream = the rule's stream index;
// - raw = a JSON object of those fields by their display names, in schema order, e.g.
//   {"host":"a","cpu":91.5,"samples":6,"window_start":0,"window_end":60000} (echoed in the
//   `events` of a downstream pattern's records);
// - seq = a stable 64-bit hash (FNV-1a + murmur finaliser) of the rule name, the partition
//   values and window_end: equal across runs of the same input, so the ids of downstream
//   records are stable.
// Empty windows emit nothing.
//
// State (engine/operator/keyed_state.h): per key, a sorted run of panes of width gcd(W, S)
// holding partial aggregates (see window_aggregates.h); a window is the merge of its
// W / gcd(W, S) panes, so an event is added once whatever the overlap. A pane is dropped as
// soon as its last window fired; a key with no pane is freed. quantile keeps the pane's
// values, distinct its distinct values. One timer per live key (due at its next window's last
// millisecond, end - 1) sits in the toolkit's min-heap, so a watermark only touches keys with
// a window due; windows ending together fire in key slot order.
//
// Thread-compatible: one instance per worker and rule. `rules` is kept alive by the operator.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cep/rule_set.h"
#include "core/event.h"
#include "core/status.h"
#include "core/time.h"
#include "engine/operator/keyed_state.h"
#include "engine/operator/operator.h"
#include "engine/operator/window_aggregates.h"

namespace vigil::engine {

struct WindowOperatorStats {
  uint64_t events = 0;           // events processed
  uint64_t late_events = 0;      // events whose windows had all fired (contributed nothing)
  uint64_t windows_emitted = 0;  // records handed to the output
  uint64_t keys_created = 0;
  size_t live_keys = 0;
  size_t live_panes = 0;
};

class WindowOperator {
 public:
  // Receives each window record. An error stops AdvanceWatermark and is returned by it.
  using Output = std::function<absl::Status(const EventPtr& record)>;

  // `rules->rules[rule_index]` must have a `window`. Errors: InvalidArgument when it has none,
  // when size/slide are not positive or slide > size, or when the record schema does not have
  // partition fields + aggs + window_start + window_end.
  static absl::StatusOr<std::unique_ptr<WindowOperator>> Create(
      std::shared_ptr<const cep::RuleSet> rules, int rule_index, Output output);
  ~WindowOperator();

  // See the header comment. Never fails today (the Status is for future state backends).
  absl::Status Process(const Event& e);
  // Errors: the output's.
  absl::Status AdvanceWatermark(Watermark wm);

  const cep::RuleDef& rule() const { return *rule_; }
  const cep::WindowSpec& spec() const { return *spec_; }
  const Schema& record_schema() const { return spec_->record_schema; }
  int stream() const { return rule_->stream; }
  Watermark watermark() const { return last_wm_; }
  WindowOperatorStats stats() const;

  // Checkpoint hooks, with the signatures of RuleOperator (engine/operator/operator.h) so that
  // the rule operator that owns this one can delegate to them: KeyedState's snapshots
  // (keyed_state.h: envelope, changed keys, deletes of stored keys freed since). A composite
  // that also snapshots a downstream operator must prefix the keys to keep them apart.
  // Body (engine/state/codec.h, format kStateFormat): I64 last watermark, U64 #aggs,
  // U64 #panes, then per pane I64 start and per aggregate I64 n, Val v, F64 fsum,
  // U64 #nums + F64..., U64 #set + Val....
  static constexpr uint32_t kStateFormat = 1;
  absl::Status Snapshot(SnapshotWriter* out, bool full);
  // Forgets the changed keys without writing them (jobs that never checkpoint).
  void DiscardChanges() { keys_.DiscardChanges(); }
  // Restores one key written by Snapshot, on an operator that has processed nothing yet, and
  // arms its timer; the operator's watermark becomes the largest one restored. Errors:
  // DataLoss on a malformed or foreign value (wrong version, key, key group or number of
  // aggregates) or a key live already.
  absl::Status Restore(uint16_t key_group, std::string_view key, std::string_view value);

 private:
  struct Pane {
    int64_t start = 0;
    std::vector<WindowAggState> aggs;  // one per WindowSpec::aggs
  };
  struct KeyState {
    std::deque<Pane> panes;  // sorted by start, none empty
    void Clear() {
      panes.clear();
      panes.shrink_to_fit();
    }
  };
  using Keys = KeyedState<KeyState>;

  WindowOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
                 Output output);

  // Drops the panes of `slot` whose every window has end - 1 <= done, then arms a timer for
  // the next window containing a pane, or frees the key when none is left.
  void Rearm(uint32_t slot, int64_t done);
  absl::Status EmitWindow(uint32_t slot, int64_t end);
  uint64_t RecordSeq(uint32_t slot, int64_t end) const;

  std::shared_ptr<const cep::RuleSet> rules_;
  const cep::RuleDef* rule_;
  const cep::WindowSpec* spec_;
  Output output_;
  int64_t size_;
  int64_t slide_;
  int64_t pane_;  // gcd(size, slide)

  Keys keys_;
  Watermark last_wm_ = Watermark::Min();
  std::vector<WindowAggState> merged_;  // scratch for EmitWindow
  WindowOperatorStats stats_;
};

}  // namespace vigil::engine
