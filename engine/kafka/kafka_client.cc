#include "engine/kafka/kafka_client.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace vigil::engine::kafka {

ClientOptions ClientOptionsFrom(const cep::Options& options) {
  cep::OptionReader r(options);
  ClientOptions o;
  o.brokers = r.String("brokers");
  o.security_protocol = r.String("security_protocol");
  o.sasl_mechanism = r.String("sasl_mechanism");
  o.sasl_username = r.String("sasl_username");
  o.sasl_password_env = r.String("sasl_password_env");
  o.ssl_ca_location = r.String("ssl_ca_location");
  return o;
}

absl::Status SetConf(rd_kafka_conf_t* conf, std::string_view key, std::string_view value) {
  char err[512];
  std::string k(key), v(value);
  if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(k + ": " + err);
  }
  return absl::OkStatus();
}

namespace {

// librdkafka's log callback: levels are syslog's (0 emergency .. 7 debug).
void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  if (level > 4) return;  // notices, info and debug stay quiet
  auto* ctx = static_cast<ClientContext*>(rd_kafka_opaque(rk));
  std::string line = "kafka: ";
  line += buf;
  if (ctx != nullptr && ctx->log) {
    ctx->log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace

absl::StatusOr<ConfPtr> MakeConf(const ClientOptions& options, ClientContext* ctx) {
  ConfPtr conf(rd_kafka_conf_new());
  VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), "bootstrap.servers", options.brokers));
  VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), "client.id", "vigil"));
  VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), "log.connection.close", "false"));
  if (!options.security_protocol.empty()) {
    VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), "security.protocol", options.security_protocol));
  }
  if (!options.sasl_mechanism.empty()) {
    VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), "sasl.mechanisms", options.sasl_mechanism));
  }
  if (!options.sasl_username.empty()) {
    VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), "sasl.username", options.sasl_username));
  }
  if (!options.sasl_password_env.empty()) {
    const char* password = std::getenv(options.sasl_password_env.c_str());
    if (password == nullptr) {
      return absl::InvalidArgumentError("environment variable " + options.sasl_password_env +
                                        " (sasl_password_env) is not set");
    }
    char err[512];
    if (rd_kafka_conf_set(conf.get(), "sasl.password", password, err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError("sasl.password: rejected by librdkafka");
    }
  }
  if (!options.ssl_ca_location.empty()) {
    VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), "ssl.ca.location", options.ssl_ca_location));
  }
  rd_kafka_conf_set_opaque(conf.get(), ctx);
  rd_kafka_conf_set_log_cb(conf.get(), LogCallback);
  return conf;
}

absl::StatusOr<HandlePtr> NewClient(rd_kafka_type_t type, ConfPtr conf) {
  char err[512];
  // On success rd_kafka_new() owns the configuration; on failure the caller still does.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (rk == nullptr) return absl::InvalidArgumentError(std::string("kafka client: ") + err);
  conf.release();
  return HandlePtr(rk);
}

std::string ErrorText(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2str(err)) + " (" + rd_kafka_err2name(err) + ")";
}

}  // namespace vigil::engine::kafka
