#pragma once
// Output records (language.md §8) as the engine produces them. The Sink port that alerting/
// implements is engine/sink/sink.h.
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

}  // namespace vigil::engine

// Transitional: code that used the Sink class once declared here still finds it (the port moved
// to engine/sink/sink.h, which includes this header; the include guard makes the cycle benign).
// Include engine/sink/sink.h directly in new code.
#include "engine/sink/sink.h"  // IWYU pragma: export
