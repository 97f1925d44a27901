#pragma once
// Creates sinks from their declarations (language.md §3) and for the command line's outputs.
#include <memory>
#include <string>

#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

// Creates the sink a `sink NAME KIND (...)` declaration describes (options already validated
// by the binder against cep/connectors; defaults applied here).
// - file: option `path`; the file is opened (created) for appending.
// - stdout: no options.
// - webhook, alertmanager, kafka: kUnimplemented ("sink kind 'webhook' is not available yet").
// Errors: kInvalidArgument for an unknown kind or a missing/mistyped `path`; the file sink's
// open errors (kNotFound, kPermissionDenied, kUnavailable) otherwise. Messages do not name the
// sink: callers prefix them ("sink 'audit': ...").
absl::StatusOr<std::unique_ptr<engine::Sink>> MakeSink(const cep::SinkDef& def,
                                                       const engine::SinkContext& context);

// `--output PATH`: JSON Lines appended to PATH. Errors as FileSink::Open.
absl::StatusOr<std::unique_ptr<engine::Sink>> MakeFileSink(const std::string& path);
// The default output: JSON Lines on standard output.
std::unique_ptr<engine::Sink> MakeStdoutSink();

}  // namespace vigil::alerting
