// `vigil run` (spec/cli.md): compiles the rules, binds inputs and sinks, and runs the job on
// --parallelism worker threads (engine/job.h) until every bounded input has ended or until
// SIGINT/SIGTERM (then: final checkpoint, flush, exit 0).
//
// With --state DIR: RocksDB state and checkpoints in DIR every --checkpoint-interval; a run
// started again with the same DIR resumes from the last completed checkpoint (stderr says
// `restored checkpoint <id>`), rewinding the inputs and truncating the file outputs
// (--output PATH, `file` sinks and a --dead-letter file) to their checkpointed sizes:
// exactly-once. Standard output and standard error cannot be truncated: records written to
// them after the last checkpoint are written again after a restart (at-least-once). DIR/vigil.pid names the running job; SIGUSR1 (what
// `vigil savepoint` sends) writes a savepoint into DIR/savepoints/. --from-savepoint PATH
// starts from a savepoint, with any parallelism.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "alerting/file_sink.h"
#include "alerting/sink_registry.h"
#include "engine/io/dead_letter.h"
#include "engine/job.h"
#include "engine/metrics/metrics.h"
#include "engine/source/jsonl_source.h"
#include "engine/state/checkpoint_meta.h"
#include "engine/state/savepoint.h"
#include "engine/state/state_backend.h"
#include "fmt/format.h"
#include "rules/compiler.h"
#include "rules/diagnostics.h"
#include "src/commands.h"

namespace vigil::app {

namespace {

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "vigil: error: %s\n", msg.c_str());
  return code;
}

std::string StatusText(const absl::Status& st) { return std::string(st.message()); }

// The directory of the rules file that declares `stream`: `from file(path ...)` is relative to
// it. The rule set does not record where a stream was declared, so with several files the
// declaring one is found by its text; the first file's directory otherwise.
std::filesystem::path StreamBaseDir(const std::vector<std::string>& files,
                                    const std::string& stream) {
  namespace fs = std::filesystem;
  auto dir_of = [](const std::string& f) {
    fs::path p = fs::path(f).parent_path();
    return p.empty() ? fs::path(".") : p;
  };
  if (files.size() > 1) {
    std::regex decl("(^|[^A-Za-z0-9_])stream\\s+" + stream + "\\b");
    for (const std::string& f : files) {
      std::ifstream in(f);
      std::stringstream text;
      text << in.rdbuf();
      if (std::regex_search(text.str(), decl)) return dir_of(f);
    }
  }
  return dir_of(files.front());
}

std::string OptionString(const cep::Options& options, const std::string& name) {
  for (const auto& [k, v] : options) {
    if (k == name) return v.type() == Type::kString ? v.as_string() : v.ToString();
  }
  return "";
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
  int64_t checkpoint_interval_ms = 0;
  if (!ParseDurationMs(opts.checkpoint_interval, &checkpoint_interval_ms)) {
    return Fail(kExitUsage, fmt::format("--checkpoint-interval '{}': expected a duration such "
                                        "as 10s or 500ms (0 = only a final checkpoint)",
                                        opts.checkpoint_interval));
  }
  int parallelism = opts.parallelism;
  if (parallelism <= 0) parallelism = static_cast<int>(std::thread::hardware_concurrency());
  parallelism = std::clamp(parallelism, 1, 128);

  engine::metrics::Metrics metrics;
  if (!opts.metrics.empty()) {
    absl::Status st = metrics.Serve(opts.metrics);
    if (!st.ok()) {
      return Fail(absl::IsInvalidArgument(st) ? kExitUsage : kExitRuntime,
                  fmt::format("--metrics {}: {}", opts.metrics, StatusText(st)));
    }
  }

  // --input STREAM=PATH syntax (before compiling: a usage error whatever the rules say).
  std::vector<std::pair<std::string, std::string>> bindings;
  int stdin_inputs = 0;
  for (const std::string& in : opts.inputs) {
    size_t eq = in.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == in.size()) {
      return Fail(kExitUsage, fmt::format("--input '{}': expected STREAM=PATH", in));
    }
    bindings.emplace_back(in.substr(0, eq), in.substr(eq + 1));
    if (bindings.back().second == "-") ++stdin_inputs;
  }
  if (stdin_inputs > 1) {
    return Fail(kExitUsage, "standard input ('-') can be bound to only one --input");
  }

  std::shared_ptr<const cep::RuleSet> rules = CompileReporting(opts.files);
  if (rules == nullptr) return kExitRulesError;

  // Bind inputs: --input first, then each stream's own `from`.
  std::vector<std::vector<std::string>> paths(rules->streams.size());
  for (const auto& [stream, path] : bindings) {
    int s = rules->FindStream(stream);
    if (s < 0) {
      std::string known;
      for (const cep::StreamDef& d : rules->streams) known += (known.empty() ? "" : ", ") + d.name;
      return Fail(kExitUsage, fmt::format("--input {}={}: unknown stream '{}' (streams: {})",
                                          stream, path, stream, known.empty() ? "none" : known));
    }
    paths[s].push_back(path);
  }
  std::vector<bool> used(rules->streams.size(), false);
  for (const cep::RuleDef& r : rules->rules) used[r.stream] = true;
  for (size_t s = 0; s < rules->streams.size(); ++s) {
    const cep::StreamDef& d = rules->streams[s];
    if (!paths[s].empty()) continue;
    const std::string& kind = d.source.kind;
    if (kind == "file") {
      std::filesystem::path p = OptionString(d.source.options, "path");
      if (p.is_relative()) p = StreamBaseDir(opts.files, d.name) / p;
      paths[s].push_back(p.string());
    } else if (kind == "stdin") {
      if (stdin_inputs++ > 0) {
        return Fail(kExitUsage, fmt::format("stream '{}' reads standard input, which is "
                                            "already bound to another stream",
                                            d.name));
      }
      paths[s].push_back("-");
    } else if (kind == "kafka") {
      if (!used[s]) continue;
      return Fail(kExitRuntime, fmt::format("stream '{}': kafka sources are not supported yet; "
                                            "bind the stream with --input {}=PATH",
                                            d.name, d.name));
    } else if (used[s]) {
      std::string rule;
      for (const cep::RuleDef& r : rules->rules) {
        if (r.stream == static_cast<int>(s)) {
          rule = r.name;
          break;
        }
      }
      return Fail(kExitUsage, fmt::format("stream '{}' is read by rule '{}' but has no input: "
                                          "bind one with --input {}=PATH or declare `from` in "
                                          "the rules file",
                                          d.name, rule, d.name));
    }
  }

  // Sinks referenced by the rules that will run and by `late to` of bound streams.
  std::vector<bool> needed(rules->sinks.size(), false);
  for (const cep::RuleDef& r : rules->rules) {
    if (paths[r.stream].empty()) continue;
    for (int i : r.to) needed[i] = true;
    if (r.on_timeout) {
      for (int i : r.timeout_to) needed[i] = true;
    }
  }
  for (size_t s = 0; s < rules->streams.size(); ++s) {
    if (paths[s].empty()) continue;
    for (int i : rules->streams[s].late_to) needed[i] = true;
  }
  // State: open the backend and find where to resume before any output is opened, so that
  // file outputs can be truncated to the checkpoint's sizes first.
  std::unique_ptr<engine::state::StateBackend> backend;
  std::optional<engine::state::CheckpointMeta> restored;
  if (!opts.state_dir.empty() || !opts.from_savepoint.empty()) {
    auto b = engine::state::OpenStateBackend(opts.state_dir);
    if (!b.ok()) return Fail(kExitRuntime, fmt::format("--state: {}", StatusText(b.status())));
    backend = std::move(b).value();
    std::string blob;
    if (!opts.from_savepoint.empty()) {
      auto meta = engine::state::RestoreSavepoint(*backend, opts.from_savepoint);
      if (!meta.ok()) {
        return Fail(kExitRuntime, fmt::format("--from-savepoint {}: {}", opts.from_savepoint,
                                              StatusText(meta.status())));
      }
      blob = *meta;
    } else {
      auto latest = backend->RestoreLatest();
      if (!latest.ok()) {
        return Fail(kExitRuntime, fmt::format("--state {}: cannot restore: {}", opts.state_dir,
                                              StatusText(latest.status())));
      }
      if (latest->has_value()) blob = (*latest)->metadata;
    }
    if (!blob.empty()) {
      auto meta = engine::state::DecodeCheckpointMeta(blob);
      if (!meta.ok()) return Fail(kExitRuntime, StatusText(meta.status()));
      restored = std::move(meta).value();
      if (!opts.from_savepoint.empty()) {
        std::fprintf(stderr, "vigil: restored savepoint %s (checkpoint %llu)\n",
                     opts.from_savepoint.c_str(),
                     static_cast<unsigned long long>(restored->checkpoint_id));
      } else {
        std::fprintf(stderr, "vigil: restored checkpoint %llu\n",
                     static_cast<unsigned long long>(restored->checkpoint_id));
      }
      // Exactly-once file outputs: drop what was written after the checkpoint.
      for (const auto& sink : restored->sinks) {
        if (::truncate(sink.path.c_str(), static_cast<off_t>(sink.byte)) != 0 && errno != ENOENT) {
          return Fail(kExitRuntime, fmt::format("cannot truncate output '{}' to {} bytes: {}",
                                                sink.path, sink.byte, std::strerror(errno)));
        }
      }
    }
  }

  // A fresh run starts --output empty, as a shell redirection would (a restored run keeps what
  // the checkpoint recorded, truncated above). Sinks declared in the rules append: they are
  // logs that outlive runs.
  struct stat out_st;
  if (!restored && !opts.output.empty() && opts.output != "-" &&
      ::stat(opts.output.c_str(), &out_st) == 0 && S_ISREG(out_st.st_mode)) {
    if (::truncate(opts.output.c_str(), 0) != 0) {
      return Fail(kExitRuntime, fmt::format("cannot truncate output '{}': {}", opts.output,
                                            std::strerror(errno)));
    }
  }
  std::vector<engine::DurableOutput> durable;
  auto open_file = [&](const std::string& path) -> absl::StatusOr<std::unique_ptr<engine::Sink>> {
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<alerting::FileSink> f, alerting::FileSink::Open(path));
    alerting::FileSink* raw = f.get();
    durable.push_back({path, [raw] { return raw->bytes_written(); }});
    // Offsets are recorded as the file's size: the sink appends to what a restore kept.
    struct stat st;
    uint64_t base = ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    durable.back().bytes = [raw, base] { return base + raw->bytes_written(); };
    return std::unique_ptr<engine::Sink>(std::move(f));
  };

  std::vector<std::unique_ptr<engine::Sink>> owned;
  std::vector<engine::Sink*> sinks(rules->sinks.size(), nullptr);
  std::vector<std::string> sink_names(rules->sinks.size());
  for (size_t i = 0; i < rules->sinks.size(); ++i) {
    sink_names[i] = rules->sinks[i].name;
    if (!needed[i]) continue;
    absl::StatusOr<std::unique_ptr<engine::Sink>> sink;
    std::string file_path =
        rules->sinks[i].kind == "file" ? OptionString(rules->sinks[i].options, "path") : "";
    if (!file_path.empty()) {
      sink = open_file(file_path);
    } else {
      sink = alerting::MakeSink(rules->sinks[i]);
    }
    if (!sink.ok()) {
      return Fail(kExitRuntime,
                  fmt::format("sink '{}': {}", rules->sinks[i].name, StatusText(sink.status())));
    }
    sinks[i] = sink->get();
    owned.push_back(std::move(sink).value());
  }
  std::unique_ptr<engine::Sink> default_output;
  bool default_durable = false;
  if (opts.output.empty() || opts.output == "-") {
    default_output = alerting::MakeStdoutSink();
  } else {
    auto sink = open_file(opts.output);
    if (!sink.ok()) return Fail(kExitRuntime, StatusText(sink.status()));
    default_output = std::move(sink).value();
    default_durable = true;
  }
  // A restored run appends to the dead-letter file (cut back to its checkpointed size above).
  auto dead_letter = engine::DeadLetterWriter::Open(opts.dead_letter, restored.has_value());
  if (!dead_letter.ok()) return Fail(kExitRuntime, StatusText(dead_letter.status()));

  std::vector<engine::JobInput> inputs;
  bool live_inputs = opts.follow;  // an input that does not end by itself
  for (size_t s = 0; s < rules->streams.size(); ++s) {
    for (const std::string& path : paths[s]) {
      auto source = engine::JsonlSource::Open(path);
      if (!source.ok()) {
        return Fail(kExitRuntime, fmt::format("stream '{}': {}", rules->streams[s].name,
                                              StatusText(source.status())));
      }
      // --follow: files are followed like `tail -f` (standard input is not affected).
      if (opts.follow && path != "-") (*source)->SetFollow(true);
      if (!(*source)->seekable()) live_inputs = true;  // standard input, a pipe
      inputs.push_back(engine::JobInput{static_cast<int>(s), std::move(source).value()});
    }
  }

  InstallSignals();
  engine::JobOptions job_options;
  job_options.max_partial_matches = opts.max_partial_matches;
  job_options.queue_batches = static_cast<size_t>(opts.queue_capacity);
  job_options.parallelism = parallelism;
  job_options.backend = opts.state_dir.empty() ? nullptr : backend.get();
  job_options.checkpoint_interval_ms = checkpoint_interval_ms;
  job_options.durable_outputs = durable;
  // With a live input (standard input, a pipe, --follow) the job does not end by itself:
  // records leave for the output file as soon as they exist (flushed when the output stage
  // idles, like standard output) instead of only at checkpoints. The file's offsets are still
  // recorded at checkpoints (exactly-once). Bounded runs flush at checkpoints and at the end.
  job_options.default_output_durable = default_durable && !live_inputs;
  job_options.stop = &g_stop;
  job_options.savepoint_request = &g_savepoint;
  job_options.metrics = &metrics;
  job_options.sink_names = sink_names;
  job_options.log = [](std::string_view msg) {
    std::fprintf(stderr, "vigil: %.*s\n", static_cast<int>(msg.size()), msg.data());
  };
  std::string pid_file;
  if (!opts.state_dir.empty()) {
    job_options.savepoint_dir = opts.state_dir + "/savepoints";
    std::filesystem::create_directories(job_options.savepoint_dir);
    pid_file = opts.state_dir + "/vigil.pid";
    std::ofstream(pid_file) << ::getpid() << "\n";
  }
  auto job = engine::Job::Create(rules, job_options, std::move(inputs), sinks, default_output.get(),
                                 dead_letter->get());
  if (!job.ok()) return Fail(kExitRuntime, StatusText(job.status()));
  if (restored) {
    absl::Status st = (*job)->Restore(*restored);
    if (!st.ok()) return Fail(kExitRuntime, fmt::format("cannot restore: {}", StatusText(st)));
  }
  absl::Status st = (*job)->Run();
  if (!pid_file.empty()) std::filesystem::remove(pid_file);
  if (!st.ok()) return Fail(kExitRuntime, StatusText(st));

  engine::JobStats stats = (*job)->stats();
  std::fprintf(stderr, "vigil: %llu events, %llu matches, %llu timeouts, %llu late, %llu invalid\n",
               static_cast<unsigned long long>(stats.events()),
               static_cast<unsigned long long>(stats.matches()),
               static_cast<unsigned long long>(stats.timeouts()),
               static_cast<unsigned long long>(stats.late()),
               static_cast<unsigned long long>(stats.invalid()));
  return kExitOk;
}

}  // namespace vigil::app
