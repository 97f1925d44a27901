// NFA micro benchmarks: the matcher alone on pre-decoded events spread over 10,000 keys (one
// NfaState per key), as the keyed CEP operator drives it. items_per_second = events/s.
//
//   build-cep/bench/nfa_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "cep/expr/expr.h"
#include "cep/nfa/nfa.h"
#include "cep/pattern.h"
#include "core/codec.h"

namespace vigil::cep {
namespace {

constexpr int kKeys = 10000;
constexpr int kEvents = 1 << 20;
// Event schema: 0 key (int), 1 name (string), 2 x (int).
constexpr int kName = 1;
constexpr int kX = 2;

class ExprBuilder {
 public:
  int32_t Field(int slot, Type t) {
    ExprNode n;
    n.op = ExprOp::kField;
    n.type = t;
    n.index = slot;
    return e_.AddNode(n);
  }
  int32_t Const(Value v) {
    ExprNode n;
    n.op = ExprOp::kConst;
    n.type = v.type();
    n.index = e_.AddConst(std::move(v));
    return e_.AddNode(n);
  }
  int32_t Bin(ExprOp op, Type t, int32_t a, int32_t b) {
    ExprNode n;
    n.op = op;
    n.type = t;
    n.a = a;
    n.b = b;
    return e_.AddNode(n);
  }
  int32_t Agg(int index, AggFn fn, Type t) {
    ExprNode n;
    n.op = ExprOp::kAgg;
    n.type = t;
    n.index = index;
    n.b = static_cast<int32_t>(fn);
    return e_.AddNode(n);
  }
  int32_t Coalesce(int32_t a, int32_t b) {
    ExprNode n;
    n.op = ExprOp::kCall;
    n.type = Type::kInt;
    n.index = static_cast<int32_t>(Function::kCoalesce);
    n.args = {a, b};
    return e_.AddNode(n);
  }
  ExprPtr Done(int32_t root) {
    e_.set_root(root);
    return std::make_shared<Expr>(std::move(e_));
  }

 private:
  Expr e_;
};

ExprPtr NameIs(const char* name) {
  ExprBuilder b;
  return b.Done(
      b.Bin(ExprOp::kEq, Type::kBool, b.Field(kName, Type::kString), b.Const(Value::String(name))));
}

ExprPtr NameIsAndXAbove(const char* name, int64_t x) {
  ExprBuilder b;
  int32_t eq =
      b.Bin(ExprOp::kEq, Type::kBool, b.Field(kName, Type::kString), b.Const(Value::String(name)));
  int32_t gt = b.Bin(ExprOp::kGt, Type::kBool, b.Field(kX, Type::kInt), b.Const(Value::Int(x)));
  return b.Done(b.Bin(ExprOp::kAnd, Type::kBool, eq, gt));
}

PatternNode Var(int v, Quantifier q = {}) {
  PatternNode n;
  n.kind = PatternNode::Kind::kVar;
  n.var = v;
  n.quant = q;
  return n;
}

Pattern Seq(std::vector<PatternNode> terms, std::vector<Contiguity> conn) {
  Pattern p;
  p.root.kind = PatternNode::Kind::kSeq;
  p.root.children = std::move(terms);
  p.root.conn = std::move(conn);
  return p;
}

std::vector<EventPtr> MakeEvents(const std::vector<const char*>& names) {
  std::mt19937_64 rng(42);
  std::vector<Value> name_values;
  for (const char* n : names) name_values.push_back(Value::String(n));
  std::vector<EventPtr> events;
  events.reserve(kEvents);
  for (int i = 0; i < kEvents; ++i) {
    auto e = std::make_shared<Event>();
    int key = static_cast<int>(rng() % kKeys);
    e->values = {Value::Int(key), name_values[rng() % name_values.size()],
                 Value::Int(static_cast<int64_t>(rng() % 50))};
    e->time = EventTime(i / 10);  // 10 events per millisecond
    e->seq = static_cast<uint64_t>(i);
    events.push_back(std::move(e));
  }
  return events;
}

void RunNfa(benchmark::State& bs, const Pattern& p, const std::vector<EventPtr>& events) {
  auto nfa = Nfa::Compile(p, NfaOptions{});
  if (!nfa.ok()) {
    bs.SkipWithError(std::string(nfa.status().message()).c_str());
    return;
  }
  std::vector<std::unique_ptr<NfaState>> states;
  for (int k = 0; k < kKeys; ++k) states.push_back((*nfa)->NewState());
  std::vector<MatchResult> out;
  size_t i = 0;
  int64_t matches = 0;
  for (auto _ : bs) {
    const EventPtr& e = events[i];
    (*nfa)->Process(*states[e->values[0].as_int()], e, &out);
    matches += static_cast<int64_t>(out.size());
    out.clear();
    if (++i == events.size()) {
      // Event time restarts: start over with fresh per-key states (untimed).
      bs.PauseTiming();
      i = 0;
      for (auto& st : states) st = (*nfa)->NewState();
      bs.ResumeTiming();
    }
  }
  bs.SetItemsProcessed(bs.iterations());
  bs.counters["matches"] = benchmark::Counter(static_cast<double>(matches));
}

// (a) a -> b within 10s, skip past last.
void BM_Relaxed2(benchmark::State& bs) {
  Pattern p = Seq({Var(0), Var(1)}, {Contiguity::kStrict, Contiguity::kRelaxed});
  p.vars = {{"a", NameIs("a"), false}, {"b", NameIs("b"), false}};
  p.within = Duration::Seconds(10);
  static const std::vector<EventPtr> events = MakeEvents({"a", "b", "c", "d", "e"});
  RunNfa(bs, p, events);
}
BENCHMARK(BM_Relaxed2);

// (b) a b c (strict) with filters on name and x.
void BM_Strict3(benchmark::State& bs) {
  Pattern p = Seq({Var(0), Var(1), Var(2)},
                  {Contiguity::kStrict, Contiguity::kStrict, Contiguity::kStrict});
  p.vars = {{"a", NameIsAndXAbove("a", 10), false},
            {"b", NameIsAndXAbove("b", 5), false},
            {"c", NameIsAndXAbove("c", 20), false}};
  p.within = Duration::Seconds(10);
  static const std::vector<EventPtr> events = MakeEvents({"a", "b", "c"});
  RunNfa(bs, p, events);
}
BENCHMARK(BM_Strict3);

// (c) a+ -> b within 10s, define a as name == 'a' and coalesce(sum(a.x), 0) + x < 100.
void BM_LoopAgg(benchmark::State& bs) {
  Quantifier plus;
  plus.min = 1;
  plus.max = Quantifier::kUnbounded;
  Pattern p = Seq({Var(0, plus), Var(1)}, {Contiguity::kStrict, Contiguity::kRelaxed});
  ExprBuilder b;
  int32_t eq =
      b.Bin(ExprOp::kEq, Type::kBool, b.Field(kName, Type::kString), b.Const(Value::String("a")));
  int32_t sum = b.Coalesce(b.Agg(0, AggFn::kSum, Type::kInt), b.Const(Value::Int(0)));
  int32_t lt =
      b.Bin(ExprOp::kLt, Type::kBool, b.Bin(ExprOp::kAdd, Type::kInt, sum, b.Field(kX, Type::kInt)),
            b.Const(Value::Int(100)));
  p.vars = {{"a", b.Done(b.Bin(ExprOp::kAnd, Type::kBool, eq, lt)), true},
            {"b", NameIs("b"), false}};
  p.aggs = {{AggFn::kSum, 0, kX}};
  p.within = Duration::Seconds(10);
  static const std::vector<EventPtr> events = MakeEvents({"a", "b", "c", "d", "e"});
  RunNfa(bs, p, events);
}
BENCHMARK(BM_LoopAgg);

// Checkpoint cost: SerializeState / RestoreState of the per-key states that (c) holds after
// 200,000 events (partial matches with shared prefixes and aggregates). items = keys.
struct CheckpointFixture {
  std::shared_ptr<const Nfa> nfa;
  std::vector<std::unique_ptr<NfaState>> states;
  std::vector<std::string> bytes;
  size_t partial = 0;
  CheckpointFixture() {
    Quantifier plus;
    plus.min = 1;
    plus.max = Quantifier::kUnbounded;
    Pattern p = Seq({Var(0, plus), Var(1)}, {Contiguity::kStrict, Contiguity::kRelaxed});
    ExprBuilder b;
    int32_t eq =
        b.Bin(ExprOp::kEq, Type::kBool, b.Field(kName, Type::kString), b.Const(Value::String("a")));
    int32_t sum = b.Coalesce(b.Agg(0, AggFn::kSum, Type::kInt), b.Const(Value::Int(0)));
    int32_t lt = b.Bin(ExprOp::kLt, Type::kBool,
                       b.Bin(ExprOp::kAdd, Type::kInt, sum, b.Field(kX, Type::kInt)),
                       b.Const(Value::Int(100)));
    p.vars = {{"a", b.Done(b.Bin(ExprOp::kAnd, Type::kBool, eq, lt)), true},
              {"b", NameIs("b"), false}};
    p.aggs = {{AggFn::kSum, 0, kX}};
    p.within = Duration::Seconds(10);
    nfa = *Nfa::Compile(p, NfaOptions{});
    for (int k = 0; k < kKeys; ++k) states.push_back(nfa->NewState());
    static const std::vector<EventPtr> events = MakeEvents({"a", "b", "c", "d", "e"});
    std::vector<MatchResult> out;
    for (int i = 0; i < 200000; ++i) {
      nfa->Process(*states[events[i]->values[0].as_int()], events[i], &out);
      out.clear();
    }
    for (auto& st : states) {
      partial += nfa->Stats(*st).partial_matches;
      bytes.emplace_back();
      Encoder enc(&bytes.back());
      nfa->SerializeState(*st, &enc);
    }
  }
};

void BM_SerializeState(benchmark::State& bs) {
  static CheckpointFixture f;
  std::string buf;
  size_t k = 0;
  for (auto _ : bs) {
    buf.clear();
    Encoder enc(&buf);
    f.nfa->SerializeState(*f.states[k], &enc);
    benchmark::DoNotOptimize(buf.data());
    if (++k == f.states.size()) k = 0;
  }
  bs.SetItemsProcessed(bs.iterations());
  size_t total = 0;
  for (const std::string& b : f.bytes) total += b.size();
  bs.counters["bytes_per_key"] = static_cast<double>(total) / f.bytes.size();
  bs.counters["partial_per_key"] = static_cast<double>(f.partial) / f.states.size();
}
BENCHMARK(BM_SerializeState);

void BM_RestoreState(benchmark::State& bs) {
  static CheckpointFixture f;
  std::unique_ptr<NfaState> st = f.nfa->NewState();
  size_t k = 0;
  for (auto _ : bs) {
    Decoder dec(f.bytes[k]);
    if (!f.nfa->RestoreState(st.get(), &dec).ok()) {
      bs.SkipWithError("restore failed");
      break;
    }
    if (++k == f.bytes.size()) k = 0;
  }
  bs.SetItemsProcessed(bs.iterations());
}
BENCHMARK(BM_RestoreState);

}  // namespace
}  // namespace vigil::cep

BENCHMARK_MAIN();
