// Front-end throughput: parse (and, unless VIGIL_BENCH_NO_COMPILE, parse + bind + lower via
// rules::CompileSources) a generated file of 1,000 varied rules.
//   build-parser/bench/parse_bench --benchmark_filter=BM_
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "rules/parser/parser.h"
#ifndef VIGIL_BENCH_NO_COMPILE
#include "rules/compiler.h"
#endif

namespace {

std::string MakeRules(int n) {
  std::string s = R"vgl(stream txn (card string, amount float, merchant string, geo.country string,
                 host string, name string, value float, x int, at timestamp)
  event time at out of order 5s idle after 1m
sink pager alertmanager (url "http://127.0.0.1:9093")
sink audit file (path "alerts.jsonl")
)vgl";
  for (int i = 0; i < n; ++i) {
    std::string id = std::to_string(i);
    switch (i % 4) {
      case 0:
        s += "rule card_" + id + R"vgl(  # a pattern rule
  from txn
  where geo.country != "GB" and amount > )vgl" +
             id + R"vgl(
  partition by card
  pattern small -> large{2,} until (amount > 10000) -> !refund
  define
    small as amount < 1.00 and merchant =~ r"^shop-\d+",
    large as amount >= 500 and merchant != small.merchant,
    refund as amount < 0
  within 10m
  after match skip past last
  emit first_amount = small.amount, total = sum(large.amount), n = count(large)
  labels { severity: "critical", team: "fraud" }
  annotations { summary: "card {card}: {first_amount} then {total} ({n} times)" }
  to pager, audit
  on timeout to audit
)vgl";
        break;
      case 1:
        s += "rule cpu_" + id + R"vgl(
  from txn
  where name == "cpu"
  partition by host
  window 1m slide 10s
  compute avg(value) as cpu, count() as samples, max(value) as peak
  when cpu > 90 and samples >= 3 for 5m keep firing for 1m clear when cpu < 70
  labels { severity: "page" }
  annotations { summary: "{host} CPU {cpu}% (peak {peak}) for 5m {{x}}" }
)vgl";
        break;
      case 2:
        s += "rule seq_" + id + R"vgl(
  from txn
  partition by card, geo.country
  pattern (a | b c) ->> d+ greedy -> e? f*
  define a as x in (1, 2, 3), b as x is not null and not (x % 2 == 0),
         c as lower(merchant) == "x" || x * 2 + 1 > 7, d as amount > avg(d.amount),
         e as coalesce(merchant, "none") != "none", f as abs(amount - 1.5e3) < 10
  within 1h30m
  after match skip to first a
)vgl";
        break;
      default:
        s += "rule hot_" + id + R"vgl(
  from txn
  where value > 0.5 and host not in ("a", "b", "c")
  when value * 100 >= 95 for 30s no data after 10m
  labels { severity: "warning", host: "{host}" }
)vgl";
        break;
    }
  }
  return s;
}

const std::string& Rules() {
  static const std::string kRules = MakeRules(1000);
  return kRules;
}

void BM_Parse1000Rules(benchmark::State& state) {
  const std::string& text = Rules();
  for (auto _ : state) {
    auto r = vigil::rules::Parse(0, text);
    if (!r.ok() || r.file.rules.size() != 1000) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["rules/s"] =
      benchmark::Counter(1000.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Parse1000Rules)->Unit(benchmark::kMillisecond);

#ifndef VIGIL_BENCH_NO_COMPILE
void BM_Compile1000Rules(benchmark::State& state) {
  const std::vector<std::pair<std::string, std::string>> sources = {{"bench.vgl", Rules()}};
  for (auto _ : state) {
    auto r = vigil::rules::CompileSources(sources);
    if (!r.ok()) {
      state.SkipWithError(r.diagnostics.empty() ? "compile failed"
                                                : r.diagnostics[0].message.c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.counters["rules/s"] =
      benchmark::Counter(1000.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Compile1000Rules)->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
