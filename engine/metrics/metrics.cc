#include "engine/metrics/metrics.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "prometheus/client_metric.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"
#include "prometheus/text_serializer.h"

namespace vigil::engine::metrics {

void Histogram::Observe(double v) { h_->Observe(v); }

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Checkpoints take from milliseconds (small heap state) to minutes (large RocksDB state).
prometheus::Histogram::BucketBoundaries CheckpointBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

// Sink deliveries: from a millisecond on the local machine to minutes of retries.
prometheus::Histogram::BucketBoundaries DeliveryBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
}

// One series of a labelled histogram: the prometheus-cpp histogram and our handle to it.
struct HistogramSeries {
  prometheus::Histogram h{DeliveryBuckets()};
  Histogram handle{&h};
};

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One labelled metric: its series by label value (sorted: stable exposition order).
template <typename Handle>
struct Labeled {
  Labeled(const char* n, const char* h, const char* l) : name(n), help(h), label(l) {}

  const char* name;
  const char* help;
  const char* label;
  std::map<std::string, std::unique_ptr<Handle>, std::less<>> series;

  Handle* Get(std::string_view value) {
    auto it = series.find(value);
    if (it == series.end()) {
      it = series.emplace(std::string(value), std::make_unique<Handle>()).first;
    }
    return it->second.get();
  }
};

MetricFamily NewFamily(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

ClientMetric Value(const Counter& c) {
  ClientMetric m;
  m.counter.value = static_cast<double>(c.Value());
  return m;
}
ClientMetric Value(const Gauge& g) {
  ClientMetric m;
  m.gauge.value = static_cast<double>(g.Value());
  return m;
}

template <typename Handle>
MetricFamily Collect(const Labeled<Handle>& l, MetricType type) {
  MetricFamily f = NewFamily(l.name, l.help, type);
  for (const auto& [value, handle] : l.series) {
    ClientMetric m = Value(*handle);
    m.label.push_back({l.label, value});
    f.metric.push_back(std::move(m));
  }
  return f;
}

MetricFamily Collect(const Labeled<HistogramSeries>& l) {
  MetricFamily f = NewFamily(l.name, l.help, MetricType::Histogram);
  for (const auto& [value, series] : l.series) {
    ClientMetric m = series->h.Collect();
    m.label.push_back({l.label, value});
    f.metric.push_back(std::move(m));
  }
  return f;
}

template <typename Handle>
MetricFamily Collect(const char* name, const char* help, MetricType type, const Handle& h) {
  MetricFamily f = NewFamily(name, help, type);
  f.metric.push_back(Value(h));
  return f;
}

// Splits "HOST:PORT" and checks it is something civetweb will bind as written: civetweb reads
// a bare port as "every interface", and "," or a trailing letter ("9090s" = TLS) as options.
absl::Status CheckHostPort(std::string_view s) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError("metrics address '" + std::string(s) +
                                      "': " + std::string(why));
  };
  if (s.empty()) return bad("expected HOST:PORT");
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == ',' || c == 0x7f) {
      return bad("unexpected character in HOST:PORT");
    }
  }
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return bad(
        "missing host; write HOST:PORT, e.g. 127.0.0.1:9464 (0.0.0.0:PORT to listen on every "
        "interface)");
  }
  const std::string_view host = s.substr(0, colon);
  const std::string_view port = s.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']' ||
        host.substr(1, host.size() - 2).find_first_of("[]") != std::string_view::npos) {
      return bad("malformed bracketed IPv6 address");
    }
  } else if (host.find_first_of(":[]") != std::string_view::npos) {
    return bad("IPv6 addresses must be bracketed, e.g. [::1]:9464");
  }
  if (port.empty() || port.size() > 5) return bad("PORT must be a number from 0 to 65535");
  int p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("PORT must be a number from 0 to 65535");
    p = p * 10 + (c - '0');
  }
  if (p > 65535) return bad("PORT must be a number from 0 to 65535");
  return absl::OkStatus();
}

// The host of a checked HOST:PORT, without the brackets of an IPv6 address.
std::string HostOf(std::string_view host_port) {
  std::string host(host_port.substr(0, host_port.rfind(':')));
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

// Why civetweb could not listen on a checked HOST:PORT: it only says "null context", so we
// resolve and bind the address ourselves (then release it) to find the actual error.
std::string DiagnoseListenFailure(std::string_view host_port) {
  const std::string host = HostOf(host_port);
  const std::string port(host_port.substr(host_port.rfind(':') + 1));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return "cannot resolve '" + host + "': " + gai_strerror(rc);
  }
  std::string why = "the HTTP server could not start";
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      why = std::system_category().message(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const bool bound = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (!bound) why = std::system_category().message(errno);
    close(fd);
    if (bound) {
      why = ai->ai_family == AF_INET6 ? "IPv6 addresses are not supported by the HTTP server"
                                      : "the HTTP server could not start";
      break;
    }
  }
  freeaddrinfo(res);
  return why;
}

}  // namespace

struct Metrics::Impl : public prometheus::Collectable {
  explicit Impl(MetricsOptions o) : options(std::move(o)) {
    if (!options.now_ms) options.now_ms = SystemNowMs;
  }

  // Every metric, in a fixed order (the order of README.md).
  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    const int64_t now = options.now_ms();
    std::lock_guard<std::mutex> lock(mu);
    out.push_back(metrics::Collect(stream_events, MetricType::Counter));
    out.push_back(metrics::Collect(stream_late, MetricType::Counter));
    out.push_back(metrics::Collect(stream_invalid, MetricType::Counter));
    MetricFamily lag = NewFamily(lags.name, lags.help, MetricType::Gauge);
    for (const auto& [stream, handle] : lags.series) {
      const Watermark wm = handle->Get();
      if (wm == Watermark::Min()) continue;  // no watermark yet
      ClientMetric m;
      m.label.push_back({lags.label, stream});
      m.gauge.value = wm == Watermark::Max() ? 0.0 : static_cast<double>(now - wm.ms) / 1000.0;
      lag.metric.push_back(std::move(m));
    }
    out.push_back(std::move(lag));
    out.push_back(metrics::Collect(rule_matches, MetricType::Counter));
    out.push_back(metrics::Collect(rule_timeouts, MetricType::Counter));
    out.push_back(metrics::Collect(rule_partial, MetricType::Gauge));
    out.push_back(metrics::Collect(rule_dropped, MetricType::Counter));
    out.push_back(metrics::Collect("vigil_state_size_bytes",
                                   "Approximate size of the keyed operator state, in bytes",
                                   MetricType::Gauge, state_size));
    out.push_back(metrics::Collect(queue_depth, MetricType::Gauge));
    MetricFamily duration =
        NewFamily("vigil_checkpoint_duration_seconds",
                  "Time taken by completed checkpoints, in seconds", MetricType::Histogram);
    duration.metric.push_back(checkpoint_histogram.Collect());
    out.push_back(std::move(duration));
    out.push_back(metrics::Collect("vigil_checkpoint_size_bytes",
                                   "Size of the last completed checkpoint, in bytes",
                                   MetricType::Gauge, checkpoint_size));
    out.push_back(metrics::Collect("vigil_checkpoints_total", "Completed checkpoints",
                                   MetricType::Counter, checkpoints));
    out.push_back(metrics::Collect("vigil_checkpoint_failures_total", "Checkpoints that failed",
                                   MetricType::Counter, checkpoint_failures));
    out.push_back(metrics::Collect("vigil_admin_unauthenticated_total",
                                   "Admin API calls refused for a missing or wrong token",
                                   MetricType::Counter, admin_unauthenticated));
    out.push_back(metrics::Collect(sink_records, MetricType::Counter));
    out.push_back(metrics::Collect(sink_errors, MetricType::Counter));
    out.push_back(metrics::Collect(sink_sent, MetricType::Counter));
    out.push_back(metrics::Collect(sink_failed, MetricType::Counter));
    out.push_back(metrics::Collect(sink_retried, MetricType::Counter));
    out.push_back(metrics::Collect(sink_dead_lettered, MetricType::Counter));
    out.push_back(metrics::Collect(sink_overflowed, MetricType::Counter));
    out.push_back(metrics::Collect(sink_queue_depth, MetricType::Gauge));
    out.push_back(metrics::Collect(sink_latency));
    MetricFamily build = NewFamily(
        "vigil_build_info", "Always 1; the label gives the Vigil version", MetricType::Gauge);
    ClientMetric one;
    one.label.push_back({"version", options.version});
    one.gauge.value = 1;
    build.metric.push_back(std::move(one));
    out.push_back(std::move(build));
    return out;
  }

  template <typename Handle>
  Handle* Get(Labeled<Handle>& l, std::string_view value) {
    std::lock_guard<std::mutex> lock(mu);
    return l.Get(value);
  }

  MetricsOptions options;
  mutable std::mutex mu;  // guards the series maps (not the values), exposer and bound_port
  Labeled<Counter> stream_events{"vigil_stream_events_total", "Valid events read, per stream",
                                 "stream"};
  Labeled<Counter> stream_late{"vigil_stream_late_events_total",
                               "Events at or behind the stream's watermark, per stream", "stream"};
  Labeled<Counter> stream_invalid{
      "vigil_stream_invalid_events_total",
      "Events rejected as invalid (to the dead-letter output), per stream", "stream"};
  Labeled<WatermarkLag> lags{"vigil_watermark_lag_seconds",
                             "Wall clock minus the stream's event-time watermark when scraped, in "
                             "seconds (meaningful for live data; 0 once all inputs ended)",
                             "stream"};
  Labeled<Counter> rule_matches{"vigil_rule_matches_total", "Complete matches emitted, per rule",
                                "rule"};
  Labeled<Counter> rule_timeouts{"vigil_rule_timeouts_total",
                                 "Partial matches whose `within` window closed, per rule", "rule"};
  Labeled<Gauge> rule_partial{"vigil_rule_partial_matches",
                              "Partial matches currently held, per rule", "rule"};
  Labeled<Counter> rule_dropped{"vigil_rule_dropped_partial_matches_total",
                                "Partial matches dropped by --max-partial-matches, per rule",
                                "rule"};
  Labeled<Gauge> queue_depth{"vigil_queue_depth",
                             "Batches waiting in an internal queue (worker-N, output), per queue",
                             "queue"};
  Labeled<Counter> sink_records{"vigil_sink_records_total", "Records written, per sink", "sink"};
  Labeled<Counter> sink_errors{"vigil_sink_errors_total", "Failed record writes, per sink", "sink"};
  Labeled<Counter> sink_sent{"vigil_sink_sent_total",
                             "Records delivered (acknowledged by the receiver), per sink", "sink"};
  Labeled<Counter> sink_failed{"vigil_sink_send_failures_total",
                               "Delivery attempts that failed, per record, per sink", "sink"};
  Labeled<Counter> sink_retried{"vigil_sink_retries_total", "Delivery retries, per record, per sink",
                                "sink"};
  Labeled<Counter> sink_dead_lettered{
      "vigil_sink_dead_lettered_total",
      "Records given up on and sent to the dead-letter output, per sink", "sink"};
  Labeled<Counter> sink_overflowed{"vigil_sink_overflows_total",
                                   "Records that met a full delivery queue, per sink", "sink"};
  Labeled<Gauge> sink_queue_depth{"vigil_sink_queue_depth",
                                  "Records waiting for delivery or in flight, per sink", "sink"};
  Labeled<HistogramSeries> sink_latency{
      "vigil_sink_delivery_latency_seconds",
      "Time from a record's arrival at the sink to its acknowledgement, in seconds, per sink",
      "sink"};
  Gauge state_size;
  Gauge checkpoint_size;
  Counter checkpoints;
  Counter checkpoint_failures;
  Counter admin_unauthenticated;
  prometheus::Histogram checkpoint_histogram{CheckpointBuckets()};
  Histogram checkpoint_duration{&checkpoint_histogram};

  int bound_port = 0;
  // The served address as a client reaches it (0.0.0.0 -> 127.0.0.1), to wake the server.
  sockaddr_storage wake_addr{};
  socklen_t wake_len = 0;
  // Last: destroyed first, so no scrape runs while the rest is torn down.
  std::unique_ptr<prometheus::Exposer> exposer;
};

Metrics::Metrics(MetricsOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}
Metrics::~Metrics() {
  // Stop serving before the exposer's collectable (impl_) can go away.
  std::unique_ptr<prometheus::Exposer> exposer;
  sockaddr_storage addr{};
  socklen_t len = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    exposer = std::move(impl_->exposer);
    addr = impl_->wake_addr;
    len = impl_->wake_len;
  }
  if (!exposer || len == 0) return;
  // civetweb's accept loop polls with a 2 s timeout and notices that it is being stopped only
  // when the poll returns: connecting to it meanwhile wakes it, so the server stops in
  // milliseconds instead of up to 2 s.
  std::atomic<bool> stopped{false};
  std::thread waker([&] {
    while (!stopped.load()) {
      const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd >= 0) {
        (void)connect(fd, reinterpret_cast<const sockaddr*>(&addr), len);
        close(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  exposer.reset();
  stopped.store(true);
  waker.join();
}

namespace {
// Where a client reaches a server listening on `host_port` at `port`: the wildcard addresses
// become the loopback ones. False if it cannot be resolved.
bool WakeAddress(std::string_view host_port, int port, sockaddr_storage* addr, socklen_t* len) {
  std::string host = HostOf(host_port);
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  bool ok = res != nullptr && res->ai_addrlen <= sizeof(sockaddr_storage);
  if (ok) {
    std::memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = static_cast<socklen_t>(res->ai_addrlen);
  }
  freeaddrinfo(res);
  return ok;
}
}  // namespace

Counter* Metrics::StreamEventsIn(std::string_view stream) {
  return impl_->Get(impl_->stream_events, stream);
}
Counter* Metrics::StreamLateEvents(std::string_view stream) {
  return impl_->Get(impl_->stream_late, stream);
}
Counter* Metrics::StreamInvalidEvents(std::string_view stream) {
  return impl_->Get(impl_->stream_invalid, stream);
}
WatermarkLag* Metrics::StreamWatermarkLag(std::string_view stream) {
  return impl_->Get(impl_->lags, stream);
}
Counter* Metrics::RuleMatches(std::string_view rule) {
  return impl_->Get(impl_->rule_matches, rule);
}
Counter* Metrics::RuleTimeouts(std::string_view rule) {
  return impl_->Get(impl_->rule_timeouts, rule);
}
Gauge* Metrics::RulePartialMatches(std::string_view rule) {
  return impl_->Get(impl_->rule_partial, rule);
}
Counter* Metrics::RuleDroppedPartialMatches(std::string_view rule) {
  return impl_->Get(impl_->rule_dropped, rule);
}
Gauge* Metrics::StateSizeBytes() { return &impl_->state_size; }
Gauge* Metrics::QueueDepth(std::string_view queue) { return impl_->Get(impl_->queue_depth, queue); }
Histogram* Metrics::CheckpointDuration() { return &impl_->checkpoint_duration; }
Gauge* Metrics::CheckpointSizeBytes() { return &impl_->checkpoint_size; }
Counter* Metrics::Checkpoints() { return &impl_->checkpoints; }
Counter* Metrics::CheckpointFailures() { return &impl_->checkpoint_failures; }
Counter* Metrics::AdminUnauthenticated() { return &impl_->admin_unauthenticated; }
Counter* Metrics::SinkRecords(std::string_view sink) {
  return impl_->Get(impl_->sink_records, sink);
}
Counter* Metrics::SinkErrors(std::string_view sink) { return impl_->Get(impl_->sink_errors, sink); }

SinkDeliveryMetrics Metrics::SinkDelivery(std::string_view sink) {
  SinkDeliveryMetrics m;
  m.sent = impl_->Get(impl_->sink_sent, sink);
  m.failed = impl_->Get(impl_->sink_failed, sink);
  m.retried = impl_->Get(impl_->sink_retried, sink);
  m.dead_lettered = impl_->Get(impl_->sink_dead_lettered, sink);
  m.overflowed = impl_->Get(impl_->sink_overflowed, sink);
  m.queue_depth = impl_->Get(impl_->sink_queue_depth, sink);
  m.latency = &impl_->Get(impl_->sink_latency, sink)->handle;
  return m;
}

absl::Status Metrics::Serve(std::string_view host_port) {
  VIGIL_RETURN_IF_ERROR(CheckHostPort(host_port));
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->exposer) return absl::FailedPreconditionError("metrics are already being served");
  // prometheus-cpp reports a failed start (bind error, unresolvable host) by throwing; no
  // exception leaves this module.
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(std::string(host_port), 2);
    exposer->RegisterCollectable(impl_);
    const std::vector<int> ports = exposer->GetListeningPorts();
    impl_->bound_port = ports.empty() ? 0 : ports.front();
    if (impl_->bound_port == 0 ||
        !WakeAddress(host_port, impl_->bound_port, &impl_->wake_addr, &impl_->wake_len)) {
      impl_->wake_len = 0;
    }
    impl_->exposer = std::move(exposer);
  } catch (...) {
    return absl::UnavailableError("cannot serve metrics on " + std::string(host_port) + ": " +
                                  DiagnoseListenFailure(host_port));
  }
  return absl::OkStatus();
}

int Metrics::BoundPort() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->bound_port;
}

std::string Metrics::RenderText() const {
  return prometheus::TextSerializer().Serialize(impl_->Collect());
}

}  // namespace vigil::engine::metrics
