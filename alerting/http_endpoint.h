#pragma once
// One URL of an HTTP sink: a bounded queue of deliveries and the thread that POSTs them, with
// retries (exponential backoff, full jitter; retry_policy.h), the dead-letter output for what
// cannot be delivered, and optional periodic re-sends (Alertmanager's still-firing alerts).
//
//   Write (output stage) -> Enqueue -> [queue, `capacity` deliveries] -> delivery thread:
//     take up to `batch` -> render the request -> POST -> 2xx: sent
//                                                   -> retryable: wait, POST again (retries)
//                                                   -> otherwise / last retry: dead letter
//
// Each endpoint has its own thread, queue and retry state: a slow or dead URL holds back
// nothing but its own queue (and, with overflow `block`, the writer once that queue is full).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alerting/delivery_stats.h"
#include "alerting/http_client.h"
#include "alerting/http_headers.h"
#include "alerting/http_options.h"
#include "alerting/retry_policy.h"
#include "engine/record.h"

namespace vigil::alerting {

// One record on its way to one URL.
struct Delivery {
  std::shared_ptr<const engine::Record> record;  // for the dead-letter output and the id header
  std::shared_ptr<const std::string> payload;    // what this record contributes to a body
  static constexpr int64_t kOpenEnded = INT64_MIN;
  // alertmanager: the alert's endsAt; kOpenEnded = still firing (the end is set when sent)
  int64_t ends_at_ms = kOpenEnded;
  int64_t enqueued_ns = 0;  // steady clock when the sink got the record (latency)
};

// The request for one batch (never empty), built at each attempt; `now_ms` is the wall clock.
struct RenderedRequest {
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
};
using RenderFn =
    std::function<void(const std::vector<Delivery>& batch, int64_t now_ms, RenderedRequest* out)>;

// What the delivery machinery needs from the outside world; tests replace parts of it.
struct DeliveryEnv {
  std::function<std::unique_ptr<HttpTransport>()> make_transport;  // one per delivery thread
  std::function<void(int64_t ms)> sleep_ms;  // waits between retries
  std::function<double()> jitter;            // uniform in [0, 1]; thread-safe
  std::function<int64_t()> now_ms;           // wall clock, ms since the epoch (alert times)
  std::function<int64_t()> steady_ns;        // monotonic clock (latency)

  // libcurl, real sleeps, a per-thread random generator, the system clocks.
  static DeliveryEnv Real();
};

using DeadLetterFn = std::function<void(const engine::Record& r, std::string_view reason)>;
using LogFn = std::function<void(std::string_view)>;

struct EndpointConfig {
  std::string url;
  std::string what;  // "webhook http://host/x" (URL redacted): prefix of reasons and log lines
  int64_t timeout_ms = 5000;
  RetryPolicy retry;
  size_t capacity = 10000;
  Overflow overflow = Overflow::kBlock;
  size_t batch = 1;
  const HttpHeaders* headers = nullptr;  // for redaction; owned by the sink (may be null)
  // Periodic re-sends (0 = none): every `periodic_ms` the thread POSTs what `periodic()`
  // returns (in requests of `batch`), one attempt each, never dead-lettered; a failure is
  // retried after the retry policy's backoff (at most `periodic_ms`).
  int64_t periodic_ms = 0;
  std::function<std::vector<Delivery>()> periodic;
};

class HttpEndpoint {
 public:
  // Starts the delivery thread. `stats` is shared by the sink's endpoints and must outlive
  // this object; `dead_letter` and `log` may be empty.
  HttpEndpoint(EndpointConfig config, RenderFn render, DeliveryEnv env, DeliveryStats* stats,
               DeadLetterFn dead_letter, LogFn log);
  // Close() if not closed yet.
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Queues one delivery (called by one writer thread). When `capacity` deliveries wait
  // already: overflow `block` waits for room, overflow `dead_letter` hands the record to the
  // dead-letter output ("<what>: queue full"); either way it counts as overflowed.
  void Enqueue(Delivery d);
  // Queues deliveries restored from a checkpoint, beyond `capacity` if need be.
  void Requeue(std::vector<Delivery> ds);
  // Deliveries queued or in flight, oldest first. Waits only for the queue's lock (never for
  // the endpoint).
  std::vector<Delivery> Pending() const;
  // Makes the next periodic re-send due now (after a restore).
  void TriggerPeriodic();

  // Close = BeginClose + Join. After BeginClose the thread stops re-sending, delivers what is
  // queued (each batch with its retries) and, once a batch has used up its retries, hands the
  // rest to the dead-letter output without trying ("not attempted"). Join waits for that.
  void BeginClose();
  void Join();
  void Close() {
    BeginClose();
    Join();
  }

  const std::string& url() const { return config_.url; }

 private:
  enum class Outcome { kDelivered, kRejected, kGaveUp };
  void Run();
  Outcome DeliverBatch(HttpTransport* transport, const std::vector<Delivery>& batch);
  bool PostPeriodic(HttpTransport* transport);
  void DeadLetter(const std::vector<Delivery>& ds, const std::string& reason);
  void Log(const std::string& text) const;
  std::string Redact(std::string_view text) const;

  const EndpointConfig config_;
  const RenderFn render_;
  const DeliveryEnv env_;
  DeliveryStats* const stats_;
  const DeadLetterFn dead_letter_;
  const LogFn log_;

  mutable std::mutex mu_;
  std::condition_variable work_;      // the thread waits for deliveries, re-sends, the close
  std::condition_variable not_full_;  // a blocked Enqueue waits for room
  std::deque<Delivery> queue_;
  std::vector<Delivery> in_flight_;  // the batch being delivered (written under mu_)
  bool closing_ = false;
  bool overflowing_ = false;         // logged once per episode
  std::chrono::steady_clock::time_point next_periodic_;
  int periodic_failures_ = 0;

  // Thread-only state.
  uint64_t failing_attempts_ = 0;  // consecutive failed attempts (for the recovery log line)

  std::thread thread_;
};

}  // namespace vigil::alerting
