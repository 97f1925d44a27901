#include "engine/runtime/worker.h"

#include "absl/container/flat_hash_map.h"
#include "engine/metrics/metrics.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/encoded_event.h"
#include "engine/state/state_key.h"

namespace vigil::engine::runtime {

namespace {

// How long a busy worker may hold records before handing them to the output stage.
constexpr int64_t kOutputLingerUs = 1000;
// How often operator stats (which may walk the live keys) are exported.
constexpr int64_t kStatsIntervalMs = 250;

// Writes an operator's snapshot into a WriteBatch under the operator's state id, and (scale-out)
// hands every change to the stream's partition state sink (its changelog) too.
class BatchSnapshotWriter final : public SnapshotWriter {
 public:
  BatchSnapshotWriter(uint32_t op, state::WriteBatch* batch, PartitionStateSink* changelog,
                      uint64_t checkpoint)
      : op_(op), batch_(batch), changelog_(changelog), checkpoint_(checkpoint) {}
  void Put(uint16_t key_group, std::string_view key, std::string_view value) override {
    std::string k = state::StateKey(op_, key_group, key);
    std::string v(value);
    if (changelog_ != nullptr) changelog_->Changed(checkpoint_, key_group, k, &v);
    batch_->Put(std::move(k), std::move(v));
  }
  void Delete(uint16_t key_group, std::string_view key) override {
    std::string k = state::StateKey(op_, key_group, key);
    if (changelog_ != nullptr) changelog_->Changed(checkpoint_, key_group, k, nullptr);
    batch_->Delete(std::move(k));
  }

 private:
  uint32_t op_;
  state::WriteBatch* batch_;
  PartitionStateSink* changelog_;
  uint64_t checkpoint_;
};

}  // namespace

// ---- OperatorOutput ----

Worker::OperatorOutput::OperatorOutput(Worker* worker, const cep::RuleSet& built_from)
    : worker_(worker) {
  for (const cep::SinkDef& s : built_from.sinks) sink_names_.push_back(s.name);
}

absl::Status Worker::OperatorOutput::Route(const Record& r, const std::vector<int>& sinks) {
  if (remap_.empty()) return worker_->Route(r, sinks);
  mapped_.clear();
  for (int i : sinks) mapped_.push_back(i >= 0 && i < static_cast<int>(remap_.size()) ? remap_[i] : -1);
  return worker_->Route(r, mapped_);
}

void Worker::OperatorOutput::Remap(const cep::RuleSet& current) {
  remap_.clear();
  bool identity = current.sinks.size() >= sink_names_.size();
  std::vector<int> map(sink_names_.size(), -1);
  for (size_t i = 0; i < sink_names_.size(); ++i) {
    map[i] = current.FindSink(sink_names_[i]);
    identity = identity && map[i] == static_cast<int>(i);
  }
  if (!identity) remap_ = std::move(map);
}

// ---- Worker ----

Worker::Worker(int index, std::shared_ptr<const Topology> topology, Exchange* exchange,
               state::StateBackend* backend, const RuleOperatorOptions& options,
               metrics::Metrics* metrics, StatusBoard* board, FailureLatch* failure)
    : index_(index),
      topology_(std::move(topology)),
      exchange_(exchange),
      backend_(backend),
      options_(options),
      metrics_(metrics),
      board_(board),
      failure_(failure) {}

absl::StatusOr<Worker::Slot> Worker::MakeSlot(size_t rule) {
  Slot slot;
  slot.output = std::make_unique<OperatorOutput>(this, topology_->rules());
  VIGIL_ASSIGN_OR_RETURN(slot.op, MakeRuleOperator(topology_->rules_ptr(), static_cast<int>(rule),
                                                   options_, slot.output.get()));
  return slot;
}

absl::StatusOr<std::unique_ptr<Worker>> Worker::Create(
    int index, std::shared_ptr<const Topology> topology, Exchange* exchange,
    state::StateBackend* backend, const RuleOperatorOptions& options, metrics::Metrics* metrics,
    StatusBoard* board, FailureLatch* failure) {
  std::unique_ptr<Worker> w(new Worker(index, std::move(topology), exchange, backend, options,
                                       metrics, board, failure));
  const Topology& t = *w->topology_;
  w->ops_.resize(t.rule_count());
  w->decoders_.resize(t.rules().streams.size());
  w->watermarks_.assign(t.rules().streams.size(), Watermark::Min().ms);
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!t.runs(r)) continue;
    VIGIL_ASSIGN_OR_RETURN(w->ops_[r], w->MakeSlot(r));
  }
  if (metrics != nullptr) {
    w->depth_ = metrics->QueueDepth("worker-" + std::to_string(index));
    exchange->SetQueueDepthGauge(index, w->depth_);
  }
  w->ResolveMetrics();
  return w;
}

void Worker::ResolveMetrics() {
  const Topology& t = *topology_;
  last_stats_.assign(t.rule_count(), OperatorStats());
  rule_metrics_.clear();
  if (metrics_ == nullptr) return;
  rule_metrics_.resize(t.rule_count());
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!ops_[r].op) continue;
    const std::string& name = t.rules().rules[r].name;
    rule_metrics_[r] = {metrics_->RuleMatches(name), metrics_->RuleTimeouts(name),
                        metrics_->RuleDroppedPartialMatches(name),
                        metrics_->RulePartialMatches(name)};
  }
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
        VIGIL_RETURN_IF_ERROR(ops_[item.index].op->Process(item.event));
        break;
      case WorkItem::kWatermark:
        watermarks_[item.index] = item.value;
        for (int r : topology_->rules_of_stream(item.index)) {
          VIGIL_RETURN_IF_ERROR(ops_[r].op->AdvanceWatermark(Watermark(item.value)));
        }
        break;
      case WorkItem::kBarrier:
        VIGIL_RETURN_IF_ERROR(OnBarrier(item.barrier));
        break;
      case WorkItem::kDecode:
        Decode(*item.task);
        break;
      case WorkItem::kInspect:
        Inspect(*item.inspect);
        break;
      case WorkItem::kResetStream:
        VIGIL_RETURN_IF_ERROR(ResetStream(item.index));
        break;
      case WorkItem::kLoadState:
        VIGIL_RETURN_IF_ERROR(LoadState(item.index, *item.state));
        break;
      case WorkItem::kEnd: {
        VIGIL_RETURN_IF_ERROR(Flush());
        UpdateMetrics(/*force=*/true);
        OutBatch end;
        end.push_back(OutItem::End());
        VIGIL_RETURN_IF_ERROR(PushLane(std::move(end)));
        *ended = true;
        return absl::OkStatus();
      }
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
    if (t.lines[i].encoded) {
      // Already decoded by the writer (scale-out): the router routes it by its shard.
      absl::Status st = DecodeEncodedEvent(t.line(i), t.stream, t.shard, e.get());
      if (!st.ok()) {
        t.decoded.push_back({nullptr, 0, 0});
        t.errors.emplace_back(st.message());
        continue;
      }
      int64_t time = e->time.ms;
      t.decoded.push_back({std::move(e), time, kNoRoute});
      continue;
    }
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

absl::Status Worker::ResetStream(int stream) {
  // Another process owns the stream's partition now: its rules' state here is dropped (it is
  // not written to any snapshot: the new owner restored it from the changelog).
  for (int r : topology_->rules_of_stream(stream)) {
    if (!ops_[r].op) continue;
    if (!rule_metrics_.empty() && rule_metrics_[r].partial != nullptr) {
      rule_metrics_[r].partial->Dec(static_cast<int64_t>(last_stats_[r].partial_matches));
    }
    last_stats_[r] = OperatorStats();
    VIGIL_ASSIGN_OR_RETURN(ops_[r], MakeSlot(r));
  }
  watermarks_[stream] = Watermark::Min().ms;
  return absl::OkStatus();
}

absl::Status Worker::LoadState(int stream,
                               const std::vector<std::pair<std::string, std::string>>& entries) {
  const Topology& t = *topology_;
  const std::vector<int>& rules = t.rules_of_stream(stream);
  for (const auto& [key, value] : entries) {
    std::optional<uint16_t> kg = state::KeyGroupOf(key);
    std::optional<uint32_t> op = state::OperatorOf(key);
    if (!kg || !op) return absl::DataLossError("restored state: malformed state key");
    int rule = -1;
    for (int r : rules) {
      if (ops_[r].op && t.op_id(r) == *op) rule = r;
    }
    if (rule < 0) continue;  // a rule this run does not have (its state is dropped)
    VIGIL_RETURN_IF_ERROR(ops_[rule].op->Restore(*kg, state::UserKeyOf(key), value));
  }
  return absl::OkStatus();
}

void Worker::Inspect(const InspectRequest& req) {
  std::optional<KeyInspection> out;
  if (req.rule >= 0 && req.rule < static_cast<int>(ops_.size()) && ops_[req.rule].op) {
    out = ops_[req.rule].op->Inspect(req.key);
  }
  req.reply(std::move(out));
}

absl::Status Worker::OnBarrier(const std::shared_ptr<const BarrierInfo>& info) {
  absl::Status part;
  if (info->checkpoint && backend_ != nullptr) {
    static const std::vector<uint32_t> kNone;
    part = Snapshot(info->id, info->reconfig ? info->reconfig->dropped_op_ids : kNone);
  }
  VIGIL_RETURN_IF_ERROR(Flush());
  OutItem item;
  item.barrier = info;
  item.barrier_status = part;
  OutBatch b;
  b.push_back(std::move(item));
  VIGIL_RETURN_IF_ERROR(PushLane(std::move(b)));
  // Everything after the barrier belongs to the new rules.
  if (info->reconfig) VIGIL_RETURN_IF_ERROR(Reconfigure(*info->reconfig));
  return absl::OkStatus();
}

absl::Status Worker::Reconfigure(const Reconfiguration& rc) {
  const Topology& old_t = *topology_;
  absl::flat_hash_map<uint32_t, size_t> old_index;  // op id -> old rule index
  for (size_t r = 0; r < old_t.rule_count(); ++r) {
    if (ops_[r].op) old_index[old_t.op_id(r)] = r;
  }
  std::vector<Slot> old_ops = std::move(ops_);
  std::vector<OperatorStats> old_last = std::move(last_stats_);
  std::vector<RuleMetrics> old_metrics = std::move(rule_metrics_);
  topology_ = rc.topology;
  const Topology& t = *topology_;
  ops_.clear();
  ops_.resize(t.rule_count());
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!t.runs(r)) continue;
    auto it = old_index.find(t.op_id(r));
    if (it != old_index.end() && old_ops[it->second].op) {
      // Unchanged rule: the same operator, with its state, now at index r.
      ops_[r] = std::move(old_ops[it->second]);
      ops_[r].output->Remap(t.rules());
      continue;
    }
    VIGIL_ASSIGN_OR_RETURN(ops_[r], MakeSlot(r));
    int stream = t.rules().rules[r].stream;
    if (watermarks_[stream] > Watermark::Min().ms) {
      VIGIL_RETURN_IF_ERROR(ops_[r].op->AdvanceWatermark(Watermark(watermarks_[stream])));
    }
  }
  ResolveMetrics();
  // Metrics count on from where each kept operator was; dropped operators take their partial
  // matches off the gauge.
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!ops_[r].op) continue;
    auto it = old_index.find(t.op_id(r));
    if (it != old_index.end() && !old_ops[it->second].op) last_stats_[r] = old_last[it->second];
  }
  for (size_t o = 0; o < old_ops.size(); ++o) {
    if (old_ops[o].op && !old_metrics.empty() && old_metrics[o].partial != nullptr) {
      old_metrics[o].partial->Dec(static_cast<int64_t>(old_last[o].partial_matches));
    }
  }
  UpdateMetrics(/*force=*/true);
  return absl::OkStatus();
}

absl::Status Worker::Snapshot(uint64_t checkpoint, const std::vector<uint32_t>& dropped_op_ids) {
  state::WriteBatch batch;
  const bool full = need_full_;
  state::KeyGroupRange range = topology_->RangeOfWorker(index_);
  auto delete_range = [&](uint32_t id) -> absl::Status {
    if (range.empty()) return absl::OkStatus();
    auto [begin, end] = state::KeyGroupRangeBounds(id, range);
    return backend_->ScanRange(begin, end, [&](std::string_view k, std::string_view) {
      batch.Delete(std::string(k));
      return true;
    });
  };
  for (size_t r = 0; r < ops_.size(); ++r) {
    if (!ops_[r].op) continue;
    uint32_t id = topology_->op_id(r);
    // A previous write failed: rewrite this worker's whole range.
    if (full) VIGIL_RETURN_IF_ERROR(delete_range(id));
    int stream = topology_->rules().rules[r].stream;
    PartitionStateSink* changelog =
        stream < static_cast<int>(changelogs_.size()) ? changelogs_[stream] : nullptr;
    BatchSnapshotWriter writer(id, &batch, changelog, checkpoint);
    absl::Status st = ops_[r].op->Snapshot(&writer, full);
    if (!st.ok()) {
      need_full_ = true;
      return st;
    }
  }
  // Rules a deploy removes or changes at this barrier: their state goes with this snapshot.
  for (uint32_t id : dropped_op_ids) VIGIL_RETURN_IF_ERROR(delete_range(id));
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
  for (auto& slot : ops_) {
    if (slot.op) slot.op->DiscardChanges();
  }
}

// Operator stats may walk the live keys: exported at most every kStatsIntervalMs (and at the
// end) to the metrics and the status board.
void Worker::UpdateMetrics(bool force) {
  if (rule_metrics_.empty() && board_ == nullptr) return;
  int64_t now = SteadyMs();
  if (!force && now < next_metrics_ms_) return;
  next_metrics_ms_ = now + kStatsIntervalMs;
  std::vector<OperatorStats> all(ops_.size());
  for (size_t r = 0; r < ops_.size(); ++r) {
    if (!ops_[r].op) continue;
    OperatorStats cur = ops_[r].op->stats();
    all[r] = cur;
    if (rule_metrics_.empty()) continue;
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
  if (board_ != nullptr) board_->PublishWorker(index_, topology_->version(), std::move(all));
}

}  // namespace vigil::engine::runtime
