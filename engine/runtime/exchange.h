#pragma once
// The queues between the job's threads and the router's side of them:
//
//   router --(BoundedQueue per worker: WorkBatch)--> workers
//   workers, router --(LaneQueue: lane w = worker w, lane P = the router)--> output stage
//
// The router appends work for worker w to a pending batch (PushWork) that leaves when it holds
// `batch_items` items or on FlushWorker/FlushAll. Before a batch leaves, the watermarks the
// worker has not seen yet are appended to it: a watermark always travels after the events it
// released. Records the router itself produces (late records, dead letters, barriers) go
// through the router lane. Bounded queues make a slow stage block its producers
// (backpressure).
//
// With a single inline worker (parallelism 1) nothing crosses threads: Deliver applies a batch
// through the inline handler on the router's thread.
//
// Thread-safety: the Push*/Flush*/Deliver methods are the router's (one thread); the queues
// themselves are thread-safe (workers Pop their queue and push to their lane).
#include <functional>
#include <memory>
#include <vector>

#include "core/status.h"
#include "engine/runtime/failure.h"
#include "engine/runtime/messages.h"
#include "engine/runtime/queues.h"

namespace vigil::engine::metrics {
class Gauge;
}

namespace vigil::engine::runtime {

class Exchange {
 public:
  // `streams`: the number of streams (watermarks are tracked per worker and stream).
  Exchange(int parallelism, size_t streams, size_t batch_items, size_t queue_batches,
           FailureLatch* failure);

  int parallelism() const { return parallelism_; }
  int router_lane() const { return parallelism_; }
  size_t batch_items() const { return batch_items_; }

  // The router's view of a stream's watermark that workers may see (every event at or before
  // it has been routed); FlushWorker appends it to the worker's batch when it moved.
  void SetReleasedWatermark(int stream, int64_t wm) { released_wm_[stream] = wm; }
  int64_t released_watermark(int stream) const { return released_wm_[stream]; }
  // After a restore: workers have seen every watermark up to the checkpoint's.
  void SetSentWatermark(int stream, int64_t wm);

  absl::Status PushWork(int worker, WorkItem item);
  absl::Status FlushWorker(int worker);
  absl::Status Deliver(int worker, WorkBatch batch);
  absl::Status PushRouterOut(OutItem item);
  absl::Status FlushRouterLane();
  absl::Status FlushAll();  // every worker's pending batch, then the router lane

  // parallelism 1: batches are applied on the router's thread by `handler` instead of queued.
  void SetInlineHandler(std::function<absl::Status(WorkBatch&)> handler) {
    inline_handler_ = std::move(handler);
  }
  bool inline_worker() const { return static_cast<bool>(inline_handler_); }

  BoundedQueue<WorkBatch>& worker_queue(int w) { return *worker_queues_[w]; }
  LaneQueue<OutBatch>& out() { return out_; }
  void SetQueueDepthGauge(int worker, metrics::Gauge* g) { depth_gauges_[worker] = g; }

  // Wakes every waiter; pushes fail from now on (the job failed or stopped).
  void Close();

 private:
  const int parallelism_;
  const size_t batch_items_;
  FailureLatch* failure_;
  std::vector<std::unique_ptr<BoundedQueue<WorkBatch>>> worker_queues_;
  LaneQueue<OutBatch> out_;
  std::vector<WorkBatch> pending_;             // by worker
  std::vector<int64_t> released_wm_;           // by stream
  std::vector<std::vector<int64_t>> sent_wm_;  // [worker][stream]
  OutBatch router_out_;
  std::function<absl::Status(WorkBatch&)> inline_handler_;
  std::vector<metrics::Gauge*> depth_gauges_;
};

}  // namespace vigil::engine::runtime
