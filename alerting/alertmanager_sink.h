#pragma once
// The `alertmanager` sink (language.md §3): records as alerts POSTed to Alertmanager's API v2
// (`/api/v2/alerts`), kept alive and ended the way Prometheus does it.
//
// What each record kind becomes (labels: alertmanager_alert.h AlertLabels; annotations: the
// record's; generatorURL: external_url + "/rules/<rule>", "/streams/<stream>" for late):
// - firing: an active alert, startsAt = the record's time. It joins the active set (keyed by
//   rule and partition key) and is re-sent every `resend` (default 1m) with endsAt = now + 4 x resend,
//   so it stays active in Alertmanager while Vigil holds it and expires on its own if Vigil
//   stops sending (Prometheus' rule: 4 x the resend delay).
// - resolved: the firing alert of the same rule and key is ended: sent with the firing
//   alert's labels (Alertmanager's identity of the alert, even if a templated label changed
//   since) and the resolved record's annotations; endsAt = min(the record's time, now) —
//   never in the future, which would keep the alert active — and startsAt = the firing
//   alert's (or the record's time), lowered to endsAt if it would come after it (Alertmanager
//   rejects endsAt before startsAt). The alert leaves the active set.
// - nodata: a distinct active alert, the labels plus alertstate="nodata" (missing data is not
//   `resolved`: the firing alert stays active too); re-sent like a firing alert until the
//   partition's next firing or resolved record ends it (endsAt = that record's time, at most
//   now).
// - match, timeout, late: an alert with startsAt = the record's time and endsAt =
//   max(the record's time, now when written) + `resolve_after` (default 5m); never re-sent.
//   Two matches of one key within resolve_after are one alert in Alertmanager (same labels).
// Several URLs (comma-separated, e.g. an HA pair): every alert goes to each, through one
// endpoint per URL (own queue, thread, retries): a dead one does not delay the others. Up to 64
// alerts per request, as Prometheus sends them. A record given up on for one URL is
// dead-lettered with that URL in the reason (once per URL). Re-sends that fail are not
// dead-lettered: the next re-send carries the alert again.
//
// SnapshotState holds the active set and each URL's queued and in-flight alerts; Restore
// re-queues them (URLs no longer configured are dropped, with a log line) and re-sends the
// active set at once, so a restart keeps still-firing alerts alive.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alertmanager_alert.h"
#include "alerting/http_endpoint.h"
#include "alerting/http_options.h"
#include "engine/sink/sink.h"

namespace vigil::alerting {

class AlertmanagerSink final : public engine::Sink {
 public:
  static constexpr size_t kMaxAlertsPerRequest = 64;  // Prometheus' notifier batch size

  // Starts one delivery thread per URL. ctx.now_ms, when set, replaces env.now_ms.
  // Errors: InvalidArgument without URLs.
  static absl::StatusOr<std::unique_ptr<AlertmanagerSink>> Create(
      HttpSinkOptions options, const engine::SinkContext& ctx,
      DeliveryEnv env = DeliveryEnv::Real());
  ~AlertmanagerSink() override;  // Close() if not closed

  // Turns the record into its alert (updating the active set) and queues it for every URL.
  // Errors: FailedPrecondition after Close().
  absl::Status Write(const engine::Record& r) override;
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> SnapshotState(uint64_t checkpoint_id) override;
  // Errors: DataLoss on a corrupt blob (then nothing is restored).
  absl::Status Restore(std::string_view state) override;
  absl::Status Close() override;
  engine::SinkStats stats() const override { return stats_.Get(); }

  // Alerts currently re-sent (firing and nodata).
  size_t active_alerts() const;

 private:
  struct Active {
    std::shared_ptr<const engine::Record> record;  // the record that made it active
    LabelSet labels;                               // the alert's identity in Alertmanager
    std::shared_ptr<const std::string> payload;    // AlertPrefix
    int64_t starts_at_ms = 0;
  };

  AlertmanagerSink(HttpSinkOptions options, const engine::SinkContext& ctx, DeliveryEnv env);
  void Render(const std::vector<Delivery>& batch, int64_t now_ms, RenderedRequest* out) const;
  std::vector<Delivery> ActiveDeliveries() const;
  std::string GeneratorUrl(const engine::Record& r) const;
  Delivery MakeDelivery(const std::shared_ptr<const engine::Record>& r, const LabelSet& labels,
                        int64_t starts_at_ms, int64_t ends_at_ms) const;
  // Ends the nodata alert of `key`, if active, at `ends_at_ms` (caller holds mu_).
  void EndNodata(const std::string& key, int64_t ends_at_ms, std::vector<Delivery>* out);

  const HttpSinkOptions options_;
  const std::string name_;
  DeliveryEnv env_;
  DeliveryStats stats_;
  LogFn log_;

  mutable std::mutex mu_;  // guards active_ (delivery threads read it to re-send)
  // By ActiveKey: rule and partition key ("\0nodata" appended for nodata alerts).
  std::map<std::string, Active> active_;

  std::vector<std::unique_ptr<HttpEndpoint>> endpoints_;  // one per URL, in `url` order
  bool closed_ = false;
};

}  // namespace vigil::alerting
