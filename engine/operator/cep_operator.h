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
// Timers: a live key has at most one entry in a min-heap of deadlines. Its deadline is the
// NFA's exact next expiry (cep::Nfa::NextDeadline: the oldest partial match's start + within);
// when a key's deadline moves later the entry stays and is re-pushed at the new deadline when
// it comes up, without touching the NFA, so a key's NFA is only advanced when a partial match
// actually expires. Rules without `within` have no timers: their partial matches live until
// the end of input. A key whose NFA state is idle is freed.
//
// Determinism: timers due at the same time fire in the order of their keys' creating events
// (Event::seq of the event that created the key, a position in the input), and at the end of
// input the remaining keys are closed in that order too. Both are functions of the input and
// of the state only (not of slot reuse or restore order), so a run restored from a snapshot
// emits exactly what the uninterrupted run emits.
//
// Snapshots (RuleOperator::Snapshot / Restore): one entry per live key, in its key group
// (KeyGroupOf(PartitionKeyHash(partition slots)), computed when the key is created).
//   key   = the encoded partition key (AppendKeyEncoding of each partition value, key_group.h)
//   value = byte version (kSnapshotVersion), U64 seq of the key's creating event,
//           U64 #partition values, Val..., then the key's NFA state (Nfa::SerializeState)
// A key is dirty when it processed an event or fired a timer since the last snapshot; an
// incremental snapshot (full = false) puts the dirty live keys and deletes the keys freed
// since the last snapshot that a snapshot or restore had stored. full = true puts every live
// key and no delete (the snapshot is a complete image).
//
// Per-key state is an explicit object (KeyState). Thread-compatible: one operator instance per
// worker and rule.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "cep/nfa/nfa.h"
#include "cep/rule_set.h"
#include "core/event.h"
#include "core/status.h"
#include "engine/operator/operator.h"
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
  // key was already restored; the operator is then unchanged.
  absl::Status Restore(uint16_t key_group, std::string_view key, std::string_view value) override;
  // Walks the live keys (O(1) each): O(keys).
  OperatorStats stats() const override;

  const cep::RuleDef& rule() const { return *rule_; }
  // Keys created by an event (an event that leaves a new key's state idle and matches nothing
  // creates none); restored keys excluded.
  uint64_t keys_created() const { return keys_created_; }
  uint64_t timer_firings() const { return timer_firings_; }  // NFA advances by a timer

  static constexpr uint8_t kSnapshotVersion = 1;

 private:
  using EncodedKey = absl::InlinedVector<char, 32>;

  static constexpr int64_t kNoTimer = INT64_MAX;

  // One partition key's state.
  struct KeyState {
    std::vector<Value> key;  // partition values (empty without `partition by`)
    EncodedKey encoded;      // its index_ key (and snapshot key)
    std::unique_ptr<cep::NfaState> nfa;
    uint64_t created_seq = 0;  // Event::seq of the event that created the key
    int64_t timer = kNoTimer;  // deadline of the key's heap entry (<= the NFA's deadline)
    uint32_t generation = 0;   // bumped when the slot is freed: invalidates heap entries
    uint16_t key_group = 0;
    bool live = false;
    bool dirty = false;   // processed or fired since the last snapshot
    bool stored = false;  // a snapshot or restore holds it: freeing it needs a Delete
  };

  // Partition keys are looked up by a compact byte encoding of their values (type tag +
  // payload), kept inline in the hash table's slot for short keys: one cache miss per lookup
  // and no allocation for a key already seen.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const EncodedKey& k) const { return Hash(k.data(), k.size()); }
    size_t operator()(std::string_view k) const { return Hash(k.data(), k.size()); }
    static size_t Hash(const char* p, size_t n);
  };
  struct KeyEq {
    using is_transparent = void;
    static std::string_view View(const EncodedKey& k) { return {k.data(), k.size()}; }
    static std::string_view View(std::string_view k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };

  struct Timer {
    int64_t deadline;
    uint64_t created_seq;  // ties: the key created first fires first
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Timer& o) const {
      if (deadline != o.deadline) return deadline > o.deadline;
      if (created_seq != o.created_seq) return created_seq > o.created_seq;
      return slot > o.slot;
    }
  };

  CepOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
              std::shared_ptr<const cep::Nfa> nfa, RecordRouter* router);

  // Creates the key of e (encoded in key_buf_) with NFA state `nfa`.
  uint32_t CreateKey(const Event& e, std::unique_ptr<cep::NfaState> nfa);
  uint32_t AllocSlot();
  void FreeKey(uint32_t slot);
  void MarkDirty(uint32_t slot);
  // Frees the key if idle, else makes sure its timer entry is not later than its deadline.
  void AfterStep(uint32_t slot);
  void PushTimer(uint32_t slot, int64_t deadline);
  absl::Status FireTimers(int64_t now);
  absl::Status Emit(uint32_t slot);  // turns results_ into records
  absl::Status EmitOne(const KeyState& ks, cep::MatchResult& m);

  std::shared_ptr<const cep::RuleSet> rules_;
  const cep::RuleDef* rule_;
  std::shared_ptr<const cep::Nfa> nfa_;
  RecordRouter* router_;
  std::string stream_name_;

  absl::flat_hash_map<EncodedKey, uint32_t, KeyHash, KeyEq> index_;
  std::string key_buf_;         // encoding of the current event's key
  std::vector<KeyState> keys_;  // slab; index_ maps a key to its slot
  std::vector<uint32_t> free_slots_;
  std::vector<Timer> timers_;  // min-heap by deadline
  std::vector<cep::MatchResult> results_;
  std::vector<Value> locals_;
  std::vector<uint64_t> seqs_;

  // Snapshots.
  std::vector<uint32_t> dirty_slots_;  // may repeat a slot; KeyState::dirty decides
  absl::flat_hash_map<std::string, uint16_t> pending_deletes_;  // encoded key -> key group
  std::string snap_buf_;

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
