#include "engine/runtime/decode_stage.h"

#include "engine/runtime/encoded_event.h"

#include <cstdint>
#include <string>

namespace vigil::engine::runtime {

DecodeStage::DecodeStage(Exchange* exchange, StreamRouter* router, bool parallel,
                         size_t decode_lines, FailureLatch* failure,
                         std::function<int64_t()> now_ms)
    : exchange_(exchange),
      router_(router),
      parallel_(parallel),
      decode_lines_(decode_lines == 0 ? 1 : decode_lines),
      max_in_flight_(2 * static_cast<size_t>(exchange->parallelism())),
      failure_(failure),
      now_ms_(std::move(now_ms)) {
  failure_->OnFail([this] {
    { std::lock_guard<std::mutex> lock(completion_.mu); }
    completion_.cv.notify_all();
  });
}

absl::Status DecodeStage::Add(int stream, int partition, const SourceRecord& r) {
  if (r.watermark) return AddWatermark(stream, partition, r);
  StreamRouter::Stream& s = *router_->stream(stream);
  if (!parallel_) return DecodeInline(s, partition, r);
  if (current_ != nullptr && current_->stream != stream) VIGIL_RETURN_IF_ERROR(Dispatch());
  if (current_ == nullptr) {
    if (free_tasks_.empty()) {
      tasks_.push_back(std::make_unique<DecodeTask>());
      tasks_.back()->completion = &completion_;
      free_tasks_.push_back(tasks_.back().get());
    }
    current_ = free_tasks_.back();
    free_tasks_.pop_back();
    current_->stream = stream;
    current_->shard = s.shard;
  }
  DecodeTask& t = *current_;
  t.lines.push_back({t.text.size(), r.text.size(), r.seq, partition, r.encoded_event});
  t.text.append(r.text);
  if (t.lines.size() >= decode_lines_) return Dispatch();
  return absl::OkStatus();
}

absl::Status DecodeStage::AddWatermark(int stream, int partition, const SourceRecord& r) {
  PendingWatermark w;
  w.stream = stream;
  w.partition = partition;
  w.seq = r.seq;
  w.ms = r.watermark_ms;
  if (!r.watermark_error.empty()) {
    w.error = "line " + std::to_string(r.seq) + ": " + std::string(r.watermark_error);
  }
  w.text = std::string(r.text);
  // Behind the last record read: the task being filled, else the last one dispatched.
  if (current_ != nullptr) {
    w.before = current_->lines.size();
    current_watermarks_.push_back(std::move(w));
    return absl::OkStatus();
  }
  if (!in_flight_.empty()) {
    w.before = SIZE_MAX;
    in_flight_.back().watermarks.push_back(std::move(w));
    return absl::OkStatus();
  }
  return ApplyWatermark(w);  // nothing read before it is pending (always so inline)
}

absl::Status DecodeStage::ApplyWatermark(const PendingWatermark& w) {
  StreamRouter::Stream& s = *router_->stream(w.stream);
  if (!w.error.empty()) return router_->Invalid(s, w.partition, w.seq, w.error, w.text);
  return router_->ExplicitWatermark(s, w.partition, Watermark(w.ms), w.seq, w.text);
}

absl::Status DecodeStage::DecodeInline(StreamRouter::Stream& s, int partition,
                                       const SourceRecord& r) {
  std::shared_ptr<Event> event = s.decoder.NewEvent();
  if (r.encoded_event) {
    VIGIL_RETURN_IF_ERROR(DecodeEncodedEvent(r.text, s.index, s.shard, event.get()));
    int64_t t = event->time.ms;
    return router_->Accept(s, partition, std::move(event), t, kNoRoute);
  }
  absl::Status st = s.decoder.Decode(r.text, r.seq, /*padded=*/true, event.get());
  if (!st.ok()) {
    return router_->Invalid(s, partition, r.seq,
                            std::string_view(st.message().data(), st.message().size()), r.text);
  }
  event->seq |= static_cast<uint64_t>(partition) << kPartitionShift;
  if (s.processing_time()) event->time = EventTime(router_->StampProcessingTime(s, now_ms_()));
  int64_t t = event->time.ms;
  return router_->Accept(s, partition, std::move(event), t, kNoRoute);
}

absl::Status DecodeStage::Dispatch() {
  DecodeTask* t = std::exchange(current_, nullptr);
  if (t == nullptr) return absl::OkStatus();
  StreamRouter::Stream& s = *router_->stream(t->stream);
  if (s.processing_time()) t->stamp = router_->StampProcessingTime(s, now_ms_());
  t->text.append(kSourcePadding, '\0');
  const int p = exchange_->parallelism();
  int w = next_worker_;
  size_t best = exchange_->worker_queue(w).approx_size();
  for (int i = 1; i < p && best > 0; ++i) {
    int c = (next_worker_ + i) % p;
    size_t depth = exchange_->worker_queue(c).approx_size();
    if (depth < best) {
      best = depth;
      w = c;
    }
  }
  next_worker_ = (w + 1) % p;
  in_flight_.push_back({t, std::move(current_watermarks_)});
  current_watermarks_.clear();
  WorkItem it;
  it.kind = WorkItem::kDecode;
  it.task = t;
  VIGIL_RETURN_IF_ERROR(exchange_->PushWork(w, std::move(it)));
  VIGIL_RETURN_IF_ERROR(exchange_->FlushWorker(w));
  while (in_flight_.size() > max_in_flight_) VIGIL_RETURN_IF_ERROR(FinalizeOldest());
  return absl::OkStatus();
}

absl::Status DecodeStage::FinalizeOldest() {
  DecodeTask* t = in_flight_.front().task;
  {
    std::unique_lock<std::mutex> lock(completion_.mu);
    completion_.cv.wait(lock, [&] { return t->done || failure_->failed(); });
    if (!t->done) return failure_->ErrorOr("stopped");
  }
  std::vector<PendingWatermark> watermarks = std::move(in_flight_.front().watermarks);
  in_flight_.pop_front();
  StreamRouter::Stream& s = *router_->stream(t->stream);
  absl::Status st;
  size_t err = 0;
  size_t next_wm = 0;
  for (size_t i = 0; i < t->decoded.size() && st.ok(); ++i) {
    while (st.ok() && next_wm < watermarks.size() && watermarks[next_wm].before <= i) {
      st = ApplyWatermark(watermarks[next_wm++]);
    }
    if (!st.ok()) break;
    DecodeTask::Decoded& d = t->decoded[i];
    const DecodeTask::Line& line = t->lines[i];
    if (!d.event) {
      st = router_->Invalid(s, line.partition, line.seq, t->errors[err++], t->line(i));
    } else {
      st = router_->Accept(s, line.partition, std::move(d.event), d.time, d.route);
    }
  }
  while (st.ok() && next_wm < watermarks.size()) st = ApplyWatermark(watermarks[next_wm++]);
  t->text.clear();
  t->lines.clear();
  t->decoded.clear();
  t->errors.clear();
  t->done = false;
  free_tasks_.push_back(t);
  return st;
}

absl::Status DecodeStage::Drain() {
  VIGIL_RETURN_IF_ERROR(Dispatch());
  while (!in_flight_.empty()) VIGIL_RETURN_IF_ERROR(FinalizeOldest());
  return absl::OkStatus();
}

}  // namespace vigil::engine::runtime
