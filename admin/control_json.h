#pragma once
// JSON documents of the admin API's control replies (job_control.h), as `vigil ctl --output
// json` prints them; the status document is status_json.h's JobStatusToJson. Times are integer
// milliseconds with an `_ms` suffix, key values keep their JSON types. Pure functions;
// thread-safe.
#include <string>

#include "admin/job_control.h"

namespace vigil::admin {

// {"applied", "diagnostics", "barrier_id", "unchanged": [NAME], "changed": [...],
//  "added": [...], "removed": [...]}
std::string DeployResultToJson(const DeployResult& result);

// {"firing": FiringAlertsToJson(...), "partial_matches",
//  "keys": [{"rule", "key": {FIELD: VALUE}, "firing", "firing_since_ms"|null,
//            "partial_matches": [{"started_ms", "bound": {VARIABLE: EVENTS}}]}]}
std::string AlertsReplyToJson(const AlertsReply& reply);

// {"path": PATH}
std::string SavepointToJson(const std::string& path);

}  // namespace vigil::admin
