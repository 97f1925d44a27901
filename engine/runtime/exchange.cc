#include "engine/runtime/exchange.h"

#include "engine/metrics/metrics.h"

namespace vigil::engine::runtime {

Exchange::Exchange(int parallelism, size_t streams, size_t batch_items, size_t queue_batches,
                   FailureLatch* failure)
    : parallelism_(parallelism),
      batch_items_(batch_items == 0 ? 1 : batch_items),
      failure_(failure),
      out_(parallelism + 1, queue_batches),
      pending_(parallelism),
      released_wm_(streams, Watermark::Min().ms),
      sent_wm_(parallelism, std::vector<int64_t>(streams, Watermark::Min().ms)),
      depth_gauges_(parallelism, nullptr) {
  for (int w = 0; w < parallelism; ++w) {
    worker_queues_.push_back(std::make_unique<BoundedQueue<WorkBatch>>(queue_batches));
  }
}

void Exchange::SetSentWatermark(int stream, int64_t wm) {
  released_wm_[stream] = wm;
  for (auto& sent : sent_wm_) sent[stream] = wm;
}

absl::Status Exchange::PushWork(int w, WorkItem item) {
  WorkBatch& b = pending_[w];
  b.push_back(std::move(item));
  if (b.size() >= batch_items_) return FlushWorker(w);
  return absl::OkStatus();
}

absl::Status Exchange::FlushWorker(int w) {
  WorkBatch& b = pending_[w];
  std::vector<int64_t>& sent = sent_wm_[w];
  for (size_t s = 0; s < released_wm_.size(); ++s) {
    int64_t wm = released_wm_[s];
    if (wm > sent[s]) {
      WorkItem it;
      it.kind = WorkItem::kWatermark;
      it.index = static_cast<int32_t>(s);
      it.value = wm;
      b.push_back(std::move(it));
      sent[s] = wm;
    }
  }
  if (b.empty()) return absl::OkStatus();
  return Deliver(w, std::move(b));
}

absl::Status Exchange::Deliver(int w, WorkBatch b) {
  if (inline_handler_) {
    // No hand-off between threads: --parallelism 1 runs at single-thread speed.
    absl::Status st = inline_handler_(b);
    b.clear();
    pending_[w] = std::move(b);
    return st;
  }
  if (!worker_queues_[w]->Push(std::move(b))) return failure_->ErrorOr("stopped");
  if (depth_gauges_[w] != nullptr) {
    depth_gauges_[w]->Set(static_cast<int64_t>(worker_queues_[w]->size()));
  }
  pending_[w] = WorkBatch();
  pending_[w].reserve(batch_items_ + released_wm_.size());
  return absl::OkStatus();
}

absl::Status Exchange::PushRouterOut(OutItem item) {
  router_out_.push_back(std::move(item));
  if (router_out_.size() >= batch_items_) return FlushRouterLane();
  return absl::OkStatus();
}

absl::Status Exchange::FlushRouterLane() {
  if (router_out_.empty()) return absl::OkStatus();
  if (!out_.Push(router_lane(), std::move(router_out_))) return failure_->ErrorOr("stopped");
  router_out_ = OutBatch();
  return absl::OkStatus();
}

absl::Status Exchange::FlushAll() {
  for (int w = 0; w < parallelism_; ++w) VIGIL_RETURN_IF_ERROR(FlushWorker(w));
  return FlushRouterLane();
}

void Exchange::Close() {
  for (auto& q : worker_queues_) q->Close();
  out_.Close();
}

}  // namespace vigil::engine::runtime
