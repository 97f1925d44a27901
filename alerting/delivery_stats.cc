#include "alerting/delivery_stats.h"

#include <algorithm>

namespace vigil::alerting {

DeliveryStats::DeliveryStats(engine::metrics::Metrics* metrics, std::string_view sink) {
  if (metrics != nullptr) m_ = metrics->SinkDelivery(sink);
}

void DeliveryStats::Sent(uint64_t n) {
  sent_.fetch_add(n, std::memory_order_relaxed);
  if (m_.sent != nullptr) m_.sent->Inc(n);
}
void DeliveryStats::Failed(uint64_t n) {
  failed_.fetch_add(n, std::memory_order_relaxed);
  if (m_.failed != nullptr) m_.failed->Inc(n);
}
void DeliveryStats::Retried(uint64_t n) {
  retried_.fetch_add(n, std::memory_order_relaxed);
  if (m_.retried != nullptr) m_.retried->Inc(n);
}
void DeliveryStats::DeadLettered(uint64_t n) {
  dead_lettered_.fetch_add(n, std::memory_order_relaxed);
  if (m_.dead_lettered != nullptr) m_.dead_lettered->Inc(n);
}
void DeliveryStats::Overflowed(uint64_t n) {
  overflowed_.fetch_add(n, std::memory_order_relaxed);
  if (m_.overflowed != nullptr) m_.overflowed->Inc(n);
}
void DeliveryStats::QueueDepthAdd(int64_t delta) {
  queue_depth_.fetch_add(delta, std::memory_order_relaxed);
  if (m_.queue_depth != nullptr) m_.queue_depth->Inc(delta);
}
void DeliveryStats::Latency(double seconds) {
  if (m_.latency != nullptr) m_.latency->Observe(seconds);
}

engine::SinkStats DeliveryStats::Get() const {
  engine::SinkStats s;
  s.sent = sent_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.retried = retried_.load(std::memory_order_relaxed);
  s.dead_lettered = dead_lettered_.load(std::memory_order_relaxed);
  s.overflowed = overflowed_.load(std::memory_order_relaxed);
  s.queue_depth = static_cast<uint64_t>(std::max<int64_t>(0, queue_depth_.load()));
  return s;
}

}  // namespace vigil::alerting
