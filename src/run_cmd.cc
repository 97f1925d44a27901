// `vigil run` (spec/cli.md): turns the flags into an engine::RunSpec and launches it
// (engine/launcher.h does the rest: binding inputs, state and restore, sources, sinks, the
// job). Runs until every bounded input has ended or until SIGINT/SIGTERM (then: final
// checkpoint, flush, exit 0). With --state DIR, DIR/vigil.pid names the running job and
// SIGUSR1 (what `vigil savepoint` sends) writes a savepoint into DIR/savepoints/.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "admin/grpc_server.h"
#include "admin/record_tap.h"
#include "admin/ui_server.h"
#include "alerting/kafka/kafka_sink.h"
#include "alerting/sink_registry.h"
#include "engine/kafka/kafka_source.h"
#include "engine/launcher.h"
#include "engine/metrics/metrics.h"
#include "engine/source/source_registry.h"
#include "fmt/format.h"
#include "rules/compiler.h"
#include "rules/diagnostics.h"
#include "src/live_job.h"
#include "src/commands.h"

namespace vigil::app {

namespace {

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "vigil: error: %s\n", msg.c_str());
  return code;
}

std::string StatusText(const absl::Status& st) { return std::string(st.message()); }

// Rules files as (name, text), compiled for a restart after a deploy: errors as one message.
absl::StatusOr<std::shared_ptr<const cep::RuleSet>> CompileSourcesOrError(
    const std::vector<std::pair<std::string, std::string>>& files) {
  rules::CompileResult r = rules::CompileSources(files);
  if (r.ok()) return r.rule_set;
  std::string text;
  for (const rules::Diagnostic& d : r.diagnostics) text += rules::Render(r.sources, d);
  return absl::InvalidArgumentError(text);
}

std::atomic<bool> g_stop{false};
std::atomic<bool> g_savepoint{false};

void OnStopSignal(int) {
  if (g_stop.exchange(true)) _exit(kExitRuntime);  // a second signal: give up at once
}
void OnSavepointSignal(int) { g_savepoint.store(true); }

void InstallSignals() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = OnStopSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = OnSavepointSignal;
  sigaction(SIGUSR1, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

// Durations as the language writes them: "10s", "500ms", "1m30s", "0".
bool ParseDurationMs(const std::string& text, int64_t* ms) {
  if (text == "0") {
    *ms = 0;
    return true;
  }
  int64_t total = 0;
  size_t i = 0;
  if (text.empty()) return false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 12) return false;
    int64_t n = std::stoll(text.substr(start, i - start));
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    int64_t mult;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m")
      mult = 60'000;
    else if (unit == "h")
      mult = 3'600'000;
    else if (unit == "d")
      mult = 86'400'000;
    else
      return false;
    total += n * mult;
  }
  *ms = total;
  return true;
}

int RunCommand(const RunOptions& opts) {
  engine::RunSpec spec;
  if (!ParseDurationMs(opts.checkpoint_interval, &spec.checkpoint_interval_ms)) {
    return Fail(kExitUsage, fmt::format("--checkpoint-interval '{}': expected a duration such "
                                        "as 10s or 500ms (0 = only a final checkpoint)",
                                        opts.checkpoint_interval));
  }
  int parallelism = opts.parallelism;
  if (parallelism <= 0) parallelism = static_cast<int>(std::thread::hardware_concurrency());
  spec.parallelism = std::clamp(parallelism, 1, 128);

  // --input STREAM=URI syntax (before compiling: a usage error whatever the rules say).
  for (const std::string& in : opts.inputs) {
    size_t eq = in.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == in.size()) {
      return Fail(kExitUsage, fmt::format("--input '{}': expected STREAM=PATH", in));
    }
    auto source = engine::ParseInputUri(in.substr(eq + 1));
    if (!source.ok()) {
      return Fail(kExitUsage, fmt::format("--input {}: {}", in, StatusText(source.status())));
    }
    spec.inputs.push_back({in.substr(0, eq), std::move(source).value()});
  }

  engine::metrics::Metrics metrics;
  if (!opts.metrics.empty()) {
    absl::Status st = metrics.Serve(opts.metrics);
    if (!st.ok()) {
      return Fail(absl::IsInvalidArgument(st) ? kExitUsage : kExitRuntime,
                  fmt::format("--metrics {}: {}", opts.metrics, StatusText(st)));
    }
  }

  spec.rules = CompileReporting(opts.files);
  if (spec.rules == nullptr) return kExitRulesError;
  spec.output = opts.output;
  spec.dead_letter = opts.dead_letter;
  spec.state_dir = opts.state_dir;
  spec.from_savepoint = opts.from_savepoint;
  spec.queue_batches = static_cast<size_t>(opts.queue_capacity);
  spec.max_partial_matches = opts.max_partial_matches;
  spec.follow = opts.follow;
  spec.watermark_lines = opts.watermark_lines;
  spec.metrics = &metrics;
  spec.stop = &g_stop;
  spec.savepoint_request = &g_savepoint;
  spec.log = [](std::string_view msg) {
    std::fprintf(stderr, "vigil: %.*s\n", static_cast<int>(msg.size()), msg.data());
  };

  engine::SourceRegistry sources;
  engine::RegisterKafkaSource(&sources);
  engine::Connectors connectors;
  connectors.sources = &sources;
  alerting::SinkRegistry::Default().Register("kafka", alerting::MakeKafkaSink);
  connectors.sinks = alerting::MakeSink;

  // Live operation: the dashboard (--ui) and the admin API (--admin) over the running job.
  admin::RecordTap tap;
  std::unique_ptr<LiveJob> live;
  std::unique_ptr<admin::UiServer> ui;
  std::unique_ptr<admin::AdminServer> admin_server;
  absl::Status live_error;
  if (!opts.ui.empty() || !opts.admin.empty()) {
    if (!opts.ui.empty()) {
      spec.record_observer = [&tap](const engine::Record& r) {
        tap.Offer(engine::RecordToJson(r));
      };
    }
    spec.compile = CompileSourcesOrError;
    spec.on_started = [&](engine::Job* job) {
      live = std::make_unique<LiveJob>(job, opts.ui.empty() ? nullptr : &tap);
      if (!opts.ui.empty()) {
        auto server = admin::UiServer::Start(opts.ui, live.get());
        if (!server.ok()) {
          live_error = absl::Status(server.status().code(),
                                    "--ui " + opts.ui + ": " + std::string(server.status().message()));
          g_stop.store(true);
          return;
        }
        ui = std::move(server).value();
        std::fprintf(stderr, "vigil: dashboard at %s\n", ui->url().c_str());
      }
      if (!opts.admin.empty()) {
        admin::AdminServerOptions aopts;
        aopts.token_file = opts.admin_token_file;
        aopts.tls_cert_file = opts.admin_tls_cert;
        aopts.tls_key_file = opts.admin_tls_key;
        engine::metrics::Counter* refused = metrics.AdminUnauthenticated();
        aopts.on_unauthenticated = [refused] { refused->Inc(); };
        auto server = admin::AdminServer::Start(opts.admin, live.get(), live.get(), aopts);
        if (!server.ok()) {
          live_error = absl::Status(server.status().code(), "--admin " + opts.admin + ": " +
                                                                std::string(server.status().message()));
          g_stop.store(true);
          return;
        }
        admin_server = std::move(server).value();
        std::fprintf(stderr, "vigil: admin API on %s:%d%s\n", admin_server->host().c_str(),
                     admin_server->port(), opts.admin_token_file.empty() ? "" : " (token required)");
        const std::string& host = admin_server->host();
        bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
        if (opts.admin_token_file.empty() && !loopback) {
          std::fprintf(stderr,
                       "vigil: warning: the admin API listens on %s without a token: anyone "
                       "who can reach it can deploy rules (give --admin-token-file)\n",
                       admin_server->host().c_str());
        }
      }
    };
    spec.on_finished = [&] {
      if (admin_server) admin_server->Stop();
      if (ui) ui->Stop();
    };
  } else {
    // A restart after a deploy (made by an earlier run with --admin) runs the deployed rules.
    spec.compile = CompileSourcesOrError;
  }

  InstallSignals();
  std::string pid_file;
  if (!opts.state_dir.empty()) {
    std::filesystem::create_directories(opts.state_dir);
    pid_file = opts.state_dir + "/vigil.pid";
    std::ofstream(pid_file) << ::getpid() << "\n";
  }
  absl::StatusOr<engine::JobStats> stats = engine::Launch(spec, connectors);
  if (!pid_file.empty()) std::filesystem::remove(pid_file);
  if (!live_error.ok()) return Fail(kExitRuntime, StatusText(live_error));
  if (!stats.ok()) {
    return Fail(absl::IsInvalidArgument(stats.status()) ? kExitUsage : kExitRuntime,
                StatusText(stats.status()));
  }
  std::fprintf(stderr, "vigil: %llu events, %llu matches, %llu timeouts, %llu late, %llu invalid\n",
               static_cast<unsigned long long>(stats->events()),
               static_cast<unsigned long long>(stats->matches()),
               static_cast<unsigned long long>(stats->timeouts()),
               static_cast<unsigned long long>(stats->late()),
               static_cast<unsigned long long>(stats->invalid()));
  return kExitOk;
}

}  // namespace vigil::app
