#include "admin/control_json.h"

#include "admin/json_writer.h"
#include "admin/status_json.h"

namespace vigil::admin {
namespace {

void WriteNames(std::string_view key, const std::vector<std::string>& names, JsonWriter* w) {
  w->Key(key).BeginArray();
  for (const std::string& n : names) w->String(n);
  w->EndArray();
}

}  // namespace

std::string DeployResultToJson(const DeployResult& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("applied").Bool(r.applied);
  w.Key("diagnostics").String(r.diagnostics);
  w.Key("barrier_id").Uint(r.barrier_id);
  WriteNames("unchanged", r.unchanged, &w);
  WriteNames("changed", r.changed, &w);
  WriteNames("added", r.added, &w);
  WriteNames("removed", r.removed, &w);
  w.EndObject();
  return w.Take();
}

std::string AlertsReplyToJson(const AlertsReply& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("firing").Raw(FiringAlertsToJson(r.firing));
  w.Key("partial_matches").Int(r.partial_matches);
  w.Key("keys").BeginArray();
  for (const KeyState& k : r.keys) {
    w.BeginObject();
    w.Key("rule").String(k.rule);
    w.Key("key").BeginObject();
    for (const auto& [name, value] : k.key) {
      std::string v;
      value.AppendJson(&v);
      w.Key(name).Raw(v);
    }
    w.EndObject();
    w.Key("firing").Bool(k.firing);
    w.Key("firing_since_ms");
    if (k.firing_since.has_value()) {
      w.Int(k.firing_since->ms);
    } else {
      w.Null();
    }
    w.Key("partial_matches").BeginArray();
    for (const PartialMatch& pm : k.partial_matches) {
      w.BeginObject().Key("started_ms").Int(pm.started.ms).Key("bound").BeginObject();
      for (const auto& [variable, events] : pm.bound) w.Key(variable).Uint(events);
      w.EndObject().EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string SavepointToJson(const std::string& path) {
  JsonWriter w;
  w.BeginObject().Key("path").String(path).EndObject();
  return w.Take();
}

}  // namespace vigil::admin
