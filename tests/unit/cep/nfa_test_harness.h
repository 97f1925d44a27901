#pragma once
// NfaTestHarness: builds cep::Patterns directly in C++ (no parser) and feeds events through
// an Nfa, collecting matches and timeouts in a canonical text form for assertions.
//
// Event schema (slots): 0 name (string), 1 price (float), 2 id (int, 1-based, per harness).
// A match renders as "var:[id,id] var:[id]" with variables in pattern order, empty ones
// omitted.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cep/expr/expr.h"
#include "cep/nfa/nfa.h"
#include "cep/pattern.h"
#include "gtest/gtest.h"

namespace vigil::cep::testing {

inline constexpr int kNameSlot = 0;
inline constexpr int kPriceSlot = 1;
inline constexpr int kIdSlot = 2;

// Small expression builder over the harness schema.
class E {
 public:
  int32_t Field(int slot, Type t) { return Add(ExprOp::kField, t, slot); }
  int32_t Name() { return Field(kNameSlot, Type::kString); }
  int32_t Price() { return Field(kPriceSlot, Type::kFloat); }
  int32_t Str(const std::string& s) { return AddConst(Value::String(s)); }
  int32_t Num(double d) { return AddConst(Value::Float(d)); }
  int32_t Int(int64_t i) { return AddConst(Value::Int(i)); }
  int32_t Capture(int i, Type t) { return Add(ExprOp::kCapture, t, i); }
  int32_t Agg(int i, AggFn fn, Type t) {
    ExprNode n;
    n.op = ExprOp::kAgg;
    n.type = t;
    n.index = i;
    n.b = static_cast<int32_t>(fn);
    return e_.AddNode(n);
  }
  int32_t Bin(ExprOp op, int32_t a, int32_t b, Type t = Type::kBool) {
    ExprNode n;
    n.op = op;
    n.type = t;
    n.a = a;
    n.b = b;
    return e_.AddNode(n);
  }
  int32_t Call(Function f, std::vector<int32_t> args, Type t) {
    ExprNode n;
    n.op = ExprOp::kCall;
    n.type = t;
    n.index = static_cast<int32_t>(f);
    n.args = std::move(args);
    return e_.AddNode(n);
  }
  ExprPtr Done(int32_t root) {
    e_.set_root(root);
    return std::make_shared<Expr>(std::move(e_));
  }

 private:
  int32_t Add(ExprOp op, Type t, int index) {
    ExprNode n;
    n.op = op;
    n.type = t;
    n.index = index;
    return e_.AddNode(n);
  }
  int32_t AddConst(Value v) {
    ExprNode n;
    n.op = ExprOp::kConst;
    n.type = v.type();
    n.index = e_.AddConst(std::move(v));
    return e_.AddNode(n);
  }
  Expr e_;
};

inline ExprPtr NameIs(const std::string& name) {
  E e;
  return e.Done(e.Bin(ExprOp::kEq, e.Name(), e.Str(name)));
}
inline ExprPtr NameIn(std::vector<std::string> names) {
  E e;
  int32_t r = -1;
  for (const std::string& n : names) {
    int32_t eq = e.Bin(ExprOp::kEq, e.Name(), e.Str(n));
    r = r < 0 ? eq : e.Bin(ExprOp::kOr, r, eq);
  }
  return e.Done(r);
}
inline ExprPtr PriceIs(double p) {
  E e;
  return e.Done(e.Bin(ExprOp::kEq, e.Price(), e.Num(p)));
}
inline ExprPtr PriceAbove(double p) {
  E e;
  return e.Done(e.Bin(ExprOp::kGt, e.Price(), e.Num(p)));
}

// Quantifier helpers.
struct Q {
  Quantifier q;
  Q& Greedy() {
    q.greedy = true;
    return *this;
  }
  Q& Consecutive() {
    q.inner = Contiguity::kStrict;
    return *this;
  }
  Q& Combinations() {
    q.inner = Contiguity::kNonDeterministic;
    return *this;
  }
  Q& Optional() {
    q.optional = true;
    return *this;
  }
  Q& Until(ExprPtr e) {
    q.until = std::move(e);
    return *this;
  }
};
inline Q One() { return Q{}; }
inline Q Opt() { return Q{}.Optional(); }
inline Q Plus() {
  Q r;
  r.q.max = Quantifier::kUnbounded;
  return r;
}
inline Q Star() { return Plus().Optional(); }
inline Q Times(int n) {
  Q r;
  r.q.min = r.q.max = n;
  return r;
}
inline Q Times(int n, int m) {
  Q r;
  r.q.min = n;
  r.q.max = m;
  return r;
}
inline Q TimesOrMore(int n) {
  Q r;
  r.q.min = n;
  r.q.max = Quantifier::kUnbounded;
  return r;
}

// A term of a sequence: the contiguity that connects it to the previous term, the term, and
// an optional time bound between the previous term and this one (`a ->[5m] b`).
struct Term {
  Contiguity conn;
  PatternNode node;
  Duration bound{0};
};

inline PatternNode V(int var, Q q = One()) {
  PatternNode n;
  n.kind = PatternNode::Kind::kVar;
  n.var = var;
  n.quant = q.q;
  return n;
}
inline PatternNode NotV(int var) {
  PatternNode n = V(var);
  n.negated = true;
  return n;
}
inline PatternNode Seq(std::vector<Term> terms, Q q = One()) {
  PatternNode n;
  n.kind = PatternNode::Kind::kSeq;
  n.quant = q.q;
  bool bounded = false;
  for (Term& t : terms) {
    n.conn.push_back(t.conn);
    n.bound.push_back(t.bound);
    bounded = bounded || t.bound.ms > 0;
    n.children.push_back(std::move(t.node));
  }
  if (!bounded) n.bound.clear();
  return n;
}
inline PatternNode Alt(std::vector<PatternNode> alts, Q q = One()) {
  PatternNode n;
  n.kind = PatternNode::Kind::kAlt;
  n.quant = q.q;
  n.children = std::move(alts);
  return n;
}
inline Term First(PatternNode n) { return {Contiguity::kStrict, std::move(n)}; }
inline Term Next(PatternNode n) { return {Contiguity::kStrict, std::move(n)}; }
inline Term FollowedBy(PatternNode n) { return {Contiguity::kRelaxed, std::move(n)}; }
inline Term FollowedByAny(PatternNode n) { return {Contiguity::kNonDeterministic, std::move(n)}; }
// `t` with a time bound of `ms` from the previous event of the match (`a ->[ms] b`).
inline Term Within(Term t, int64_t ms) {
  t.bound = Duration(ms);
  return t;
}

class NfaTestHarness {
 public:
  // Flink's default strategy (Vigil's language defaults to skip past last).
  NfaTestHarness() { pattern_.skip = SkipStrategy::kNoSkip; }

  // Declares a pattern variable; `cond` defaults to name == var name. Pass `nullptr` through
  // VarAny for a variable without `define`.
  int Var(const std::string& name) { return Var(name, NameIs(name)); }
  int Var(const std::string& name, ExprPtr cond) {
    pattern_.vars.push_back({name, std::move(cond), false});
    return static_cast<int>(pattern_.vars.size() - 1);
  }
  int VarAny(const std::string& name) { return Var(name, nullptr); }

  Pattern& pattern() { return pattern_; }
  NfaOptions& options() { return options_; }

  // Compiles the pattern (root = Seq of terms). Fails the test on error.
  void Build(std::vector<Term> terms) {
    pattern_.root = Seq(std::move(terms));
    auto nfa = Nfa::Compile(pattern_, options_);
    ASSERT_TRUE(nfa.ok()) << nfa.status();
    nfa_ = *nfa;
    state_ = nfa_->NewState();
  }
  absl::Status TryBuild(std::vector<Term> terms) {
    pattern_.root = Seq(std::move(terms));
    auto nfa = Nfa::Compile(pattern_, options_);
    if (nfa.ok()) {
      nfa_ = *nfa;
      state_ = nfa_->NewState();
    }
    return nfa.status();
  }

  // Feeds an event; returns its id (1-based).
  int Feed(const std::string& name, double price = 0, int64_t ts = -1) {
    auto e = std::make_shared<Event>();
    int id = ++next_id_;
    e->values = {Value::String(name), Value::Float(price), Value::Int(id)};
    e->time = EventTime(ts >= 0 ? ts : id);
    e->seq = static_cast<uint64_t>(id);
    last_time_ = e->time;
    std::vector<MatchResult> out;
    nfa_->Process(*state_, e, &out);
    Collect(out);
    return id;
  }
  // Feeds names with ts = id.
  void FeedAll(const std::vector<std::string>& names) {
    for (const std::string& n : names) Feed(n);
  }
  void AdvanceTo(int64_t t) {
    std::vector<MatchResult> out;
    nfa_->AdvanceTime(*state_, EventTime(t), &out);
    Collect(out);
  }
  void Finish() { AdvanceTo(EventTime::Max().ms); }

  std::string Render(const MatchResult& r) const {
    std::vector<std::string> parts;
    for (size_t v = 0; v < r.events.size(); ++v) {
      if (r.events[v].empty()) continue;
      std::vector<std::string> ids;
      for (const EventPtr& e : r.events[v])
        ids.push_back(absl::StrCat(e->values[kIdSlot].as_int()));
      parts.push_back(absl::StrCat(pattern_.vars[v].name, ":[", absl::StrJoin(ids, ","), "]"));
    }
    return absl::StrJoin(parts, " ");
  }

  std::vector<std::string> Matches(bool sorted = true) const { return Get(matches_, sorted); }
  std::vector<std::string> Timeouts(bool sorted = true) const { return Get(timeouts_, sorted); }
  const std::vector<MatchResult>& raw_matches() const { return raw_matches_; }
  const std::vector<MatchResult>& raw_timeouts() const { return raw_timeouts_; }
  void ClearResults() {
    matches_.clear();
    timeouts_.clear();
    raw_matches_.clear();
    raw_timeouts_.clear();
  }

  const Nfa& nfa() const { return *nfa_; }
  NfaState& state() { return *state_; }
  NfaStateStats Stats() const { return nfa_->Stats(*state_); }

 private:
  static std::vector<std::string> Get(std::vector<std::string> v, bool sorted) {
    if (sorted) std::sort(v.begin(), v.end());
    return v;
  }
  void Collect(std::vector<MatchResult>& out) {
    for (MatchResult& r : out) {
      if (r.kind == MatchResult::Kind::kMatch) {
        matches_.push_back(Render(r));
        raw_matches_.push_back(std::move(r));
      } else {
        timeouts_.push_back(Render(r));
        raw_timeouts_.push_back(std::move(r));
      }
    }
  }

  Pattern pattern_;
  NfaOptions options_;
  std::shared_ptr<const Nfa> nfa_;
  std::unique_ptr<NfaState> state_;
  int next_id_ = 0;
  EventTime last_time_;
  std::vector<std::string> matches_, timeouts_;
  std::vector<MatchResult> raw_matches_, raw_timeouts_;
};

using Strings = std::vector<std::string>;

}  // namespace vigil::cep::testing
