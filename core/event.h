#pragma once
// A decoded event: typed values by schema slot plus the JSON text as received.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "core/value.h"

namespace vigil {

struct Event {
  std::vector<Value> values;  // by schema slot; missing fields are null
  std::string raw;            // the JSON object as received, echoed in output records
  EventTime time;             // event time (or arrival time for processing-time streams)
  // Position of the event in its input: stable across runs of the same input, used for
  // ordering ties (arrival order) and for stable record ids.
  uint64_t seq = 0;
  uint32_t stream = 0;  // index of the stream in the rule set
  // Scale-out (docs/scale-out.md): the repartition partition the event was read from. Only
  // the rules whose key group lives in that partition process it (another process reads the
  // same event from another partition for the other rules). kNoShard: every rule.
  static constexpr uint16_t kNoShard = 0xFFFF;
  uint16_t shard = kNoShard;
};

// Events are immutable once decoded and shared by every rule and partial match that refers
// to them.
using EventPtr = std::shared_ptr<const Event>;

}  // namespace vigil
