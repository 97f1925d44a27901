#pragma once
// The running job as the admin API and the dashboard see it: admin::JobView (status, firing
// alerts, recent records, rules) and admin::JobControl (deploy, alerts per key, savepoint)
// over an engine::Job. Translates between the engine's snapshots and the admin structs,
// compiles deployed rules with the front end, parses `--key k=v` values by the stream's
// declared types, and measures per-rule event rates between status calls.
//
// Thread-safe: every method may be called from any thread while the job runs.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/job_control.h"
#include "admin/job_view.h"
#include "admin/record_tap.h"
#include "engine/job.h"

namespace vigil::app {

class LiveJob final : public admin::JobView, public admin::JobControl {
 public:
  // `job` and `tap` are not owned and must outlive this object (tap may be null).
  LiveJob(engine::Job* job, const admin::RecordTap* tap) : job_(job), tap_(tap) {}

  // JobView
  admin::JobStatus Status() const override;
  admin::FiringAlerts Firing(size_t limit) const override;
  std::vector<std::string> RecentRecords(size_t limit) const override;
  std::shared_ptr<const cep::RuleSet> Rules() const override { return job_->rules(); }

  // JobControl
  absl::StatusOr<admin::DeployResult> Deploy(const std::vector<admin::RulesFile>& files,
                                             std::chrono::milliseconds timeout) override;
  absl::StatusOr<admin::AlertsReply> Alerts(const admin::AlertsQuery& query,
                                            std::chrono::milliseconds timeout) override;
  absl::StatusOr<std::string> Savepoint(std::chrono::milliseconds timeout) override;

 private:
  engine::Job* job_;
  const admin::RecordTap* tap_;
  // Event rates: the previous status call's counts per rule.
  mutable std::mutex rate_mu_;
  mutable std::chrono::steady_clock::time_point last_at_{};
  mutable std::vector<std::pair<std::string, uint64_t>> last_events_;
  mutable std::vector<std::pair<std::string, double>> last_rates_;
};

}  // namespace vigil::app
