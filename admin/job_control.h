#pragma once
// JobControl: what an operator may ask a running job to do (the gRPC admin API and
// `vigil ctl`, admin/README.md). The job (engine/, wired by src/) implements it; the admin
// server only translates requests and replies.
//
// Contract for implementations: every method is thread-safe, may be called from any thread
// while the job runs, blocks the caller (not the job's data path) until the answer is there
// or `timeout` passed (then DeadlineExceeded), and changes nothing when it fails.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin/job_view.h"
#include "core/status.h"
#include "core/time.h"
#include "core/value.h"

namespace vigil::admin {

// A rules file sent for deployment: its name (for diagnostics, "rules.vgl") and its text.
struct RulesFile {
  std::string name;
  std::string text;
};

struct DeployResult {
  // False when the files do not compile: `diagnostics` then holds every error exactly as
  // `vigil check` prints them (file:line:col, source line, caret) and nothing changed.
  bool applied = false;
  std::string diagnostics;
  // By rule name. Unchanged rules keep their state; changed and removed ones drop theirs; new
  // ones start empty.
  std::vector<std::string> unchanged, changed, added, removed;
  uint64_t barrier_id = 0;  // the barrier the new rules took effect at
};

// `alerts [--rule R] [--key k=v ...]`.
struct AlertsQuery {
  std::string rule;  // "" = every rule
  // Partition field values as text (k=v); empty = every key. With a key, `rule` is required
  // and the worker owning the key answers.
  std::vector<std::pair<std::string, std::string>> key;
  size_t limit = 500;
};

// One open partial match of a pattern rule.
struct PartialMatch {
  EventTime started;  // event time of its first event
  std::vector<std::pair<std::string, uint64_t>> bound;  // variable -> events bound so far
};

struct KeyState {
  std::string rule;
  std::vector<std::pair<std::string, Value>> key;
  std::vector<PartialMatch> partial_matches;  // pattern rules
  bool firing = false;                         // `when` rules
  std::optional<EventTime> firing_since;
};

struct AlertsReply {
  FiringAlerts firing;          // matching the query's rule/key
  std::vector<KeyState> keys;   // with a key: that key's state (one entry, or none if unknown)
  int64_t partial_matches = 0;  // without a key: open partial matches of the rule(s) in all
};

class JobControl {
 public:
  virtual ~JobControl() = default;

  // Compiles the files; on success applies them at a barrier injected for the deploy.
  // Errors: Unavailable when the job is stopping; DeadlineExceeded.
  virtual absl::StatusOr<DeployResult> Deploy(const std::vector<RulesFile>& files,
                                               std::chrono::milliseconds timeout) = 0;
  // Errors: InvalidArgument for an unknown rule or key field, or a value that does not parse
  // as the field's type; DeadlineExceeded.
  virtual absl::StatusOr<AlertsReply> Alerts(const AlertsQuery& query,
                                             std::chrono::milliseconds timeout) = 0;
  // Takes a savepoint now and returns its path. Errors: FailedPrecondition without --state;
  // Internal when it failed; DeadlineExceeded.
  virtual absl::StatusOr<std::string> Savepoint(std::chrono::milliseconds timeout) = 0;
};

}  // namespace vigil::admin
