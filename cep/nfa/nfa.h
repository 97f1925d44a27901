#pragma once
// The NFA of one rule's pattern, after Flink CEP's NFACompiler/NFA and Agrawal et al.,
// "Efficient Pattern Matching over Event Streams" (SIGMOD 2008).
//
// An `Nfa` is immutable and shared by every key and thread; all per-key state (partial
// matches and the shared buffer of their events) lives in an `NfaState` passed in by the
// caller (engine/). Two entry points: an event arrived (Process) and time moved (AdvanceTime).
//
// CONTRACT between cep/ and engine/ (the parts below the marker are cep's own):
// - Events of one key are passed to Process in event-time order (ties in arrival order).
// - Process(state, e) first advances time to e->time (see AdvanceTime), then applies e.
// - AdvanceTime(state, t): every partial match whose deadline has passed (t >= deadline) is
//   discarded, or reported as a MatchResult of kind kTimeout when the Nfa was compiled with
//   report_timeouts; a partial match waiting on a trailing negation whose deadline passed is
//   reported as a kMatch. A partial match's deadline is start + within, or, while it waits for
//   a step with a time bound (`a ->[5m] b`), the time of its last event + the bound, whichever
//   comes first. Such results carry time = that deadline.
// - Matches of one call are appended in the order Flink would emit them.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cep/expr/expr.h"
#include "cep/nfa/nfa_state.h"
#include "cep/pattern.h"
#include "core/codec.h"
#include "core/event.h"
#include "core/status.h"

namespace vigil::cep {

struct MatchResult {
  enum class Kind : uint8_t { kMatch, kTimeout };
  Kind kind = Kind::kMatch;
  // Events bound to each pattern variable (index = Pattern::vars index), in match order.
  std::vector<std::vector<EventPtr>> events;
  // Final values of Pattern::captures and Pattern::aggs over all events of the match.
  std::vector<Value> captures;
  std::vector<AggAcc> aggs;
  EventTime time;  // kMatch: last event's time (or the deadline for a trailing negation);
                   // kTimeout: the deadline (start + within, or last event + time bound)
};

struct NfaOptions {
  bool report_timeouts = false;    // rule has `on timeout`
  size_t max_partial_matches = 0;  // per key; 0 = unlimited. Oldest dropped beyond it.
};

// Per-key matching state (partial matches plus the shared buffer of their events) is
// `NfaState`, defined in cep/nfa/nfa_state.h; callers own it and treat it as opaque.

struct NfaStateStats {
  size_t partial_matches = 0;
  size_t buffered_events = 0;            // distinct events held by the shared buffer
  uint64_t dropped_partial_matches = 0;  // cumulative, by max_partial_matches
  size_t approx_bytes = 0;               // approximate heap footprint (flat per event)
};

class Nfa {
 public:
  // Compiles a pattern. Errors: InvalidArgument for patterns the compiler cannot express
  // (the binder should have rejected them first).
  static absl::StatusOr<std::shared_ptr<const Nfa>> Compile(const Pattern& pattern,
                                                            NfaOptions options);
  ~Nfa();

  std::unique_ptr<NfaState> NewState() const;
  void Process(NfaState& state, const EventPtr& event, std::vector<MatchResult>* out) const;
  void AdvanceTime(NfaState& state, EventTime now, std::vector<MatchResult>* out) const;
  // True when the state holds no partial match beyond the start state (the key may be freed).
  bool IsIdle(const NfaState& state) const;
  // O(1).
  NfaStateStats Stats(const NfaState& state) const;

  // The earliest event time at which AdvanceTime would change `state`: the earliest deadline
  // of its partial matches, i.e. AdvanceTime(state, t) is a no-op for every t < *NextDeadline
  // and expires (or reports) at least one partial match at t = *NextDeadline. nullopt when no
  // partial match has a deadline (no `within`, none waiting on a time bound) or the state
  // holds none (matches held back by a skip strategy wait on a partial match, so they never
  // need a deadline of their own). O(1) without time bounds between steps: the partial
  // matches are ordered by start, and by the contract above events arrive in time order, so
  // the first one starts earliest; O(partial matches) with them.
  std::optional<EventTime> NextDeadline(const NfaState& state) const;

  // Checkpoints: the whole per-key state in a compact binary form (format version byte first;
  // see "Serialized state" in nfa.cc): partial matches and held matches (state, start, last
  // take, captures and aggregate accumulators), the shared buffer (each live event once, with
  // the take nodes and their predecessor links; reference counts are rebuilt on restore) and
  // the key's counters. Appends to *out. O(state size). A state restored by RestoreState
  // behaves exactly as the serialized one: same matches, same order, same timeouts and
  // deadlines. Like Process, one thread at a time per state (it marks the state's own capture
  // blocks while it runs).
  void SerializeState(const NfaState& state, Encoder* out) const;
  // Replaces *state with the state read from *in (which must come from SerializeState of an
  // Nfa compiled from the same pattern and options) and leaves *in after it. Errors: DataLoss
  // when the bytes are truncated, malformed or inconsistent with this Nfa (unknown version,
  // state or variable out of range, dangling or unreferenced buffer nodes, ...); *state is then
  // empty (as from NewState). Never crashes on arbitrary input.
  absl::Status RestoreState(NfaState* state, Decoder* in) const;

  const Pattern& pattern() const;
  // `vigil explain`: states and edges as text, or as Graphviz dot.
  std::string ToText() const;
  std::string ToDot() const;

  // ---- cep's own below ----
  struct Impl;

 private:
  explicit Nfa(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::cep
