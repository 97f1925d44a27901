// The NFA runtime, after Flink CEP's NFA.java (process / advanceTime / computeNextStates /
// processMatchesAccordingToSkipStrategy) and Agrawal et al., "Efficient Pattern Matching over
// Event Streams" (SIGMOD 2008).
//
// Per event, every partial match (plus the implicit start state) is expanded through the
// decision graph of its state: PROCEED edges are followed as epsilon moves, the TAKE and
// IGNORE edges whose conditions hold become the successors. A successor in the final state is
// a match, one in a stop state kills every successor of its parent (a negation was seen).
// Partial matches stay ordered by their first event, which is the order Flink emits matches
// and applies skip strategies in.
#include "cep/nfa/nfa.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cep/nfa/nfa_compiler.h"

namespace vigil::cep {

using nfa_internal::CompiledGraph;
using nfa_internal::CondNode;
using nfa_internal::Edge;
using nfa_internal::EdgeAction;
using nfa_internal::MatchCtx;
using nfa_internal::PartialMatch;
using nfa_internal::StateKind;

namespace nfa_internal {
namespace {
struct CtxPool {
  std::vector<MatchCtx*> free;
  ~CtxPool() {
    for (MatchCtx* c : free) delete c;
  }
};
CtxPool& Pool() {
  thread_local CtxPool p;
  return p;
}
constexpr size_t kMaxPooledCtx = 4096;
}  // namespace

MatchCtx* NewMatchCtx() {
  CtxPool& p = Pool();
  if (p.free.empty()) return new MatchCtx;
  MatchCtx* c = p.free.back();
  p.free.pop_back();
  c->refs = 1;
  return c;
}

void FreeMatchCtx(MatchCtx* c) {
  CtxPool& p = Pool();
  if (p.free.size() < kMaxPooledCtx) {
    p.free.push_back(c);  // keeps the vectors' capacity for the next copy
  } else {
    delete c;
  }
}
}  // namespace nfa_internal

NfaState::~NfaState() {
  for (PartialMatch& pm : partial_) nfa_internal::Unref(pm.ctx);
  for (PartialMatch& pm : completed_) nfa_internal::Unref(pm.ctx);
}

struct Nfa::Impl {
  Pattern pattern;
  NfaOptions options;
  CompiledGraph g;
  bool has_within = false;
  Duration within{0};
  bool has_bounds = false;  // some state has a time bound between steps (g.has_bounds)
  bool skip = false;        // any strategy but no skip
  std::vector<std::vector<int>> var_captures;  // per var: indices into pattern.captures
  std::vector<std::vector<int>> var_aggs;      // per var: indices into pattern.aggs
  std::vector<Value> init_captures;
  std::vector<AggAcc> init_aggs;
  std::vector<uint8_t> var_has_ctx;  // per var: a take updates captures or aggregates
};

namespace {

constexpr uint32_t kNil = SharedBuffer::kNil;

// The time of the last event `pm` took (pm is not the start state's).
EventTime PrevTimeOf(const SharedBuffer& buf, const PartialMatch& pm) {
  return buf.entry(buf.node(pm.node).event).event->time;
}

// When `pm` expires: start + within, or the time of its last event + the time bound of its
// state, whichever comes first; EventTime::Max() if neither applies.
EventTime DeadlineOf(const Nfa::Impl& impl, const SharedBuffer& buf, const PartialMatch& pm) {
  EventTime d = EventTime::Max();
  if (impl.has_within) d = pm.start_time + impl.within;
  const int64_t bound = impl.g.states[pm.state].bound_ms;
  if (bound > 0 && pm.node != kNil) d = std::min(d, PrevTimeOf(buf, pm) + Duration(bound));
  return d;
}

struct OutEdge {
  const Edge* edge;
  int32_t source;
};

// Per-thread scratch: the Nfa is shared by threads, NfaStates are per key, and neither should
// pay for buffers that live only during one call.
struct Scratch {
  std::vector<int32_t> stack;
  std::vector<OutEdge> edges;
  std::vector<PartialMatch> successors;
  std::vector<PartialMatch> next;
  std::vector<PartialMatch> potential;
  std::vector<PartialMatch> merged;
  std::vector<std::pair<int32_t, uint32_t>> path;  // (var, event entry)
  std::vector<MatchResult> timeouts;
  std::vector<uint64_t> memo_stamp;
  std::vector<uint8_t> memo_value;
  uint64_t stamp = 0;
};

Scratch& GetScratch() {
  thread_local Scratch s;
  return s;
}

// Evaluation of edge conditions for one (partial match, event) pair. Literals that read only
// the event are memoised for the whole event; the others for the partial match.
class CondEval {
 public:
  CondEval(const Nfa::Impl& impl, Scratch& sc, uint64_t event_stamp)
      : impl_(impl), sc_(sc), event_stamp_(event_stamp) {}

  void Bind(const Event& e, const MatchCtx* ctx) {
    env_.fields = e.values.data();
    env_.captures = ctx ? ctx->captures.data() : impl_.init_captures.data();
    env_.aggs = ctx ? ctx->aggs.data() : impl_.init_aggs.data();
    pm_stamp_ = ++sc_.stamp;
  }

  bool Eval(int32_t c) {
    if (c == nfa_internal::kTrueCond) return true;
    const CondNode& n = impl_.g.conds[c];
    switch (n.op) {
      case CondNode::Op::kLit:
        return Lit(n.a);
      case CondNode::Op::kNot:
        return !Eval(n.a);
      case CondNode::Op::kAnd:
        return Eval(n.a) && Eval(n.b);
    }
    return false;
  }

 private:
  bool Lit(int32_t i) {
    const nfa_internal::CondLiteral& l = impl_.g.literals[i];
    uint64_t want = l.reads_match ? pm_stamp_ : event_stamp_;
    if (sc_.memo_stamp[i] == want) return sc_.memo_value[i] != 0;
    bool v = l.expr->Test(env_);
    sc_.memo_stamp[i] = want;
    sc_.memo_value[i] = v ? 1 : 0;
    return v;
  }

  const Nfa::Impl& impl_;
  Scratch& sc_;
  uint64_t event_stamp_;
  uint64_t pm_stamp_ = 0;
  EvalEnv env_;
};

// Shared by Process and AdvanceTime.
class Runner {
 public:
  Runner(const Nfa::Impl& impl, NfaState& st, Scratch& sc, std::vector<MatchResult>* out)
      : impl_(impl), g_(impl.g), st_(st), buf_(*BufferOf(st)), sc_(sc), out_(out) {}

  static SharedBuffer* BufferOf(NfaState& st);
  static std::vector<PartialMatch>& Partial(NfaState& st);
  static std::vector<PartialMatch>& Completed(NfaState& st);
  static uint64_t& Dropped(NfaState& st);

  void AdvanceTime(EventTime now);
  void Process(const EventPtr& event);

 private:
  bool IsStart(const PartialMatch& pm) const { return pm.start_id == PartialMatch::kNoStart; }
  StateKind Kind(const PartialMatch& pm) const { return g_.states[pm.state].kind; }
  EventTime PrevTime(const PartialMatch& pm) const { return PrevTimeOf(buf_, pm); }
  EventTime Deadline(const PartialMatch& pm) const { return DeadlineOf(impl_, buf_, pm); }

  void ReleasePm(const PartialMatch& pm) {
    buf_.Release(pm.node);
    nfa_internal::Unref(pm.ctx);
  }

  MatchCtx* TakeCtx(MatchCtx* base, int32_t var, const Event& e) {
    if (var < 0 || !impl_.var_has_ctx[var]) {
      nfa_internal::Ref(base);
      return base;
    }
    MatchCtx* c = nfa_internal::NewMatchCtx();
    c->captures = base ? base->captures : impl_.init_captures;
    c->aggs = base ? base->aggs : impl_.init_aggs;
    const size_t n = e.values.size();
    for (int ci : impl_.var_captures[var]) {
      int slot = impl_.pattern.captures[ci].slot;
      c->captures[ci] = slot >= 0 && static_cast<size_t>(slot) < n ? e.values[slot] : Value();
    }
    static const Value kNull;
    for (int ai : impl_.var_aggs[var]) {
      const AggSpec& spec = impl_.pattern.aggs[ai];
      const Value& v =
          spec.slot >= 0 && static_cast<size_t>(spec.slot) < n ? e.values[spec.slot] : kNull;
      c->aggs[ai].Add(spec.fn, v);
    }
    return c;
  }

  int32_t FindFinalAfterProceed(CondEval& ev, int32_t state);
  void ComputeNextStates(const PartialMatch& pm, const EventPtr& event, CondEval& ev);
  void EmitMatches(std::vector<PartialMatch>& potential);
  void Emit(const PartialMatch& pm, MatchResult::Kind kind, EventTime time);
  void CollectPath(uint32_t node);
  void Prune(std::vector<PartialMatch>& pms, uint64_t pruning_id, bool inclusive);

  const Nfa::Impl& impl_;
  const CompiledGraph& g_;
  NfaState& st_;
  SharedBuffer& buf_;
  Scratch& sc_;
  std::vector<MatchResult>* out_;
  uint32_t cur_entry_ = kNil;  // this event, once a TAKE has registered it
};

}  // namespace

// Access to NfaState's private members (friend of NfaState).
struct NfaImplAccess {
  static SharedBuffer& Buffer(NfaState& s) { return s.buffer_; }
  static const SharedBuffer& Buffer(const NfaState& s) { return s.buffer_; }
  static std::vector<PartialMatch>& Partial(NfaState& s) { return s.partial_; }
  static const std::vector<PartialMatch>& Partial(const NfaState& s) { return s.partial_; }
  static std::vector<PartialMatch>& Completed(NfaState& s) { return s.completed_; }
  static const std::vector<PartialMatch>& Completed(const NfaState& s) { return s.completed_; }
  static uint64_t& Dropped(NfaState& s) { return s.dropped_; }
  static uint64_t Dropped(const NfaState& s) { return s.dropped_; }
};

namespace {

SharedBuffer* Runner::BufferOf(NfaState& st) { return &NfaImplAccess::Buffer(st); }
std::vector<PartialMatch>& Runner::Partial(NfaState& st) { return NfaImplAccess::Partial(st); }
std::vector<PartialMatch>& Runner::Completed(NfaState& st) { return NfaImplAccess::Completed(st); }
uint64_t& Runner::Dropped(NfaState& st) { return NfaImplAccess::Dropped(st); }

int32_t Runner::FindFinalAfterProceed(CondEval& ev, int32_t state) {
  // Flink findFinalStateAfterProceed: can the new state reach the final state by PROCEEDs?
  size_t base = sc_.stack.size();
  sc_.stack.push_back(state);
  int32_t found = -1;
  while (sc_.stack.size() > base && found < 0) {
    int32_t s = sc_.stack.back();
    sc_.stack.pop_back();
    for (const Edge& e : g_.states[s].edges) {
      if (e.action != EdgeAction::kProceed || !ev.Eval(e.cond)) continue;
      if (g_.states[e.target].kind == StateKind::kFinal) {
        found = e.target;
        break;
      }
      sc_.stack.push_back(e.target);
    }
  }
  sc_.stack.resize(base);
  return found;
}

void Runner::ComputeNextStates(const PartialMatch& pm, const EventPtr& event, CondEval& ev) {
  const bool is_start = IsStart(pm);
  // A state with a time bound, reached through PROCEEDs too late for this event, takes and
  // ignores nothing (a partial match resting in it has already expired in AdvanceTime).
  const bool check_bounds = impl_.has_bounds && pm.node != kNil;
  const EventTime prev_time = check_bounds ? PrevTime(pm) : EventTime();
  // 1. The decision graph: follow PROCEEDs, collect the TAKE/IGNORE edges that apply.
  sc_.edges.clear();
  sc_.stack.clear();
  sc_.stack.push_back(pm.state);
  while (!sc_.stack.empty()) {
    int32_t s = sc_.stack.back();
    sc_.stack.pop_back();
    const int64_t bound = g_.states[s].bound_ms;
    const bool too_late = check_bounds && bound > 0 && event->time >= prev_time + Duration(bound);
    for (const Edge& e : g_.states[s].edges) {
      // The start state never ignores (Flink skips IGNORE for it): do not even evaluate.
      if (is_start && e.action == EdgeAction::kIgnore) continue;
      if (too_late && e.action != EdgeAction::kProceed) continue;
      if (!ev.Eval(e.cond)) continue;
      if (e.action == EdgeAction::kProceed) {
        sc_.stack.push_back(e.target);
      } else {
        sc_.edges.push_back({&e, s});
      }
    }
  }
  // 2. One successor per edge (plus a final one after a TAKE that can PROCEED to the end).
  for (const OutEdge& oe : sc_.edges) {
    const Edge& e = *oe.edge;
    if (e.action == EdgeAction::kIgnore) {
      PartialMatch n = pm;
      n.state = e.target;
      buf_.Lock(n.node);
      nfa_internal::Ref(n.ctx);
      sc_.successors.push_back(n);
      continue;
    }
    if (cur_entry_ == kNil) cur_entry_ = buf_.Register(event);
    const int32_t var = g_.states[oe.source].var;
    PartialMatch n;
    n.state = e.target;
    n.node = buf_.AddNode(cur_entry_, pm.node, var);
    if (is_start) {
      n.start_id = buf_.entry(cur_entry_).id;
      n.start_time = event->time;
    } else {
      n.start_id = pm.start_id;
      n.start_time = pm.start_time;
    }
    n.ctx = TakeCtx(pm.ctx, var, *event);
    sc_.successors.push_back(n);
    int32_t fin = FindFinalAfterProceed(ev, e.target);
    if (fin >= 0) {
      PartialMatch f = n;
      f.state = fin;
      buf_.Lock(f.node);
      nfa_internal::Ref(f.ctx);
      sc_.successors.push_back(f);
    }
  }
}

void Runner::CollectPath(uint32_t node) {
  sc_.path.clear();
  for (uint32_t n = node; n != kNil; n = buf_.node(n).prev) {
    sc_.path.push_back({buf_.node(n).var, buf_.node(n).event});
  }
  std::reverse(sc_.path.begin(), sc_.path.end());
}

void Runner::Emit(const PartialMatch& pm, MatchResult::Kind kind, EventTime time) {
  CollectPath(pm.node);
  MatchResult r;
  r.kind = kind;
  r.events.resize(impl_.pattern.vars.size());
  for (auto& [var, entry] : sc_.path) {
    if (var >= 0) r.events[var].push_back(buf_.entry(entry).event);
  }
  r.captures = pm.ctx ? pm.ctx->captures : impl_.init_captures;
  r.aggs = pm.ctx ? pm.ctx->aggs : impl_.init_aggs;
  r.time = time;
  out_->push_back(std::move(r));
}

void Runner::Prune(std::vector<PartialMatch>& pms, uint64_t pruning_id, bool inclusive) {
  size_t w = 0;
  for (size_t i = 0; i < pms.size(); ++i) {
    const PartialMatch& pm = pms[i];
    bool prune = !IsStart(pm) && (inclusive ? pm.start_id <= pruning_id : pm.start_id < pruning_id);
    if (prune) {
      ReleasePm(pm);
    } else {
      pms[w++] = pm;
    }
  }
  pms.resize(w);
}

void Runner::EmitMatches(std::vector<PartialMatch>& potential) {
  auto time_of = [&](const PartialMatch& m) {
    if (Kind(m) == StateKind::kPending) return Deadline(m);
    return PrevTime(m);
  };
  if (!impl_.skip) {
    for (const PartialMatch& m : potential) {
      Emit(m, MatchResult::Kind::kMatch, time_of(m));
      ReleasePm(m);
    }
    potential.clear();
    return;
  }
  // Flink processMatchesAccordingToSkipStrategy: completed matches wait until no partial
  // match that started earlier is still running, then are emitted in start order, each
  // pruning the partial and completed matches its skip strategy discards.
  std::vector<PartialMatch>& completed = Completed(st_);
  if (!potential.empty()) {
    sc_.merged.clear();
    std::merge(completed.begin(), completed.end(), potential.begin(), potential.end(),
               std::back_inserter(sc_.merged), [](const PartialMatch& a, const PartialMatch& b) {
                 return a.start_id < b.start_id;
               });
    completed.swap(sc_.merged);
    potential.clear();
  }
  std::vector<PartialMatch>& partial = Partial(st_);
  while (!completed.empty()) {
    const PartialMatch m = completed.front();
    if (!partial.empty() && m.start_id > partial.front().start_id) break;
    completed.erase(completed.begin());
    CollectPath(m.node);
    bool have = true;
    bool inclusive = true;
    uint64_t pruning = 0;
    switch (impl_.pattern.skip) {
      case SkipStrategy::kNoSkip:
        have = false;
        break;
      case SkipStrategy::kSkipToNext:
        pruning = buf_.entry(sc_.path.front().second).id;
        break;
      case SkipStrategy::kSkipPastLast:
        pruning = buf_.entry(sc_.path.back().second).id;
        break;
      case SkipStrategy::kSkipToFirst:
      case SkipStrategy::kSkipToLast: {
        inclusive = false;
        have = false;
        for (auto& [var, entry] : sc_.path) {
          if (var != impl_.pattern.skip_var) continue;
          uint64_t id = buf_.entry(entry).id;
          if (!have || impl_.pattern.skip == SkipStrategy::kSkipToLast) pruning = id;
          have = true;
        }
        break;
      }
    }
    if (sc_.path.empty()) have = false;
    if (have) {
      Prune(partial, pruning, inclusive);
      Prune(completed, pruning, inclusive);
    }
    Emit(m, MatchResult::Kind::kMatch, time_of(m));
    ReleasePm(m);
  }
}

void Runner::AdvanceTime(EventTime now) {
  if (!impl_.has_within && !impl_.has_bounds) return;
  std::vector<PartialMatch>& partial = Partial(st_);
  if (partial.empty()) return;
  // Ordered by start (events come in time order): without bounds between steps nothing
  // expires before the first partial match's deadline.
  if (!impl_.has_bounds && now < partial.front().start_time + impl_.within) return;
  sc_.potential.clear();
  sc_.timeouts.clear();
  size_t w = 0;
  bool changed = false;
  for (size_t i = 0; i < partial.size(); ++i) {
    const PartialMatch& pm = partial[i];
    const EventTime deadline = Deadline(pm);
    if (now < deadline) {
      partial[w++] = pm;
      continue;
    }
    changed = true;
    if (Kind(pm) == StateKind::kPending) {
      sc_.potential.push_back(pm);  // a trailing negation's window or bound closed: a match
      continue;
    }
    if (impl_.options.report_timeouts) {
      std::vector<MatchResult>* real_out = out_;
      out_ = &sc_.timeouts;
      Emit(pm, MatchResult::Kind::kTimeout, deadline);
      out_ = real_out;
    }
    ReleasePm(pm);
  }
  partial.resize(w);
  // A timed-out partial match may free completed matches held by the skip strategy.
  if (changed && (!sc_.potential.empty() || !Completed(st_).empty())) {
    EmitMatches(sc_.potential);
  }
  for (MatchResult& r : sc_.timeouts) out_->push_back(std::move(r));
  sc_.timeouts.clear();
}

void Runner::Process(const EventPtr& event) {
  std::vector<PartialMatch>& partial = Partial(st_);
  const uint64_t event_stamp = ++sc_.stamp;
  CondEval ev(impl_, sc_, event_stamp);
  sc_.next.clear();
  sc_.potential.clear();
  PartialMatch start;
  start.state = g_.start;
  const size_t n = partial.size();
  for (size_t i = 0; i <= n; ++i) {
    const PartialMatch& pm = i < n ? partial[i] : start;
    ev.Bind(*event, pm.ctx);
    sc_.successors.clear();
    ComputeNextStates(pm, event, ev);
    if (i < n) ReleasePm(pm);
    bool discard = false;
    for (const PartialMatch& s : sc_.successors) {
      if (Kind(s) == StateKind::kStop) discard = true;
    }
    for (const PartialMatch& s : sc_.successors) {
      StateKind k = Kind(s);
      if (k == StateKind::kFinal) {
        // As in Flink, a match found from the same partial match survives a stop state.
        sc_.potential.push_back(s);
      } else if (k == StateKind::kStop || discard) {
        ReleasePm(s);
      } else {
        sc_.next.push_back(s);
      }
    }
  }
  partial.swap(sc_.next);
  sc_.next.clear();
  if (cur_entry_ != kNil) buf_.ReleaseEvent(cur_entry_);
  if (!sc_.potential.empty() || !Completed(st_).empty()) EmitMatches(sc_.potential);
  // Bound the partial matches of the key: drop the oldest.
  const size_t max = impl_.options.max_partial_matches;
  if (max > 0 && partial.size() > max) {
    size_t drop = partial.size() - max;
    for (size_t i = 0; i < drop; ++i) ReleasePm(partial[i]);
    partial.erase(partial.begin(), partial.begin() + drop);
    Dropped(st_) += drop;
    if (!Completed(st_).empty()) EmitMatches(sc_.potential);
  }
}

}  // namespace

// ---- Nfa ----

Nfa::Nfa(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Nfa::~Nfa() = default;

absl::StatusOr<std::shared_ptr<const Nfa>> Nfa::Compile(const Pattern& pattern,
                                                        NfaOptions options) {
  absl::StatusOr<CompiledGraph> g = nfa_internal::CompilePattern(pattern);
  if (!g.ok()) return g.status();
  auto impl = std::make_unique<Impl>();
  impl->pattern = pattern;
  impl->options = options;
  impl->g = std::move(*g);
  impl->has_within = pattern.within.has_value() && pattern.within->ms > 0;
  if (impl->has_within) impl->within = *pattern.within;
  impl->has_bounds = impl->g.has_bounds;
  impl->skip = pattern.skip != SkipStrategy::kNoSkip;
  const size_t nvars = pattern.vars.size();
  impl->var_captures.resize(nvars);
  impl->var_aggs.resize(nvars);
  impl->var_has_ctx.assign(nvars, 0);
  for (size_t i = 0; i < pattern.captures.size(); ++i) {
    int v = pattern.captures[i].var;
    if (v < 0 || static_cast<size_t>(v) >= nvars) {
      return absl::InvalidArgumentError("capture refers to an unknown pattern variable");
    }
    impl->var_captures[v].push_back(static_cast<int>(i));
    impl->var_has_ctx[v] = 1;
  }
  for (size_t i = 0; i < pattern.aggs.size(); ++i) {
    int v = pattern.aggs[i].var;
    if (v < 0 || static_cast<size_t>(v) >= nvars) {
      return absl::InvalidArgumentError("aggregate refers to an unknown pattern variable");
    }
    impl->var_aggs[v].push_back(static_cast<int>(i));
    impl->var_has_ctx[v] = 1;
  }
  impl->init_captures.resize(pattern.captures.size());
  impl->init_aggs.resize(pattern.aggs.size());
  return std::shared_ptr<const Nfa>(new Nfa(std::move(impl)));
}

std::unique_ptr<NfaState> Nfa::NewState() const { return std::make_unique<NfaState>(); }

namespace {
void PrepareScratch(const Nfa::Impl& impl, Scratch& sc) {
  const size_t nlit = impl.g.literals.size();
  if (sc.memo_stamp.size() < nlit) {
    sc.memo_stamp.resize(nlit, 0);
    sc.memo_value.resize(nlit, 0);
  }
}
}  // namespace

void Nfa::Process(NfaState& state, const EventPtr& event, std::vector<MatchResult>* out) const {
  Scratch& sc = GetScratch();
  PrepareScratch(*impl_, sc);
  Runner r(*impl_, state, sc, out);
  r.AdvanceTime(event->time);
  r.Process(event);
}

void Nfa::AdvanceTime(NfaState& state, EventTime now, std::vector<MatchResult>* out) const {
  Scratch& sc = GetScratch();
  PrepareScratch(*impl_, sc);
  Runner r(*impl_, state, sc, out);
  r.AdvanceTime(now);
}

bool Nfa::IsIdle(const NfaState& state) const {
  return NfaImplAccess::Partial(state).empty() && NfaImplAccess::Completed(state).empty();
}

NfaStateStats Nfa::Stats(const NfaState& state) const {
  NfaStateStats s;
  const auto& partial = NfaImplAccess::Partial(state);
  const auto& completed = NfaImplAccess::Completed(state);
  s.partial_matches = partial.size() + completed.size();
  s.buffered_events = NfaImplAccess::Buffer(state).live_events();
  s.dropped_partial_matches = NfaImplAccess::Dropped(state);
  // Captures/aggregates blocks are shared copy-on-write: counted as one per partial match.
  s.approx_bytes = sizeof(NfaState) + NfaImplAccess::Buffer(state).ApproxBytes() +
                   (partial.capacity() + completed.capacity()) * sizeof(PartialMatch);
  if (impl_->pattern.captures.size() + impl_->pattern.aggs.size() > 0) {
    s.approx_bytes +=
        s.partial_matches * (sizeof(MatchCtx) + impl_->init_captures.size() * sizeof(Value) +
                             impl_->init_aggs.size() * sizeof(AggAcc));
  }
  return s;
}

std::optional<EventTime> Nfa::NextDeadline(const NfaState& state) const {
  const std::vector<PartialMatch>& partial = NfaImplAccess::Partial(state);
  if (partial.empty()) return std::nullopt;
  if (!impl_->has_bounds) {
    if (!impl_->has_within) return std::nullopt;
    return partial.front().start_time + impl_->within;
  }
  // Bounds between steps: deadlines are not in start order, so take the earliest of all.
  const SharedBuffer& buf = NfaImplAccess::Buffer(state);
  EventTime best = EventTime::Max();
  for (const PartialMatch& pm : partial) best = std::min(best, DeadlineOf(*impl_, buf, pm));
  if (best == EventTime::Max()) return std::nullopt;
  return best;
}

// ---- Serialized state ----
//
//   byte   version (kStateVersion)
//   U64    dropped partial matches
//   ...    shared buffer (SharedBuffer::Serialize): next id, events, take nodes
//   U64    #contexts, then per context: Val x |captures|, then per aggregate
//          I64 count, I64 n, Val value, F64 fsum
//   U64    #partial matches, then per partial match (in order):
//          U64 start id + 1 (0: none), I64 start time, U32 node position + 1 (0: none),
//          U32 state, U32 context + 1 (0: initial values)
//   U64    #held matches, then per held match: as a partial match
//
// Contexts are written once however many partial matches share them (copy on write), so the
// restored state shares them too.

namespace {

constexpr uint8_t kStateVersion = 1;

void WritePms(const std::vector<PartialMatch>& pms, const std::vector<uint32_t>& node_index,
              Encoder* out) {
  out->U64(pms.size());
  for (const PartialMatch& pm : pms) {
    out->U64(pm.start_id + 1);  // kNoStart wraps to 0
    out->I64(pm.start_time.ms);
    out->U32(pm.node == kNil ? 0 : node_index[pm.node] + 1);
    out->U32(static_cast<uint32_t>(pm.state));
    out->U32(pm.ctx == nullptr ? 0 : pm.ctx->serial_index + 1);
  }
}

struct SerializeScratch {
  std::vector<uint32_t> node_index;
  std::vector<MatchCtx*> ctxs;
};
SerializeScratch& GetSerializeScratch() {
  thread_local SerializeScratch s;
  return s;
}

void ClearState(NfaState* state) {
  for (auto* v : {&NfaImplAccess::Partial(*state), &NfaImplAccess::Completed(*state)}) {
    for (PartialMatch& pm : *v) nfa_internal::Unref(pm.ctx);
    v->clear();
  }
  NfaImplAccess::Buffer(*state).Clear();
  NfaImplAccess::Dropped(*state) = 0;
}

}  // namespace

void Nfa::SerializeState(const NfaState& state, Encoder* out) const {
  const std::vector<PartialMatch>& partial = NfaImplAccess::Partial(state);
  const std::vector<PartialMatch>& completed = NfaImplAccess::Completed(state);
  out->Raw(std::string_view(reinterpret_cast<const char*>(&kStateVersion), 1));
  out->U64(NfaImplAccess::Dropped(state));
  SerializeScratch& sc = GetSerializeScratch();
  NfaImplAccess::Buffer(state).Serialize(out, &sc.node_index);
  // Number the distinct contexts, marking the ones seen (the marks are cleared below).
  std::vector<MatchCtx*>& ctxs = sc.ctxs;
  ctxs.clear();
  for (const auto* v : {&partial, &completed}) {
    for (const PartialMatch& pm : *v) {
      if (pm.ctx != nullptr && !pm.ctx->serial_mark) {
        pm.ctx->serial_mark = true;
        pm.ctx->serial_index = static_cast<uint32_t>(ctxs.size());
        ctxs.push_back(pm.ctx);
      }
    }
  }
  out->U64(ctxs.size());
  for (const MatchCtx* c : ctxs) {
    for (const Value& v : c->captures) out->Val(v);
    for (const AggAcc& a : c->aggs) {
      out->I64(a.count);
      out->I64(a.n);
      out->Val(a.value);
      out->F64(a.fsum);
    }
  }
  WritePms(partial, sc.node_index, out);
  WritePms(completed, sc.node_index, out);
  for (MatchCtx* c : ctxs) c->serial_mark = false;
}

absl::Status Nfa::RestoreState(NfaState* state, Decoder* in) const {
  ClearState(state);
  std::vector<MatchCtx*> ctxs;
  absl::Status st = [&]() -> absl::Status {
    std::string_view version;
    VIGIL_RETURN_IF_ERROR(in->Raw(1, &version));
    if (static_cast<uint8_t>(version[0]) != kStateVersion) {
      return absl::DataLossError(absl::StrCat("nfa state: unknown format version ",
                                              static_cast<int>(static_cast<uint8_t>(version[0]))));
    }
    VIGIL_RETURN_IF_ERROR(in->U64(&NfaImplAccess::Dropped(*state)));
    SharedBuffer& buf = NfaImplAccess::Buffer(*state);
    VIGIL_RETURN_IF_ERROR(buf.Restore(in, static_cast<int32_t>(impl_->pattern.vars.size())));
    uint64_t n;
    VIGIL_RETURN_IF_ERROR(in->U64(&n));
    const size_t ncap = impl_->init_captures.size();
    const size_t nagg = impl_->init_aggs.size();
    // A context takes at least one byte per capture and four per aggregate.
    if (n > in->remaining() || (ncap + 4 * nagg > 0 && n > in->remaining() / (ncap + 4 * nagg))) {
      return absl::DataLossError("nfa state: context count beyond input");
    }
    ctxs.reserve(static_cast<size_t>(n));
    for (uint64_t i = 0; i < n; ++i) {
      MatchCtx* c = nfa_internal::NewMatchCtx();
      ctxs.push_back(c);
      c->captures.resize(ncap);
      c->aggs.resize(nagg);
      for (Value& v : c->captures) VIGIL_RETURN_IF_ERROR(in->Val(&v));
      for (AggAcc& a : c->aggs) {
        VIGIL_RETURN_IF_ERROR(in->I64(&a.count));
        VIGIL_RETURN_IF_ERROR(in->I64(&a.n));
        VIGIL_RETURN_IF_ERROR(in->Val(&a.value));
        VIGIL_RETURN_IF_ERROR(in->F64(&a.fsum));
      }
    }
    const size_t num_states = impl_->g.states.size();
    for (bool held : {false, true}) {
      std::vector<PartialMatch>& pms =
          held ? NfaImplAccess::Completed(*state) : NfaImplAccess::Partial(*state);
      VIGIL_RETURN_IF_ERROR(in->U64(&n));
      if (n > in->remaining() / 5) {  // at least five bytes each
        return absl::DataLossError("nfa state: partial match count beyond input");
      }
      pms.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t start;
        uint32_t node, st_id, ctx;
        PartialMatch pm;
        VIGIL_RETURN_IF_ERROR(in->U64(&start));
        VIGIL_RETURN_IF_ERROR(in->I64(&pm.start_time.ms));
        VIGIL_RETURN_IF_ERROR(in->U32(&node));
        VIGIL_RETURN_IF_ERROR(in->U32(&st_id));
        VIGIL_RETURN_IF_ERROR(in->U32(&ctx));
        pm.start_id = start - 1;
        if (!pms.empty() && pm.start_id < pms.back().start_id) {
          return absl::DataLossError("nfa state: partial matches out of order");
        }
        if (node > buf.live_nodes()) return absl::DataLossError("nfa state: unknown node");
        if (st_id >= num_states) return absl::DataLossError("nfa state: unknown state");
        const StateKind kind = impl_->g.states[st_id].kind;
        if (held ? kind != StateKind::kFinal && kind != StateKind::kPending
                 : kind == StateKind::kFinal || kind == StateKind::kStop) {
          return absl::DataLossError("nfa state: partial match in an impossible state");
        }
        if (ctx > ctxs.size()) return absl::DataLossError("nfa state: unknown context");
        pm.node = node == 0 ? kNil : node - 1;
        pm.state = static_cast<int32_t>(st_id);
        pm.ctx = ctx == 0 ? nullptr : ctxs[ctx - 1];
        nfa_internal::Ref(pm.ctx);
        buf.Lock(pm.node);
        pms.push_back(pm);
      }
    }
    return buf.CheckRestored();
  }();
  for (MatchCtx* c : ctxs) nfa_internal::Unref(c);  // the table's references
  if (!st.ok()) ClearState(state);
  return st;
}

const Pattern& Nfa::pattern() const { return impl_->pattern; }

// ---- explain ----

namespace {

const char* KindName(StateKind k) {
  switch (k) {
    case StateKind::kNormal:
      return "normal";
    case StateKind::kStart:
      return "start";
    case StateKind::kFinal:
      return "final";
    case StateKind::kStop:
      return "stop";
    case StateKind::kPending:
      return "pending";
  }
  return "?";
}

const char* ActionName(EdgeAction a) {
  switch (a) {
    case EdgeAction::kTake:
      return "take";
    case EdgeAction::kIgnore:
      return "ignore";
    case EdgeAction::kProceed:
      return "proceed";
  }
  return "?";
}

// States reachable from the start, in breadth-first order.
std::vector<int32_t> Reachable(const CompiledGraph& g) {
  std::vector<int32_t> order;
  std::vector<bool> seen(g.states.size(), false);
  order.push_back(g.start);
  seen[g.start] = true;
  for (size_t i = 0; i < order.size(); ++i) {
    for (const Edge& e : g.states[order[i]].edges) {
      if (!seen[e.target]) {
        seen[e.target] = true;
        order.push_back(e.target);
      }
    }
  }
  return order;
}

// ", bound 5m" for a state with a time bound between steps (its partial matches expire 5m
// after their last event), "" otherwise.
std::string BoundText(const nfa_internal::State& st) {
  if (st.bound_ms <= 0) return "";
  return absl::StrCat(", bound ", FormatDuration(Duration(st.bound_ms)));
}

std::string DotEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string Nfa::ToText() const {
  const CompiledGraph& g = impl_->g;
  std::string out;
  std::vector<int32_t> order = Reachable(g);
  absl::StrAppend(&out, "states: ", order.size());
  if (impl_->has_within) absl::StrAppend(&out, ", within ", FormatDuration(impl_->within));
  out.append("\n");
  for (int32_t s : order) {
    const nfa_internal::State& st = g.states[s];
    absl::StrAppend(&out, st.name, " [", KindName(st.kind), BoundText(st), "]\n");
    for (const Edge& e : st.edges) {
      absl::StrAppend(&out, "  ", ActionName(e.action), " -> ", g.states[e.target].name);
      if (e.cond != nfa_internal::kTrueCond) {
        absl::StrAppend(&out, " if ", nfa_internal::CondToString(g, e.cond));
      }
      out.append("\n");
    }
  }
  return out;
}

std::string Nfa::ToDot() const {
  const CompiledGraph& g = impl_->g;
  std::string out = "digraph nfa {\n  rankdir=LR;\n";
  std::vector<int32_t> order = Reachable(g);
  for (int32_t s : order) {
    const nfa_internal::State& st = g.states[s];
    const char* shape = st.kind == StateKind::kFinal  ? "doublecircle"
                        : st.kind == StateKind::kStop ? "octagon"
                                                      : "circle";
    absl::StrAppend(&out, "  s", s, " [label=\"", DotEscape(st.name), "\\n", KindName(st.kind),
                    BoundText(st), "\", shape=", shape, "];\n");
  }
  for (int32_t s : order) {
    for (const Edge& e : g.states[s].edges) {
      std::string label = ActionName(e.action);
      if (e.cond != nfa_internal::kTrueCond) {
        absl::StrAppend(&label, ": ", nfa_internal::CondToString(g, e.cond));
      }
      const char* style = e.action == EdgeAction::kTake     ? "solid"
                          : e.action == EdgeAction::kIgnore ? "dashed"
                                                            : "dotted";
      absl::StrAppend(&out, "  s", s, " -> s", e.target, " [label=\"", DotEscape(label),
                      "\", style=", style, "];\n");
    }
  }
  out.append("}\n");
  return out;
}

}  // namespace vigil::cep
