#include "engine/launcher.h"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>

#include "engine/io/dead_letter.h"
#include "engine/state/checkpoint_meta.h"
#include "engine/state/savepoint.h"
#include "engine/state/state_backend.h"

namespace vigil::engine {

namespace {

std::string DirOf(const std::string& file) {
  std::filesystem::path p = std::filesystem::path(file).parent_path();
  return p.empty() ? "." : p.string();
}

void Log(const RunSpec& spec, const std::string& msg) {
  if (spec.log) spec.log(msg);
}

// The state to resume from: the latest checkpoint in the state directory, or a savepoint.
struct Resume {
  std::unique_ptr<state::StateBackend> backend;
  std::optional<state::CheckpointMeta> meta;
};

absl::StatusOr<Resume> OpenState(const RunSpec& spec) {
  Resume r;
  if (spec.state_dir.empty() && spec.from_savepoint.empty()) return r;
  auto b = state::OpenStateBackend(spec.state_dir);
  if (!b.ok()) {
    return absl::Status(b.status().code(), "--state: " + std::string(b.status().message()));
  }
  r.backend = std::move(b).value();
  std::string blob;
  if (!spec.from_savepoint.empty()) {
    auto meta = state::RestoreSavepoint(*r.backend, spec.from_savepoint);
    if (!meta.ok()) {
      return absl::Status(meta.status().code(), "--from-savepoint " + spec.from_savepoint + ": " +
                                                    std::string(meta.status().message()));
    }
    blob = *meta;
  } else {
    auto latest = r.backend->RestoreLatest();
    if (!latest.ok()) {
      return absl::Status(latest.status().code(), "--state " + spec.state_dir +
                                                      ": cannot restore: " +
                                                      std::string(latest.status().message()));
    }
    if (latest->has_value()) blob = (*latest)->metadata;
  }
  if (blob.empty()) return r;
  VIGIL_ASSIGN_OR_RETURN(state::CheckpointMeta meta, state::DecodeCheckpointMeta(blob));
  if (!spec.from_savepoint.empty()) {
    Log(spec, "restored savepoint " + spec.from_savepoint + " (checkpoint " +
                  std::to_string(meta.checkpoint_id) + ")");
  } else {
    Log(spec, "restored checkpoint " + std::to_string(meta.checkpoint_id));
  }
  r.meta = std::move(meta);
  return r;
}

}  // namespace

absl::StatusOr<std::vector<std::pair<int, SourceParams>>> BindInputs(const RunSpec& spec) {
  const cep::RuleSet& rules = *spec.rules;
  std::vector<std::vector<SourceParams>> bound(rules.streams.size());
  int stdin_inputs = 0;
  for (const InputFlag& in : spec.inputs) {
    int s = rules.FindStream(in.stream);
    if (s < 0) {
      std::string known;
      for (const cep::StreamDef& d : rules.streams) known += (known.empty() ? "" : ", ") + d.name;
      return absl::InvalidArgumentError("--input " + in.stream + "=...: unknown stream '" +
                                        in.stream + "' (streams: " +
                                        (known.empty() ? "none" : known) + ")");
    }
    if (in.spec.kind == "stdin") ++stdin_inputs;
    SourceParams p;
    p.stream = &rules.streams[s];
    p.spec = in.spec;
    p.follow = spec.follow;
    p.watermark_lines = spec.watermark_lines;
    bound[s].push_back(std::move(p));
  }
  if (stdin_inputs > 1) {
    return absl::InvalidArgumentError("standard input ('-') can be bound to only one --input");
  }
  std::vector<bool> read(rules.streams.size(), false);
  for (const cep::RuleDef& r : rules.rules) read[r.stream] = true;
  for (size_t s = 0; s < rules.streams.size(); ++s) {
    const cep::StreamDef& d = rules.streams[s];
    if (!bound[s].empty() || !read[s]) continue;
    if (d.source.kind.empty()) {
      std::string rule;
      for (const cep::RuleDef& r : rules.rules) {
        if (r.stream == static_cast<int>(s)) {
          rule = r.name;
          break;
        }
      }
      return absl::InvalidArgumentError("stream '" + d.name + "' is read by rule '" + rule +
                                        "' but has no input: bind one with --input " + d.name +
                                        "=PATH or declare `from` in the rules file");
    }
    if (d.source.kind == "stdin" && stdin_inputs++ > 0) {
      return absl::InvalidArgumentError("stream '" + d.name +
                                        "' reads standard input, which is already bound to "
                                        "another stream");
    }
    SourceParams p;
    p.stream = &d;
    p.spec = d.source;
    p.base_dir = DirOf(d.file);
    p.follow = spec.follow;
    p.watermark_lines = spec.watermark_lines;
    bound[s].push_back(std::move(p));
  }
  std::vector<std::pair<int, SourceParams>> out;
  for (size_t s = 0; s < bound.size(); ++s) {
    for (SourceParams& p : bound[s]) out.emplace_back(static_cast<int>(s), std::move(p));
  }
  return out;
}

absl::StatusOr<JobStats> Launch(const RunSpec& spec_in, const Connectors& connectors) {
  RunSpec spec = spec_in;
  VIGIL_ASSIGN_OR_RETURN(Resume resume, OpenState(spec));
  const bool restored = resume.meta.has_value();
  if (restored && !resume.meta->rules.empty()) {
    // Rules deployed into the job before the checkpoint win over the command line's.
    if (!spec.compile) {
      return absl::FailedPreconditionError(
          "the checkpoint holds deployed rules, and this program cannot compile them");
    }
    auto deployed = spec.compile(resume.meta->rules);
    if (!deployed.ok()) {
      return absl::FailedPreconditionError("the rules deployed before checkpoint " +
                                           std::to_string(resume.meta->checkpoint_id) +
                                           " do not compile: " +
                                           std::string(deployed.status().message()));
    }
    spec.rules = std::move(deployed).value();
    std::string names;
    for (const auto& [name, text] : resume.meta->rules) names += (names.empty() ? "" : ", ") + name;
    Log(spec, "running the rules deployed before checkpoint " +
                  std::to_string(resume.meta->checkpoint_id) + " (" + names +
                  "), not the files on the command line");
  }
  const cep::RuleSet& rules = *spec.rules;
  VIGIL_ASSIGN_OR_RETURN(auto bindings, BindInputs(spec));

  // Sinks referenced by the rules that will run and by `late to` of bound streams.
  std::vector<bool> has_input(rules.streams.size(), false);
  for (const auto& [s, p] : bindings) has_input[s] = true;
  std::vector<bool> needed(rules.sinks.size(), false);
  for (const cep::RuleDef& r : rules.rules) {
    if (!has_input[r.stream]) continue;
    for (int i : r.to) needed[i] = true;
    if (r.on_timeout) {
      for (int i : r.timeout_to) needed[i] = true;
    }
  }
  for (size_t s = 0; s < rules.streams.size(); ++s) {
    if (!has_input[s]) continue;
    for (int i : rules.streams[s].late_to) needed[i] = true;
  }

  // Outputs. The dead-letter file is appended to by a restored run (cut back to its
  // checkpointed size by the restore) and started empty otherwise.
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<DeadLetterWriter> dead_letter,
                         DeadLetterWriter::Open(spec.dead_letter, restored));
  SinkContext base_ctx;
  base_ctx.now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  base_ctx.log = spec.log;
  DeadLetterWriter* dl = dead_letter.get();
  base_ctx.metrics = spec.metrics;
  auto make = [&](const cep::SinkDef& def) -> absl::StatusOr<std::unique_ptr<Sink>> {
    SinkContext ctx = base_ctx;
    ctx.name = def.name;
    // A sink that gives up on a record hands it here; if even the dead-letter output fails,
    // say so (the record is in no output then).
    ctx.dead_letter = [dl, name = def.name, log = spec.log](const Record& r,
                                                           std::string_view reason) {
      absl::Status st = dl->WriteUndeliverable(name, reason, r);
      if (!st.ok() && log) log("error: dead-letter output: " + std::string(st.message()));
    };
    auto sink = connectors.sinks(def, ctx);
    if (!sink.ok()) {
      return absl::Status(sink.status().code(),
                          "sink '" + def.name + "': " + std::string(sink.status().message()));
    }
    return sink;
  };
  std::mutex owned_mu;  // deploys open sinks from the admin API's threads
  std::vector<std::unique_ptr<Sink>> owned;
  JobOutputs outputs;
  outputs.dead_letter = dead_letter.get();
  outputs.sinks.assign(rules.sinks.size(), nullptr);
  outputs.flush_when_idle.assign(rules.sinks.size(), true);
  for (size_t i = 0; i < rules.sinks.size(); ++i) {
    outputs.sink_names.push_back(rules.sinks[i].name);
    if (!needed[i]) continue;
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, make(rules.sinks[i]));
    outputs.sinks[i] = sink.get();
    owned.push_back(std::move(sink));
  }
  cep::SinkDef default_def;
  default_def.name = "output";
  if (spec.output.empty() || spec.output == "-") {
    default_def.kind = "stdout";
  } else {
    default_def.kind = "file";
    default_def.options.emplace_back("path", Value::String(spec.output));
  }
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Sink> default_output, make(default_def));
  // A fresh run starts --output empty, as a shell redirection would (a restored run keeps
  // what the checkpoint recorded). Sinks declared in the rules append: they are logs that
  // outlive runs.
  if (!restored && default_def.kind == "file") VIGIL_RETURN_IF_ERROR(default_output->Restore("0"));
  outputs.default_output = default_output.get();
  outputs.default_output_kind = default_def.kind;

  // Sources.
  bool live = spec.follow;
  std::vector<JobInput> inputs;
  for (auto& [s, params] : bindings) {
    auto source = connectors.sources->Open(params);
    if (!source.ok()) {
      return absl::Status(source.status().code(), "stream '" + rules.streams[s].name + "': " +
                                                      std::string(source.status().message()));
    }
    if ((*source)->live()) live = true;
    inputs.push_back(JobInput{s, std::move(source).value(), {}});
  }
  // File outputs are flushed at checkpoints and at the end of a bounded run (fewer writes);
  // with a live input every output is flushed as records happen.
  for (size_t i = 0; i < rules.sinks.size(); ++i) {
    outputs.flush_when_idle[i] = live || rules.sinks[i].kind != "file";
  }
  outputs.default_flush_when_idle = live || default_def.kind != "file";

  JobOptions o;
  o.max_partial_matches = spec.max_partial_matches;
  o.queue_batches = spec.queue_batches;
  o.parallelism = spec.parallelism;
  o.backend = spec.state_dir.empty() ? nullptr : resume.backend.get();
  o.restore_backend = resume.backend.get();
  o.checkpoint_interval_ms = spec.checkpoint_interval_ms;
  if (!spec.state_dir.empty()) {
    o.savepoint_dir = spec.state_dir + "/savepoints";
    std::error_code ec;
    std::filesystem::create_directories(o.savepoint_dir, ec);
  }
  o.stop = spec.stop;
  o.savepoint_request = spec.savepoint_request;
  o.metrics = spec.metrics;
  o.log = spec.log;
  o.record_observer = spec.record_observer;
  o.open_sink = [&](const cep::SinkDef& def) -> absl::StatusOr<OpenedSink> {
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, make(def));
    OpenedSink opened{sink.get(), live || def.kind != "file"};
    std::lock_guard<std::mutex> lock(owned_mu);
    owned.push_back(std::move(sink));
    return opened;
  };
  auto created = Job::Create(spec.rules, std::move(o), std::move(inputs), outputs);
  if (!created.ok()) {
    // Not a usage error: the rules passed `vigil check` but cannot run.
    if (absl::IsInvalidArgument(created.status())) {
      return absl::FailedPreconditionError(created.status().message());
    }
    return created.status();
  }
  std::unique_ptr<Job> job = std::move(created).value();
  if (restored) {
    absl::Status st = job->Restore(*resume.meta);
    if (!st.ok()) {
      return absl::Status(st.code(), "cannot restore: " + std::string(st.message()));
    }
  }
  if (spec.on_started) spec.on_started(job.get());
  absl::Status st = job->Run();
  if (spec.on_finished) spec.on_finished();
  VIGIL_RETURN_IF_ERROR(st);
  return job->stats();
}

}  // namespace vigil::engine
