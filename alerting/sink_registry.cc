#include "alerting/sink_registry.h"

#include "alerting/file_sink.h"
#include "alerting/stdout_sink.h"

namespace vigil::alerting {

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeFileSink(const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<FileSink> sink, FileSink::Open(path));
  return std::unique_ptr<engine::Sink>(std::move(sink));
}

std::unique_ptr<engine::Sink> MakeStdoutSink() { return std::make_unique<StdoutSink>(); }

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeSink(const cep::SinkDef& def,
                                                       const engine::SinkContext& context) {
  if (def.kind == "file") {
    for (const auto& [name, value] : def.options) {
      if (name != "path") continue;
      if (value.type() != Type::kString || value.as_string().empty()) {
        return absl::InvalidArgumentError("option 'path' must be a non-empty string");
      }
      return MakeFileSink(value.as_string());
    }
    return absl::InvalidArgumentError("a file sink needs option 'path'");
  }
  if (def.kind == "stdout") return MakeStdoutSink();
  if (def.kind == "webhook" || def.kind == "alertmanager" || def.kind == "kafka") {
    return absl::UnimplementedError("sink kind '" + def.kind + "' is not available yet");
  }
  return absl::InvalidArgumentError("unknown sink kind '" + def.kind + "'");
}

}  // namespace vigil::alerting
