// NfaCompiler, after Flink CEP's NFACompiler (flink-cep .../nfa/compiler/NFACompiler.java):
// the same construction (back to front, looping/times/singleton states, stop states for
// negations, a pending state for a trailing notFollowedBy closed by `within`, greedy and
// until conditions, group patterns incl. their "first of loop" rules), written over Vigil's
// Pattern tree. Alternation, which Flink lacks, is a group whose entry state PROCEEDs into
// one branch per alternative; every branch ends in the same continuation.
#include "cep/nfa/nfa_compiler.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vigil::cep::nfa_internal {
namespace {

// Flink's Quantifier.ConsumingStrategy.
enum class Strategy : uint8_t { kStrict, kSkipTillNext, kSkipTillAny, kNotNext, kNotFollow };

Strategy FromContiguity(Contiguity c) {
  switch (c) {
    case Contiguity::kStrict:
      return Strategy::kStrict;
    case Contiguity::kRelaxed:
      return Strategy::kSkipTillNext;
    case Contiguity::kNonDeterministic:
      return Strategy::kSkipTillAny;
  }
  return Strategy::kSkipTillNext;
}

// One element of Flink's Pattern chain (a variable or a GroupPattern), linked to its
// predecessor. A group holds the last element of its inner chain; an alternation holds one
// chain per alternative.
struct FPat {
  std::string name;
  int var = -1;
  ExprPtr cond;  // null: true
  Strategy consuming = Strategy::kSkipTillNext;
  Strategy inner = Strategy::kSkipTillNext;
  bool looping = false;
  bool times = false;
  bool optional = false;
  bool greedy = false;
  int from = 1;
  int to = 1;
  ExprPtr until;
  Duration bound{0};  // time bound on this element's first event (a variable only)
  FPat* previous = nullptr;
  bool is_group = false;
  std::vector<FPat*> raws;  // group: 1 chain; alternation: one per alternative
  bool IsAlt() const { return is_group && raws.size() > 1; }
};

class Compiler {
 public:
  explicit Compiler(const Pattern& p) : p_(p) {}

  absl::StatusOr<CompiledGraph> Run() {
    if (p_.root.kind != PatternNode::Kind::kSeq || p_.root.children.empty()) {
      return absl::InvalidArgumentError("pattern root must be a non-empty sequence");
    }
    absl::StatusOr<FPat*> last = BuildChain(p_.root, /*group_name=*/"");
    if (!last.ok()) return last.status();
    if (p_.skip == SkipStrategy::kSkipToFirst || p_.skip == SkipStrategy::kSkipToLast) {
      if (p_.skip_var < 0 || p_.skip_var >= static_cast<int>(p_.vars.size())) {
        return absl::InvalidArgumentError("after match skip names no pattern variable");
      }
    }
    current_ = *last;
    if (current_->consuming == Strategy::kNotFollow && !p_.within.has_value() &&
        current_->bound.ms <= 0) {
      return absl::InvalidArgumentError(
          "a pattern that ends with a notFollowedBy needs 'within' or a time bound");
    }
    int32_t sink = NewState("$end$", -1, StateKind::kFinal);
    sink = CreateMiddleStates(sink);
    int32_t start = ConvertPattern(sink);
    g_.states[start].kind = StateKind::kStart;
    g_.start = start;
    return std::move(g_);
  }

 private:
  // ---- Pattern tree -> Flink-style chain ----

  FPat* NewPat() {
    pats_.push_back(std::make_unique<FPat>());
    return pats_.back().get();
  }

  absl::Status ApplyQuantifier(const Quantifier& q, FPat* f) {
    int min = q.min, max = q.max;
    bool optional = q.optional;
    if (min <= 0) {  // {0,m} / {0,}: Flink's times(0, m) is times(1, m).optional()
      optional = true;
      min = 1;
    }
    if (max != Quantifier::kUnbounded && max < min) {
      return absl::InvalidArgumentError("quantifier maximum is below its minimum");
    }
    f->optional = optional;
    f->greedy = q.greedy;
    f->inner = FromContiguity(q.inner);
    f->until = q.until;
    f->from = min;
    if (max == Quantifier::kUnbounded) {
      f->looping = true;
      f->to = min;
    } else if (max > 1) {
      f->times = true;
      f->to = max;
    } else {
      f->to = 1;
    }
    return absl::OkStatus();
  }

  // Builds the chain of a sequence; returns its last element.
  absl::StatusOr<FPat*> BuildChain(const PatternNode& seq, const std::string& group_name) {
    if (seq.kind != PatternNode::Kind::kSeq) {
      // A lone term used as an alternative.
      PatternNode wrap;
      wrap.kind = PatternNode::Kind::kSeq;
      wrap.children.push_back(seq);
      wrap.conn.push_back(Contiguity::kStrict);
      return BuildChain(wrap, group_name);
    }
    FPat* prev = nullptr;
    for (size_t i = 0; i < seq.children.size(); ++i) {
      const PatternNode& c = seq.children[i];
      FPat* f = NewPat();
      Contiguity conn = i < seq.conn.size() ? seq.conn[i] : Contiguity::kRelaxed;
      f->consuming = i == 0 ? Strategy::kSkipTillNext : FromContiguity(conn);
      f->previous = prev;
      if (i < seq.bound.size() && seq.bound[i].ms > 0) {
        if (i == 0) return absl::InvalidArgumentError("a time bound on the first step");
        if (c.kind != PatternNode::Kind::kVar) {
          return absl::InvalidArgumentError("a time bound must precede a single variable");
        }
        f->bound = seq.bound[i];
      }
      if (c.kind == PatternNode::Kind::kVar) {
        if (c.var < 0 || c.var >= static_cast<int>(p_.vars.size())) {
          return absl::InvalidArgumentError("pattern variable index out of range");
        }
        f->var = c.var;
        f->name = p_.vars[c.var].name;
        f->cond = p_.vars[c.var].condition;
        if (c.negated) {
          if (i == 0) return absl::InvalidArgumentError("a pattern cannot start with a negation");
          if (!c.quant.IsSingle()) {
            return absl::InvalidArgumentError("a negation cannot be quantified or optional");
          }
          f->consuming = conn == Contiguity::kStrict ? Strategy::kNotNext : Strategy::kNotFollow;
        }
      } else {
        f->is_group = true;
        f->name = absl::StrCat(group_name.empty() ? "group" : group_name, ".", groups_++);
        if (c.kind == PatternNode::Kind::kSeq) {
          absl::StatusOr<FPat*> raw = BuildChain(c, f->name);
          if (!raw.ok()) return raw.status();
          f->raws.push_back(*raw);
        } else {
          for (const PatternNode& alt : c.children) {
            absl::StatusOr<FPat*> raw = BuildChain(alt, f->name);
            if (!raw.ok()) return raw.status();
            f->raws.push_back(*raw);
          }
          if (f->raws.empty()) return absl::InvalidArgumentError("empty alternation");
        }
      }
      if (absl::Status s = ApplyQuantifier(c.quant, f); !s.ok()) return s;
      if (c.quant.until && !f->looping) {
        return absl::InvalidArgumentError("'until' applies only to a looping quantifier");
      }
      prev = f;
    }
    return prev;
  }

  // ---- conditions ----

  int32_t Lit(const ExprPtr& e) {
    if (!e) return kTrueCond;
    auto it = lit_index_.find(e.get());
    int32_t lit;
    if (it != lit_index_.end()) {
      lit = it->second;
    } else {
      lit = static_cast<int32_t>(g_.literals.size());
      bool reads = false;
      for (const ExprNode& n : e->nodes()) {
        if (n.op == ExprOp::kCapture || n.op == ExprOp::kAgg) reads = true;
      }
      g_.literals.push_back({e.get(), reads});
      g_.exprs.push_back(e);
      lit_index_[e.get()] = lit;
    }
    g_.conds.push_back({CondNode::Op::kLit, lit, -1});
    return static_cast<int32_t>(g_.conds.size() - 1);
  }
  // Not(true) is represented by a dedicated node so that it stays "never".
  int32_t Not(int32_t c) {
    g_.conds.push_back({CondNode::Op::kNot, c, -1});
    return static_cast<int32_t>(g_.conds.size() - 1);
  }
  int32_t And(int32_t a, int32_t b) {
    if (a == kTrueCond) return b;
    if (b == kTrueCond) return a;
    g_.conds.push_back({CondNode::Op::kAnd, a, b});
    return static_cast<int32_t>(g_.conds.size() - 1);
  }
  // "null" conditions of Flink (no edge) are represented by std::nullopt-like kNoCond.
  static constexpr int32_t kNoCond = -2;

  int32_t ExtendWithUntil(int32_t cond, const ExprPtr& until, bool is_take) {
    if (until && cond != kNoCond) return And(Not(Lit(until)), cond);
    if (until && is_take) return Not(Lit(until));
    return cond;
  }

  bool HeadOfGroup(const FPat* p) const { return group_ != nullptr && p->previous == nullptr; }
  bool GroupFirstOfLoop() const {
    auto it = first_of_loop_.find(group_);
    return it == first_of_loop_.end() ? true : it->second;
  }
  void SetFirstOfLoop(bool v) {
    if (current_->is_group) first_of_loop_[current_] = v;
  }
  // Flink (since FLINK-30864/FLINK-30885) takes a step's own `optional` also for the head of a
  // group: `(b? c)` may start at c. The head of an optional group gets its own ignore state so
  // that the group's PROCEED (added at the group's entry) is not repeated after ignored events.
  bool IsHeadOfOptionalGroup(const FPat* p) const {
    return HeadOfGroup(p) && GroupFirstOfLoop() && group_->optional;
  }

  int32_t StrategyCond(Strategy s, const FPat* p) {
    switch (s) {
      case Strategy::kStrict:
        return kNoCond;
      case Strategy::kSkipTillNext:
        return Not(Lit(p->cond));
      case Strategy::kSkipTillAny:
        return kTrueCond;
      default:
        return kNoCond;
    }
  }
  int32_t InnerIgnoreCond(const FPat* p) {
    Strategy s = HeadOfGroup(p) ? group_->inner : p->inner;
    int32_t c = StrategyCond(s, p);
    if (group_ && group_->until) c = ExtendWithUntil(c, group_->until, false);
    return c;
  }
  int32_t IgnoreCond(const FPat* p) {
    Strategy s = p->consuming;
    if (HeadOfGroup(p)) s = GroupFirstOfLoop() ? group_->consuming : group_->inner;
    int32_t c = StrategyCond(s, p);
    if (group_ && group_->until) c = ExtendWithUntil(c, group_->until, false);
    return c;
  }
  int32_t TakeCond(const FPat* p) {
    int32_t c = Lit(p->cond);
    if (group_ && group_->until) c = ExtendWithUntil(c, group_->until, true);
    return c;
  }
  int32_t TrueFn() {
    int32_t c = kTrueCond;
    if (group_ && group_->until) c = ExtendWithUntil(c, group_->until, true);
    return c;
  }

  // ---- states ----

  int32_t NewState(const std::string& base, int var, StateKind kind) {
    std::string name = base;
    for (int n = 1; used_names_.count(name); ++n) name = absl::StrCat(base, ":", n);
    used_names_[name] = true;
    State s;
    s.name = std::move(name);
    s.var = var;
    s.kind = kind;
    g_.states.push_back(std::move(s));
    return static_cast<int32_t>(g_.states.size() - 1);
  }
  void AddEdge(int32_t from, EdgeAction a, int32_t to, int32_t cond) {
    g_.states[from].edges.push_back({a, to, cond});
  }
  void SetBound(int32_t s, Duration d) {
    if (d.ms <= 0) return;
    g_.states[s].bound_ms = d.ms;
    g_.has_bounds = true;
  }
  bool IsFinal(int32_t s) const { return g_.states[s].kind == StateKind::kFinal; }
  bool IsStop(int32_t s) const { return g_.states[s].kind == StateKind::kStop; }

  int32_t StopState(int32_t not_cond, const FPat* p) {
    auto it = stop_states_.find(p->name);
    if (it != stop_states_.end()) return it->second;
    int32_t s = NewState(p->name, p->var, StateKind::kStop);
    AddEdge(s, EdgeAction::kTake, s, not_cond);
    stop_states_[p->name] = s;
    return s;
  }

  // Not conditions that still apply before `current_`: the negations behind a path of
  // optional elements (Flink getCurrentNotCondition).
  std::vector<std::pair<int32_t, const FPat*>> CurrentNotConditions() {
    std::vector<std::pair<int32_t, const FPat*>> out;
    const FPat* prev = current_;
    while (prev->previous != nullptr &&
           (prev->previous->optional || prev->previous->consuming == Strategy::kNotFollow)) {
      prev = prev->previous;
      if (prev->consuming == Strategy::kNotFollow) out.push_back({TakeCond(prev), prev});
    }
    return out;
  }

  int32_t CreateMiddleStates(int32_t sink) {
    int32_t last = sink;
    while (current_->previous != nullptr) {
      if (current_->consuming == Strategy::kNotFollow) {
        if (IsFinal(last) && (p_.within.has_value() || current_->bound.ms > 0)) {
          // Trailing notFollowedBy: wait in a pending state until the window closes.
          int32_t pending = NewState(current_->name, -1, StateKind::kPending);
          SetBound(pending, current_->bound);
          int32_t not_cond = TakeCond(current_);
          int32_t stop = StopState(not_cond, current_);
          AddEdge(pending, EdgeAction::kProceed, stop, not_cond);
          AddEdge(pending, EdgeAction::kIgnore, pending, Not(not_cond));
          g_.has_pending = true;
          last = pending;
        }
      } else if (current_->consuming == Strategy::kNotNext) {
        int32_t not_next = NewState(current_->name, -1, StateKind::kNormal);
        SetBound(not_next, current_->bound);
        int32_t not_cond = TakeCond(current_);
        int32_t stop = StopState(not_cond, current_);
        if (IsFinal(last)) {
          AddEdge(not_next, EdgeAction::kIgnore, last, Not(not_cond));
        } else {
          AddEdge(not_next, EdgeAction::kProceed, last, Not(not_cond));
        }
        AddEdge(not_next, EdgeAction::kProceed, stop, not_cond);
        last = not_next;
      } else {
        last = ConvertPattern(last);
        if (current_->bound.ms > 0) {
          // The states that wait for the step's first event: its entry and the entry's
          // ignore state (Flink gives windowTimes to the states it creates for the step).
          SetBound(last, current_->bound);
          for (const Edge& e : g_.states[last].edges) {
            if (e.action == EdgeAction::kIgnore && e.target != last)
              SetBound(e.target, current_->bound);
          }
        }
      }
      following_ = current_;
      current_ = current_->previous;
    }
    return last;
  }

  int32_t ConvertPattern(int32_t sink) {
    int32_t last;
    if (current_->looping) {
      SetFirstOfLoop(false);
      int32_t s = CopyWithoutTransitiveNots(sink);
      int32_t looping = CreateLooping(s);
      SetFirstOfLoop(true);
      last = CreateTimesState(looping, sink);
    } else if (current_->times) {
      last = CreateTimesState(sink, sink);
    } else {
      last = CreateSingletonState(sink);
    }
    AddStopStates(last);
    return last;
  }

  int32_t CopyWithoutTransitiveNots(int32_t sink) {
    auto nots = CurrentNotConditions();
    if (nots.empty() || !current_->optional) return sink;
    const State src = g_.states[sink];  // copy: NewState may reallocate
    std::string base = src.name.substr(0, src.name.find(':'));
    int32_t copy =
        NewState(base, src.var, src.kind == StateKind::kStart ? StateKind::kNormal : src.kind);
    g_.states[copy].bound_ms = src.bound_ms;
    for (const Edge& e : src.edges) {
      if (e.action == EdgeAction::kProceed) {
        int32_t target = e.target;
        bool remove = false;
        if (IsStop(target)) {
          for (auto& [c, p] : nots) {
            if (g_.states[target].name == p->name) remove = true;
          }
        } else {
          target = CopyWithoutTransitiveNots(target);
        }
        if (!remove) AddEdge(copy, e.action, target, e.cond);
      } else {
        AddEdge(copy, e.action, e.target == sink ? copy : e.target, e.cond);
      }
    }
    return copy;
  }

  int32_t Copy(int32_t state) {
    const State src = g_.states[state];
    std::string base = src.name.substr(0, src.name.find(':'));
    int32_t copy = NewState(base, src.var, src.kind);
    g_.states[copy].bound_ms = src.bound_ms;
    for (const Edge& e : src.edges) {
      AddEdge(copy, e.action, e.target == state ? copy : e.target, e.cond);
    }
    return copy;
  }

  void AddStopStates(int32_t state) {
    for (auto& [c, p] : CurrentNotConditions()) {
      AddEdge(state, EdgeAction::kProceed, StopState(c, p), c);
    }
  }

  void AddStopStateToLooping(int32_t state) {
    if (following_ != nullptr && following_->consuming == Strategy::kNotFollow) {
      int32_t c = TakeCond(following_);
      AddEdge(state, EdgeAction::kProceed, StopState(c, following_), c);
    }
  }

  void UpdateWithGreedyCondition(int32_t state, int32_t take) {
    for (Edge& e : g_.states[state].edges) e.cond = And(e.cond, Not(take));
  }

  int32_t CreateTimesState(int32_t sink, int32_t proceed) {
    int32_t last = sink;
    SetFirstOfLoop(false);
    const ExprPtr& until = current_->until;
    int32_t inner_ignore = ExtendWithUntil(InnerIgnoreCond(current_), until, false);
    int32_t take = ExtendWithUntil(TakeCond(current_), until, true);
    if (current_->greedy && current_->from != current_->to) {
      if (until) original_state_[sink] = Copy(sink);
      UpdateWithGreedyCondition(sink, take);
    }
    for (int i = current_->from; i < current_->to; ++i) {
      last = CreateSingletonState(last, proceed, take, inner_ignore, true);
      AddStopStateToLooping(last);
    }
    for (int i = 0; i < current_->from - 1; ++i) {
      last = CreateSingletonState(last, -1, take, inner_ignore, false);
      AddStopStateToLooping(last);
    }
    SetFirstOfLoop(true);
    return CreateSingletonState(last, proceed, take, IgnoreCond(current_), current_->optional);
  }

  int32_t CreateSingletonState(int32_t sink) {
    return CreateSingletonState(sink, sink, TakeCond(current_), IgnoreCond(current_),
                                current_->optional);
  }

  int32_t CreateSingletonState(int32_t sink, int32_t proceed, int32_t take, int32_t ignore,
                               bool optional) {
    if (current_->is_group) return CreateGroupPatternState(current_, sink, proceed, optional);
    int32_t single = NewState(current_->name, current_->var, StateKind::kNormal);
    int32_t sink_copy = CopyWithoutTransitiveNots(sink);
    AddEdge(single, EdgeAction::kTake, sink_copy, take);
    int32_t proceed_cond = TrueFn();
    if (optional) {
      if (current_->greedy) {
        const ExprPtr& until = current_->until;
        if (until) {
          auto it = original_state_.find(proceed);
          int32_t target = it != original_state_.end() ? it->second : proceed;
          AddEdge(single, EdgeAction::kProceed, target, And(proceed_cond, Lit(until)));
        }
        AddEdge(single, EdgeAction::kProceed, proceed,
                until ? And(proceed_cond, Not(Lit(until))) : proceed_cond);
      } else {
        AddEdge(single, EdgeAction::kProceed, proceed, proceed_cond);
      }
    }
    if (ignore != kNoCond) {
      int32_t ignore_state;
      if (optional || IsHeadOfOptionalGroup(current_)) {
        ignore_state = NewState(current_->name, current_->var, StateKind::kNormal);
        AddEdge(ignore_state, EdgeAction::kTake, sink_copy, take);
        AddEdge(ignore_state, EdgeAction::kIgnore, ignore_state, ignore);
        AddStopStates(ignore_state);
      } else {
        ignore_state = single;
      }
      AddEdge(single, EdgeAction::kIgnore, ignore_state, ignore);
    }
    return single;
  }

  // Builds the states of a group's inner chain(s) ending in `sink`; returns the entry state.
  int32_t BuildGroupBody(FPat* group, int32_t sink) {
    group_ = group;
    if (!group->IsAlt()) {
      current_ = group->raws[0];
      int32_t last = CreateMiddleStates(sink);
      return ConvertPattern(last);
    }
    std::vector<int32_t> entries;
    for (FPat* raw : group->raws) {
      current_ = raw;
      following_ = nullptr;
      int32_t last = CreateMiddleStates(sink);
      entries.push_back(ConvertPattern(last));
    }
    int32_t branch = NewState(group->name, -1, StateKind::kNormal);
    for (int32_t e : entries) AddEdge(branch, EdgeAction::kProceed, e, kTrueCond);
    return branch;
  }

  int32_t CreateGroupPatternState(FPat* group, int32_t sink, int32_t proceed, bool optional) {
    int32_t proceed_cond = TrueFn();
    FPat* old_current = current_;
    FPat* old_following = following_;
    FPat* old_group = group_;
    int32_t last = BuildGroupBody(group, sink);
    if (optional) AddEdge(last, EdgeAction::kProceed, proceed, proceed_cond);
    current_ = old_current;
    following_ = old_following;
    group_ = old_group;
    return last;
  }

  int32_t CreateLoopingGroupPatternState(FPat* group, int32_t sink) {
    int32_t proceed_cond = TrueFn();
    FPat* old_current = current_;
    FPat* old_following = following_;
    FPat* old_group = group_;
    int32_t dummy = NewState(current_->name, -1, StateKind::kNormal);
    int32_t last = BuildGroupBody(group, dummy);
    AddEdge(last, EdgeAction::kProceed, sink, proceed_cond);
    AddEdge(dummy, EdgeAction::kProceed, last, proceed_cond);
    current_ = old_current;
    following_ = old_following;
    group_ = old_group;
    return last;
  }

  int32_t CreateLooping(int32_t sink) {
    if (current_->is_group) return CreateLoopingGroupPatternState(current_, sink);
    const ExprPtr& until = current_->until;
    int32_t ignore = ExtendWithUntil(InnerIgnoreCond(current_), until, false);
    int32_t take = ExtendWithUntil(TakeCond(current_), until, true);
    int32_t proceed_cond = TrueFn();
    int32_t looping = NewState(current_->name, current_->var, StateKind::kNormal);
    if (current_->greedy) {
      if (until) {
        int32_t sink_copy = Copy(sink);
        AddEdge(looping, EdgeAction::kProceed, sink_copy, And(proceed_cond, Lit(until)));
        original_state_[sink] = sink_copy;
      }
      AddEdge(looping, EdgeAction::kProceed, sink,
              until ? And(proceed_cond, Not(Lit(until))) : proceed_cond);
      UpdateWithGreedyCondition(sink, TakeCond(current_));
    } else {
      AddEdge(looping, EdgeAction::kProceed, sink, proceed_cond);
    }
    AddEdge(looping, EdgeAction::kTake, looping, take);
    AddStopStateToLooping(looping);
    if (ignore != kNoCond) {
      int32_t ignore_state = NewState(current_->name, current_->var, StateKind::kNormal);
      AddEdge(ignore_state, EdgeAction::kTake, looping, take);
      AddEdge(ignore_state, EdgeAction::kIgnore, ignore_state, ignore);
      AddEdge(looping, EdgeAction::kIgnore, ignore_state, ignore);
      AddStopStateToLooping(ignore_state);
    }
    return looping;
  }

  const Pattern& p_;
  CompiledGraph g_;
  std::vector<std::unique_ptr<FPat>> pats_;
  int groups_ = 0;
  FPat* current_ = nullptr;
  FPat* following_ = nullptr;
  FPat* group_ = nullptr;
  std::map<const FPat*, bool> first_of_loop_;
  std::map<std::string, int32_t> stop_states_;
  std::map<int32_t, int32_t> original_state_;
  std::map<std::string, bool> used_names_;
  std::map<const Expr*, int32_t> lit_index_;
};

void CondText(const CompiledGraph& g, int32_t c, std::string* out) {
  if (c == kTrueCond) {
    out->append("true");
    return;
  }
  const CondNode& n = g.conds[c];
  switch (n.op) {
    case CondNode::Op::kLit:
      out->append(g.literals[n.a].expr->ToString());
      break;
    case CondNode::Op::kNot:
      out->append("not ");
      if (n.a == kTrueCond) {
        out->append("true");
      } else {
        CondText(g, n.a, out);
      }
      break;
    case CondNode::Op::kAnd:
      out->append("(");
      CondText(g, n.a, out);
      out->append(" and ");
      CondText(g, n.b, out);
      out->append(")");
      break;
  }
}

}  // namespace

absl::StatusOr<CompiledGraph> CompilePattern(const Pattern& pattern) {
  return Compiler(pattern).Run();
}

std::string CondToString(const CompiledGraph& g, int32_t cond) {
  std::string s;
  CondText(g, cond, &s);
  return s;
}

}  // namespace vigil::cep::nfa_internal
