#pragma once
// The options of a Kafka source (language.md §2 `from kafka(...)`, cli.md
// `--input STREAM=kafka://HOST:PORT/TOPIC?...`), typed. Pure; thread-safe.
#include <string>
#include <string_view>

#include "cep/rule_set.h"
#include "core/status.h"
#include "core/time.h"
#include "engine/kafka/kafka_client.h"

namespace vigil::engine {

// Where a source without a checkpoint starts reading each partition.
struct KafkaStart {
  enum class Kind : uint8_t {
    kEarliest,  // the oldest record still in the partition
    kLatest,    // the partition's end when the source opens (only newer records)
    kTime,      // the first record whose Kafka timestamp is >= time (ListOffsets by time)
  };
  Kind kind = Kind::kEarliest;
  EventTime time;  // kTime only
};

// "earliest", "latest", an RFC 3339 date-time ("2024-05-01T12:00:00Z") or milliseconds since
// the epoch ("1714564800000"). Errors: InvalidArgument saying what is accepted.
absl::StatusOr<KafkaStart> ParseKafkaStart(std::string_view text);

struct KafkaSourceOptions {
  kafka::ClientOptions client;
  std::string topic;
  // The consumer group id. Partitions are assigned manually (all of them) and offsets are never
  // committed to the group: the id only names this client to the brokers until consumer group
  // membership is implemented. Empty: "vigil".
  std::string group;
  KafkaStart start;
  bool bounded = false;  // end at the partitions' end offsets seen when the source opens
  // Longest wait for the brokers while opening (metadata, offset lookups).
  Duration open_timeout = Duration::Seconds(10);
  kafka::LogFn log;  // librdkafka's warnings (thread-safe); empty: standard error
};

// From a bound `kafka` source spec (options validated against the connector catalogue).
// Errors: InvalidArgument for a bad `start`.
absl::StatusOr<KafkaSourceOptions> KafkaSourceOptionsFrom(const cep::SourceSpec& spec);

}  // namespace vigil::engine
