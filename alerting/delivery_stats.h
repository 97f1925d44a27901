#pragma once
// The delivery figures of one sink (engine::SinkStats) kept as atomics, mirrored into the
// job's Prometheus metrics (the vigil_sink_* delivery block, engine/metrics/README.md) when it
// has any. Thread-safe: delivery threads update, any thread reads.
#include <atomic>
#include <cstdint>
#include <string_view>

#include "engine/metrics/metrics.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

class DeliveryStats {
 public:
  // `metrics` may be null (no metrics); otherwise it must outlive this object.
  DeliveryStats(engine::metrics::Metrics* metrics, std::string_view sink);

  void Sent(uint64_t n);
  void Failed(uint64_t n);
  void Retried(uint64_t n);
  void DeadLettered(uint64_t n);
  void Overflowed(uint64_t n);
  void QueueDepthAdd(int64_t delta);
  void Latency(double seconds);  // one record's, from Write to acknowledgement

  engine::SinkStats Get() const;

 private:
  std::atomic<uint64_t> sent_{0}, failed_{0}, retried_{0}, dead_lettered_{0}, overflowed_{0};
  std::atomic<int64_t> queue_depth_{0};
  engine::metrics::SinkDeliveryMetrics m_;  // all null without metrics
};

}  // namespace vigil::alerting
