#include "alerting/webhook_sink.h"

#include <utility>

#include "alerting/record_codec.h"

namespace vigil::alerting {

namespace {
constexpr uint32_t kWebhookStateVersion = 1;
}  // namespace

absl::StatusOr<std::unique_ptr<WebhookSink>> WebhookSink::Create(HttpSinkOptions options,
                                                                 const engine::SinkContext& ctx,
                                                                 DeliveryEnv env) {
  if (options.urls.size() != 1) {
    return absl::InvalidArgumentError("option 'url': a webhook sink takes exactly one URL");
  }
  return std::unique_ptr<WebhookSink>(new WebhookSink(std::move(options), ctx, std::move(env)));
}

WebhookSink::WebhookSink(HttpSinkOptions options, const engine::SinkContext& ctx, DeliveryEnv env)
    : options_(std::move(options)), name_(ctx.name), env_(std::move(env)),
      stats_(ctx.metrics, ctx.name) {
  if (ctx.now_ms) env_.now_ms = ctx.now_ms;
  EndpointConfig config;
  config.url = options_.urls[0];
  config.what = "webhook " + RedactUrl(config.url);
  config.timeout_ms = options_.timeout_ms;
  config.retry = options_.retry;
  config.capacity = options_.queue;
  config.overflow = options_.overflow;
  config.batch = options_.batch;
  config.headers = &options_.headers;
  LogFn log;
  if (ctx.log) {
    log = [log = ctx.log, prefix = "sink '" + ctx.name + "': "](std::string_view text) {
      log(prefix + std::string(text));
    };
    log(config.what + " (headers: " + options_.headers.Describe() + "; timeout " +
        std::to_string(options_.timeout_ms) + " ms, " + std::to_string(options_.retry.retries) +
        " retries, queue " + std::to_string(options_.queue) + ", overflow " +
        (options_.overflow == Overflow::kBlock ? "block" : "dead_letter") + ", batch " +
        std::to_string(options_.batch) + ")");
  }
  endpoint_ = std::make_unique<HttpEndpoint>(
      std::move(config),
      [this](const std::vector<Delivery>& batch, int64_t, RenderedRequest* out) {
        Render(batch, out);
      },
      env_, &stats_, ctx.dead_letter, std::move(log));
}

WebhookSink::~WebhookSink() { (void)Close(); }

void WebhookSink::Render(const std::vector<Delivery>& batch, RenderedRequest* out) const {
  out->headers = options_.headers.lines;
  if (options_.batch == 1) {
    out->body = *batch[0].payload;
    out->headers.push_back("X-Vigil-Record-Id: " + batch[0].record->id);
    return;
  }
  size_t size = 2;
  for (const Delivery& d : batch) size += d.payload->size() + 1;
  out->body.reserve(size);
  out->body.push_back('[');
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) out->body.push_back(',');
    out->body.append(*batch[i].payload);
  }
  out->body.push_back(']');
}

absl::Status WebhookSink::Write(const engine::Record& r) {
  if (closed_) return absl::FailedPreconditionError("sink '" + name_ + "' is closed");
  Delivery d;
  d.record = std::make_shared<const engine::Record>(r);
  d.payload = std::make_shared<const std::string>(engine::RecordToJson(r));
  d.enqueued_ns = env_.steady_ns();
  endpoint_->Enqueue(std::move(d));
  return absl::OkStatus();
}

absl::StatusOr<std::string> WebhookSink::SnapshotState(uint64_t) {
  const std::vector<Delivery> pending = endpoint_->Pending();
  std::string out;
  Encoder enc(&out);
  enc.U32(kWebhookStateVersion);
  enc.U64(pending.size());
  for (const Delivery& d : pending) EncodeRecord(*d.record, &enc);
  return out;
}

absl::Status WebhookSink::Restore(std::string_view state) {
  if (state.empty()) return absl::OkStatus();
  Decoder dec(state);
  uint32_t version;
  VIGIL_RETURN_IF_ERROR(dec.U32(&version));
  if (version != kWebhookStateVersion) {
    return absl::DataLossError("webhook sink state: unknown version " + std::to_string(version));
  }
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(dec.U64(&n));
  if (n > dec.remaining()) return absl::DataLossError("webhook sink state: bad record count");
  std::vector<Delivery> restored;
  restored.reserve(n);
  const int64_t now = env_.steady_ns();
  for (uint64_t i = 0; i < n; ++i) {
    auto r = std::make_shared<engine::Record>();
    VIGIL_RETURN_IF_ERROR(DecodeRecord(&dec, r.get()));
    Delivery d;
    d.payload = std::make_shared<const std::string>(engine::RecordToJson(*r));
    d.record = std::move(r);
    d.enqueued_ns = now;
    restored.push_back(std::move(d));
  }
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
  endpoint_->Requeue(std::move(restored));
  return absl::OkStatus();
}

absl::Status WebhookSink::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  endpoint_->Close();
  return absl::OkStatus();
}

}  // namespace vigil::alerting
