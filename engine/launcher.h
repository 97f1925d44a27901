#pragma once
// Runs a job from a run spec (what `vigil run`'s flags mean, decided by src/), doing the
// engine's part of starting one: binding inputs to streams, opening the state backend and
// finding the checkpoint or savepoint to resume from, opening sources (SourceRegistry) and
// outputs (the caller's sink factory: alerting/ implements them), restoring, running.
//
// Restart (cli.md): with a state directory, a job started again resumes from its last
// completed checkpoint (the log says `restored checkpoint <id>`); sources seek to their
// checkpointed positions, file outputs and a dead-letter file are cut back to their
// checkpointed sizes (exactly-once), network sinks re-send what they had not delivered
// (at-least-once, same record ids), standard output and standard error are at-least-once.
//
// Thread-safety: Launch runs the job on the calling thread (and the job's own threads).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/job.h"
#include "engine/sink/sink.h"
#include "engine/source/source_registry.h"

namespace vigil::engine {

// `--input STREAM=URI`, parsed: the stream's name and its source.
struct InputFlag {
  std::string stream;
  cep::SourceSpec spec;
};

struct RunSpec {
  std::shared_ptr<const cep::RuleSet> rules;
  // --input bindings; streams without one use their `from` clause (relative paths are
  // relative to the rules file that declares the stream).
  std::vector<InputFlag> inputs;
  std::string output;       // the default output: "" or "-" = standard output, else a file
  std::string dead_letter;  // "" = standard error, else a file
  std::string state_dir;    // "" = no checkpoints
  std::string from_savepoint;
  int64_t checkpoint_interval_ms = 10000;
  int parallelism = 1;
  size_t queue_batches = 16;
  size_t max_partial_matches = 0;
  bool follow = false;  // follow file inputs like `tail -f`
  bool watermark_lines = false;  // `{"$watermark": T}` lines on every file/stdin input

  // Compiles rules files given as (name, text): a restart after a deploy runs the rules the
  // checkpoint stored (the engine cannot include the front end). Without it such a restart
  // fails.
  std::function<absl::StatusOr<std::shared_ptr<const cep::RuleSet>>(
      const std::vector<std::pair<std::string, std::string>>& files)>
      compile;
  // Called once the job is created and restored, before it runs (e.g. to start the admin
  // API over it), and once it has run, before it is destroyed.
  std::function<void(Job* job)> on_started;
  std::function<void()> on_finished;
  // Sees every record the job writes (the dashboard's record tap). Optional.
  std::function<void(const Record&)> record_observer;

  metrics::Metrics* metrics = nullptr;
  const std::atomic<bool>* stop = nullptr;
  std::atomic<bool>* savepoint_request = nullptr;
  std::function<void(std::string_view)> log;  // progress and warnings for standard error
};

// Creates the sink a `sink NAME KIND (...)` declaration (or the default output's implicit
// declaration: kind "file" with option path, or kind "stdout") describes.
using SinkFactory = std::function<absl::StatusOr<std::unique_ptr<Sink>>(
    const cep::SinkDef& def, const SinkContext& context)>;

struct Connectors {
  const SourceRegistry* sources = nullptr;
  SinkFactory sinks;
};

// Errors (the message says what to fix):
// - InvalidArgument: the spec cannot run (an unknown stream in --input, a stream read by a
//   rule with no input, standard input bound twice): a usage error;
// - the state backend's, a source's or a sink's open errors, restore errors, and the job's
//   runtime errors otherwise.
absl::StatusOr<JobStats> Launch(const RunSpec& spec, const Connectors& connectors);

// Which sources feed which stream (part of Launch; exposed for tests): --input first, then
// each read stream's `from`. Errors: InvalidArgument as for Launch.
absl::StatusOr<std::vector<std::pair<int, SourceParams>>> BindInputs(const RunSpec& spec);

}  // namespace vigil::engine
