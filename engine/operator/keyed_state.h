#pragma once
// The keyed state of one rule operator: the toolkit every keyed operator (CepOperator,
// WhenOperator, WindowOperator) builds on, so that each one only says what a key's state is
// and what an event does to it.
//
// KeyedState<State> owns, for the keys routed to one operator instance:
// - Slots: one per live partition key, in a slab (freed slots are reused, last freed first),
//   found by the key's byte encoding (AppendKeyEncoding of each partition value, key_group.h)
//   in a flat hash map whose entries keep short encodings inline (no allocation for a key
//   already seen). A slot holds the partition values, the encoding, the key group
//   (KeyGroupOf(PartitionKeyHash(...)), as the job routes events), an `order` that the
//   operator chooses when the key is created (CepOperator: Event::seq of the creating event;
//   0 elsewhere), and the operator's `State`.
// - Timers: at most one live entry per slot in a min-heap ordered by (deadline, order, slot).
//   ArmTimer(slot, d) pushes an entry only when d is earlier than the slot's armed deadline;
//   an entry whose deadline is later than needed stays, and the operator re-arms when it pops
//   (PopDueTimer leaves the slot unarmed). Entries of freed slots or superseded by an earlier
//   one are skipped lazily.
// - The change log for incremental snapshots (RuleOperator::Snapshot, operator.h): a key is
//   dirty once MarkDirty'd since the last snapshot; a freed key that a snapshot or a restore
//   had stored is a pending delete (a key created and freed between two snapshots costs
//   nothing; a key freed and created again before the snapshot is overwritten, not deleted).
// - The snapshot envelope of one key (values in engine/state/codec.h's encoding):
//     byte kEnvelopeVersion, U32 body format (the operator's), U64 order,
//     U64 #partition values, Val..., then the operator's body (encode / decode callbacks).
//   The state key is the encoded partition key; Restore checks the key and the key group
//   against the values, rejects a key restored twice, and re-creates the slot.
//
// Contract for `State`: default-constructible and movable, with `void Clear()` that releases
// what a freed key held (Free calls it; a reused slot starts from a cleared State).
//
// Phase 2 (state larger than memory) seam: a key's whole state is the envelope that
// EncodeEntry writes and Restore reads, and operators reach State only through a slot index
// obtained from Find / Create / PopDueTimer. An eviction port can therefore encode a cold
// slot's State to a store, Clear() it and keep only the resident part (encoding, key group,
// order, timer), and decode it back on the next Find; no operator code depends on State being
// resident between two calls into the toolkit. Not built yet.
//
// Performance: Find, MarkDirty, ArmTimer and the due-timer check are inline and allocation
// free (the per-event path of CepOperator runs through them).
//
// Thread-compatible: one instance per operator.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "core/codec.h"
#include "core/event.h"
#include "core/status.h"
#include "engine/operator/key_group.h"
#include "engine/operator/operator.h"
#include "engine/stable_hash.h"

namespace vigil::engine {

// A partition key's byte encoding; short keys stay inline.
using EncodedKey = absl::InlinedVector<char, 32>;

inline std::string_view KeyView(const EncodedKey& k) { return {k.data(), k.size()}; }

struct KeyedStateOptions {
  std::vector<int> key_slots;  // where an input event holds the partition values, in order
  uint32_t format = 1;         // the operator's body format, checked on Restore
  std::string name;            // names the state in errors, e.g. "rule 'x': window state"
};

template <typename State>
class KeyedState {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr int64_t kNoTimer = INT64_MAX;
  static constexpr uint8_t kEnvelopeVersion = 2;

  explicit KeyedState(KeyedStateOptions options) : options_(std::move(options)) {}

  // ---- Keys ------------------------------------------------------------------------------

  // Encodes the partition key of `e` (at key_slots) as the current key and returns its slot,
  // or kNone when the key is not live.
  uint32_t Find(const Event& e) {
    key_buf_.clear();
    for (int s : options_.key_slots) AppendKeyEncoding(e.values[s], &key_buf_);
    auto it = index_.find(std::string_view(key_buf_));
    return it == index_.end() ? kNone : it->second;
  }

  // Creates the current key (that of the last Find, which found none) from `e`, with a
  // cleared State. Not dirty yet.
  uint32_t Create(const Event& e, uint64_t order) {
    const uint32_t slot = AllocSlot();
    Entry& en = entries_[slot];
    en.key.reserve(options_.key_slots.size());
    for (int s : options_.key_slots) en.key.push_back(e.values[s]);
    en.key_group = KeyGroupOf(PartitionKeyHash(options_.key_slots, e));
    Activate(slot, order, /*stored=*/false);
    return slot;
  }

  // Frees a live key: clears its State, drops its timer, and logs a delete when a snapshot
  // or restore stored it.
  void Free(uint32_t slot) {
    Entry& en = entries_[slot];
    if (en.stored) LogDelete(en);
    index_.erase(en.encoded);
    en.key.clear();
    en.encoded.clear();
    en.state.Clear();
    en.live = false;
    en.dirty = false;
    en.stored = false;
    en.timer = kNoTimer;
    ++en.generation;  // invalidates its timer entries
    free_slots_.push_back(slot);
  }

  State& state(uint32_t slot) { return entries_[slot].state; }
  const State& state(uint32_t slot) const { return entries_[slot].state; }
  const std::vector<Value>& key(uint32_t slot) const { return entries_[slot].key; }
  std::string_view encoded_key(uint32_t slot) const { return KeyView(entries_[slot].encoded); }
  uint16_t key_group(uint32_t slot) const { return entries_[slot].key_group; }
  uint64_t order(uint32_t slot) const { return entries_[slot].order; }
  bool live(uint32_t slot) const { return slot < entries_.size() && entries_[slot].live; }
  size_t size() const { return index_.size(); }  // live keys

  // Calls f(slot) for every live key, in slot order.
  template <typename F>
  void ForEachLive(const F& f) const {
    for (uint32_t slot = 0; slot < entries_.size(); ++slot) {
      if (entries_[slot].live) f(slot);
    }
  }

  // The live slots by (order, encoded key): an order that depends only on the keys, not on
  // slot reuse or restore order.
  std::vector<uint32_t> LiveSlotsByOrder() const {
    std::vector<uint32_t> out;
    out.reserve(index_.size());
    ForEachLive([&out](uint32_t slot) { out.push_back(slot); });
    std::sort(out.begin(), out.end(), [this](uint32_t a, uint32_t b) {
      const Entry& x = entries_[a];
      const Entry& y = entries_[b];
      if (x.order != y.order) return x.order < y.order;
      return KeyView(x.encoded) < KeyView(y.encoded);
    });
    return out;
  }

  // ---- Timers ----------------------------------------------------------------------------

  // Makes sure the key's timer is due no later than `deadline`: pushes an entry when the
  // slot has none or a later one.
  void ArmTimer(uint32_t slot, int64_t deadline) {
    if (deadline < entries_[slot].timer) PushTimer(slot, deadline);
  }
  // The armed deadline of a live key (kNoTimer when none).
  int64_t timer(uint32_t slot) const { return entries_[slot].timer; }
  // Whether an entry (maybe stale) is due at `now`: a cheap check before PopDueTimer.
  bool TimerDue(int64_t now) const { return !timers_.empty() && timers_.front().deadline <= now; }
  // Pops the next live entry due at or before `now`, in (deadline, order, slot) order, and
  // leaves its slot unarmed. False when none is due.
  bool PopDueTimer(int64_t now, uint32_t* slot, int64_t* deadline) {
    while (TimerDue(now)) {
      std::pop_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
      const Timer t = timers_.back();
      timers_.pop_back();
      Entry& en = entries_[t.slot];
      if (!en.live || en.generation != t.generation || en.timer != t.deadline) continue;
      en.timer = kNoTimer;
      *slot = t.slot;
      *deadline = t.deadline;
      return true;
    }
    return false;
  }
  // Drops every timer.
  void ClearTimers() {
    timers_.clear();
    for (Entry& en : entries_) en.timer = kNoTimer;
  }

  // ---- Changes and snapshots -------------------------------------------------------------

  void MarkDirty(uint32_t slot) {
    Entry& en = entries_[slot];
    if (!en.dirty) {
      en.dirty = true;
      dirty_slots_.push_back(slot);
    }
  }

  // RuleOperator::Snapshot over these keys: with `full`, puts every live key (slot order);
  // otherwise deletes the pending deletes (sorted by key) and puts the dirty live keys.
  // encode(const State&, Encoder*) writes a key's body. A null `out` discards the changes.
  template <typename Encode>
  void Snapshot(SnapshotWriter* out, bool full, const Encode& encode) {
    if (out == nullptr) {
      DiscardChanges();
      return;
    }
    auto put = [&](uint32_t slot) {
      snap_buf_.clear();
      EncodeEntry(slot, encode, &snap_buf_);
      Entry& en = entries_[slot];
      out->Put(en.key_group, KeyView(en.encoded), snap_buf_);
      en.dirty = false;
      en.stored = true;
    };
    if (full) {
      ForEachLive(put);
    } else {
      // Sorted so that the writes do not depend on the hash table's iteration order.
      std::vector<std::pair<std::string_view, uint16_t>> dels(pending_deletes_.begin(),
                                                              pending_deletes_.end());
      std::sort(dels.begin(), dels.end());
      for (const auto& [key, group] : dels) out->Delete(group, key);
      for (uint32_t slot : dirty_slots_) {
        if (entries_[slot].live && entries_[slot].dirty) put(slot);
      }
    }
    pending_deletes_.clear();
    dirty_slots_.clear();
  }

  // Forgets the changes since the last snapshot. O(changes).
  void DiscardChanges() {
    for (uint32_t slot : dirty_slots_) entries_[slot].dirty = false;
    pending_deletes_.clear();
    dirty_slots_.clear();
  }

  // Appends the envelope of a live key (see the header comment) to *out.
  template <typename Encode>
  void EncodeEntry(uint32_t slot, const Encode& encode, std::string* out) const {
    const Entry& en = entries_[slot];
    Encoder enc(out);
    const char version = static_cast<char>(kEnvelopeVersion);
    enc.Raw(std::string_view(&version, 1));
    enc.U32(options_.format);
    enc.U64(en.order);
    enc.U64(en.key.size());
    for (const Value& v : en.key) enc.Val(v);
    encode(en.state, &enc);
  }

  // Re-creates one key from a snapshot entry (before any event) and returns its slot, live,
  // stored, not dirty and unarmed. decode(Decoder*, State*) reads the body into a cleared
  // State. Errors: DataLoss, its message prefixed with the state's name, when the value does
  // not decode (wrong envelope version or body format, truncated, trailing bytes, or
  // decode's error, whatever its code), does not match `key` or `key_group`, or the key is
  // live already; nothing changes then.
  template <typename Decode>
  absl::StatusOr<uint32_t> Restore(uint16_t key_group, std::string_view key,
                                   std::string_view value, const Decode& decode) {
    RestoredEntry entry;
    absl::Status st = DecodeEntry(key_group, key, value, decode, &entry);
    if (!st.ok()) {
      return absl::DataLossError(absl::StrCat(options_.name, ": ", std::string(st.message())));
    }
    const uint32_t slot = AllocSlot();
    Entry& en = entries_[slot];
    en.key = std::move(entry.values);
    en.key_group = key_group;
    en.state = std::move(entry.state);
    Activate(slot, entry.order, /*stored=*/true);  // the key is in key_buf_
    return slot;
  }

  // Approximate bytes of the toolkit's own structures, O(1); KeyBytes adds a live key's
  // partition values (operators add them in their walk over the live keys, with what their
  // State points to).
  size_t ApproxBytes() const {
    return entries_.capacity() * sizeof(Entry) + timers_.capacity() * sizeof(Timer) +
           index_.capacity() * (sizeof(EncodedKey) + sizeof(uint32_t) + 1);
  }
  size_t KeyBytes(uint32_t slot) const { return entries_[slot].key.capacity() * sizeof(Value); }

 private:
  struct RestoredEntry {
    uint64_t order = 0;
    std::vector<Value> values;
    State state;
  };

  // Restore's checks and decoding, leaving the key's encoding in key_buf_. Errors: any
  // (Restore reports them as DataLoss under the state's name).
  template <typename Decode>
  absl::Status DecodeEntry(uint16_t key_group, std::string_view key, std::string_view value,
                           const Decode& decode, RestoredEntry* out) {
    Decoder dec(value);
    std::string_view version;
    VIGIL_RETURN_IF_ERROR(dec.Raw(1, &version));
    if (static_cast<uint8_t>(version[0]) != kEnvelopeVersion) {
      return absl::DataLossError(absl::StrCat(
          "unknown envelope version ", static_cast<int>(static_cast<uint8_t>(version[0]))));
    }
    uint32_t format;
    uint64_t n;
    VIGIL_RETURN_IF_ERROR(dec.U32(&format));
    if (format != options_.format) {
      return absl::DataLossError(absl::StrCat("unknown format ", format));
    }
    VIGIL_RETURN_IF_ERROR(dec.U64(&out->order));
    VIGIL_RETURN_IF_ERROR(dec.U64(&n));
    if (n != options_.key_slots.size()) {
      return absl::DataLossError("wrong number of partition values");
    }
    out->values.resize(n);
    key_buf_.clear();
    for (Value& v : out->values) {
      VIGIL_RETURN_IF_ERROR(dec.Val(&v));
      AppendKeyEncoding(v, &key_buf_);
    }
    if (key_buf_ != key) return absl::DataLossError("key does not match its partition values");
    if (KeyGroupOfValues(out->values) != key_group) {
      return absl::DataLossError("key in the wrong key group");
    }
    if (index_.contains(std::string_view(key_buf_))) {
      return absl::DataLossError("key restored twice");
    }
    VIGIL_RETURN_IF_ERROR(decode(&dec, &out->state));
    return dec.ExpectDone();
  }

  // Partition keys are looked up by their encoding: one cache miss per lookup.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const EncodedKey& k) const { return Hash(k.data(), k.size()); }
    size_t operator()(std::string_view k) const { return Hash(k.data(), k.size()); }
    // 64-bit FNV-1a over 8-byte words, then a murmur finaliser: keys are short.
    static size_t Hash(const char* p, size_t n) {
      uint64_t h = 0xcbf29ce484222325ULL ^ n;
      while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
      }
      uint64_t w = 0;
      std::memcpy(&w, p, n);
      h = (h ^ w) * 0x100000001b3ULL;
      return Fmix64(h);
    }
  };
  struct KeyEq {
    using is_transparent = void;
    static std::string_view View(const EncodedKey& k) { return KeyView(k); }
    static std::string_view View(std::string_view k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };

  struct Entry {
    std::vector<Value> key;  // partition values (empty without `partition by`)
    EncodedKey encoded;      // its index_ key and snapshot key
    State state;
    uint64_t order = 0;
    int64_t timer = kNoTimer;  // deadline of the key's live heap entry
    uint32_t generation = 0;   // bumped when the slot is freed: invalidates heap entries
    uint16_t key_group = 0;
    bool live = false;
    bool dirty = false;   // MarkDirty'd since the last snapshot
    bool stored = false;  // a snapshot or restore holds it: freeing it logs a delete
  };

  struct Timer {
    int64_t deadline;
    uint64_t order;  // ties: the smaller order first, then the smaller slot
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Timer& o) const {
      if (deadline != o.deadline) return deadline > o.deadline;
      if (order != o.order) return order > o.order;
      return slot > o.slot;
    }
  };

  ABSL_ATTRIBUTE_NOINLINE void LogDelete(const Entry& en) {
    pending_deletes_.emplace(std::string(KeyView(en.encoded)), en.key_group);
  }

  // Out of line: ArmTimer's check is on the per-event path, a push much rarer.
  ABSL_ATTRIBUTE_NOINLINE void PushTimer(uint32_t slot, int64_t deadline) {
    Entry& en = entries_[slot];
    timers_.push_back(Timer{deadline, en.order, slot, en.generation});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    en.timer = deadline;
  }

  uint32_t AllocSlot() {
    if (!free_slots_.empty()) {
      const uint32_t slot = free_slots_.back();
      free_slots_.pop_back();
      return slot;
    }
    entries_.emplace_back();
    return static_cast<uint32_t>(entries_.size() - 1);
  }

  // Makes the slot live under the current key (key_buf_); key and key_group are set.
  void Activate(uint32_t slot, uint64_t order, bool stored) {
    Entry& en = entries_[slot];
    en.encoded.assign(key_buf_.begin(), key_buf_.end());
    en.order = order;
    en.timer = kNoTimer;
    en.live = true;
    en.dirty = false;
    en.stored = stored;
    // Freed since the last snapshot and back: the stored entry is overwritten, not deleted.
    if (!stored && !pending_deletes_.empty()) {
      en.stored = pending_deletes_.erase(key_buf_) > 0;
    }
    index_.emplace(en.encoded, slot);
  }

  KeyedStateOptions options_;
  absl::flat_hash_map<EncodedKey, uint32_t, KeyHash, KeyEq> index_;
  std::string key_buf_;          // the current key's encoding
  std::vector<Entry> entries_;   // slab; index_ maps a key to its slot
  std::vector<uint32_t> free_slots_;
  std::vector<Timer> timers_;    // min-heap
  std::vector<uint32_t> dirty_slots_;  // may repeat a slot; Entry::dirty decides
  absl::flat_hash_map<std::string, uint16_t> pending_deletes_;  // encoded key -> key group
  std::string snap_buf_;
};

}  // namespace vigil::engine
