#pragma once
// The keyed operator of one pattern rule (Flink's CepOperator): `where` filter, partition key
// extraction, one cep::NfaState per key, and conversion of matches into output records. It is
// the engine::RuleOperator (engine/operator/operator.h) of a pattern rule.
//
// Entry points (architecture.md: an event arrived / time moved):
// - Process(e): e passes `where`, then timers due at or before e->time fire, then e goes to
//   its key's NFA. Events must come in event-time order (ties in arrival order): the job's
//   reorder buffer guarantees it.
// - AdvanceWatermark(wm): fires the timers due at or before wm; Watermark::Max() (all inputs
//   ended) closes every `within` window and frees every key.
//
// Keyed state (engine/operator/keyed_state.h): one slot per live partition key holding its
// cep::NfaState; a key whose NFA state is idle is freed. A new key's first event runs on a
// blank (spare) state first, so an event that starts nothing creates no key at all.
//
// Timers: a live key has at most one entry in the toolkit's min-heap of deadlines. Its
// deadline is the NFA's exact next expiry (cep::Nfa::NextDeadline: the oldest partial match's
// start + within); when a key's deadline moves later the entry stays and is re-armed at the
// new deadline when it comes up, without touching the NFA, so a key's NFA is only advanced
// when a partial match actually expires. Rules without `within` have no timers: their partial
// matches live until the end of input.
//
// Determinism: timers due at the same time fire in the order of their keys' creating events
// (the slot's `order` is Event::seq of the event that created the key, a position in the
// input), and at the end of input the remaining keys are closed in that order too. Both are
// functions of the input and of the state only (not of slot reuse or restore order), so a run
// restored from a snapshot emits exactly what the uninterrupted run emits.
//
// Snapshots (RuleOperator::Snapshot / Restore): the toolkit's, one entry per live key in its
// key group; the body (format kSnapshotVersion) is the key's NFA state
// (Nfa::SerializeState). A key is dirty when it processed an event or fired a timer since the
// last snapshot.
//
// Records: RecordBuilder (record_builder.h): fields = the emits, events = each pattern
// variable's events, id over their seqs. Thread-compatible: one operator instance per worker
// and rule.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cep/nfa/nfa.h"
#include "cep/rule_set.h"
#include "core/event.h"
#include "core/status.h"
#include "engine/operator/keyed_state.h"
#include "engine/operator/operator.h"
#include "engine/operator/record_builder.h"
#include "engine/operator/record_router.h"

namespace vigil::engine {

struct CepOperatorOptions {
  size_t max_partial_matches = 0;  // per key; 0 = unlimited
};

class CepOperator : public RuleOperator {
 public:
  // Compiles the rule's pattern. `rules` must outlive the operator, `router` too.
  // Errors: InvalidArgument when the rule has no pattern or uses `window`/`when`, or the NFA
  // compiler rejects the pattern.
  static absl::StatusOr<std::unique_ptr<CepOperator>> Create(
      std::shared_ptr<const cep::RuleSet> rules, int rule_index, CepOperatorOptions options,
      RecordRouter* router);
  ~CepOperator() override;

  int stream() const override { return rule_->stream; }
  // Errors: the router's.
  absl::Status Process(const EventPtr& e) override;
  absl::Status AdvanceWatermark(Watermark wm) override;
  // Writes the dirty live keys and the deletes (or, with full, every live key); see above.
  // Never fails. Extension: `out` may be null (no state backend): the changes are forgotten
  // without serializing anything, which keeps the tracking bounded at no cost.
  absl::Status Snapshot(SnapshotWriter* out, bool full) override;
  void DiscardChanges() override;
  // Recreates one key from a Snapshot entry and arms its timer. Call before any event.
  // Errors: DataLoss when `value` does not decode, does not match `key` or `key_group`, or the
  // key was already restored (KeyedState::Restore); the operator is then unchanged.
  absl::Status Restore(uint16_t key_group, std::string_view key, std::string_view value) override;
  // Walks the live keys (O(1) each): O(keys).
  OperatorStats stats() const override;

  const cep::RuleDef& rule() const { return *rule_; }
  // Keys created by an event (an event that leaves a new key's state idle and matches nothing
  // creates none); restored keys excluded.
  uint64_t keys_created() const { return keys_created_; }
  uint64_t timer_firings() const { return timer_firings_; }  // NFA advances by a timer

  // The body format of a key's snapshot entry (KeyedState's envelope holds it).
  static constexpr uint32_t kSnapshotVersion = 1;

 private:
  // One partition key's state beside what the toolkit keeps (values, key group, timer).
  struct KeyState {
    std::unique_ptr<cep::NfaState> nfa;
    void Clear() { nfa.reset(); }
  };
  using Keys = KeyedState<KeyState>;

  CepOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
              std::shared_ptr<const cep::Nfa> nfa, RecordRouter* router);

  void FreeKey(uint32_t slot);  // keeps the NFA state as spare_ when it is clean
  // Frees the key if idle, else makes sure its timer is not later than its deadline.
  void AfterStep(uint32_t slot);
  absl::Status FireTimers(int64_t now);
  absl::Status Emit(uint32_t slot);  // turns results_ into records
  absl::Status EmitOne(uint32_t slot, cep::MatchResult& m);

  std::shared_ptr<const cep::RuleSet> rules_;
  const cep::RuleDef* rule_;
  std::shared_ptr<const cep::Nfa> nfa_;
  RecordRouter* router_;
  RecordBuilder builder_;
  Keys keys_;
  std::vector<cep::MatchResult> results_;
  std::vector<uint64_t> seqs_;

  uint64_t events_ = 0;
  uint64_t filtered_ = 0;
  uint64_t matches_ = 0;
  uint64_t timeouts_ = 0;
  uint64_t keys_created_ = 0;
  uint64_t timer_firings_ = 0;
  uint64_t freed_dropped_ = 0;  // dropped partial matches of the keys freed so far
  // A blank (idle) NFA state: new keys try events on it before they exist.
  std::unique_ptr<cep::NfaState> spare_;
};

}  // namespace vigil::engine
