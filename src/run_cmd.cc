// `vigil run` (spec/cli.md): compiles the rules, binds inputs and sinks, and runs the
// single-threaded embedded job until every (bounded) input has ended.
//
// Not yet implemented (the streaming-engine issue): --parallelism N is accepted and ignored
// (one thread), --state / --checkpoint-interval / --metrics are accepted with a warning.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "alerting/sink_registry.h"
#include "engine/io/dead_letter.h"
#include "engine/job.h"
#include "engine/source/jsonl_source.h"
#include "fmt/format.h"
#include "rules/compiler.h"
#include "rules/diagnostics.h"
#include "src/commands.h"

namespace vigil::app {

namespace {

void Warn(const std::string& msg) { std::fprintf(stderr, "vigil: warning: %s\n", msg.c_str()); }

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

}  // namespace

int RunCommand(const RunOptions& opts) {
  // Flags that are accepted but not implemented by the single-threaded embedded engine.
  if (!opts.state_dir.empty()) {
    Warn("--state is not implemented yet: the job runs without state or checkpoints");
  }
  if (opts.checkpoint_interval != "10s") {
    Warn("--checkpoint-interval is not implemented yet and is ignored");
  }
  if (!opts.metrics.empty()) Warn("--metrics is not implemented yet: no metrics are served");
  // --parallelism N is accepted and ignored: the job runs on one thread until the
  // streaming-engine issue adds workers.

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

  rules::CompileResult compiled = rules::CompileFiles(opts.files);
  for (const rules::Diagnostic& d : compiled.diagnostics) {
    std::fputs(rules::Render(compiled.sources, d).c_str(), stderr);
  }
  if (!compiled.ok()) return kExitRulesError;
  std::shared_ptr<const cep::RuleSet> rules = compiled.rule_set;

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
  std::vector<std::unique_ptr<engine::Sink>> owned;
  std::vector<engine::Sink*> sinks(rules->sinks.size(), nullptr);
  for (size_t i = 0; i < rules->sinks.size(); ++i) {
    if (!needed[i]) continue;
    auto sink = alerting::MakeSink(rules->sinks[i]);
    if (!sink.ok()) {
      return Fail(kExitRuntime,
                  fmt::format("sink '{}': {}", rules->sinks[i].name, StatusText(sink.status())));
    }
    sinks[i] = sink->get();
    owned.push_back(std::move(sink).value());
  }
  std::unique_ptr<engine::Sink> default_output;
  if (opts.output.empty() || opts.output == "-") {
    default_output = alerting::MakeStdoutSink();
  } else {
    auto sink = alerting::MakeFileSink(opts.output);
    if (!sink.ok()) return Fail(kExitRuntime, StatusText(sink.status()));
    default_output = std::move(sink).value();
  }
  auto dead_letter = engine::DeadLetterWriter::Open(opts.dead_letter);
  if (!dead_letter.ok()) return Fail(kExitRuntime, StatusText(dead_letter.status()));

  std::vector<engine::JobInput> inputs;
  for (size_t s = 0; s < rules->streams.size(); ++s) {
    for (const std::string& path : paths[s]) {
      auto source = engine::JsonlSource::Open(path);
      if (!source.ok()) {
        return Fail(kExitRuntime, fmt::format("stream '{}': {}", rules->streams[s].name,
                                              StatusText(source.status())));
      }
      inputs.push_back(engine::JobInput{static_cast<int>(s), std::move(source).value()});
    }
  }

  engine::JobOptions job_options;
  job_options.max_partial_matches = opts.max_partial_matches;
  auto job = engine::Job::Create(rules, job_options, std::move(inputs), sinks, default_output.get(),
                                 dead_letter->get());
  if (!job.ok()) return Fail(kExitRuntime, StatusText(job.status()));
  absl::Status st = (*job)->Run();
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
