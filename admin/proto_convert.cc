#include "admin/proto_convert.h"

#include <chrono>
#include <limits>

namespace vigil::admin {
namespace {

// Watermarks: Min() ("no event yet") is unset; Max() ("the inputs ended") is unset with ended.
template <typename Msg>
void SetWatermark(Watermark wm, Msg* out) {
  if (wm == Watermark::Max()) {
    out->set_ended(true);
  } else if (wm != Watermark::Min()) {
    out->set_watermark_ms(wm.ms);
  }
}

template <typename Msg>
Watermark GetWatermark(const Msg& m) {
  if (m.ended()) return Watermark::Max();
  return m.has_watermark_ms() ? Watermark(m.watermark_ms()) : Watermark::Min();
}

v1::RuleKind KindToProto(RuleKind k) {
  switch (k) {
    case RuleKind::kPattern:
      return v1::RULE_KIND_PATTERN;
    case RuleKind::kWhen:
      return v1::RULE_KIND_WHEN;
    case RuleKind::kWindow:
      return v1::RULE_KIND_WINDOW;
  }
  return v1::RULE_KIND_UNSPECIFIED;
}

RuleKind KindFromProto(v1::RuleKind k) {
  switch (k) {
    case v1::RULE_KIND_WHEN:
      return RuleKind::kWhen;
    case v1::RULE_KIND_WINDOW:
      return RuleKind::kWindow;
    default:  // a kind this build does not know reads as a pattern rule
      return RuleKind::kPattern;
  }
}

using Pairs = std::vector<std::pair<std::string, std::string>>;
using KeyFields = std::vector<std::pair<std::string, Value>>;

template <typename Repeated>
void PairsToProto(const Pairs& pairs, Repeated* out) {
  for (const auto& [name, value] : pairs) {
    v1::StringPair* p = out->Add();
    p->set_name(name);
    p->set_value(value);
  }
}

template <typename Repeated>
Pairs PairsFromProto(const Repeated& in) {
  Pairs out;
  out.reserve(in.size());
  for (const v1::StringPair& p : in) out.emplace_back(p.name(), p.value());
  return out;
}

template <typename Repeated>
void KeyToProto(const KeyFields& key, Repeated* out) {
  for (const auto& [name, value] : key) {
    v1::KeyField* f = out->Add();
    f->set_name(name);
    ToProto(value, f->mutable_value());
  }
}

template <typename Repeated>
KeyFields KeyFromProto(const Repeated& in) {
  KeyFields out;
  out.reserve(in.size());
  for (const v1::KeyField& f : in) out.emplace_back(f.name(), FromProto(f.value()));
  return out;
}

template <typename Repeated>
void NamesToProto(const std::vector<std::string>& names, Repeated* out) {
  for (const std::string& n : names) out->Add(std::string(n));
}

template <typename Repeated>
std::vector<std::string> NamesFromProto(const Repeated& in) {
  return std::vector<std::string>(in.begin(), in.end());
}

void FiringToProto(const FiringAlert& a, v1::FiringAlert* out) {
  out->set_rule(a.rule);
  KeyToProto(a.key, out->mutable_key());
  PairsToProto(a.labels, out->mutable_labels());
  PairsToProto(a.annotations, out->mutable_annotations());
  out->set_since_ms(a.since.ms);
}

FiringAlert FiringFromProto(const v1::FiringAlert& a) {
  FiringAlert out;
  out.rule = a.rule();
  out.key = KeyFromProto(a.key());
  out.labels = PairsFromProto(a.labels());
  out.annotations = PairsFromProto(a.annotations());
  out.since = EventTime(a.since_ms());
  return out;
}

}  // namespace

void ToProto(const Value& value, v1::Value* out) {
  out->Clear();
  switch (value.type()) {
    case Type::kNull:
      break;
    case Type::kBool:
      out->set_bool_value(value.as_bool());
      break;
    case Type::kInt:
      out->set_int_value(value.as_int());
      break;
    case Type::kFloat:
      out->set_float_value(value.as_float());
      break;
    case Type::kString:
      out->set_string_value(value.as_string());
      break;
    case Type::kTimestamp:
      out->set_timestamp_ms(value.as_timestamp().ms);
      break;
  }
}

Value FromProto(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kBoolValue:
      return Value::Bool(value.bool_value());
    case v1::Value::kIntValue:
      return Value::Int(value.int_value());
    case v1::Value::kFloatValue:
      return Value::Float(value.float_value());
    case v1::Value::kStringValue:
      return Value::String(value.string_value());
    case v1::Value::kTimestampMs:
      return Value::Timestamp(EventTime(value.timestamp_ms()));
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return Value::Null();
}

void ToProto(const JobStatus& s, v1::StatusReply* out) {
  out->set_uptime_ms(s.uptime.ms);
  out->set_parallelism(s.parallelism);
  v1::CheckpointStatus* c = out->mutable_checkpoint();
  c->set_enabled(s.checkpoint.enabled);
  c->set_last_id(s.checkpoint.last_id);
  if (s.checkpoint.last_time.has_value()) {
    c->set_last_time_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                            s.checkpoint.last_time->time_since_epoch())
                            .count());
  }
  c->set_last_duration_ms(s.checkpoint.last_duration.ms);
  c->set_failures(s.checkpoint.failures);
  c->set_in_flight(s.checkpoint.in_flight);

  for (const StreamStatus& st : s.streams) {
    v1::StreamStatus* o = out->add_streams();
    o->set_name(st.name);
    o->set_events(st.events);
    o->set_late(st.late);
    o->set_invalid(st.invalid);
    SetWatermark(st.watermark, o);
    if (st.lag.has_value()) o->set_lag_ms(st.lag->ms);
    for (const PartitionStatus& p : st.partitions) {
      v1::PartitionStatus* op = o->add_partitions();
      op->set_name(p.name);
      SetWatermark(p.watermark, op);
      op->set_idle(p.idle);
    }
  }
  for (const RuleStatus& r : s.rules) {
    v1::RuleStatus* o = out->add_rules();
    o->set_name(r.name);
    o->set_kind(KindToProto(r.kind));
    o->set_stream(r.stream);
    o->set_events(r.events);
    o->set_events_per_second(r.events_per_second);
    o->set_matches(r.matches);
    o->set_timeouts(r.timeouts);
    o->set_partial_matches(r.partial_matches);
    o->set_live_keys(r.live_keys);
    o->set_dropped_partial_matches(r.dropped_partial_matches);
    o->set_firing(r.firing);
  }
  for (const SinkStatus& k : s.sinks) {
    v1::SinkStatus* o = out->add_sinks();
    o->set_name(k.name);
    o->set_kind(k.kind);
    o->set_sent(k.sent);
    o->set_failed(k.failed);
    o->set_retried(k.retried);
    o->set_dead_lettered(k.dead_lettered);
    o->set_queue_depth(k.queue_depth);
    if (k.latency_p50_ms.has_value()) o->set_latency_p50_ms(*k.latency_p50_ms);
    if (k.latency_p99_ms.has_value()) o->set_latency_p99_ms(*k.latency_p99_ms);
  }
}

JobStatus FromProto(const v1::StatusReply& in) {
  JobStatus s;
  s.uptime = Duration(in.uptime_ms());
  s.parallelism = in.parallelism();
  const v1::CheckpointStatus& c = in.checkpoint();
  s.checkpoint.enabled = c.enabled();
  s.checkpoint.last_id = c.last_id();
  if (c.has_last_time_ms()) {
    s.checkpoint.last_time = WallTime(std::chrono::milliseconds(c.last_time_ms()));
  }
  s.checkpoint.last_duration = Duration(c.last_duration_ms());
  s.checkpoint.failures = c.failures();
  s.checkpoint.in_flight = c.in_flight();

  for (const v1::StreamStatus& o : in.streams()) {
    StreamStatus st;
    st.name = o.name();
    st.events = o.events();
    st.late = o.late();
    st.invalid = o.invalid();
    st.watermark = GetWatermark(o);
    if (o.has_lag_ms()) st.lag = Duration(o.lag_ms());
    for (const v1::PartitionStatus& op : o.partitions()) {
      st.partitions.push_back({op.name(), GetWatermark(op), op.idle()});
    }
    s.streams.push_back(std::move(st));
  }
  for (const v1::RuleStatus& o : in.rules()) {
    RuleStatus r;
    r.name = o.name();
    r.kind = KindFromProto(o.kind());
    r.stream = o.stream();
    r.events = o.events();
    r.events_per_second = o.events_per_second();
    r.matches = o.matches();
    r.timeouts = o.timeouts();
    r.partial_matches = o.partial_matches();
    r.live_keys = o.live_keys();
    r.dropped_partial_matches = o.dropped_partial_matches();
    r.firing = o.firing();
    s.rules.push_back(std::move(r));
  }
  for (const v1::SinkStatus& o : in.sinks()) {
    SinkStatus k;
    k.name = o.name();
    k.kind = o.kind();
    k.sent = o.sent();
    k.failed = o.failed();
    k.retried = o.retried();
    k.dead_lettered = o.dead_lettered();
    k.queue_depth = o.queue_depth();
    if (o.has_latency_p50_ms()) k.latency_p50_ms = o.latency_p50_ms();
    if (o.has_latency_p99_ms()) k.latency_p99_ms = o.latency_p99_ms();
    s.sinks.push_back(std::move(k));
  }
  return s;
}

void ToProto(const std::vector<RulesFile>& files, v1::DeployRequest* out) {
  for (const RulesFile& f : files) {
    v1::RulesFile* o = out->add_files();
    o->set_name(f.name);
    o->set_text(f.text);
  }
}

std::vector<RulesFile> FromProto(const v1::DeployRequest& in) {
  std::vector<RulesFile> files;
  files.reserve(in.files_size());
  for (const v1::RulesFile& f : in.files()) files.push_back({f.name(), f.text()});
  return files;
}

void ToProto(const DeployResult& r, v1::DeployReply* out) {
  out->set_applied(r.applied);
  out->set_diagnostics(r.diagnostics);
  NamesToProto(r.unchanged, out->mutable_unchanged());
  NamesToProto(r.changed, out->mutable_changed());
  NamesToProto(r.added, out->mutable_added());
  NamesToProto(r.removed, out->mutable_removed());
  out->set_barrier_id(r.barrier_id);
}

DeployResult FromProto(const v1::DeployReply& in) {
  DeployResult r;
  r.applied = in.applied();
  r.diagnostics = in.diagnostics();
  r.unchanged = NamesFromProto(in.unchanged());
  r.changed = NamesFromProto(in.changed());
  r.added = NamesFromProto(in.added());
  r.removed = NamesFromProto(in.removed());
  r.barrier_id = in.barrier_id();
  return r;
}

void ToProto(const AlertsQuery& q, v1::AlertsRequest* out) {
  out->set_rule(q.rule);
  PairsToProto(q.key, out->mutable_key());
  // A limit beyond uint32 stays out of range (the server refuses it) rather than wrapping.
  out->set_limit(q.limit > std::numeric_limits<uint32_t>::max()
                     ? std::numeric_limits<uint32_t>::max()
                     : static_cast<uint32_t>(q.limit));
}

AlertsQuery FromProto(const v1::AlertsRequest& in) {
  AlertsQuery q;
  q.rule = in.rule();
  q.key = PairsFromProto(in.key());
  if (in.limit() != 0) q.limit = in.limit();
  return q;
}

void ToProto(const AlertsReply& r, v1::AlertsReply* out) {
  for (const FiringAlert& a : r.firing.alerts) FiringToProto(a, out->add_firing());
  out->set_firing_total(r.firing.total);
  for (const KeyState& k : r.keys) {
    v1::KeyState* o = out->add_keys();
    o->set_rule(k.rule);
    KeyToProto(k.key, o->mutable_key());
    for (const PartialMatch& pm : k.partial_matches) {
      v1::PartialMatch* opm = o->add_partial_matches();
      opm->set_started_ms(pm.started.ms);
      for (const auto& [variable, events] : pm.bound) {
        v1::BoundVariable* b = opm->add_bound();
        b->set_variable(variable);
        b->set_events(events);
      }
    }
    o->set_firing(k.firing);
    if (k.firing_since.has_value()) o->set_firing_since_ms(k.firing_since->ms);
  }
  out->set_partial_matches(r.partial_matches);
}

AlertsReply FromProto(const v1::AlertsReply& in) {
  AlertsReply r;
  r.firing.alerts.reserve(in.firing_size());
  for (const v1::FiringAlert& a : in.firing()) r.firing.alerts.push_back(FiringFromProto(a));
  r.firing.total = in.firing_total();
  for (const v1::KeyState& o : in.keys()) {
    KeyState k;
    k.rule = o.rule();
    k.key = KeyFromProto(o.key());
    for (const v1::PartialMatch& opm : o.partial_matches()) {
      PartialMatch pm;
      pm.started = EventTime(opm.started_ms());
      for (const v1::BoundVariable& b : opm.bound())
        pm.bound.emplace_back(b.variable(), b.events());
      k.partial_matches.push_back(std::move(pm));
    }
    k.firing = o.firing();
    if (o.has_firing_since_ms()) k.firing_since = EventTime(o.firing_since_ms());
    r.keys.push_back(std::move(k));
  }
  r.partial_matches = in.partial_matches();
  return r;
}

}  // namespace vigil::admin
