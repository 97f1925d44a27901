#include "cep/connectors/connector_options.h"

namespace vigil::cep {

namespace {

// Options shared by every connector that talks to Kafka (librdkafka passes them on as
// security.protocol, sasl.mechanisms, sasl.username, sasl.password, ssl.ca.location). The
// password is never written in a rules file: it is read from the named environment variable.
std::vector<OptionSpec> KafkaOptions(std::vector<OptionSpec> own) {
  std::vector<OptionSpec> all = {
      {"brokers", OptKind::kString, true, {}, "bootstrap servers, HOST:PORT[,HOST:PORT...]"},
      {"topic", OptKind::kString, true, {}, "the topic"},
  };
  all.insert(all.end(), own.begin(), own.end());
  std::vector<OptionSpec> security = {
      {"security_protocol",
       OptKind::kString,
       false,
       {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"},
       "librdkafka security.protocol (default plaintext)"},
      {"sasl_mechanism",
       OptKind::kString,
       false,
       {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"},
       "librdkafka sasl.mechanisms"},
      {"sasl_username", OptKind::kString, false, {}, "librdkafka sasl.username"},
      {"sasl_password_env", OptKind::kString, false, {},
       "name of the environment variable holding the SASL password"},
      {"ssl_ca_location", OptKind::kString, false, {}, "CA certificate file (ssl.ca.location)"},
  };
  all.insert(all.end(), security.begin(), security.end());
  return all;
}

// Options of the HTTP sinks: delivery queue, timeouts, retries with exponential backoff and
// jitter, headers.
std::vector<OptionSpec> HttpOptions(std::vector<OptionSpec> own) {
  std::vector<OptionSpec> all = {
      {"url", OptKind::kString, true, {}, "endpoint URL"},
      {"timeout", OptKind::kDuration, false, {}, "per request (default 5s)"},
      {"retries", OptKind::kInt, false, {}, "attempts after the first (default 5)"},
      {"backoff", OptKind::kDuration, false, {}, "first retry delay, doubled each time (500ms)"},
      {"max_backoff", OptKind::kDuration, false, {}, "largest retry delay (default 30s)"},
      {"queue", OptKind::kInt, false, {}, "records waiting for delivery (default 10000)"},
      {"overflow",
       OptKind::kString,
       false,
       {"block", "dead_letter"},
       "when the queue is full: block the job (backpressure) or send to the dead-letter output"},
      {"headers", OptKind::kString, false, {},
       "extra request headers, 'Name: value' lines separated by \\n; ${VAR} is replaced by "
       "the environment variable VAR"},
      {"bearer_token_env", OptKind::kString, false, {},
       "environment variable holding a bearer token (Authorization: Bearer ...)"},
  };
  all.insert(all.end(), own.begin(), own.end());
  return all;
}

}  // namespace

const OptionSpec* ConnectorSpec::Find(std::string_view name) const {
  for (const OptionSpec& o : options) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

const std::vector<ConnectorSpec>& SinkKinds() {
  static const std::vector<ConnectorSpec> kKinds = {
      {"file", {{"path", OptKind::kString, true, {}, "JSON Lines appended to this file"}}},
      {"stdout", {}},
      {"webhook",
       HttpOptions({{"batch", OptKind::kInt, false, {},
                     "records per POST (default 1: one JSON object; more: a JSON array)"}})},
      {"alertmanager",
       HttpOptions({
           {"resend", OptKind::kDuration, false, {},
            "re-send still-firing alerts this often (default 1m)"},
           {"resolve_after", OptKind::kDuration, false, {},
            "a pattern match's alert ends this long after it is sent (default 5m)"},
           {"external_url", OptKind::kString, false, {},
            "base of each alert's generatorURL (default vigil://HOSTNAME)"},
       })},
      {"kafka",
       KafkaOptions({
           {"timeout", OptKind::kDuration, false, {}, "delivery timeout (default 30s)"},
       })},
  };
  return kKinds;
}

const std::vector<ConnectorSpec>& SourceKinds() {
  static const std::vector<ConnectorSpec> kKinds = {
      {"file",
       {{"path", OptKind::kString, true, {}, "JSON Lines file"},
        {"watermarks", OptKind::kBool, false, {},
         "lines {\"$watermark\": T} are explicit watermarks, not events (tests; default "
         "false)"}}},
      {"stdin", {}},
      {"kafka",
       KafkaOptions({
           {"group", OptKind::kString, false, {}, "consumer group id"},
           {"start", OptKind::kString, false, {},
            "where a job without a checkpoint starts: earliest (default), latest, or a time "
            "(RFC 3339 or epoch milliseconds)"},
           {"bounded", OptKind::kBool, false, {},
            "end at the partitions' end offsets seen at start (backfills, tests)"},
       })},
  };
  return kKinds;
}

namespace {
const ConnectorSpec* FindIn(const std::vector<ConnectorSpec>& kinds, std::string_view kind) {
  for (const ConnectorSpec& k : kinds) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}
}  // namespace

const ConnectorSpec* FindSinkKind(std::string_view kind) { return FindIn(SinkKinds(), kind); }
const ConnectorSpec* FindSourceKind(std::string_view kind) { return FindIn(SourceKinds(), kind); }

const Value* OptionReader::Find(std::string_view name) const {
  for (const auto& [k, v] : *options_) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string OptionReader::String(std::string_view name, std::string_view def) const {
  const Value* v = Find(name);
  if (v == nullptr || v->type() != Type::kString) return std::string(def);
  return v->as_string();
}

int64_t OptionReader::Int(std::string_view name, int64_t def) const {
  const Value* v = Find(name);
  if (v == nullptr || v->type() != Type::kInt) return def;
  return v->as_int();
}

int64_t OptionReader::DurationMs(std::string_view name, int64_t def_ms) const {
  return Int(name, def_ms);
}

bool OptionReader::Bool(std::string_view name, bool def) const {
  const Value* v = Find(name);
  if (v == nullptr || v->type() != Type::kBool) return def;
  return v->as_bool();
}

}  // namespace vigil::cep
