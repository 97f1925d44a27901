#include "alerting/alertmanager_sink.h"

#include <algorithm>
#include <utility>

#include "alerting/record_codec.h"

namespace vigil::alerting {

namespace {

constexpr uint32_t kAlertmanagerStateVersion = 1;

LabelSet WithNodata(LabelSet labels) {
  auto it = std::lower_bound(labels.begin(), labels.end(), std::string("alertstate"),
                             [](const auto& kv, const std::string& n) { return kv.first < n; });
  if (it != labels.end() && it->first == "alertstate") {
    it->second = "nodata";
  } else {
    labels.insert(it, {"alertstate", "nodata"});
  }
  return labels;
}

// A rule's alert for one partition key: what `resolved` and `nodata` records refer to.
std::string ActiveKey(const engine::Record& r) {
  std::string key = r.rule;
  for (const auto& [name, value] : r.key) {
    key.push_back('\0');
    key += name;
    key.push_back('\0');
    value.AppendJson(&key);
  }
  return key;
}

std::string NodataKey(const std::string& active_key) { return active_key + std::string("\0nodata", 7); }

absl::Status Corrupt(std::string_view why) {
  return absl::DataLossError("alertmanager sink state: " + std::string(why));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AlertmanagerSink>> AlertmanagerSink::Create(
    HttpSinkOptions options, const engine::SinkContext& ctx, DeliveryEnv env) {
  if (options.urls.empty()) {
    return absl::InvalidArgumentError("option 'url': an alertmanager sink needs a URL");
  }
  if (options.resend_ms < 10) {
    return absl::InvalidArgumentError("option 'resend': must be at least 10ms");
  }
  return std::unique_ptr<AlertmanagerSink>(
      new AlertmanagerSink(std::move(options), ctx, std::move(env)));
}

AlertmanagerSink::AlertmanagerSink(HttpSinkOptions options, const engine::SinkContext& ctx,
                                   DeliveryEnv env)
    : options_(std::move(options)), name_(ctx.name), env_(std::move(env)),
      stats_(ctx.metrics, ctx.name) {
  if (ctx.now_ms) env_.now_ms = ctx.now_ms;
  if (ctx.log) {
    log_ = [log = ctx.log, prefix = "sink '" + ctx.name + "': "](std::string_view text) {
      log(prefix + std::string(text));
    };
    std::string urls;
    for (const std::string& u : options_.urls) urls += (urls.empty() ? "" : ", ") + RedactUrl(u);
    log_("alertmanager " + urls + " (headers: " + options_.headers.Describe() + "; resend " +
         std::to_string(options_.resend_ms) + " ms, resolve_after " +
         std::to_string(options_.resolve_after_ms) + " ms, timeout " +
         std::to_string(options_.timeout_ms) + " ms, " + std::to_string(options_.retry.retries) +
         " retries, queue " + std::to_string(options_.queue) + " per URL, overflow " +
         (options_.overflow == Overflow::kBlock ? "block" : "dead_letter") + ")");
  }
  for (const std::string& url : options_.urls) {
    EndpointConfig config;
    config.url = url;
    config.what = "alertmanager " + RedactUrl(url);
    config.timeout_ms = options_.timeout_ms;
    config.retry = options_.retry;
    config.capacity = options_.queue;
    config.overflow = options_.overflow;
    config.batch = kMaxAlertsPerRequest;
    config.headers = &options_.headers;
    config.periodic_ms = options_.resend_ms;
    config.periodic = [this] { return ActiveDeliveries(); };
    endpoints_.push_back(std::make_unique<HttpEndpoint>(
        std::move(config),
        [this](const std::vector<Delivery>& batch, int64_t now_ms, RenderedRequest* out) {
          Render(batch, now_ms, out);
        },
        env_, &stats_, ctx.dead_letter, log_));
  }
}

AlertmanagerSink::~AlertmanagerSink() { (void)Close(); }

std::string AlertmanagerSink::GeneratorUrl(const engine::Record& r) const {
  if (r.kind == engine::RecordKind::kLate) return options_.external_url + "/streams/" + r.stream;
  return options_.external_url + "/rules/" + r.rule;
}

Delivery AlertmanagerSink::MakeDelivery(const std::shared_ptr<const engine::Record>& r,
                                        const LabelSet& labels, int64_t starts_at_ms,
                                        int64_t ends_at_ms) const {
  Delivery d;
  d.record = r;
  d.payload =
      std::make_shared<const std::string>(AlertPrefix(labels, *r, starts_at_ms, GeneratorUrl(*r)));
  d.ends_at_ms = ends_at_ms;
  d.enqueued_ns = env_.steady_ns();
  return d;
}

void AlertmanagerSink::Render(const std::vector<Delivery>& batch, int64_t now_ms,
                              RenderedRequest* out) const {
  out->headers = options_.headers.lines;
  const int64_t open_end = now_ms + 4 * options_.resend_ms;
  size_t size = 2;
  for (const Delivery& d : batch) size += d.payload->size() + 48;
  out->body.reserve(size);
  out->body.push_back('[');
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) out->body.push_back(',');
    out->body.append(*batch[i].payload);
    CloseAlert(batch[i].ends_at_ms == Delivery::kOpenEnded ? open_end : batch[i].ends_at_ms,
               &out->body);
  }
  out->body.push_back(']');
}

std::vector<Delivery> AlertmanagerSink::ActiveDeliveries() const {
  std::vector<Delivery> out;
  const int64_t now = env_.steady_ns();
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(active_.size());
  for (const auto& [key, a] : active_) {
    Delivery d;
    d.record = a.record;
    d.payload = a.payload;
    d.enqueued_ns = now;
    out.push_back(std::move(d));
  }
  return out;
}

size_t AlertmanagerSink::active_alerts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_.size();
}

void AlertmanagerSink::EndNodata(const std::string& key, int64_t ends_at_ms,
                                 std::vector<Delivery>* out) {
  auto it = active_.find(NodataKey(key));
  if (it == active_.end()) return;
  Delivery d;
  d.record = it->second.record;
  d.payload = it->second.payload;
  d.ends_at_ms = std::max(ends_at_ms, it->second.starts_at_ms);
  d.enqueued_ns = env_.steady_ns();
  out->push_back(std::move(d));
  active_.erase(it);
}

absl::Status AlertmanagerSink::Write(const engine::Record& r) {
  if (closed_) return absl::FailedPreconditionError("sink '" + name_ + "' is closed");
  const int64_t now = env_.now_ms();
  const int64_t t = r.time.ms;
  auto rec = std::make_shared<const engine::Record>(r);
  const LabelSet labels = AlertLabels(r);
  std::vector<Delivery> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    switch (r.kind) {
      case engine::RecordKind::kFiring:
      case engine::RecordKind::kNodata: {
        const bool nodata = r.kind == engine::RecordKind::kNodata;
        const std::string key = nodata ? NodataKey(ActiveKey(r)) : ActiveKey(r);
        LabelSet own = nodata ? WithNodata(labels) : labels;
        int64_t starts = t;
        std::shared_ptr<const engine::Record> first = rec;
        if (auto it = active_.find(key); it != active_.end()) {
          // A repeat (e.g. replayed after a restore): the same alert (labels, start) as first
          // sent, with the new annotations.
          starts = std::min(starts, it->second.starts_at_ms);
          own = it->second.labels;
          first = it->second.record;
        }
        Delivery d = MakeDelivery(rec, own, starts, Delivery::kOpenEnded);
        active_[key] = Active{first, std::move(own), d.payload, starts};
        out.push_back(std::move(d));
        if (!nodata) EndNodata(key, std::min(t, now), &out);
        break;
      }
      case engine::RecordKind::kResolved: {
        const std::string key = ActiveKey(r);
        const int64_t ends = std::min(t, now);
        int64_t starts = t;
        LabelSet own = labels;
        if (auto it = active_.find(key); it != active_.end()) {
          starts = it->second.starts_at_ms;
          own = std::move(it->second.labels);
          active_.erase(it);
        }
        out.push_back(MakeDelivery(rec, own, std::min(starts, ends), ends));
        EndNodata(key, ends, &out);
        break;
      }
      case engine::RecordKind::kMatch:
      case engine::RecordKind::kTimeout:
      case engine::RecordKind::kLate:
        out.push_back(MakeDelivery(rec, labels, t, std::max(t, now) + options_.resolve_after_ms));
        break;
    }
  }
  // Outside mu_: a blocking Enqueue must not stop the delivery threads' re-sends.
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    for (const Delivery& d : out) endpoints_[i]->Enqueue(d);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AlertmanagerSink::SnapshotState(uint64_t) {
  std::string out;
  Encoder enc(&out);
  enc.U32(kAlertmanagerStateVersion);
  {
    std::lock_guard<std::mutex> lock(mu_);
    enc.U64(active_.size());
    for (const auto& [key, a] : active_) {
      enc.Str(key);
      enc.Str(*a.payload);
      enc.I64(a.starts_at_ms);
      EncodeRecord(*a.record, &enc);
    }
  }
  enc.U64(endpoints_.size());
  for (const auto& e : endpoints_) {
    const std::vector<Delivery> pending = e->Pending();
    enc.Str(e->url());
    enc.U64(pending.size());
    for (const Delivery& d : pending) {
      enc.Str(*d.payload);
      enc.I64(d.ends_at_ms);
      EncodeRecord(*d.record, &enc);
    }
  }
  return out;
}

absl::Status AlertmanagerSink::Restore(std::string_view state) {
  if (state.empty()) return absl::OkStatus();
  Decoder dec(state);
  uint32_t version;
  VIGIL_RETURN_IF_ERROR(dec.U32(&version));
  if (version != kAlertmanagerStateVersion) {
    return Corrupt("unknown version " + std::to_string(version));
  }
  const int64_t now = env_.steady_ns();
  auto read_record = [&](std::shared_ptr<const engine::Record>* out) -> absl::Status {
    auto r = std::make_shared<engine::Record>();
    VIGIL_RETURN_IF_ERROR(DecodeRecord(&dec, r.get()));
    *out = std::move(r);
    return absl::OkStatus();
  };
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(dec.U64(&n));
  if (n > dec.remaining()) return Corrupt("bad alert count");
  std::map<std::string, Active> active;
  for (uint64_t i = 0; i < n; ++i) {
    std::string key, payload;
    Active a;
    VIGIL_RETURN_IF_ERROR(dec.Str(&key));
    VIGIL_RETURN_IF_ERROR(dec.Str(&payload));
    VIGIL_RETURN_IF_ERROR(dec.I64(&a.starts_at_ms));
    VIGIL_RETURN_IF_ERROR(read_record(&a.record));
    a.labels = AlertLabels(*a.record);
    if (a.record->kind == engine::RecordKind::kNodata) a.labels = WithNodata(std::move(a.labels));
    a.payload = std::make_shared<const std::string>(std::move(payload));
    active[std::move(key)] = std::move(a);
  }
  uint64_t urls;
  VIGIL_RETURN_IF_ERROR(dec.U64(&urls));
  if (urls > dec.remaining()) return Corrupt("bad URL count");
  std::vector<std::pair<std::string, std::vector<Delivery>>> pending(urls);
  for (auto& [url, ds] : pending) {
    VIGIL_RETURN_IF_ERROR(dec.Str(&url));
    uint64_t m;
    VIGIL_RETURN_IF_ERROR(dec.U64(&m));
    if (m > dec.remaining()) return Corrupt("bad alert count");
    ds.resize(m);
    for (Delivery& d : ds) {
      std::string payload;
      VIGIL_RETURN_IF_ERROR(dec.Str(&payload));
      VIGIL_RETURN_IF_ERROR(dec.I64(&d.ends_at_ms));
      VIGIL_RETURN_IF_ERROR(read_record(&d.record));
      d.payload = std::make_shared<const std::string>(std::move(payload));
      d.enqueued_ns = now;
    }
  }
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());

  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = std::move(active);
  }
  for (auto& [url, ds] : pending) {
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                           [&url = url](const auto& e) { return e->url() == url; });
    if (it != endpoints_.end()) {
      (*it)->Requeue(std::move(ds));
    } else if (!ds.empty() && log_) {
      log_(std::to_string(ds.size()) + " alerts pending for " + RedactUrl(url) +
           " (no longer configured) dropped; active alerts are re-sent to the current URLs");
    }
  }
  for (const auto& e : endpoints_) e->TriggerPeriodic();
  return absl::OkStatus();
}

absl::Status AlertmanagerSink::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  for (const auto& e : endpoints_) e->BeginClose();  // all drain at once
  for (const auto& e : endpoints_) e->Join();
  return absl::OkStatus();
}

}  // namespace vigil::alerting
