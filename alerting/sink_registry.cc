#include "alerting/sink_registry.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "alerting/alertmanager_sink.h"
#include "alerting/file_sink.h"
#include "alerting/http_client.h"
#include "alerting/http_options.h"
#include "alerting/stdout_sink.h"
#include "alerting/webhook_sink.h"
#include "cep/connectors/connector_options.h"

namespace vigil::alerting {

namespace {

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeFile(const cep::SinkDef& def,
                                                       const engine::SinkContext&) {
  for (const auto& [name, value] : def.options) {
    if (name != "path") continue;
    if (value.type() != Type::kString || value.as_string().empty()) {
      return absl::InvalidArgumentError("option 'path' must be a non-empty string");
    }
    return MakeFileSink(value.as_string());
  }
  return absl::InvalidArgumentError("a file sink needs option 'path'");
}

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeStdout(const cep::SinkDef&,
                                                         const engine::SinkContext&) {
  return MakeStdoutSink();
}

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeWebhook(const cep::SinkDef& def,
                                                          const engine::SinkContext& ctx) {
  VIGIL_ASSIGN_OR_RETURN(HttpSinkOptions options, ReadHttpSinkOptions(def, ProcessEnv()));
  VIGIL_RETURN_IF_ERROR(HttpClient::Available());
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WebhookSink> sink,
                         WebhookSink::Create(std::move(options), ctx));
  return std::unique_ptr<engine::Sink>(std::move(sink));
}

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeAlertmanager(const cep::SinkDef& def,
                                                               const engine::SinkContext& ctx) {
  VIGIL_ASSIGN_OR_RETURN(HttpSinkOptions options, ReadHttpSinkOptions(def, ProcessEnv()));
  VIGIL_RETURN_IF_ERROR(HttpClient::Available());
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<AlertmanagerSink> sink,
                         AlertmanagerSink::Create(std::move(options), ctx));
  return std::unique_ptr<engine::Sink>(std::move(sink));
}

}  // namespace

SinkRegistry& SinkRegistry::Default() {
  static SinkRegistry* const registry = [] {
    auto* r = new SinkRegistry();
    r->Register("file", MakeFile);
    r->Register("stdout", MakeStdout);
    r->Register("webhook", MakeWebhook);
    r->Register("alertmanager", MakeAlertmanager);
    return r;
  }();
  return *registry;
}

void SinkRegistry::Register(std::string kind, SinkFactory factory) {
  std::lock_guard<std::mutex> lock(mu_);
  factories_[std::move(kind)] = std::move(factory);
}

bool SinkRegistry::Has(std::string_view kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  return factories_.find(kind) != factories_.end();
}

absl::StatusOr<std::unique_ptr<engine::Sink>> SinkRegistry::Make(
    const cep::SinkDef& def, const engine::SinkContext& ctx) const {
  SinkFactory factory;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = factories_.find(def.kind);
    if (it != factories_.end()) factory = it->second;
  }
  if (!factory) {
    if (cep::FindSinkKind(def.kind) != nullptr) {
      return absl::UnimplementedError("sink kind '" + def.kind + "' is not available yet");
    }
    return absl::InvalidArgumentError("unknown sink kind '" + def.kind + "'");
  }
  return factory(def, ctx);
}

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeSink(const cep::SinkDef& def,
                                                       const engine::SinkContext& ctx) {
  return SinkRegistry::Default().Make(def, ctx);
}


absl::StatusOr<std::unique_ptr<engine::Sink>> MakeFileSink(const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<FileSink> sink, FileSink::Open(path));
  return std::unique_ptr<engine::Sink>(std::move(sink));
}

std::unique_ptr<engine::Sink> MakeStdoutSink() { return std::make_unique<StdoutSink>(); }

}  // namespace vigil::alerting
