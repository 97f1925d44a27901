#pragma once
// Output records (language.md §8) as the engine produces them, and the Sink port that
// alerting/ implements (file, stdout, webhook, Alertmanager, Kafka).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "core/value.h"

namespace vigil::engine {

enum class RecordKind : uint8_t { kMatch, kTimeout, kFiring, kResolved, kNodata, kLate };
std::string_view RecordKindName(RecordKind k);  // "match", "timeout", ...

struct Record {
  std::string id;      // 16 lowercase hex digits, stable across runs of the same input
  std::string rule;    // the rule's name; for kLate, empty (see `stream`)
  std::string stream;  // kLate: the stream the event came from
  RecordKind kind = RecordKind::kMatch;
  std::vector<std::pair<std::string, Value>> key;  // partition fields
  EventTime time;
  // Each pattern variable's events in match order (variables with no events omitted).
  // kLate: {stream name: [the event]}.
  std::vector<std::pair<std::string, std::vector<EventPtr>>> events;
  std::vector<std::pair<std::string, Value>> fields;
  std::vector<std::pair<std::string, std::string>> labels;  // alertname first
  std::vector<std::pair<std::string, std::string>> annotations;
};

// Renders a record as one JSON object (no trailing newline). Events are echoed as received.
std::string RecordToJson(const Record& r);

// Where records go. Called from one thread at a time per sink instance.
// TEMPORARY (branch kafka): hidden when engine/sink/sink.h, the new Sink port, is included
// first, so both can build until the legacy class is removed. Drop this guard on merge.
#ifndef VIGIL_ENGINE_SINK_PORT
class Sink {
 public:
  virtual ~Sink() = default;
  // Accepts one record. May buffer; errors are returned, never thrown.
  virtual absl::Status Write(const Record& r) = 0;
  // Makes everything written so far durable/delivered.
  virtual absl::Status Flush() = 0;
};
#endif  // VIGIL_ENGINE_SINK_PORT

}  // namespace vigil::engine
