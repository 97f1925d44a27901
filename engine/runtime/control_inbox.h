#pragma once
// Requests from other threads (the admin API) that must run on the router's thread, in order
// with the data it routes: a deploy cuts a barrier there, a key query is queued to the worker
// owning the key behind the key's events. The input stage runs what is pending once per round
// of reading (at least every tick, kTickMs, while inputs are quiet).
//
// Thread-safe: Post and Close from any thread; RunPending on the router's thread.
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

#include "core/status.h"

namespace vigil::engine::runtime {

class ControlInbox {
 public:
  struct Task {
    std::function<absl::Status()> run;          // on the router's thread; an error fails the job
    std::function<void(absl::Status)> cancel;  // when the job ends before the task ran
  };

  // False (and `task` is not run) once the inbox is closed.
  bool Post(Task task) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    tasks_.push_back(std::move(task));
    pending_.store(true, std::memory_order_release);
    return true;
  }

  absl::Status RunPending() {
    if (!pending_.load(std::memory_order_acquire)) return absl::OkStatus();
    std::deque<Task> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks.swap(tasks_);
      pending_.store(false, std::memory_order_release);
    }
    for (Task& t : tasks) VIGIL_RETURN_IF_ERROR(t.run());
    return absl::OkStatus();
  }

  // Refuses new tasks and cancels the pending ones with `why`.
  void Close(const absl::Status& why) {
    std::deque<Task> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      tasks.swap(tasks_);
      pending_.store(false, std::memory_order_release);
    }
    for (Task& t : tasks) {
      if (t.cancel) t.cancel(why);
    }
  }

 private:
  std::mutex mu_;
  std::deque<Task> tasks_;
  std::atomic<bool> pending_{false};
  bool closed_ = false;
};

}  // namespace vigil::engine::runtime
