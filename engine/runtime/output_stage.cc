#include "engine/runtime/output_stage.h"

#include "absl/container/flat_hash_set.h"
#include "engine/metrics/metrics.h"

namespace vigil::engine::runtime {

namespace {
constexpr char kDefaultOutputName[] = "output";
constexpr char kDeadLetterName[] = "dead-letter";
}  // namespace

OutputStage::OutputStage(Exchange* exchange, JobOutputs outputs, metrics::Metrics* metrics,
                         StatusBoard* board, std::function<void(const Record&)> observer,
                         FailureLatch* failure, AlignedFn on_aligned)
    : exchange_(exchange),
      outputs_(std::move(outputs)),
      metrics_(metrics),
      board_(board),
      observer_(std::move(observer)),
      failure_(failure),
      on_aligned_(std::move(on_aligned)) {
  outputs_.flush_when_idle.resize(outputs_.sinks.size(), true);
  outputs_.sink_names.resize(outputs_.sinks.size());
  if (metrics != nullptr) {
    m_default_records_ = metrics->SinkRecords(kDefaultOutputName);
    m_depth_ = metrics->QueueDepth("output");
  }
  ResolveSinkMetrics();
}

void OutputStage::ResolveSinkMetrics() {
  m_sink_records_.clear();
  m_sink_errors_.clear();
  if (metrics_ == nullptr) return;
  for (size_t i = 0; i < outputs_.sinks.size(); ++i) {
    m_sink_records_.push_back(metrics_->SinkRecords(outputs_.sink_names[i]));
    m_sink_errors_.push_back(metrics_->SinkErrors(outputs_.sink_names[i]));
  }
}

std::vector<std::pair<std::string, Sink*>> OutputStage::sinks() const {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  std::vector<std::pair<std::string, Sink*>> out;
  if (outputs_.default_output != nullptr) {
    out.emplace_back(kDefaultOutputName, outputs_.default_output);
  }
  for (size_t i = 0; i < outputs_.sinks.size(); ++i) {
    if (outputs_.sinks[i] != nullptr) out.emplace_back(outputs_.sink_names[i], outputs_.sinks[i]);
  }
  return out;
}

absl::Status OutputStage::Reconfigure(const Reconfiguration& rc, uint64_t barrier_id) {
  // Sinks no longer used deliver what they hold (records before the barrier), then stop. A
  // sink that cannot (a file that cannot be written) stops the job, as a failed write would.
  for (Sink* s : rc.closed_sinks) VIGIL_RETURN_IF_ERROR(s->Close());
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    outputs_.sinks = rc.sinks;
    outputs_.sink_names = rc.sink_names;
    outputs_.flush_when_idle = rc.flush_when_idle;
    outputs_.flush_when_idle.resize(outputs_.sinks.size(), true);
    outputs_.sink_names.resize(outputs_.sinks.size());
  }
  ResolveSinkMetrics();
  if (board_ != nullptr) {
    for (const std::string& rule : rc.removed_rules) board_->ForgetRule(rule);
  }
  if (rc.done) rc.done(barrier_id);
  return absl::OkStatus();
}

template <typename Fn>
absl::Status OutputStage::ForEachSink(Fn&& fn) {
  absl::flat_hash_set<Sink*> seen;
  if (outputs_.default_output != nullptr && seen.insert(outputs_.default_output).second) {
    VIGIL_RETURN_IF_ERROR(fn(outputs_.default_output, std::string(kDefaultOutputName),
                             outputs_.default_flush_when_idle));
  }
  for (size_t i = 0; i < outputs_.sinks.size(); ++i) {
    Sink* s = outputs_.sinks[i];
    if (s == nullptr || !seen.insert(s).second) continue;
    VIGIL_RETURN_IF_ERROR(fn(s, outputs_.sink_names[i], outputs_.flush_when_idle[i]));
  }
  return absl::OkStatus();
}

void OutputStage::Run() {
  absl::Status st = Loop();
  if (!st.ok()) failure_->Fail(st);
}

absl::Status OutputStage::Loop() {
  LaneQueue<OutBatch>& out = exchange_->out();
  const int lanes = out.lanes();
  int ended = 0;
  int arrived = 0;
  absl::Status parts;
  std::shared_ptr<const BarrierInfo> current;
  bool dirty = false;
  OutBatch batch;
  int lane = 0;
  while (ended < lanes) {
    NotifyCommitted();
    if (!out.TryPop(&batch, &lane)) {
      // Idle: deliver what is buffered in latency sinks, then wait.
      if (dirty) {
        VIGIL_RETURN_IF_ERROR(FlushIdle());
        dirty = false;
      }
      if (m_depth_ != nullptr) m_depth_->Set(0);
      if (!out.Pop(&batch, &lane)) return failure_->ErrorOr("stopped");
    }
    for (OutItem& item : batch) {
      if (item.end) {
        out.Pause(lane);
        ++ended;
      } else if (item.barrier) {
        out.Pause(lane);
        if (lane == exchange_->router_lane()) current = item.barrier;
        if (!item.barrier_status.ok() && parts.ok()) parts = item.barrier_status;
        if (++arrived == lanes) {
          // A deploy: the records before the barrier are all written; the new sinks take
          // over before anything after it is written (and before the checkpoint's snapshot,
          // which is of the state after the switch).
          if (current->reconfig) VIGIL_RETURN_IF_ERROR(Reconfigure(*current->reconfig, current->id));
          if (current->checkpoint) {
            std::vector<state::CheckpointMeta::SinkState> states;
            if (parts.ok()) {
              // A sink that cannot make its records durable stops the job (they'd be lost).
              VIGIL_RETURN_IF_ERROR(Snapshot(current->id, &states));
            }
            VIGIL_RETURN_IF_ERROR(on_aligned_(current, parts, std::move(states)));
          }
          arrived = 0;
          parts = absl::OkStatus();
          current.reset();
          out.ResumeAll();  // lanes that ended stay paused (they hold nothing more)
        }
      } else {
        VIGIL_RETURN_IF_ERROR(Write(item));
        dirty = true;
      }
    }
    batch.clear();
  }
  NotifyCommitted();
  return CloseAll();
}

absl::Status OutputStage::Write(OutItem& item) {
  if (item.dead_letter) return WriteDeadLetter(*item.dead_letter);
  if (board_ != nullptr) board_->OnRecord(item.record);
  if (observer_) observer_(item.record);
  if (item.sinks.empty()) {
    ++records_;
    if (m_default_records_ != nullptr) m_default_records_->Inc();
    return outputs_.default_output->Write(item.record);
  }
  for (int i : item.sinks) {
    Sink* sink = i >= 0 && i < static_cast<int>(outputs_.sinks.size()) ? outputs_.sinks[i] : nullptr;
    if (sink == nullptr) {
      return absl::InternalError("no sink instance for sink index " + std::to_string(i));
    }
    ++records_;
    absl::Status st = sink->Write(item.record);
    if (!st.ok()) {
      if (!m_sink_errors_.empty()) m_sink_errors_[i]->Inc();
      return st;
    }
    if (!m_sink_records_.empty()) m_sink_records_[i]->Inc();
  }
  return absl::OkStatus();
}

absl::Status OutputStage::WriteDeadLetter(const DeadLetterItem& d) {
  RecordOrigin origin{d.topic, d.partition, d.position};
  if (d.kind == DeadLetterItem::kLate) {
    return outputs_.dead_letter->WriteLate(d.stream, *d.event, d.watermark, origin);
  }
  return outputs_.dead_letter->WriteInvalid(d.stream, d.reason, origin, d.input);
}

absl::Status OutputStage::Snapshot(uint64_t id,
                                   std::vector<state::CheckpointMeta::SinkState>* out) {
  VIGIL_RETURN_IF_ERROR(ForEachSink([&](Sink* s, const std::string& name, bool) -> absl::Status {
    absl::StatusOr<std::string> st = s->SnapshotState(id);
    if (!st.ok()) {
      return absl::Status(st.status().code(),
                          "output '" + name + "': " + std::string(st.status().message()));
    }
    out->push_back({name, std::move(st).value()});
    return absl::OkStatus();
  }));
  // The dead-letter file's records so far are exactly those of the input before the cut (and
  // of sinks that gave up on records before it): its size is its state.
  DeadLetterWriter* dl = outputs_.dead_letter;
  if (dl != nullptr && dl->durable()) {
    VIGIL_RETURN_IF_ERROR(dl->Sync());
    out->push_back({kDeadLetterName, std::to_string(dl->bytes())});
  }
  return absl::OkStatus();
}

absl::Status OutputStage::Restore(const std::vector<state::CheckpointMeta::SinkState>& states,
                                  const std::function<void(std::string_view)>& log) {
  auto find = [&](const std::string& name) -> const std::string* {
    for (const auto& s : states) {
      if (s.name == name) return &s.state;
    }
    return nullptr;
  };
  VIGIL_RETURN_IF_ERROR(ForEachSink([&](Sink* s, const std::string& name, bool) -> absl::Status {
    const std::string* state = find(name);
    if (state == nullptr) return absl::OkStatus();  // an output the checkpoint did not have
    absl::Status st = s->Restore(*state);
    if (!st.ok()) {
      return absl::Status(st.code(), "output '" + name + "': " + std::string(st.message()));
    }
    return absl::OkStatus();
  }));
  DeadLetterWriter* dl = outputs_.dead_letter;
  if (const std::string* state = find(kDeadLetterName); state != nullptr && dl != nullptr &&
                                                          dl->durable()) {
    uint64_t bytes = 0;
    try {
      bytes = std::stoull(*state);
    } catch (...) {
      return absl::DataLossError("checkpoint: malformed dead-letter state");
    }
    VIGIL_RETURN_IF_ERROR(dl->TruncateTo(bytes));
  }
  return absl::OkStatus();
}

absl::Status OutputStage::FlushIdle() {
  return ForEachSink([](Sink* s, const std::string&, bool idle) {
    return idle ? s->Flush() : absl::OkStatus();
  });
}

absl::Status OutputStage::CloseAll() {
  absl::Status first;
  absl::Status st = ForEachSink([&](Sink* s, const std::string& name, bool) {
    absl::Status c = s->Close();
    if (!c.ok() && first.ok()) {
      first = absl::Status(c.code(), "output '" + name + "': " + std::string(c.message()));
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (outputs_.dead_letter != nullptr) {
    absl::Status d = outputs_.dead_letter->Flush();
    if (!d.ok() && first.ok()) first = d;
  }
  return first;
}

void OutputStage::NotifyCommitted() {
  uint64_t c = committed_.load(std::memory_order_acquire);
  if (c <= notified_) return;
  notified_ = c;
  ForEachSink([c](Sink* s, const std::string&, bool) {
    s->NotifyCheckpointComplete(c);
    return absl::OkStatus();
  }).IgnoreError();
}

}  // namespace vigil::engine::runtime
