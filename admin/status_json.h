#pragma once
// The JSON documents of the admin HTTP endpoints (ui_server.h), rendered from JobView
// snapshots. Field names are the struct fields of job_view.h; times and durations are integer
// milliseconds with an `_ms` suffix (wall-clock instants since the Unix epoch); a watermark is
// null before the first event and also null, with "ended": true, once the inputs ended.
// Pure functions; thread-safe.
#include <string>
#include <vector>

#include "admin/job_view.h"

namespace vigil::admin {

// GET /api/status:
// {"uptime_ms", "parallelism",
//  "checkpoint": {"enabled", "last_id", "last_time_ms"|null, "last_duration_ms", "failures",
//                 "in_flight"},
//  "streams": [{"name", "events", "late", "invalid", "watermark_ms"|null, "ended",
//               "lag_ms"|null, "partitions": [{"name", "watermark_ms"|null, "ended", "idle"}]}],
//  "rules": [{"name", "kind", "stream", "events", "events_per_second", "matches", "timeouts",
//             "partial_matches", "live_keys", "dropped_partial_matches", "firing"}],
//  "sinks": [{"name", "kind", "sent", "failed", "retried", "dead_lettered", "queue_depth",
//             "latency_p50_ms"|null, "latency_p99_ms"|null}]}
std::string JobStatusToJson(const JobStatus& status);

// GET /api/alerts: {"total": N, "alerts": [{"rule", "key": {FIELD: VALUE}, "labels": {...},
//                                          "annotations": {...}, "since_ms"}]}
std::string FiringAlertsToJson(const FiringAlerts& firing);

// GET /api/records: {"records": [RECORD, ...]} with each record inserted as the JSON object it
// already is (JobView's contract), oldest first.
std::string RecordsToJson(const std::vector<std::string>& records);

// Error bodies: {"error": MESSAGE}.
std::string ErrorJson(std::string_view message);

}  // namespace vigil::admin
