#pragma once
// The keyed operator of one rule: the unit the job runs on its workers. Every rule kind
// implements it: a pattern rule (CepOperator), a window rule with `when` or `pattern`
// downstream, a `when` rule over raw events. The job sees only this interface; it creates
// operators with MakeRuleOperator (engine/operator/rule_operator.h).
//
// Entry points (architecture.md: an event arrived / time moved):
// - Process(e): an event of the rule's stream. Events of one key arrive in event-time order
//   (ties in arrival order); the job's reorder buffer guarantees it. The operator applies the
//   rule's `where` and partitioning itself.
// - AdvanceWatermark(wm): time moved; Watermark::Max() means every input ended: everything
//   pending is emitted.
//
// State and checkpoints: each operator owns the state of the keys routed to it (one key group
// range per worker; see engine/operator/key_group.h). At a checkpoint barrier the job calls
// Snapshot(): the operator writes, for every key whose state changed since its previous
// snapshot, the key's state in binary form (engine/state/codec.h), and a delete for every key
// freed since then; with full = true (savepoints, first checkpoint) it writes every live key.
// On restore the job calls Restore() once per stored key before any event; keys arrive
// grouped by key group in any order.
//
// Thread-compatible: one instance per worker and rule; never shared between threads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "core/time.h"
#include "core/value.h"

namespace vigil::engine {

// Where an operator writes its snapshot. Keys are the operator's own bytes (e.g. an encoded
// partition key); the job scopes them by operator and key group.
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  virtual void Put(uint16_t key_group, std::string_view key, std::string_view value) = 0;
  virtual void Delete(uint16_t key_group, std::string_view key) = 0;
};

struct OperatorStats {
  uint64_t events = 0;    // offered to the rule
  uint64_t filtered = 0;  // rejected by `where`
  uint64_t matches = 0;   // match / firing records
  uint64_t timeouts = 0;
  uint64_t live_keys = 0;
  uint64_t partial_matches = 0;
  uint64_t dropped_partial_matches = 0;
  uint64_t state_bytes = 0;  // approximate
};

// What an operator holds for one key (the admin API's `alerts --key`).
struct KeyInspection {
  struct PartialMatch {
    EventTime started;  // event time of its first event
    std::vector<std::pair<std::string, uint64_t>> bound;  // variable -> events bound so far
  };
  std::vector<PartialMatch> partial_matches;  // pattern rules
  bool firing = false;                         // `when` rules
  std::optional<EventTime> firing_since;
};

class RuleOperator {
 public:
  virtual ~RuleOperator() = default;
  virtual int stream() const = 0;
  virtual absl::Status Process(const EventPtr& e) = 0;
  virtual absl::Status AdvanceWatermark(Watermark wm) = 0;
  virtual absl::Status Snapshot(SnapshotWriter* out, bool full) = 0;
  // Forgets which keys changed since the last snapshot, without writing anything: for jobs
  // that never checkpoint, so that the tracking stays bounded. O(changed keys).
  virtual void DiscardChanges() = 0;
  // Errors: DataLoss when `value` does not decode.
  virtual absl::Status Restore(uint16_t key_group, std::string_view key,
                               std::string_view value) = 0;
  virtual OperatorStats stats() const = 0;
  // The state of the key with these partition values (in `partition by` order), or nullopt
  // when the operator holds nothing for it (or cannot tell). Called on the operator's thread.
  virtual std::optional<KeyInspection> Inspect(const std::vector<Value>& key) const {
    return std::nullopt;
  }
};

}  // namespace vigil::engine
