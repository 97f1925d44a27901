#pragma once
// FakeJobControl: a JobControl whose replies are set by the test, recording what it was asked
// (calls, files, queries, timeouts, the calling thread). Optionally slow: each call first waits
// `delay` (or until its timeout, then answers DeadlineExceeded as the contract says).
// Thread-safe: every member takes the same mutex; the wait happens outside it.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "admin/job_control.h"

namespace vigil::admin::testing {

class FakeJobControl : public JobControl {
 public:
  absl::StatusOr<DeployResult> Deploy(const std::vector<RulesFile>& files,
                                      std::chrono::milliseconds timeout) override {
    Record(timeout);
    if (!Wait(timeout)) return absl::DeadlineExceededError("deploy: the barrier did not come");
    std::lock_guard<std::mutex> lock(mu_);
    files_ = files;
    return deploy_;
  }
  absl::StatusOr<AlertsReply> Alerts(const AlertsQuery& query,
                                     std::chrono::milliseconds timeout) override {
    Record(timeout);
    if (!Wait(timeout)) return absl::DeadlineExceededError("alerts: no answer from the worker");
    std::lock_guard<std::mutex> lock(mu_);
    query_ = query;
    return alerts_;
  }
  absl::StatusOr<std::string> Savepoint(std::chrono::milliseconds timeout) override {
    Record(timeout);
    if (!Wait(timeout)) return absl::DeadlineExceededError("savepoint: not written in time");
    std::lock_guard<std::mutex> lock(mu_);
    return savepoint_;
  }

  void SetDeploy(absl::StatusOr<DeployResult> r) {
    std::lock_guard<std::mutex> lock(mu_);
    deploy_ = std::move(r);
  }
  void SetAlerts(absl::StatusOr<AlertsReply> r) {
    std::lock_guard<std::mutex> lock(mu_);
    alerts_ = std::move(r);
  }
  void SetSavepoint(absl::StatusOr<std::string> r) {
    std::lock_guard<std::mutex> lock(mu_);
    savepoint_ = std::move(r);
  }
  void SetDelay(std::chrono::milliseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    delay_ = d;
  }

  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<RulesFile> files() const {
    std::lock_guard<std::mutex> lock(mu_);
    return files_;
  }
  AlertsQuery query() const {
    std::lock_guard<std::mutex> lock(mu_);
    return query_;
  }
  std::chrono::milliseconds last_timeout() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_timeout_;
  }
  std::thread::id last_thread() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_thread_;
  }

 private:
  // Waits the configured delay; false (after waiting the whole timeout) when it is longer.
  bool Wait(std::chrono::milliseconds timeout) {
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard<std::mutex> lock(mu_);
      delay = delay_;
    }
    if (delay.count() == 0) return true;
    std::this_thread::sleep_for(std::min(delay, timeout));
    return delay <= timeout;
  }
  // Every call is counted on entry, whatever its outcome.
  void Record(std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    last_timeout_ = timeout;
    last_thread_ = std::this_thread::get_id();
  }

  mutable std::mutex mu_;
  absl::StatusOr<DeployResult> deploy_ = DeployResult{};
  absl::StatusOr<AlertsReply> alerts_ = AlertsReply{};
  absl::StatusOr<std::string> savepoint_ = std::string("/state/savepoints/savepoint-1");
  std::chrono::milliseconds delay_{0};
  int calls_ = 0;
  std::vector<RulesFile> files_;
  AlertsQuery query_;
  std::chrono::milliseconds last_timeout_{0};
  std::thread::id last_thread_;
};

}  // namespace vigil::admin::testing
