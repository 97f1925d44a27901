#pragma once
// Records as Alertmanager alerts (API v2, `POST /api/v2/alerts`, the `postableAlert` of its
// OpenAPI spec): {"labels":{...},"annotations":{...},"startsAt":RFC3339,"endsAt":RFC3339,
// "generatorURL":URI}. Pure functions; the sink (alertmanager_sink.h) decides the times.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/record.h"

namespace vigil::alerting {

using LabelSet = std::vector<std::pair<std::string, std::string>>;  // sorted by name

// An Alertmanager label name: [a-zA-Z_][a-zA-Z0-9_]*. Other characters become '_' (a
// partition field `geo.country` is the label `geo_country`); a leading digit gets a '_' before
// it. "" for an empty name.
std::string SanitizeLabelName(std::string_view name);

// The record's labels (language.md §8: the rule's labels, `alertname`, the partition fields)
// with names sanitized, empty values dropped (as Prometheus drops them), sorted by name. A
// later duplicate name (after sanitizing) wins. `late` records, which have no labels, get
// {alertname="late_event", stream=<stream>}; a record without `alertname` gets its rule's
// name (Alertmanager needs at least one label).
LabelSet AlertLabels(const engine::Record& r);

// The alert without its end: `{"labels":...,"annotations":...,"startsAt":"...",
// "generatorURL":"..."` (no closing brace); CloseAlert appends endsAt and the brace.
std::string AlertPrefix(const LabelSet& labels, const engine::Record& r, int64_t starts_at_ms,
                        std::string_view generator_url);
void CloseAlert(int64_t ends_at_ms, std::string* out);

// RFC 3339 in UTC with milliseconds: 1700000000000 -> "2023-11-14T22:13:20.000Z".
std::string FormatRfc3339Ms(int64_t ms);

}  // namespace vigil::alerting
