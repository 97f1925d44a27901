#pragma once
// What every Vigil Kafka client shares (the source here, the sink in alerting/kafka, the
// kafka-mock tool): owning handles for librdkafka objects, and a client configuration built
// from the connector options common to Kafka sources and sinks (brokers and security,
// cep/connectors/connector_options.cc).
//
// Secrets: the SASL password is read from the environment variable the options name and is
// never part of an error message or a log line.
//
// Thread-safety: the functions are thread-safe; the handles are plain owners.
#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cep/connectors/connector_options.h"
#include "core/status.h"

namespace vigil::engine::kafka {

// Owning pointers that call the matching librdkafka destructor.
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

// Connection and security settings (the options shared by every Kafka connector).
struct ClientOptions {
  std::string brokers;            // bootstrap.servers: HOST:PORT[,HOST:PORT...]
  std::string security_protocol;  // plaintext (when empty) | ssl | sasl_plaintext | sasl_ssl
  std::string sasl_mechanism;     // PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 (empty: not set)
  std::string sasl_username;
  std::string sasl_password_env;  // the environment variable that holds the password
  std::string ssl_ca_location;    // a CA certificate file
};

// Reads brokers and the security options from bound connector options (already validated
// against the catalogue).
ClientOptions ClientOptionsFrom(const cep::Options& options);

// Receives librdkafka's warnings and errors ("kafka: ..."), from librdkafka's threads: must be
// thread-safe. Empty: they go to standard error.
using LogFn = std::function<void(std::string_view)>;

// The object librdkafka's callbacks reach through the configuration's opaque pointer: the
// log function, and the owner of the client (e.g. the sink, for delivery reports). It must
// outlive the client handle (declare it before the handle in a class).
struct ClientContext {
  LogFn log;
  void* owner = nullptr;
};

// A configuration with bootstrap.servers, the security options, client.id "vigil", `ctx` as
// its opaque, and a log callback that hands librdkafka's messages of level warning and above
// to ctx->log. Errors: InvalidArgument naming the property for a value librdkafka rejects
// (never quoting the password), or when the password variable is named but not set.
absl::StatusOr<ConfPtr> MakeConf(const ClientOptions& options, ClientContext* ctx);

// Sets one configuration property. Errors: InvalidArgument "KEY: librdkafka's reason".
absl::Status SetConf(rd_kafka_conf_t* conf, std::string_view key, std::string_view value);

// Creates a client (RD_KAFKA_CONSUMER or RD_KAFKA_PRODUCER) from `conf`, which it takes over
// (also on failure). Errors: InvalidArgument with librdkafka's reason.
absl::StatusOr<HandlePtr> NewClient(rd_kafka_type_t type, ConfPtr conf);

// "Local: Broker transport failure (_TRANSPORT)"-style text for an error code.
std::string ErrorText(rd_kafka_resp_err_t err);

}  // namespace vigil::engine::kafka
