#pragma once
// The job's first error. Any thread may report one (Fail); the first wins, and the hooks
// registered with OnFail run once, on the failing thread, to wake every stage that may be
// waiting (queues are closed), so that all threads wind down and Run() returns that error.
//
// Thread-safe.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::engine::runtime {

class FailureLatch {
 public:
  // Hooks run on the first Fail(). Register them all before the job's threads start.
  void OnFail(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }

  void Fail(const absl::Status& st) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_.ok()) return;
      error_ = st.ok() ? absl::InternalError("failed without a reason") : st;
    }
    failed_.store(true);
    for (auto& hook : hooks_) hook();
  }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  absl::Status error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  // The first error, or Cancelled(msg) when nothing failed (e.g. a stopped queue).
  absl::Status ErrorOr(std::string_view msg) const {
    absl::Status st = error();
    return st.ok() ? absl::CancelledError(std::string(msg)) : st;
  }

 private:
  mutable std::mutex mu_;
  absl::Status error_;
  std::atomic<bool> failed_{false};
  std::vector<std::function<void()>> hooks_;
};

}  // namespace vigil::engine::runtime
