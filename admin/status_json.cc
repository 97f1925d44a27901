#include "admin/status_json.h"

#include <chrono>

#include "admin/json_writer.h"

namespace vigil::admin {
namespace {

void WriteWatermark(Watermark wm, JsonWriter* w) {
  w->Key("watermark_ms");
  if (wm == Watermark::Min() || wm == Watermark::Max()) {
    w->Null();
  } else {
    w->Int(wm.ms);
  }
  w->Key("ended").Bool(wm == Watermark::Max());
}

void WriteOptionalMs(std::string_view key, const std::optional<double>& v, JsonWriter* w) {
  w->Key(key);
  if (v.has_value()) {
    w->Double(*v);
  } else {
    w->Null();
  }
}

void WritePairs(const std::vector<std::pair<std::string, std::string>>& pairs, JsonWriter* w) {
  w->BeginObject();
  for (const auto& [k, v] : pairs) w->Key(k).String(v);
  w->EndObject();
}

}  // namespace

std::string JobStatusToJson(const JobStatus& s) {
  JsonWriter w;
  w.BeginObject();
  w.Key("uptime_ms").Int(s.uptime.ms);
  w.Key("parallelism").Int(s.parallelism);

  const CheckpointStatus& c = s.checkpoint;
  w.Key("checkpoint").BeginObject();
  w.Key("enabled").Bool(c.enabled);
  w.Key("last_id").Uint(c.last_id);
  w.Key("last_time_ms");
  if (c.last_time.has_value()) {
    w.Int(std::chrono::duration_cast<std::chrono::milliseconds>(c.last_time->time_since_epoch())
              .count());
  } else {
    w.Null();
  }
  w.Key("last_duration_ms").Int(c.last_duration.ms);
  w.Key("failures").Uint(c.failures);
  w.Key("in_flight").Bool(c.in_flight);
  w.EndObject();

  w.Key("streams").BeginArray();
  for (const StreamStatus& st : s.streams) {
    w.BeginObject();
    w.Key("name").String(st.name);
    w.Key("events").Uint(st.events);
    w.Key("late").Uint(st.late);
    w.Key("invalid").Uint(st.invalid);
    WriteWatermark(st.watermark, &w);
    w.Key("lag_ms");
    if (st.lag.has_value()) {
      w.Int(st.lag->ms);
    } else {
      w.Null();
    }
    w.Key("partitions").BeginArray();
    for (const PartitionStatus& p : st.partitions) {
      w.BeginObject().Key("name").String(p.name);
      WriteWatermark(p.watermark, &w);
      w.Key("idle").Bool(p.idle).EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();

  w.Key("rules").BeginArray();
  for (const RuleStatus& r : s.rules) {
    w.BeginObject();
    w.Key("name").String(r.name);
    w.Key("kind").String(RuleKindName(r.kind));
    w.Key("stream").String(r.stream);
    w.Key("events").Uint(r.events);
    w.Key("events_per_second").Double(r.events_per_second);
    w.Key("matches").Uint(r.matches);
    w.Key("timeouts").Uint(r.timeouts);
    w.Key("partial_matches").Int(r.partial_matches);
    w.Key("live_keys").Int(r.live_keys);
    w.Key("dropped_partial_matches").Uint(r.dropped_partial_matches);
    w.Key("firing").Int(r.firing);
    w.EndObject();
  }
  w.EndArray();

  w.Key("sinks").BeginArray();
  for (const SinkStatus& k : s.sinks) {
    w.BeginObject();
    w.Key("name").String(k.name);
    w.Key("kind").String(k.kind);
    w.Key("sent").Uint(k.sent);
    w.Key("failed").Uint(k.failed);
    w.Key("retried").Uint(k.retried);
    w.Key("dead_lettered").Uint(k.dead_lettered);
    w.Key("queue_depth").Int(k.queue_depth);
    WriteOptionalMs("latency_p50_ms", k.latency_p50_ms, &w);
    WriteOptionalMs("latency_p99_ms", k.latency_p99_ms, &w);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string FiringAlertsToJson(const FiringAlerts& firing) {
  JsonWriter w;
  w.BeginObject().Key("total").Uint(firing.total).Key("alerts").BeginArray();
  for (const FiringAlert& a : firing.alerts) {
    w.BeginObject();
    w.Key("rule").String(a.rule);
    w.Key("key").BeginObject();
    for (const auto& [name, value] : a.key) {
      std::string v;
      value.AppendJson(&v);
      w.Key(name).Raw(v);
    }
    w.EndObject();
    w.Key("labels");
    WritePairs(a.labels, &w);
    w.Key("annotations");
    WritePairs(a.annotations, &w);
    w.Key("since_ms").Int(a.since.ms);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string RecordsToJson(const std::vector<std::string>& records) {
  JsonWriter w;
  w.BeginObject().Key("records").BeginArray();
  for (const std::string& r : records) w.Raw(r);
  w.EndArray().EndObject();
  return w.Take();
}

std::string ErrorJson(std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").String(message).EndObject();
  return w.Take();
}

}  // namespace vigil::admin
