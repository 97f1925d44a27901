#pragma once
// Bounded queues between the job's threads (router -> workers -> output). Bounded so that a
// slow stage blocks its producers instead of growing memory (backpressure). Items are moved
// whole; producers batch many records or events into one item so that a push costs one lock
// per batch, not per event.
//
// BoundedQueue<T>: many producers, many consumers, FIFO.
// LaneQueue<T>: one bounded FIFO lane per producer, one consumer that may pause lanes (barrier
// alignment: after a lane delivered barrier k the consumer stops taking from it until every
// lane delivered k; the paused lane fills up and its producer blocks).
//
// Close() wakes every waiter: pushes then fail (return false), pops drain what is queued and
// then return false. Thread-safe.
//
// A producer blocked on a full BoundedQueue is woken when the queue has drained to half its
// capacity (hysteresis), so a fast producer and a slow consumer switch contexts once per
// capacity/2 items instead of once per item.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace vigil::engine::runtime {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Blocks while full. Returns false (and drops `item`) once closed.
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    approx_size_.store(items_.size(), std::memory_order_relaxed);
    not_empty_.notify_one();
    return true;
  }
  // Blocks while empty. Returns false when closed and drained.
  bool Pop(T* out) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return false;
    *out = std::move(items_.front());
    items_.pop_front();
    approx_size_.store(items_.size(), std::memory_order_relaxed);
    // Producers blocked on a full queue are woken once it has drained to half, not on every
    // pop: a producer faster than its consumer then refills in bursts instead of sleeping
    // and waking for every item (a context switch per batch).
    if (items_.size() == capacity_ / 2) not_full_.notify_all();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  // size() as of some recent push or pop, without taking the lock (for heuristics).
  size_t approx_size() const { return approx_size_.load(std::memory_order_relaxed); }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  std::atomic<size_t> approx_size_{0};
  bool closed_ = false;
};

template <typename T>
class LaneQueue {
 public:
  LaneQueue(int lanes, size_t capacity_per_lane)
      : capacity_(capacity_per_lane == 0 ? 1 : capacity_per_lane),
        lanes_(lanes),
        paused_(lanes, false) {}

  int lanes() const { return static_cast<int>(lanes_.size()); }

  // Blocks while `lane` is full. Returns false (dropping `item`) once closed.
  bool Push(int lane, T item) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || lanes_[lane].size() < capacity_; });
    if (closed_) return false;
    lanes_[lane].push_back(std::move(item));
    if (!paused_[lane]) not_empty_.notify_one();
    return true;
  }
  // Takes the front item of an unpaused, non-empty lane (round robin), blocking until there
  // is one. Returns false when closed and no unpaused lane has items. Consumer only.
  bool Pop(T* out, int* lane) {
    std::unique_lock<std::mutex> lock(mu_);
    int found = -1;
    not_empty_.wait(lock, [&] {
      found = FindReady();
      return found >= 0 || closed_;
    });
    if (found < 0) return false;
    *out = std::move(lanes_[found].front());
    lanes_[found].pop_front();
    *lane = found;
    next_ = (found + 1) % lanes();
    not_full_.notify_all();
    return true;
  }
  // Non-blocking Pop: false when nothing is ready now.
  bool TryPop(T* out, int* lane) {
    std::lock_guard<std::mutex> lock(mu_);
    int found = FindReady();
    if (found < 0) return false;
    *out = std::move(lanes_[found].front());
    lanes_[found].pop_front();
    *lane = found;
    next_ = (found + 1) % lanes();
    not_full_.notify_all();
    return true;
  }
  // Consumer only.
  void Pause(int lane) {
    std::lock_guard<std::mutex> lock(mu_);
    paused_[lane] = true;
  }
  void ResumeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_.assign(paused_.size(), false);
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }
  size_t size(int lane) const {
    std::lock_guard<std::mutex> lock(mu_);
    return lanes_[lane].size();
  }

 private:
  int FindReady() const {
    int n = lanes();
    for (int i = 0; i < n; ++i) {
      int l = (next_ + i) % n;
      if (!paused_[l] && !lanes_[l].empty()) return l;
    }
    return -1;
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::vector<std::deque<T>> lanes_;
  std::vector<bool> paused_;
  int next_ = 0;
  bool closed_ = false;
};

}  // namespace vigil::engine::runtime
