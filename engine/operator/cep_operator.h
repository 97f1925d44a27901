#pragma once
// The keyed operator of one pattern rule (Flink's CepOperator): `where` filter, partition key
// extraction, one cep::NfaState per key, and conversion of matches into output records.
//
// Entry points (architecture.md: an event arrived / time moved):
// - Process(e): e passes `where`, then timers due at or before e->time fire, then e goes to
//   its key's NFA. Events must come in event-time order (ties in arrival order): the job's
//   reorder buffer guarantees it.
// - AdvanceWatermark(wm): fires the timers due at or before wm; Watermark::Max() (all inputs
//   ended) closes every `within` window and frees every key.
//
// Timers: the NFA does not expose its partial matches' start times, so each live key keeps
// the distinct times of the events it processed since it was last idle, pruned to those whose
// `within` window is still open. Every partial match started at one of them, so the front time
// + within is a lower bound of the key's next expiry: one entry per key sits in a min-heap of
// deadlines, and a watermark only touches keys whose deadline passed. Rules without `within`
// keep their partial matches until the end of input. A key whose NFA state is idle is freed.
//
// Per-key state is an explicit object (KeyState) so that a later state backend can store it
// by key. Thread-compatible: one operator instance per worker and rule.
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
#include "engine/operator/record_router.h"

namespace vigil::engine {

struct CepOperatorOptions {
  size_t max_partial_matches = 0;  // per key; 0 = unlimited
};

struct CepOperatorStats {
  uint64_t events = 0;    // events of the stream offered to the rule
  uint64_t filtered = 0;  // rejected by `where`
  uint64_t matches = 0;
  uint64_t timeouts = 0;
  uint64_t keys_created = 0;
  uint64_t timer_firings = 0;
  size_t live_keys = 0;
  uint64_t dropped_partial_matches = 0;  // by max_partial_matches, keys freed so far
};

class CepOperator {
 public:
  // Compiles the rule's pattern. `rules` must outlive the operator, `router` too.
  // Errors: InvalidArgument when the rule has no pattern or uses `window`/`when`, or the NFA
  // compiler rejects the pattern.
  static absl::StatusOr<std::unique_ptr<CepOperator>> Create(
      std::shared_ptr<const cep::RuleSet> rules, int rule_index, CepOperatorOptions options,
      RecordRouter* router);
  ~CepOperator();

  // Errors: the router's.
  absl::Status Process(const EventPtr& e);
  absl::Status AdvanceWatermark(Watermark wm);

  const cep::RuleDef& rule() const { return *rule_; }
  int stream() const { return rule_->stream; }
  CepOperatorStats stats() const;

 private:
  // Distinct event times of a key, oldest first (a compacting ring).
  struct TimeQueue {
    std::vector<int64_t> v;
    size_t head = 0;
    bool empty() const { return head == v.size(); }
    int64_t front() const { return v[head]; }
    void PushDistinct(int64_t t) {
      if (empty() || v.back() != t) v.push_back(t);
    }
    void PopFront() {
      if (++head == v.size()) {
        v.clear();
        head = 0;
      } else if (head >= 32 && head * 2 >= v.size()) {
        v.erase(v.begin(), v.begin() + static_cast<ptrdiff_t>(head));
        head = 0;
      }
    }
    void Clear() {
      v.clear();
      v.shrink_to_fit();
      head = 0;
    }
  };

  using EncodedKey = absl::InlinedVector<char, 32>;

  // One partition key's state.
  struct KeyState {
    std::vector<Value> key;  // partition values (empty without `partition by`)
    EncodedKey encoded;      // its index_ key
    std::unique_ptr<cep::NfaState> nfa;
    TimeQueue starts;
    uint32_t generation = 0;
    bool live = false;
    bool armed = false;
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
  // Appends the encoding of `v` to *out.
  static void EncodeValue(const Value& v, std::string* out);

  struct Timer {
    int64_t deadline;
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Timer& o) const { return deadline > o.deadline; }
  };

  CepOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
              std::shared_ptr<const cep::Nfa> nfa, RecordRouter* router);

  uint32_t FindOrCreateKey(const Event& e);
  void FreeKey(uint32_t slot);
  // Prunes start times whose window closed at `now`, frees the key if idle, else arms a timer.
  void AfterStep(uint32_t slot, int64_t now);
  absl::Status FireTimers(int64_t now);
  absl::Status Emit(uint32_t slot);  // turns results_ into records
  absl::Status EmitOne(const KeyState& ks, cep::MatchResult& m);

  std::shared_ptr<const cep::RuleSet> rules_;
  const cep::RuleDef* rule_;
  std::shared_ptr<const cep::Nfa> nfa_;
  RecordRouter* router_;
  std::string stream_name_;
  std::optional<Duration> within_;

  absl::flat_hash_map<EncodedKey, uint32_t, KeyHash, KeyEq> index_;
  std::string key_buf_;         // encoding of the current event's key
  std::vector<KeyState> keys_;  // slab; index_ maps a key to its slot
  std::vector<uint32_t> free_slots_;
  std::vector<Timer> timers_;  // min-heap by deadline
  std::vector<cep::MatchResult> results_;
  std::vector<Value> locals_;
  std::vector<uint64_t> seqs_;
  CepOperatorStats stats_;
};

}  // namespace vigil::engine
