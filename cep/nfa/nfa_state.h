#pragma once
// NfaState: everything one key needs to run an Nfa (Flink's NFAState + SharedBuffer): the
// partial matches ("computation states"), the completed matches held back by an after-match
// skip strategy, and the shared buffer of the events they refer to.
//
// Callers (engine/) own one NfaState per key and rule and treat it as opaque: create it with
// Nfa::NewState(), pass it to Nfa::Process / AdvanceTime, inspect it with Nfa::Stats /
// Nfa::IsIdle. Thread-compatible: use one state from one thread at a time.
//
// Layout: a partial match is 32 bytes (state, buffer node, start event id and time, and a
// pointer to its copy-on-write captures/aggregates block); the start state's partial match
// is implicit (always present, never stored).
#include <cstdint>
#include <vector>

#include "cep/expr/expr.h"
#include "cep/nfa/shared_buffer.h"
#include "core/time.h"
#include "core/value.h"

namespace vigil::cep {

namespace nfa_internal {

// The captures and aggregate accumulators of one partial match. Shared by branches until one
// of them takes an event into a variable with captures or aggregates (copy on write).
struct MatchCtx {
  uint32_t refs = 1;
  // Scratch of Nfa::SerializeState (false/unspecified outside it): seen, and its position.
  bool serial_mark = false;
  uint32_t serial_index = 0;
  std::vector<Value> captures;  // Pattern::captures order
  std::vector<AggAcc> aggs;     // Pattern::aggs order
};

// Blocks are recycled through a small per-thread free list (nfa.cc).
MatchCtx* NewMatchCtx();
void FreeMatchCtx(MatchCtx* c);

inline void Ref(MatchCtx* c) {
  if (c != nullptr) ++c->refs;
}
inline void Unref(MatchCtx* c) {
  if (c != nullptr && --c->refs == 0) FreeMatchCtx(c);
}

struct PartialMatch {
  static constexpr uint64_t kNoStart = ~uint64_t{0};
  uint64_t start_id = kNoStart;  // id of the first event taken (orders partial matches)
  EventTime start_time;
  uint32_t node = SharedBuffer::kNil;  // last take, in the shared buffer
  int32_t state = -1;
  MatchCtx* ctx = nullptr;  // null: no capture/aggregate updated yet (initial values)
};

}  // namespace nfa_internal

class NfaState {
 public:
  NfaState() = default;
  ~NfaState();
  NfaState(const NfaState&) = delete;
  NfaState& operator=(const NfaState&) = delete;

 private:
  friend class Nfa;
  friend struct NfaImplAccess;
  // Ordered by start event (then creation): Flink's COMPUTATION_STATE_COMPARATOR order.
  std::vector<nfa_internal::PartialMatch> partial_;
  // Matches completed but not yet emitted (skip strategies emit in start order).
  std::vector<nfa_internal::PartialMatch> completed_;
  SharedBuffer buffer_;
  uint64_t dropped_ = 0;
};

}  // namespace vigil::cep
