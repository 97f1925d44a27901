#pragma once
// Prometheus metrics describing the engine itself (`vigil run --metrics HOST:PORT`, cli.md).
// prometheus-cpp is used only inside engine/metrics: this header includes none of its headers
// (it forward-declares prometheus::Histogram); counters and gauges are plain atomics here,
// exported by a prometheus-cpp collectable inside metrics.cc. The metric list is in README.md
// beside this file.
//
// Usage: create one Metrics per job; at setup obtain typed handles (StreamEventsIn("txn"),
// RuleMatches("fraud"), ...) and keep the pointers; on hot paths only call the handles. A
// counter or gauge update is one inline relaxed atomic add: no call, no lookup, no lock.
// Threads hammering the same counter still contend for its cache line: hot loops may prefer to
// count locally and Inc(n) once per chunk or batch.
//
// Metrics always count, whether or not they are served: without Serve() the values are still
// kept and RenderText() shows them (e.g. for a final dump or tests). Serve() additionally
// starts an HTTP server answering GET /metrics.
//
// Thread-safety: Metrics is thread-safe: handles may be obtained from any thread, and every
// handle method may be called concurrently from any number of threads, including while a scrape
// is in progress. Handles are owned by the Metrics object and stay valid (same pointer for the
// same name and label) until it is destroyed; they are never null.
//
// Several workers sharing one gauge (partial matches, state size, queue depth) must update it
// with deltas (Inc/Dec), not Set, or each worker overwrites the others' contribution; Set is for
// gauges with a single writer (checkpoint size, a queue owned by one thread).
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace prometheus {
class Histogram;
}  // namespace prometheus

namespace vigil::engine::metrics {

// A monotonic counter (a `_total` metric): one relaxed atomic add, inline. Each handle has its
// own cache line, so counters updated by different threads do not slow each other down (one
// counter updated by many threads still bounces its line between cores). Obtained from
// Metrics, never constructed by users.
class alignas(64) Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A value that goes up and down (all engine gauges are integral: counts, bytes). Same costs
// as Counter. Obtained from Metrics, never constructed by users.
class alignas(64) Gauge {
 public:
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void Inc(int64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  void Dec(int64_t n = 1) { v_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// A distribution in fixed buckets; observations in base units (seconds). For cold paths
// (checkpoints): an out-of-line call and a few atomic updates. Obtained from Metrics.
class Histogram {
 public:
  explicit Histogram(prometheus::Histogram* h) : h_(h) {}
  void Observe(double v);

 private:
  prometheus::Histogram* h_;
};

// One stream's event-time watermark, exported as vigil_watermark_lag_seconds{stream}: the wall
// clock at scrape time minus the watermark. Computing the lag when scraped (not when the
// watermark moves) makes a stalled stream show a growing lag. Until the first Set (watermark
// Min: nothing seen yet) the stream has no series; Watermark::Max() (all inputs ended) is
// exported as 0. The lag means "how far behind real time processing is" only for live data:
// replaying old files gives the age of the data, and processing-time streams stay near 0.
// A stream's watermark should have one writer (whoever combines its partitions' watermarks).
class WatermarkLag {
 public:
  void Set(Watermark wm) { ms_.store(wm.ms, std::memory_order_relaxed); }
  Watermark Get() const { return Watermark(ms_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<int64_t> ms_{std::numeric_limits<int64_t>::min()};
};

// The delivery figures of one network sink (webhook, alertmanager, kafka), all labelled
// {sink="NAME"}; see README.md. Sinks update them from their delivery threads.
struct SinkDeliveryMetrics {
  Counter* sent = nullptr;           // vigil_sink_sent_total: records acknowledged
  Counter* failed = nullptr;         // vigil_sink_send_failures_total: failed attempts
  Counter* retried = nullptr;        // vigil_sink_retries_total: retries made
  Counter* dead_lettered = nullptr;  // vigil_sink_dead_lettered_total: records given up on
  Counter* overflowed = nullptr;     // vigil_sink_overflows_total: records that met a full queue
  Gauge* queue_depth = nullptr;      // vigil_sink_queue_depth: records waiting (or in flight)
  Histogram* latency = nullptr;      // vigil_sink_delivery_latency_seconds: Write to ack
};

struct MetricsOptions {
  // Exported as vigil_build_info{version="..."} 1.
  std::string version = "dev";
  // Wall clock in ms since the Unix epoch, for the watermark lag (tests inject a fake).
  // Empty = the system clock. Called from scraping threads: it must be thread-safe.
  std::function<int64_t()> now_ms;
};

class Metrics {
 public:
  explicit Metrics(MetricsOptions options = {});
  ~Metrics();  // stops the server, if any
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Handles, by metric (README.md says what each counts). Labelled ones return the same
  // handle for the same label value; label values may be any string (they are escaped). Keep
  // label values bounded (stream, rule, sink and queue names), never per key or per event.

  // vigil_stream_events_total{stream}, vigil_stream_late_events_total{stream},
  // vigil_stream_invalid_events_total{stream}, vigil_watermark_lag_seconds{stream}.
  Counter* StreamEventsIn(std::string_view stream);
  Counter* StreamLateEvents(std::string_view stream);
  Counter* StreamInvalidEvents(std::string_view stream);
  WatermarkLag* StreamWatermarkLag(std::string_view stream);

  // vigil_rule_matches_total{rule}, vigil_rule_timeouts_total{rule},
  // vigil_rule_partial_matches{rule}, vigil_rule_dropped_partial_matches_total{rule}.
  Counter* RuleMatches(std::string_view rule);
  Counter* RuleTimeouts(std::string_view rule);
  Gauge* RulePartialMatches(std::string_view rule);
  Counter* RuleDroppedPartialMatches(std::string_view rule);

  // vigil_state_size_bytes, vigil_queue_depth{queue}.
  Gauge* StateSizeBytes();
  Gauge* QueueDepth(std::string_view queue);

  // vigil_checkpoint_duration_seconds (of completed checkpoints), vigil_checkpoint_size_bytes
  // (of the last completed one), vigil_checkpoints_total (completed),
  // vigil_checkpoint_failures_total.
  Histogram* CheckpointDuration();
  Gauge* CheckpointSizeBytes();
  Counter* Checkpoints();
  Counter* CheckpointFailures();

  // vigil_admin_unauthenticated_total: admin API calls refused for a missing or wrong token.
  Counter* AdminUnauthenticated();

  // vigil_sink_records_total{sink}, vigil_sink_errors_total{sink}.
  Counter* SinkRecords(std::string_view sink);
  Counter* SinkErrors(std::string_view sink);

  // The per-sink delivery block (every handle non-null; the same handles for the same name).
  SinkDeliveryMetrics SinkDelivery(std::string_view sink);

  // Serves GET /metrics on `host_port` ("HOST:PORT", as given to --metrics) until this object
  // is destroyed. HOST is an IPv4 address, a bracketed IPv6 address ("[::1]:9090") or a host
  // name; it must be written out: a missing host (":9090", "9090") is rejected rather than
  // silently listening on every interface, while an explicit "0.0.0.0:9090" or "[::]:9090" is
  // honoured. PORT 0 picks a free port (see BoundPort()).
  // (This build's HTTP server, civetweb, may lack IPv6: then bracketed addresses fail.)
  // Errors: InvalidArgument for a malformed address; Unavailable when the server cannot start
  // (port in use, not an address of this machine, unknown host, ...; the message says which);
  // FailedPrecondition if already serving. A failed Serve() may be retried.
  // Note: once serving, destroying this object takes up to 2 s (civetweb's accept loop polls
  // in 2 s quanta before it notices the stop).
  absl::Status Serve(std::string_view host_port);

  // The port actually listened on after a successful Serve(); 0 when not serving.
  int BoundPort() const;

  // The current metrics in the Prometheus text exposition format (what /metrics returns).
  std::string RenderText() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared: the HTTP server holds a weak_ptr to it
};

}  // namespace vigil::engine::metrics
