#include "engine/runtime/worker.h"

#include "engine/metrics/metrics.h"
#include "engine/runtime/clock.h"
#include "engine/state/state_key.h"

namespace vigil::engine::runtime {

namespace {

// How long a busy worker may hold records before handing them to the output stage.
constexpr int64_t kOutputLingerUs = 1000;

// Writes an operator's snapshot into a WriteBatch under the operator's state id.
class BatchSnapshotWriter final : public SnapshotWriter {
 public:
  BatchSnapshotWriter(uint32_t op, state::WriteBatch* batch) : op_(op), batch_(batch) {}
  void Put(uint16_t key_group, std::string_view key, std::string_view value) override {
    batch_->Put(state::StateKey(op_, key_group, key), std::string(value));
  }
  void Delete(uint16_t key_group, std::string_view key) override {
    batch_->Delete(state::StateKey(op_, key_group, key));
  }

 private:
  uint32_t op_;
  state::WriteBatch* batch_;
};

}  // namespace

Worker::Worker(int index, const Topology* topology, Exchange* exchange,
               state::StateBackend* backend, FailureLatch* failure)
    : index_(index),
      topology_(topology),
      exchange_(exchange),
      backend_(backend),
      failure_(failure) {}

absl::StatusOr<std::unique_ptr<Worker>> Worker::Create(int index, const Topology* topology,
                                                       Exchange* exchange,
                                                       state::StateBackend* backend,
                                                       const RuleOperatorOptions& options,
                                                       metrics::Metrics* metrics,
                                                       FailureLatch* failure) {
  std::unique_ptr<Worker> w(new Worker(index, topology, exchange, backend, failure));
  const size_t n = topology->rule_count();
  w->ops_.resize(n);
  w->last_stats_.resize(n);
  w->decoders_.resize(topology->rules().streams.size());
  for (size_t r = 0; r < n; ++r) {
    if (!topology->runs(r)) continue;
    VIGIL_ASSIGN_OR_RETURN(w->ops_[r], MakeRuleOperator(topology->rules_ptr(),
                                                        static_cast<int>(r), options, w.get()));
  }
  if (metrics != nullptr) {
    w->rule_metrics_.resize(n);
    for (size_t r = 0; r < n; ++r) {
      if (!topology->runs(r)) continue;
      const std::string& name = topology->rules().rules[r].name;
      w->rule_metrics_[r] = {metrics->RuleMatches(name), metrics->RuleTimeouts(name),
                             metrics->RuleDroppedPartialMatches(name),
                             metrics->RulePartialMatches(name)};
    }
    w->depth_ = metrics->QueueDepth("worker-" + std::to_string(index));
    exchange->SetQueueDepthGauge(index, w->depth_);
  }
  return w;
}

absl::Status Worker::Route(const Record& r, const std::vector<int>& sinks) {
  if (pending_.empty()) pending_since_us_ = SteadyUs();
  OutItem item;
  item.record = r;
  item.sinks = sinks;
  pending_.push_back(std::move(item));
  if (pending_.size() >= exchange_->batch_items()) return Flush();
  return absl::OkStatus();
}

// After a batch of work: records leave for the output stage when this worker is about to wait
// for input, or once the oldest has waited kOutputLingerUs; a busy worker thus hands over
// records in batches rather than waking the output thread for every input batch.
absl::Status Worker::MaybeFlush() {
  if (pending_.empty()) return absl::OkStatus();
  if (exchange_->inline_worker() || exchange_->worker_queue(index_).approx_size() == 0 ||
      SteadyUs() - pending_since_us_ >= kOutputLingerUs) {
    return Flush();
  }
  return absl::OkStatus();
}

absl::Status Worker::Flush() {
  if (pending_.empty()) return absl::OkStatus();
  VIGIL_RETURN_IF_ERROR(PushLane(std::move(pending_)));
  pending_ = OutBatch();
  pending_.reserve(exchange_->batch_items());
  return absl::OkStatus();
}

absl::Status Worker::PushLane(OutBatch batch) {
  if (!exchange_->out().Push(index_, std::move(batch))) return failure_->ErrorOr("stopped");
  return absl::OkStatus();
}

void Worker::Loop() {
  WorkBatch batch;
  bool ended = false;
  BoundedQueue<WorkBatch>& in = exchange_->worker_queue(index_);
  while (!ended && in.Pop(&batch)) {
    if (depth_ != nullptr) depth_->Set(static_cast<int64_t>(in.size()));
    absl::Status st = Handle(batch, &ended);
    if (!st.ok()) {
      failure_->Fail(st);
      return;
    }
  }
}

absl::Status Worker::Handle(WorkBatch& batch, bool* ended) {
  for (WorkItem& item : batch) {
    switch (item.kind) {
      case WorkItem::kEvent:
        VIGIL_RETURN_IF_ERROR(ops_[item.index]->Process(item.event));
        break;
      case WorkItem::kWatermark:
        for (int r : topology_->rules_of_stream(item.index)) {
          VIGIL_RETURN_IF_ERROR(ops_[r]->AdvanceWatermark(Watermark(item.value)));
        }
        break;
      case WorkItem::kBarrier:
        VIGIL_RETURN_IF_ERROR(OnBarrier(item.barrier));
        break;
      case WorkItem::kDecode:
        Decode(*item.task);
        break;
      case WorkItem::kEnd:
        VIGIL_RETURN_IF_ERROR(Flush());
        UpdateMetrics(/*force=*/true);
        OutBatch end;
        end.push_back(OutItem::End());
        VIGIL_RETURN_IF_ERROR(PushLane(std::move(end)));
        *ended = true;
        return absl::OkStatus();
    }
  }
  batch.clear();
  VIGIL_RETURN_IF_ERROR(MaybeFlush());
  UpdateMetrics();
  DiscardChanges();
  return absl::OkStatus();
}

void Worker::Decode(DecodeTask& t) {
  const cep::StreamDef& def = topology_->rules().streams[t.stream];
  std::unique_ptr<EventDecoder>& d = decoders_[t.stream];
  if (!d) d = std::make_unique<EventDecoder>(def, static_cast<uint32_t>(t.stream));
  t.decoded.clear();
  t.errors.clear();
  t.decoded.reserve(t.lines.size());
  const bool processing_time = def.event_time_slot < 0;
  for (size_t i = 0; i < t.lines.size(); ++i) {
    std::shared_ptr<Event> e = d->NewEvent();
    absl::Status st = d->Decode(t.line(i), t.lines[i].seq, /*padded=*/true, e.get());
    if (!st.ok()) {
      t.decoded.push_back({nullptr, 0, 0});
      t.errors.emplace_back(st.message());
      continue;
    }
    e->seq |= static_cast<uint64_t>(t.lines[i].partition) << kPartitionShift;
    if (processing_time) e->time = EventTime(t.stamp);
    int64_t time = e->time.ms;
    uint64_t route = topology_->PrecomputeRoute(t.stream, *e);
    t.decoded.push_back({std::move(e), time, route});
  }
  t.MarkDone();
}

absl::Status Worker::OnBarrier(const std::shared_ptr<const BarrierInfo>& info) {
  absl::Status part = backend_ != nullptr ? Snapshot() : absl::OkStatus();
  VIGIL_RETURN_IF_ERROR(Flush());
  OutItem item;
  item.barrier = info;
  item.barrier_status = part;
  OutBatch b;
  b.push_back(std::move(item));
  return PushLane(std::move(b));
}

absl::Status Worker::Snapshot() {
  state::WriteBatch batch;
  const bool full = need_full_;
  state::KeyGroupRange range = topology_->RangeOfWorker(index_);
  for (size_t r = 0; r < ops_.size(); ++r) {
    if (!ops_[r]) continue;
    uint32_t id = topology_->op_id(r);
    if (full && !range.empty()) {
      // A previous write failed: rewrite this worker's whole range.
      auto [begin, end] = state::KeyGroupRangeBounds(id, range);
      VIGIL_RETURN_IF_ERROR(
          backend_->ScanRange(begin, end, [&](std::string_view k, std::string_view) {
            batch.Delete(std::string(k));
            return true;
          }));
    }
    BatchSnapshotWriter writer(id, &batch);
    absl::Status st = ops_[r]->Snapshot(&writer, full);
    if (!st.ok()) {
      need_full_ = true;
      return st;
    }
  }
  absl::Status st = batch.empty() ? absl::OkStatus() : backend_->Write(batch);
  need_full_ = !st.ok();
  return st;
}

// Without a backend nothing ever snapshots, yet operators track their changed keys for the
// next snapshot: forgetting them every second keeps that tracking bounded.
void Worker::DiscardChanges() {
  if (backend_ != nullptr) return;
  int64_t now = SteadyMs();
  if (now < next_discard_ms_) return;
  next_discard_ms_ = now + 1000;
  for (auto& op : ops_) {
    if (op) op->DiscardChanges();
  }
}

// Operator stats may walk the live keys: exported at most every 250 ms (and at the end).
void Worker::UpdateMetrics(bool force) {
  if (rule_metrics_.empty()) return;
  int64_t now = SteadyMs();
  if (!force && now < next_metrics_ms_) return;
  next_metrics_ms_ = now + 250;
  for (size_t r = 0; r < ops_.size(); ++r) {
    if (!ops_[r]) continue;
    OperatorStats cur = ops_[r]->stats();
    OperatorStats& last = last_stats_[r];
    RuleMetrics& m = rule_metrics_[r];
    if (cur.matches > last.matches) m.matches->Inc(cur.matches - last.matches);
    if (cur.timeouts > last.timeouts) m.timeouts->Inc(cur.timeouts - last.timeouts);
    if (cur.dropped_partial_matches > last.dropped_partial_matches) {
      m.dropped->Inc(cur.dropped_partial_matches - last.dropped_partial_matches);
    }
    m.partial->Inc(static_cast<int64_t>(cur.partial_matches) -
                   static_cast<int64_t>(last.partial_matches));
    last = cur;
  }
}

}  // namespace vigil::engine::runtime
