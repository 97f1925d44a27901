// The admin API's latency (admin/grpc_server.h): 1,000 Status calls per benchmark, one at a
// time, from an AdminClient (what `vigil ctl` uses) to an AdminServer on 127.0.0.1 over a
// FakeJobView, each timed on its own; p50/p99 in microseconds are reported as counters
// (p50_us, p99_us) beside Google Benchmark's mean. Variants: plaintext, with a bearer token,
// with TLS and a token (a self-signed certificate made by the openssl command line; skipped
// without it), and a status of a small (1 rule) or larger job (50 rules, 4 streams, 3 sinks).
// The connection is made before timing starts, as `vigil ctl` pays it once per process.
//
//   build/admin_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "admin/grpc_client.h"
#include "admin/grpc_server.h"
#include "tests/unit/admin/fake_job_control.h"
#include "tests/unit/admin/fake_job_view.h"

namespace {

using namespace vigil;
using namespace vigil::admin;
namespace fs = std::filesystem;

JobStatus SyntheticStatus(int rules) {
  JobStatus s;
  s.uptime = Duration::Seconds(3600);
  s.parallelism = 8;
  s.checkpoint.enabled = true;
  s.checkpoint.last_id = 360;
  s.checkpoint.last_time = WallTime(std::chrono::milliseconds(1714557600000));
  const int streams = rules > 1 ? 4 : 1;
  for (int i = 0; i < streams; ++i) {
    StreamStatus st;
    st.name = "stream_" + std::to_string(i);
    st.events = 123456789;
    st.watermark = Watermark(1714557600000);
    st.lag = Duration::Millis(250);
    for (int p = 0; p < 4; ++p) {
      st.partitions.push_back({"topic/" + std::to_string(p), Watermark(1714557600000), false});
    }
    s.streams.push_back(std::move(st));
  }
  for (int i = 0; i < rules; ++i) {
    RuleStatus r;
    r.name = "rule_number_" + std::to_string(i);
    r.stream = "stream_" + std::to_string(i % streams);
    r.events = 98765432;
    r.events_per_second = 4123.5;
    r.matches = 1234;
    r.partial_matches = 4567;
    r.live_keys = 8901;
    s.rules.push_back(std::move(r));
  }
  for (int i = 0; i < (rules > 1 ? 3 : 1); ++i) {
    SinkStatus k;
    k.name = "sink_" + std::to_string(i);
    k.kind = "webhook";
    k.sent = 1234;
    k.latency_p50_ms = 1.5;
    k.latency_p99_ms = 12.5;
    s.sinks.push_back(std::move(k));
  }
  return s;
}

std::string WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

void BM_AdminStatus(benchmark::State& state, bool token, bool tls, int rules) {
  const fs::path dir =
      fs::temp_directory_path() / ("vigil-admin-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  AdminServerOptions server_options;
  AdminClientOptions client_options;
  if (token) {
    server_options.token_file = client_options.token_file =
        WriteFile(dir / "token", "bench-token-0123456789abcdef\n");
  }
  if (tls) {
    const std::string cert = (dir / "c.crt").string(), key = (dir / "c.key").string();
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout '" +
        key + "' -out '" + cert + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      state.SkipWithError("openssl could not make a certificate");
      return;
    }
    server_options.tls_cert_file = cert;
    server_options.tls_key_file = key;
    client_options.tls_ca_file = cert;
  }
  testing::FakeJobView view(nullptr);
  view.SetStatus(SyntheticStatus(rules));
  testing::FakeJobControl control;
  auto server = AdminServer::Start("127.0.0.1:0", &view, &control, server_options);
  if (!server.ok()) {
    state.SkipWithError(std::string(server.status().message()).c_str());
    return;
  }
  auto client = AdminClient::Connect((*server)->address(), client_options);
  if (!client.ok() || !(*client)->Status().ok()) {  // connects (and handshakes) untimed
    state.SkipWithError("the first call failed");
    return;
  }

  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<JobStatus> s = (*client)->Status();
    const auto t1 = std::chrono::steady_clock::now();
    if (!s.ok()) {
      state.SkipWithError(std::string(s.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(s->rules.size());
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  if (!micros.empty()) {
    std::sort(micros.begin(), micros.end());
    auto at = [&](double q) {
      return micros[std::min(micros.size() - 1, static_cast<size_t>(q * micros.size()))];
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
    state.counters["max_us"] = micros.back();
  }
  (*server)->Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

BENCHMARK_CAPTURE(BM_AdminStatus, plaintext_1_rule, false, false, 1)
    ->Iterations(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AdminStatus, token_1_rule, true, false, 1)
    ->Iterations(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AdminStatus, token_50_rules, true, false, 50)
    ->Iterations(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AdminStatus, tls_token_50_rules, true, true, 50)
    ->Iterations(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
