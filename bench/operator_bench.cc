// Rule operator micro benchmarks: a RuleOperator (MakeRuleOperator) alone on pre-decoded
// events, as a worker drives it (events in time order, a watermark every 512 events), with
// records dropped by a null router. items_per_second = events/s. What is measured is the
// keyed-state toolkit (engine/operator/keyed_state.h) plus the matcher / window / `when`
// logic, without decoding, reordering or sinks.
//
//   build/bench/operator_bench --benchmark_min_time=2
// Instructions per event, deterministic (a fixed number of events per benchmark):
//   VIGIL_BENCH_EVENTS=300000 valgrind --tool=callgrind build/bench/operator_bench
//     --benchmark_filter=BM_Fraud$
// then the inclusive cost of RuleOperator::Process (callgrind_annotate --inclusive=yes) over
// its calls.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/operator/rule_operator.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

constexpr int kEvents = 1 << 20;
constexpr int64_t kBaseMs = 1'700'000'000'000;

class NullRouter : public RecordRouter {
 public:
  absl::Status Route(const Record&, const std::vector<int>&) override {
    ++records;
    return absl::OkStatus();
  }
  int64_t records = 0;
};

class NullWriter : public SnapshotWriter {
 public:
  void Put(uint16_t, std::string_view key, std::string_view value) override {
    bytes += key.size() + value.size();
  }
  void Delete(uint16_t, std::string_view key) override { bytes += key.size(); }
  size_t bytes = 0;
};

std::shared_ptr<const cep::RuleSet> Compile(const char* src) {
  auto res = rules::CompileSources({{"bench.vgl", src}});
  return res.ok() ? res.rule_set : nullptr;
}

// The fraud workload of bench/workload.py: a tiny amount then a large one on the same card
// within 10 minutes, 10,000 cards.
constexpr char kFraud[] = R"(
stream txn (card string, amount float, merchant string, at timestamp)
  event time at
rule card_testing
  from txn
  partition by card
  pattern small -> large
  define
    small as amount < 1.00,
    large as amount >= 500 and merchant != small.merchant
  within 10m
  emit first_amount = small.amount, total = large.amount
  labels { severity: "critical" }
  annotations { summary: "card {card}: {first_amount} then {total}" }
)";

std::vector<EventPtr> FraudEvents() {
  std::mt19937_64 rng(1);
  std::vector<EventPtr> out;
  out.reserve(kEvents);
  for (int i = 0; i < kEvents; ++i) {
    const double r = std::uniform_real_distribution<double>(0, 1)(rng);
    double amount = r < 0.05 ? 0.5 : r < 0.055 ? 600 : 1 + static_cast<double>(rng() % 300);
    auto e = std::make_shared<Event>();
    e->values = {Value::String("4" + std::to_string(1'000'000'000 + rng() % 10000)),
                 Value::Float(amount), Value::String("m" + std::to_string(rng() % 50)),
                 Value::Timestamp(EventTime(kBaseMs + i))};
    e->time = EventTime(kBaseMs + i);
    e->seq = static_cast<uint64_t>(i + 1);
    out.push_back(std::move(e));
  }
  return out;
}

// Every event opens a partial match that expires 1 s later (bench/workload.py expire).
constexpr char kExpire[] = R"(
stream s (k string, name string, at timestamp)
  event time at
rule never
  from s
  partition by k
  pattern a -> b
  define a as name == "a", b as name == "b"
  within 1s
)";

std::vector<EventPtr> ExpireEvents() {
  std::vector<EventPtr> out;
  out.reserve(kEvents);
  for (int i = 0; i < kEvents; ++i) {
    auto e = std::make_shared<Event>();
    e->values = {Value::String("k" + std::to_string(i % 10000)), Value::String("a"),
                 Value::Timestamp(EventTime(kBaseMs + i))};
    e->time = EventTime(kBaseMs + i);
    e->seq = static_cast<uint64_t>(i + 1);
    out.push_back(std::move(e));
  }
  return out;
}

// A sliding window held `for` a minute over 2,000 hosts, ~20 ms apart (bench/workload.py
// metrics, its `hot` rule).
constexpr char kWindowWhen[] = R"(
stream m (host string, value float, at timestamp) event time at
rule hot from m partition by host
  window 1m slide 30s compute avg(value) as cpu, count() as n, quantile(0.9, value) as p90
  when cpu > 84 for 1m keep firing for 30s no data after 3m
)";

std::vector<EventPtr> MetricsEvents() {
  std::mt19937_64 rng(2);
  std::vector<EventPtr> out;
  out.reserve(kEvents);
  for (int i = 0; i < kEvents; ++i) {
    const int host = static_cast<int>(rng() % 2000);
    const double base = host % 3 == 0 ? 90 : 40;
    auto e = std::make_shared<Event>();
    const int64_t t = kBaseMs + static_cast<int64_t>(i) * 20;
    e->values = {Value::String("h" + std::to_string(host)),
                 Value::Float(base + static_cast<double>(rng() % 100) / 10),
                 Value::Timestamp(EventTime(t))};
    e->time = EventTime(t);
    e->seq = static_cast<uint64_t>(i + 1);
    out.push_back(std::move(e));
  }
  return out;
}

// Runs the events through a fresh operator per pass; with snapshot_every > 0, takes an
// incremental snapshot every that many events (the first one full).
void Run(benchmark::State& bs, const char* rules_src, const std::vector<EventPtr>& events,
         int snapshot_every) {
  std::shared_ptr<const cep::RuleSet> rules = Compile(rules_src);
  if (rules == nullptr) {
    bs.SkipWithError("rules do not compile");
    return;
  }
  NullRouter router;
  NullWriter writer;
  auto make = [&] { return MakeRuleOperator(rules, 0, RuleOperatorOptions{}, &router); };
  auto op = make();
  if (!op.ok()) {
    bs.SkipWithError(std::string(op.status().message()).c_str());
    return;
  }
  std::unique_ptr<RuleOperator> o = std::move(op).value();
  size_t i = 0;
  bool first = true;
  for (auto _ : bs) {
    const EventPtr& e = events[i];
    benchmark::DoNotOptimize(o->Process(e));
    if ((i & 511) == 511) benchmark::DoNotOptimize(o->AdvanceWatermark(Watermark(e->time.ms - 1)));
    if (snapshot_every > 0 && i % snapshot_every == 0) {
      benchmark::DoNotOptimize(o->Snapshot(&writer, first));
      first = false;
    }
    if (++i == events.size()) {
      // Event time restarts: start over with a fresh operator (untimed).
      bs.PauseTiming();
      i = 0;
      first = true;
      o = std::move(make()).value();
      bs.ResumeTiming();
    }
  }
  bs.SetItemsProcessed(bs.iterations());
  bs.counters["records"] = benchmark::Counter(static_cast<double>(router.records));
  bs.counters["live_keys"] = benchmark::Counter(static_cast<double>(o->stats().live_keys));
}

void BM_Fraud(benchmark::State& bs) {
  static const std::vector<EventPtr> events = FraudEvents();
  Run(bs, kFraud, events, 0);
}

// The same with an incremental snapshot every 100,000 events (the keys changed since).
void BM_FraudSnapshots(benchmark::State& bs) {
  static const std::vector<EventPtr> events = FraudEvents();
  Run(bs, kFraud, events, 100000);
}

void BM_Expire(benchmark::State& bs) {
  static const std::vector<EventPtr> events = ExpireEvents();
  Run(bs, kExpire, events, 0);
}

void BM_WindowWhen(benchmark::State& bs) {
  static const std::vector<EventPtr> events = MetricsEvents();
  Run(bs, kWindowWhen, events, 0);
}

}  // namespace
}  // namespace vigil::engine

int main(int argc, char** argv) {
  using namespace vigil::engine;
  // VIGIL_BENCH_EVENTS=N: exactly N events per benchmark (for instruction counts).
  const char* fixed = std::getenv("VIGIL_BENCH_EVENTS");
  for (auto [name, fn] : {std::pair{"BM_Fraud", &BM_Fraud},
                          std::pair{"BM_FraudSnapshots", &BM_FraudSnapshots},
                          std::pair{"BM_Expire", &BM_Expire},
                          std::pair{"BM_WindowWhen", &BM_WindowWhen}}) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    if (fixed != nullptr) b->Iterations(std::atoll(fixed));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
