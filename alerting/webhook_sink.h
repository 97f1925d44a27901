#pragma once
// The `webhook` sink (language.md §3): each record POSTed as JSON to a URL.
//
// Body: one record's JSON (engine::RecordToJson) per request, with its id also in the header
// `X-Vigil-Record-Id` so receivers can drop duplicates; with `batch N` (N > 1) a JSON array of
// up to N records (whatever is queued when the thread takes the next batch), no id header.
// Delivery: http_endpoint.h (bounded queue, own thread, retries with backoff and jitter,
// dead-letter output). At-least-once: after a timeout or a restart a receiver may see a
// record again, always with the same id and body.
#include <memory>
#include <string>
#include <string_view>

#include "alerting/http_endpoint.h"
#include "alerting/http_options.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

class WebhookSink final : public engine::Sink {
 public:
  // Starts the delivery thread. ctx.now_ms, when set, replaces env.now_ms.
  // Errors: InvalidArgument unless `options.urls` holds exactly one URL.
  static absl::StatusOr<std::unique_ptr<WebhookSink>> Create(HttpSinkOptions options,
                                                             const engine::SinkContext& ctx,
                                                             DeliveryEnv env = DeliveryEnv::Real());
  ~WebhookSink() override;  // Close() if not closed

  // Queues the record; blocks only when the queue is full and overflow is `block`.
  // Errors: FailedPrecondition after Close().
  absl::Status Write(const engine::Record& r) override;
  absl::Status Flush() override { return absl::OkStatus(); }  // Write already queued it
  // The records queued or in flight (never waits for the endpoint).
  absl::StatusOr<std::string> SnapshotState(uint64_t checkpoint_id) override;
  // Re-queues the records of a SnapshotState blob ("" = none). Errors: DataLoss on a corrupt
  // blob (nothing is queued then).
  absl::Status Restore(std::string_view state) override;
  // Delivers what is queued (with retries), dead-letters what cannot be, stops the thread.
  absl::Status Close() override;
  engine::SinkStats stats() const override { return stats_.Get(); }

 private:
  WebhookSink(HttpSinkOptions options, const engine::SinkContext& ctx, DeliveryEnv env);
  void Render(const std::vector<Delivery>& batch, RenderedRequest* out) const;

  const HttpSinkOptions options_;
  const std::string name_;
  DeliveryEnv env_;
  DeliveryStats stats_;
  std::unique_ptr<HttpEndpoint> endpoint_;
  bool closed_ = false;
};

}  // namespace vigil::alerting
