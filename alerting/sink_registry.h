#pragma once
// Creates sinks from their declarations (language.md §3) and for the command line's outputs.
//
// The registry maps a sink kind ("file", "webhook", ...) to a factory. Options are read with
// cep::OptionReader against the connector catalogue (cep/connectors/connector_options.cc),
// defaults applied there. Built in: file, stdout, webhook, alertmanager. A new kind is one
// factory and one Register call in SinkRegistry::Default() (sink_registry.cc).
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

using SinkFactory = std::function<absl::StatusOr<std::unique_ptr<engine::Sink>>(
    const cep::SinkDef& def, const engine::SinkContext& ctx)>;

class SinkRegistry {
 public:
  // The process-wide registry with the built-in kinds. Thread-safe.
  static SinkRegistry& Default();

  // Adds (or replaces) the factory of `kind`.
  void Register(std::string kind, SinkFactory factory);
  bool Has(std::string_view kind) const;

  // Creates the sink `def` declares, named ctx.name.
  // Errors: kInvalidArgument for a kind the language does not know and for bad options (the
  // message names the option; header values never appear in it); kUnimplemented ("sink kind
  // 'kafka' is not available yet") for a kind the language knows but this build has no
  // factory for; the factory's own errors (e.g. a file that cannot be opened). Messages do not
  // name the sink: callers prefix them ("sink 'audit': ...").
  absl::StatusOr<std::unique_ptr<engine::Sink>> Make(const cep::SinkDef& def,
                                                     const engine::SinkContext& ctx) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, SinkFactory, std::less<>> factories_;
};

// SinkRegistry::Default().Make(def, ctx).
absl::StatusOr<std::unique_ptr<engine::Sink>> MakeSink(const cep::SinkDef& def,
                                                       const engine::SinkContext& ctx);

// `--output PATH`: JSON Lines appended to PATH. Errors as FileSink::Open.
absl::StatusOr<std::unique_ptr<engine::Sink>> MakeFileSink(const std::string& path);
// The default output: JSON Lines on standard output.
std::unique_ptr<engine::Sink> MakeStdoutSink();

}  // namespace vigil::alerting
