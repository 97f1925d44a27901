#include "engine/job.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/codec.h"
#include "engine/decode/event_decoder.h"
#include "engine/metrics/metrics.h"
#include "engine/operator/key_group.h"
#include "engine/operator/reorder_buffer.h"
#include "engine/operator/rule_operator.h"
#include "engine/record_id.h"
#include "engine/runtime/queues.h"
#include "engine/stable_hash.h"
#include "engine/state/savepoint.h"
#include "engine/state/state_key.h"
#include "engine/time/watermark.h"

namespace vigil::engine {

namespace {

constexpr int kPartitionShift = 48;
// A route tag meaning "not precomputed": the router hashes the event's partition key itself.
constexpr uint64_t kNoRoute = ~uint64_t{0};
constexpr uint32_t kRouterStateVersion = 1;
// How often (steady clock) the router raises processing-time watermarks to the wall clock and
// checks `idle after`, and how long it waits on a silent input between two checks.
constexpr int64_t kTickMs = 20;

// How long a busy worker may hold records before handing them to the output stage.
constexpr int64_t kOutputLingerUs = 1000;

int64_t SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A checkpoint barrier as the router cut it.
struct BarrierInfo {
  uint64_t id = 0;
  bool savepoint = false;
  bool final = false;
  std::string savepoint_path;
  int64_t started_ms = 0;      // steady clock
  state::CheckpointMeta meta;  // sources, watermarks, router state; sinks added at commit
};

// Lines read from one input, decoded by a worker while the router reads on (parallel
// decoding), then finalized by the router in read order: lateness, watermark, reorder buffer
// and routing stay sequential, so results do not depend on which worker decoded what.
struct DecodeTask {
  struct Line {
    size_t begin;
    size_t size;
    uint64_t line_number;
  };
  struct Decoded {
    EventPtr event;  // null: the line is invalid (its reason is the next entry of `errors`)
    int64_t time;    // event->time, so the router never reads the event
    uint64_t route;  // the worker of each rule reading the stream (Impl::PrecomputeRoute)
  };
  // Filled by the router:
  int stream = 0;
  int partition = 0;
  int64_t stamp = 0;  // processing-time streams: the arrival time stamped on every event
  std::string text;   // the lines back to back, then JsonlSource::kLinePadding bytes
  std::vector<Line> lines;
  // Filled by the decoding worker:
  std::vector<Decoded> decoded;  // by line
  std::vector<std::string> errors;
  bool done = false;  // guarded by Impl::decode_mu

  std::string_view line(size_t i) const {
    return std::string_view(text.data() + lines[i].begin, lines[i].size);
  }
};

struct WorkItem {
  enum Kind : uint8_t { kEvent, kWatermark, kBarrier, kEnd, kDecode };
  Kind kind = kEvent;
  int32_t index = 0;  // rule (kEvent) or stream (kWatermark)
  int64_t value = 0;  // watermark ms (kWatermark)
  EventPtr event;
  std::shared_ptr<const BarrierInfo> barrier;
  DecodeTask* task = nullptr;  // kDecode; owned by the router
};
using WorkBatch = std::vector<WorkItem>;

struct OutItem {
  Record record;
  std::vector<int> sinks;
  std::shared_ptr<const BarrierInfo> barrier;  // non-null: a barrier
  absl::Status barrier_status;                 // the lane's part of the checkpoint
  bool end = false;
};
using OutBatch = std::vector<OutItem>;

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

state::KeyGroupRange RangeOfWorker(int worker, int parallelism) {
  return state::KeyGroupRangeForWorker(kMaxKeyGroups, static_cast<uint32_t>(parallelism),
                                       static_cast<uint32_t>(worker));
}

}  // namespace

uint32_t OperatorStateId(const cep::RuleDef& rule) {
  StableHasher h;
  h.Bytes(rule.fingerprint.data(), rule.fingerprint.size());
  return static_cast<uint32_t>(h.state() ^ (h.state() >> 32));
}

uint64_t JobStats::events() const {
  uint64_t n = 0;
  for (const auto& s : streams) n += s.events;
  return n;
}
uint64_t JobStats::invalid() const {
  uint64_t n = 0;
  for (const auto& s : streams) n += s.invalid;
  return n;
}
uint64_t JobStats::late() const {
  uint64_t n = 0;
  for (const auto& s : streams) n += s.late;
  return n;
}
uint64_t JobStats::matches() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.op.matches;
  return n;
}
uint64_t JobStats::timeouts() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.op.timeouts;
  return n;
}

struct Job::Impl {
  struct StreamRuntime {
    const cep::StreamDef* def;
    int index;
    EventDecoder decoder;
    WatermarkTracker tracker;
    ReorderBuffer buffer;
    std::vector<int> rules;  // indices of the rules reading this stream
    StreamStats stats;
    int64_t last_processing_time = EventTime::Min().ms;
    // The watermark workers may see: every event at or before it has been routed. Lags the
    // tracker while a release is in progress (a batch may be pushed half way through it).
    int64_t released_wm = Watermark::Min().ms;
    int partitions = 0;
    int ended = 0;
    // The workers of all its rules fit in one route tag (Impl::PrecomputeRoute).
    bool route_fits = false;
    metrics::Counter* m_events = nullptr;
    metrics::Counter* m_late = nullptr;
    metrics::Counter* m_invalid = nullptr;
    metrics::WatermarkLag* m_lag = nullptr;

    StreamRuntime(const cep::StreamDef& d, int idx, int parts)
        : def(&d),
          index(idx),
          decoder(d, static_cast<uint32_t>(idx)),
          tracker(d.out_of_order, d.idle_after, parts),
          partitions(parts) {
      stats.name = d.name;
    }
    bool processing_time() const { return def->event_time_slot < 0; }
  };

  struct InputRuntime {
    std::unique_ptr<JsonlSource> source;
    StreamRuntime* stream = nullptr;
    int partition = 0;
    bool ended = false;
    // A non-seekable or followed input at its current end: its wait hook is waiting for data
    // (or yielded to another input). Only such inputs can become idle.
    bool waiting = false;
    int64_t last_data_ms = 0;  // options.now_ms when data last arrived (`idle after`)
    bool live() const { return !source->seekable() || source->following(); }
    bool can_idle() const {
      return live() && !stream->processing_time() && stream->def->idle_after;
    }
  };

  class Worker final : public RecordRouter {
   public:
    Worker(Impl* job, int index) : job_(job), index_(index), in_(job->options.queue_batches) {}

    absl::Status Route(const Record& r, const std::vector<int>& sinks) override {
      if (pending_.empty()) pending_since_us_ = SteadyUs();
      pending_.push_back(OutItem{r, sinks, nullptr, absl::OkStatus(), false});
      if (pending_.size() >= job_->options.batch_items) return Flush();
      return absl::OkStatus();
    }
    // After a batch of work: records leave for the output stage when this worker is about to
    // wait for input, or once the oldest has waited kOutputLingerUs; a busy worker thus hands
    // over records in batches rather than waking the output thread for every input batch.
    absl::Status MaybeFlush() {
      if (pending_.empty()) return absl::OkStatus();
      if (job_->inline_worker || in_.approx_size() == 0 ||
          SteadyUs() - pending_since_us_ >= kOutputLingerUs) {
        return Flush();
      }
      return absl::OkStatus();
    }
    absl::Status Flush() {
      if (pending_.empty()) return absl::OkStatus();
      if (!job_->out.Push(index_, std::move(pending_))) return absl::CancelledError("stopped");
      pending_ = OutBatch();
      pending_.reserve(job_->options.batch_items);
      return absl::OkStatus();
    }

    void Loop() {
      absl::Status st = LoopImpl();
      if (!st.ok()) job_->Fail(st);
    }

    absl::Status LoopImpl() {
      WorkBatch batch;
      bool ended = false;
      while (!ended && in_.Pop(&batch)) {
        if (m_depth_ != nullptr) m_depth_->Set(static_cast<int64_t>(in_.size()));
        VIGIL_RETURN_IF_ERROR(Handle(batch, &ended));
      }
      return absl::OkStatus();
    }

    // Applies one batch of work; sets *ended after the end marker. Runs on the worker's thread,
    // or on the router's when the job has a single inline worker.
    absl::Status Handle(WorkBatch& batch, bool* ended) {
      for (WorkItem& item : batch) {
        switch (item.kind) {
          case WorkItem::kEvent:
            VIGIL_RETURN_IF_ERROR(ops_[item.index]->Process(item.event));
            break;
          case WorkItem::kWatermark:
            for (int r : job_->streams[item.index]->rules) {
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
            if (!job_->out.Push(index_, OutBatch(1, OutItem{{}, {}, nullptr, {}, true}))) {
              return absl::CancelledError("stopped");
            }
            *ended = true;
            return absl::OkStatus();
        }
      }
      batch.clear();
      VIGIL_RETURN_IF_ERROR(MaybeFlush());
      UpdateMetrics();
      return DiscardChanges();
    }

    // Decodes a task's lines for the router (parallel decoding) with this worker's own
    // decoder of the stream, and precomputes each event's route.
    void Decode(DecodeTask& t) {
      const StreamRuntime& s = *job_->streams[t.stream];
      std::unique_ptr<EventDecoder>& d = decoders_[t.stream];
      if (!d) d = std::make_unique<EventDecoder>(*s.def, static_cast<uint32_t>(t.stream));
      t.decoded.clear();
      t.errors.clear();
      t.decoded.reserve(t.lines.size());
      for (size_t i = 0; i < t.lines.size(); ++i) {
        std::shared_ptr<Event> e = d->NewEvent();
        absl::Status st = d->Decode(t.line(i), t.lines[i].line_number, /*padded=*/true, e.get());
        if (!st.ok()) {
          t.decoded.push_back({nullptr, 0, 0});
          t.errors.emplace_back(st.message());
          continue;
        }
        e->seq |= static_cast<uint64_t>(t.partition) << kPartitionShift;
        if (s.processing_time()) e->time = EventTime(t.stamp);
        int64_t time = e->time.ms;
        uint64_t route = job_->PrecomputeRoute(s, *e);
        t.decoded.push_back({std::move(e), time, route});
      }
      job_->DecodeDone(t);
    }

    // Snapshots every operator's changed keys into the backend and forwards the barrier.
    absl::Status OnBarrier(const std::shared_ptr<const BarrierInfo>& info) {
      absl::Status part = Snapshot();
      VIGIL_RETURN_IF_ERROR(Flush());
      OutItem item;
      item.barrier = info;
      item.barrier_status = part;
      if (!job_->out.Push(index_, OutBatch(1, std::move(item)))) {
        return absl::CancelledError("stopped");
      }
      return absl::OkStatus();
    }

    absl::Status Snapshot() {
      state::StateBackend* backend = job_->options.backend;
      state::WriteBatch batch;
      bool full = need_full_;
      state::KeyGroupRange range = RangeOfWorker(index_, job_->parallelism);
      for (size_t r = 0; r < ops_.size(); ++r) {
        if (!ops_[r]) continue;
        uint32_t id = job_->op_ids[r];
        if (full && !range.empty()) {
          // A previous write failed: rewrite this worker's whole range.
          auto [begin, end] = state::KeyGroupRangeBounds(id, range);
          VIGIL_RETURN_IF_ERROR(
              backend->ScanRange(begin, end, [&](std::string_view k, std::string_view) {
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
      absl::Status st = batch.empty() ? absl::OkStatus() : backend->Write(batch);
      need_full_ = !st.ok();
      return st;
    }

    // Without a backend nothing ever snapshots, yet operators track their changed keys for
    // the next snapshot: forgetting them every second keeps that tracking bounded.
    absl::Status DiscardChanges() {
      if (job_->options.backend != nullptr) return absl::OkStatus();
      int64_t now = SteadyMs();
      if (now < next_discard_ms_) return absl::OkStatus();
      next_discard_ms_ = now + 1000;
      for (auto& op : ops_) {
        if (op) op->DiscardChanges();
      }
      return absl::OkStatus();
    }

    // Operator stats may walk the live keys: exported at most every 250 ms (and at the end).
    void UpdateMetrics(bool force = false) {
      if (job_->options.metrics == nullptr) return;
      int64_t now = SteadyMs();
      if (!force && now < next_metrics_ms_) return;
      next_metrics_ms_ = now + 250;
      for (size_t r = 0; r < ops_.size(); ++r) {
        if (!ops_[r]) continue;
        OperatorStats now = ops_[r]->stats();
        OperatorStats& last = last_stats_[r];
        RuleMetrics& m = job_->rule_metrics[r];
        if (now.matches > last.matches) m.matches->Inc(now.matches - last.matches);
        if (now.timeouts > last.timeouts) m.timeouts->Inc(now.timeouts - last.timeouts);
        if (now.dropped_partial_matches > last.dropped_partial_matches) {
          m.dropped->Inc(now.dropped_partial_matches - last.dropped_partial_matches);
        }
        m.partial->Inc(static_cast<int64_t>(now.partial_matches) -
                       static_cast<int64_t>(last.partial_matches));
        last = now;
      }
    }

    Impl* job_;
    int index_;
    runtime::BoundedQueue<WorkBatch> in_;
    std::vector<std::unique_ptr<RuleOperator>> ops_;       // by rule index; null if not run
    std::vector<std::unique_ptr<EventDecoder>> decoders_;  // by stream (parallel decoding)
    std::vector<OperatorStats> last_stats_;
    OutBatch pending_;
    int64_t pending_since_us_ = 0;  // steady clock, when pending_ got its first record
    bool need_full_ = false;
    int64_t next_metrics_ms_ = 0;
    int64_t next_discard_ms_ = 0;
    metrics::Gauge* m_depth_ = nullptr;
    std::thread thread_;
  };

  struct RuleMetrics {
    metrics::Counter* matches = nullptr;
    metrics::Counter* timeouts = nullptr;
    metrics::Counter* dropped = nullptr;
    metrics::Gauge* partial = nullptr;
  };

  explicit Impl(JobOptions opts)
      : options(std::move(opts)),
        parallelism(std::max(options.parallelism, 1)),
        out(parallelism + 1, options.queue_batches) {}

  void Log(std::string_view msg) {
    if (options.log) options.log(msg);
  }
  void Fail(const absl::Status& st) {
    {
      std::lock_guard<std::mutex> lock(error_mu);
      if (error.ok()) error = st;
    }
    failed.store(true);
    { std::lock_guard<std::mutex> lock(decode_mu); }
    decode_cv.notify_all();
    for (auto& w : workers) w->in_.Close();
    out.Close();
  }
  absl::Status FirstError() {
    std::lock_guard<std::mutex> lock(error_mu);
    return error;
  }
  bool stop_requested() const {
    return options.stop != nullptr && options.stop->load(std::memory_order_relaxed);
  }

  // ---- Router ----
  absl::Status PushWork(int w, WorkItem item) {
    WorkBatch& b = pending[w];
    b.push_back(std::move(item));
    if (b.size() >= options.batch_items) return FlushWorker(w);
    return absl::OkStatus();
  }
  // Appends the watermarks the worker has not seen yet and pushes its pending batch.
  absl::Status FlushWorker(int w) {
    WorkBatch& b = pending[w];
    for (auto& s : streams) {
      if (!s || s->rules.empty()) continue;
      int64_t wm = s->released_wm;
      int64_t& sent = sent_wm[w][s->index];
      if (wm > sent) {
        WorkItem it;
        it.kind = WorkItem::kWatermark;
        it.index = s->index;
        it.value = wm;
        b.push_back(std::move(it));
        sent = wm;
      }
    }
    if (b.empty()) return absl::OkStatus();
    return Deliver(w, std::move(b));
  }
  // Hands a batch to worker w: through its bounded queue, or, for a single inline worker,
  // applied right here on the router's thread (no hand-off between threads: --parallelism 1
  // runs at single-thread speed).
  absl::Status Deliver(int w, WorkBatch b) {
    if (inline_worker) {
      bool ended = false;
      absl::Status st = workers[w]->Handle(b, &ended);
      b.clear();
      pending[w] = std::move(b);
      pending[w].reserve(options.batch_items + streams.size());
      return st;
    }
    WorkBatch& pb = pending[w];
    if (!workers[w]->in_.Push(std::move(b))) return FirstErrorOr("stopped");
    if (workers[w]->m_depth_ != nullptr) {
      workers[w]->m_depth_->Set(static_cast<int64_t>(workers[w]->in_.size()));
    }
    pb = WorkBatch();
    pb.reserve(options.batch_items + streams.size());
    return absl::OkStatus();
  }
  absl::Status FlushRouterLane() {
    if (router_out.empty()) return absl::OkStatus();
    if (!out.Push(parallelism, std::move(router_out))) return FirstErrorOr("stopped");
    router_out = OutBatch();
    return absl::OkStatus();
  }
  absl::Status FlushAll() {
    for (int w = 0; w < parallelism; ++w) VIGIL_RETURN_IF_ERROR(FlushWorker(w));
    return FlushRouterLane();
  }
  absl::Status FirstErrorOr(std::string_view msg) {
    absl::Status st = FirstError();
    return st.ok() ? absl::CancelledError(std::string(msg)) : st;
  }

  // The worker owning the event's key group for the stream's i-th rule.
  int WorkerOf(const StreamRuntime& s, size_t i, const Event& e) const {
    const cep::RuleDef& rule = rules->rules[s.rules[i]];
    return WorkerOfKeyGroup(KeyGroupOf(PartitionKeyHash(rule.partition_slots, e)), parallelism);
  }
  // The workers of every rule reading the stream, packed route_bits apiece (computed where the
  // event is decoded, so the router does not read the event), or kNoRoute when they don't fit.
  uint64_t PrecomputeRoute(const StreamRuntime& s, const Event& e) const {
    if (!s.route_fits) return kNoRoute;
    uint64_t route = 0;
    for (size_t i = 0; i < s.rules.size(); ++i) {
      route |= static_cast<uint64_t>(WorkerOf(s, i, e)) << (i * route_bits);
    }
    return route;
  }

  absl::Status RouteEvent(StreamRuntime& s, EventPtr e, uint64_t route) {
    for (size_t i = 0; i < s.rules.size(); ++i) {
      int w = 0;
      if (parallelism > 1) {
        w = route != kNoRoute ? static_cast<int>((route >> (i * route_bits)) & route_mask)
                              : WorkerOf(s, i, *e);
      }
      WorkItem it;
      it.kind = WorkItem::kEvent;
      it.index = s.rules[i];
      it.event = i + 1 == s.rules.size() ? std::move(e) : e;
      VIGIL_RETURN_IF_ERROR(PushWork(w, std::move(it)));
    }
    return absl::OkStatus();
  }

  absl::Status Release(StreamRuntime& s) {
    Watermark wm = s.tracker.current();
    uint64_t route = kNoRoute;
    while (EventPtr e = s.buffer.PopReady(wm, &route)) {
      VIGIL_RETURN_IF_ERROR(RouteEvent(s, std::move(e), route));
    }
    s.released_wm = wm.ms;
    if (s.m_lag != nullptr) s.m_lag->Set(wm);
    return absl::OkStatus();
  }

  absl::Status OnLate(StreamRuntime& s, const EventPtr& e) {
    ++s.stats.late;
    if (s.m_late != nullptr) s.m_late->Inc();
    if (s.def->late_to.empty()) {
      return dead_letter->WriteLate(s.def->name, *e, s.tracker.current());
    }
    OutItem item;
    Record& r = item.record;
    r.kind = RecordKind::kLate;
    r.stream = s.def->name;
    r.time = e->time;
    r.events.emplace_back(s.def->name, std::vector<EventPtr>{e});
    r.id = StableRecordId(s.def->name, RecordKind::kLate, {}, {e->seq}, e->time);
    item.sinks = s.def->late_to;
    router_out.push_back(std::move(item));
    if (router_out.size() >= options.batch_items) return FlushRouterLane();
    return absl::OkStatus();
  }

  // A line read from an input: decoded right here, or queued for a worker to decode
  // (parallel decoding).
  absl::Status OnLine(InputRuntime& in, const SourceLine& line) {
    if (parallel_decode) return AddLine(in, line);
    StreamRuntime& s = *in.stream;
    std::shared_ptr<Event> event = s.decoder.NewEvent();
    absl::Status st = s.decoder.Decode(line.text, line.line_number, /*padded=*/true, event.get());
    if (!st.ok()) {
      return OnInvalid(s, std::string_view(st.message().data(), st.message().size()),
                       line.line_number, line.text);
    }
    event->seq |= static_cast<uint64_t>(in.partition) << kPartitionShift;
    if (s.processing_time()) {
      s.last_processing_time = std::max(s.last_processing_time, options.now_ms());
      event->time = EventTime(s.last_processing_time);
    }
    int64_t t = event->time.ms;
    return Accept(s, in.partition, std::move(event), t, kNoRoute);
  }

  absl::Status OnInvalid(StreamRuntime& s, std::string_view reason, uint64_t line_number,
                         std::string_view text) {
    ++s.stats.invalid;
    if (s.m_invalid != nullptr) s.m_invalid->Inc();
    return dead_letter->WriteInvalid(s.def->name, reason, line_number, text);
  }

  // A decoded event, in read order: lateness, watermark, reorder buffer, routing. `time` is
  // event->time and `route` its precomputed route (or kNoRoute): the event is not read here.
  absl::Status Accept(StreamRuntime& s, int partition, EventPtr event, int64_t time,
                      uint64_t route) {
    ++s.stats.events;
    if (s.m_events != nullptr) s.m_events->Inc();
    if (s.processing_time()) {
      VIGIL_RETURN_IF_ERROR(RouteEvent(s, std::move(event), route));
      // Later events are stamped at or after time: nothing at or before time - 1 can come.
      if (s.tracker.AdvanceTo(Watermark(time - 1))) s.released_wm = s.tracker.current().ms;
      return absl::OkStatus();
    }
    if (s.tracker.IsLate(EventTime(time))) return OnLate(s, event);
    s.buffer.Push(std::move(event), EventTime(time), route);
    if (s.tracker.Observe(partition, EventTime(time))) return Release(s);
    return absl::OkStatus();
  }

  // ---- Parallel decoding (router side) ----
  // Lines are copied into tasks of options.decode_lines lines of one input; a full task goes
  // to the least busy worker's queue (behind the work already routed to it), and the router
  // reads on. At most max_in_flight tasks are out; the oldest is finalized (Accept, in read
  // order) once decoded. Drain() finalizes everything read so far: before a checkpoint (its
  // offsets and router state then cover exactly the lines processed), before waiting for
  // input, on the wall-clock tick of live streams, and when an input ends.
  absl::Status AddLine(InputRuntime& in, const SourceLine& line) {
    if (cur_task != nullptr && cur_input != &in) VIGIL_RETURN_IF_ERROR(DispatchTask());
    if (cur_task == nullptr) {
      if (free_tasks.empty()) {
        tasks.push_back(std::make_unique<DecodeTask>());
        free_tasks.push_back(tasks.back().get());
      }
      cur_task = free_tasks.back();
      free_tasks.pop_back();
      cur_task->stream = in.stream->index;
      cur_task->partition = in.partition;
      cur_input = &in;
    }
    DecodeTask& t = *cur_task;
    t.lines.push_back({t.text.size(), line.text.size(), line.line_number});
    t.text.append(line.text);
    if (t.lines.size() >= options.decode_lines) return DispatchTask();
    return absl::OkStatus();
  }

  absl::Status DispatchTask() {
    DecodeTask* t = std::exchange(cur_task, nullptr);
    if (t == nullptr) return absl::OkStatus();
    StreamRuntime& s = *streams[t->stream];
    if (s.processing_time()) {
      s.last_processing_time = std::max(s.last_processing_time, options.now_ms());
      t->stamp = s.last_processing_time;
    }
    t->text.append(JsonlSource::kLinePadding, '\0');
    int w = next_decoder;
    size_t best = workers[w]->in_.approx_size();
    for (int i = 1; i < parallelism && best > 0; ++i) {
      int c = (next_decoder + i) % parallelism;
      size_t depth = workers[c]->in_.approx_size();
      if (depth < best) {
        best = depth;
        w = c;
      }
    }
    next_decoder = (w + 1) % parallelism;
    in_flight.push_back(t);
    WorkItem it;
    it.kind = WorkItem::kDecode;
    it.task = t;
    pending[w].push_back(std::move(it));
    VIGIL_RETURN_IF_ERROR(FlushWorker(w));
    while (in_flight.size() > max_in_flight) VIGIL_RETURN_IF_ERROR(FinalizeOldest());
    return absl::OkStatus();
  }

  // Worker side: the task is decoded.
  void DecodeDone(DecodeTask& t) {
    {
      std::lock_guard<std::mutex> lock(decode_mu);
      t.done = true;
    }
    decode_cv.notify_one();
  }

  absl::Status FinalizeOldest() {
    DecodeTask* t = in_flight.front();
    {
      std::unique_lock<std::mutex> lock(decode_mu);
      decode_cv.wait(lock, [&] { return t->done || failed.load(); });
      if (!t->done) return FirstErrorOr("stopped");
    }
    in_flight.pop_front();
    StreamRuntime& s = *streams[t->stream];
    absl::Status st;
    size_t err = 0;
    for (size_t i = 0; i < t->decoded.size() && st.ok(); ++i) {
      DecodeTask::Decoded& d = t->decoded[i];
      if (!d.event) {
        st = OnInvalid(s, t->errors[err++], t->lines[i].line_number, t->line(i));
      } else {
        st = Accept(s, t->partition, std::move(d.event), d.time, d.route);
      }
    }
    t->text.clear();
    t->lines.clear();
    t->decoded.clear();
    t->errors.clear();
    t->done = false;
    free_tasks.push_back(t);
    return st;
  }

  absl::Status Drain() {
    VIGIL_RETURN_IF_ERROR(DispatchTask());
    while (!in_flight.empty()) VIGIL_RETURN_IF_ERROR(FinalizeOldest());
    return absl::OkStatus();
  }

  absl::Status ReadChunk(InputRuntime& in, bool* ended) {
    VIGIL_RETURN_IF_ERROR(ReadLines(in, ended));
    return DispatchTask();
  }
  absl::Status ReadLines(InputRuntime& in, bool* ended) {
    SourceLine line;
    *ended = false;
    for (size_t n = 0; n < options.chunk_lines; ++n) {
      absl::StatusOr<bool> more = in.source->Next(&line);
      if (!more.ok()) {
        // The wait hook gave way to another input with data: come back to this one later.
        if (yielded) {
          yielded = false;
          return absl::OkStatus();
        }
        return more.status();
      }
      if (!*more) {
        *ended = true;
        return absl::OkStatus();
      }
      if (in.waiting) {
        // A followed file that yielded while waiting and has grown since.
        in.waiting = false;
        if (in.can_idle()) in.last_data_ms = options.now_ms();
      }
      VIGIL_RETURN_IF_ERROR(OnLine(in, line));
    }
    *ended = false;
    return absl::OkStatus();
  }

  // The wall-clock tick (at most every kTickMs of steady time):
  // raises every live processing-time stream's watermark to now - 1 (later events are stamped
  // at or after now) and marks idle the partitions of `idle after` streams whose input is
  // waiting for data and has been silent for the stream's idle_after. Watermarks that moved
  // are released and flushed to the workers, so windows close and timers fire on time.
  absl::Status Tick() {
    int64_t steady = SteadyMs();
    if (steady < next_tick_ms) return absl::OkStatus();
    next_tick_ms = steady + kTickMs;
    if (!has_processing_time && !has_idle_inputs) return absl::OkStatus();
    // Every line read is accounted for before the clock moves watermarks.
    VIGIL_RETURN_IF_ERROR(Drain());
    int64_t now = options.now_ms();
    bool moved = false;
    for (auto& sp : streams) {
      if (!sp || !sp->processing_time() || sp->ended == sp->partitions) continue;
      StreamRuntime& s = *sp;
      s.last_processing_time = std::max(s.last_processing_time, now);
      if (s.tracker.AdvanceTo(Watermark(s.last_processing_time - 1))) {
        VIGIL_RETURN_IF_ERROR(Release(s));
        moved = true;
      }
    }
    // Oldest silence first, as a finer tick would have seen them (when every partition goes
    // idle, the first ones have already let the watermark advance); on a tie, the partition
    // furthest behind (holding the watermark back) first.
    idle_candidates.clear();
    for (auto& in : inputs) {
      if (in->ended || !in->waiting || !in->can_idle()) continue;
      if (now - in->last_data_ms < in->stream->def->idle_after->ms) continue;
      idle_candidates.push_back(in.get());
    }
    std::stable_sort(idle_candidates.begin(), idle_candidates.end(),
                     [](const InputRuntime* a, const InputRuntime* b) {
                       if (a->last_data_ms != b->last_data_ms) {
                         return a->last_data_ms < b->last_data_ms;
                       }
                       return a->stream->tracker.max_seen(a->partition) <
                              b->stream->tracker.max_seen(b->partition);
                     });
    for (InputRuntime* in : idle_candidates) {
      StreamRuntime& s = *in->stream;
      if (s.tracker.MarkIdle(in->partition)) {
        VIGIL_RETURN_IF_ERROR(Release(s));
        moved = true;
      }
    }
    return moved ? FlushAll() : absl::OkStatus();
  }

  // Called before a read of a pipe or terminal may block: pushes what is pending (so records
  // leave as soon as the watermark allows), then waits for input while serving stop requests,
  // checkpoints and the wall-clock tick. When another input has data (a file, a pipe with
  // unread lines, or a readable pipe) it gives way to it: ReadChunk then returns early and the
  // router comes back to this input later.
  absl::Status WaitForInput(InputRuntime& self, int fd) {
    VIGIL_RETURN_IF_ERROR(Drain());
    self.waiting = true;
    VIGIL_RETURN_IF_ERROR(Tick());
    VIGIL_RETURN_IF_ERROR(FlushAll());
    // A followed file is always readable for poll(2): it has data when it has grown (checked
    // on every round; poll's timeout paces the checks).
    const bool self_followed = self.source->following();
    std::vector<struct pollfd> fds;
    while (true) {
      if (stop_requested()) return absl::CancelledError("stop requested");
      fds.clear();
      if (!self_followed) fds.push_back({fd, POLLIN, 0});
      for (auto& in : inputs) {
        if (in.get() == &self || in->ended) continue;
        if (!in->waiting) return Yield();
        if (in->source->following()) {
          if (in->source->HasNewData()) return Yield();
          continue;
        }
        fds.push_back({in->source->fd(), POLLIN, 0});
      }
      if (self_followed && self.source->HasNewData()) break;
      int r = ::poll(fds.data(), fds.size(), static_cast<int>(kTickMs));
      if (r < 0 && errno != EINTR) break;  // the read reports the error
      if (r > 0) {
        if (!self_followed && fds[0].revents != 0) break;
        return Yield();
      }
      if (failed.load()) return FirstErrorOr("stopped");
      if (stop_requested()) return absl::CancelledError("stop requested");
      VIGIL_RETURN_IF_ERROR(MaybeCheckpoint(false));
      VIGIL_RETURN_IF_ERROR(Tick());
    }
    self.waiting = false;
    if (self.can_idle()) self.last_data_ms = options.now_ms();
    return absl::OkStatus();
  }
  absl::Status Yield() {
    yielded = true;
    return absl::UnavailableError("another input has data");
  }

  // ---- Checkpoints (router side) ----
  bool checkpoint_in_flight() const {
    return started_id > finished_id.load(std::memory_order_acquire);
  }

  absl::Status MaybeCheckpoint(bool final) {
    if (options.backend == nullptr) return absl::OkStatus();
    bool sp = options.savepoint_request != nullptr && options.savepoint_request->load() &&
              !options.savepoint_dir.empty();
    int64_t now = SteadyMs();
    bool due = (options.checkpoint_interval_ms > 0 || next_due_ms == 0) && now >= next_due_ms;
    if (!due && !sp && !final) return absl::OkStatus();
    if (checkpoint_in_flight()) {
      if (!final) return absl::OkStatus();
      while (checkpoint_in_flight()) {
        if (failed.load()) return FirstErrorOr("stopped");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    if (sp) options.savepoint_request->store(false);
    VIGIL_RETURN_IF_ERROR(InjectBarrier(sp, final));
    next_due_ms = SteadyMs() + options.checkpoint_interval_ms;
    return absl::OkStatus();
  }

  std::string EncodeRouterState() const {
    Encoder enc;
    enc.U32(kRouterStateVersion);
    uint64_t n = 0;
    for (const auto& s : streams) n += s ? 1 : 0;
    enc.U64(n);
    for (const auto& s : streams) {
      if (!s) continue;
      enc.Str(s->def->name);
      enc.U32(static_cast<uint32_t>(s->partitions));
      s->tracker.Encode(&enc);
      enc.I64(s->last_processing_time);
      enc.U64(s->stats.events);
      enc.U64(s->stats.invalid);
      enc.U64(s->stats.late);
      std::vector<EventPtr> buffered = s->buffer.Contents();
      enc.U64(buffered.size());
      for (const EventPtr& e : buffered) enc.Ev(*e);
    }
    uint64_t nrules = 0;
    for (size_t r = 0; r < rules->rules.size(); ++r) nrules += runs_rule[r] ? 1 : 0;
    enc.U64(nrules);
    for (size_t r = 0; r < rules->rules.size(); ++r) {
      if (!runs_rule[r]) continue;
      enc.Str(rules->rules[r].name);
      enc.U32(op_ids[r]);
    }
    return std::move(enc.buffer());
  }

  absl::Status InjectBarrier(bool savepoint, bool final) {
    VIGIL_RETURN_IF_ERROR(Drain());
    auto info = std::make_shared<BarrierInfo>();
    info->id = next_checkpoint_id++;
    info->savepoint = savepoint;
    info->final = final;
    info->started_ms = SteadyMs();
    if (savepoint) {
      info->savepoint_path = absl::StrCat(options.savepoint_dir, "/savepoint-", info->id);
    }
    state::CheckpointMeta& meta = info->meta;
    meta.checkpoint_id = info->id;
    meta.parallelism = static_cast<uint32_t>(parallelism);
    meta.max_key_groups = kMaxKeyGroups;
    for (const auto& in : inputs) {
      SourceOffset off = in->source->offset();
      meta.sources.push_back({in->stream->def->name, in->source->name(), off.byte, off.line});
    }
    for (const auto& s : streams) {
      if (s) meta.watermarks.push_back({s->def->name, s->tracker.current()});
    }
    meta.extra = EncodeRouterState();
    // The dead-letter file's records so far are exactly those of the lines before the cut.
    if (dead_letter->durable()) {
      VIGIL_RETURN_IF_ERROR(dead_letter->Sync());
      meta.sinks.push_back({dead_letter->path(), dead_letter->bytes(), 0});
    }
    started_id = info->id;
    std::shared_ptr<const BarrierInfo> shared = info;
    for (int w = 0; w < parallelism; ++w) {
      WorkItem it;
      it.kind = WorkItem::kBarrier;
      it.barrier = shared;
      pending[w].push_back(std::move(it));
      VIGIL_RETURN_IF_ERROR(FlushWorker(w));
    }
    VIGIL_RETURN_IF_ERROR(FlushRouterLane());
    OutItem item;
    item.barrier = shared;
    if (!out.Push(parallelism, OutBatch(1, std::move(item)))) return FirstErrorOr("stopped");
    return absl::OkStatus();
  }

  // ---- Output thread ----
  absl::Status WriteRecord(const OutItem& item) {
    if (item.sinks.empty()) {
      ++records;
      if (m_default_records != nullptr) m_default_records->Inc();
      return default_output->Write(item.record);
    }
    for (int i : item.sinks) {
      Sink* sink = i >= 0 && i < static_cast<int>(sinks.size()) ? sinks[i] : nullptr;
      if (sink == nullptr) {
        return absl::InternalError(absl::StrCat("no sink instance for sink index ", i));
      }
      ++records;
      absl::Status st = sink->Write(item.record);
      if (!st.ok()) {
        if (i < static_cast<int>(m_sink_errors.size()) && m_sink_errors[i]) m_sink_errors[i]->Inc();
        return st;
      }
      if (i < static_cast<int>(m_sink_records.size()) && m_sink_records[i]) {
        m_sink_records[i]->Inc();
      }
    }
    return absl::OkStatus();
  }

  absl::Status FlushSinks() {
    absl::flat_hash_set<Sink*> flushed;
    if (default_output != nullptr && flushed.insert(default_output).second) {
      VIGIL_RETURN_IF_ERROR(default_output->Flush());
    }
    for (Sink* sink : sinks) {
      if (sink != nullptr && flushed.insert(sink).second) VIGIL_RETURN_IF_ERROR(sink->Flush());
    }
    return absl::OkStatus();
  }

  // All lanes delivered barrier `info` (output thread): flush the sinks (file sinks fsync),
  // record the durable outputs' offsets, and hand the checkpoint to the committer thread. The
  // output stage then resumes at once: the backend's checkpoint (RocksDB: a flush and hard
  // links) is taken while records keep flowing. Nothing writes keyed state meanwhile: workers
  // write at barriers, and the next barrier waits until this checkpoint is finished.
  absl::Status CompleteCheckpoint(const std::shared_ptr<const BarrierInfo>& info,
                                  absl::Status parts) {
    PendingCommit commit{info, parts, info->meta};
    if (parts.ok()) {
      // A sink that cannot flush stops the job (its records would be lost).
      VIGIL_RETURN_IF_ERROR(FlushSinks());
      for (const DurableOutput& d : options.durable_outputs) {
        commit.meta.sinks.push_back({d.path, d.bytes(), 0});
      }
      commit.meta.created_unix_ms = WallMs();
    }
    {
      std::lock_guard<std::mutex> lock(commit_mu);
      pending_commit = std::move(commit);
    }
    commit_cv.notify_one();
    return absl::OkStatus();
  }

  struct PendingCommit {
    std::shared_ptr<const BarrierInfo> info;
    absl::Status parts;  // the workers' and the sinks' part: not OK = the checkpoint failed
    state::CheckpointMeta meta;
  };

  // The committer thread (with a state backend): commits the checkpoints the output thread
  // aligned, one at a time (the router starts the next only after this one is finished).
  void CommitLoop() {
    while (true) {
      PendingCommit c;
      {
        std::unique_lock<std::mutex> lock(commit_mu);
        commit_cv.wait(lock, [&] { return pending_commit.has_value() || commit_closed; });
        if (!pending_commit.has_value()) return;
        c = std::move(*pending_commit);
        pending_commit.reset();
      }
      Commit(*c.info, c.parts, c.meta);
    }
  }
  void CloseCommitter() {
    {
      std::lock_guard<std::mutex> lock(commit_mu);
      commit_closed = true;
    }
    commit_cv.notify_one();
  }

  void Commit(const BarrierInfo& info, absl::Status parts, const state::CheckpointMeta& meta) {
    absl::Status st = parts;
    if (st.ok()) {
      std::string blob = state::EncodeCheckpointMeta(meta);
      auto done = options.backend->Checkpoint(info.id, blob);
      if (!done.ok()) {
        st = done.status();
      } else {
        ++checkpoints;
        if (m_ckpt_size != nullptr) m_ckpt_size->Set(static_cast<int64_t>(done->bytes));
        if (info.savepoint) {
          absl::Status sp = state::WriteSavepoint(*options.backend, info.savepoint_path, blob);
          if (sp.ok()) {
            Log(absl::StrCat("savepoint ", info.savepoint_path));
          } else {
            Log(absl::StrCat("warning: savepoint ", info.savepoint_path,
                             " failed: ", sp.message()));
          }
        }
      }
    }
    if (!st.ok()) {
      ++checkpoint_failures;
      if (m_ckpt_failures != nullptr) m_ckpt_failures->Inc();
      Log(absl::StrCat("warning: checkpoint ", info.id, " failed: ", st.message(),
                       " (the job continues; the previous checkpoint stays the restore point)"));
    } else if (options.metrics != nullptr) {
      m_ckpt_count->Inc();
      m_ckpt_duration->Observe(static_cast<double>(SteadyMs() - info.started_ms) / 1000.0);
      m_state_size->Set(static_cast<int64_t>(options.backend->ApproximateSize()));
    }
    finished_id.store(info.id, std::memory_order_release);
  }

  absl::Status OutputLoopImpl() {
    const int lanes = parallelism + 1;
    int ended = 0;
    int arrived = 0;
    absl::Status parts;
    std::shared_ptr<const BarrierInfo> current;
    bool dirty = false;
    OutBatch batch;
    int lane = 0;
    while (ended < lanes) {
      if (!out.TryPop(&batch, &lane)) {
        // Idle: deliver what is buffered in non-durable sinks (latency), then wait.
        if (dirty) {
          VIGIL_RETURN_IF_ERROR(FlushLatencySinks());
          dirty = false;
        }
        if (m_out_depth != nullptr) m_out_depth->Set(0);
        if (!out.Pop(&batch, &lane)) return FirstErrorOr("stopped");
      }
      for (OutItem& item : batch) {
        if (item.end) {
          out.Pause(lane);
          ++ended;
        } else if (item.barrier) {
          out.Pause(lane);
          if (lane == parallelism) current = item.barrier;
          if (!item.barrier_status.ok() && parts.ok()) parts = item.barrier_status;
          if (++arrived == lanes) {
            VIGIL_RETURN_IF_ERROR(CompleteCheckpoint(current, parts));
            arrived = 0;
            parts = absl::OkStatus();
            current.reset();
            out.ResumeAll();
            // Lanes that ended stay paused (they hold nothing more).
          }
        } else {
          VIGIL_RETURN_IF_ERROR(WriteRecord(item));
          dirty = true;
        }
      }
      batch.clear();
    }
    return FlushSinks();
  }

  absl::Status FlushLatencySinks() {
    // Durable file outputs are flushed (fsync) at checkpoints and at the end only.
    if (default_output != nullptr && !default_output_durable) {
      VIGIL_RETURN_IF_ERROR(default_output->Flush());
    }
    return absl::OkStatus();
  }

  void OutputLoop() {
    absl::Status st = OutputLoopImpl();
    if (!st.ok()) Fail(st);
  }

  // ---- Members ----
  std::shared_ptr<const cep::RuleSet> rules;
  JobOptions options;
  int parallelism;
  std::vector<std::unique_ptr<StreamRuntime>> streams;  // by stream index
  std::vector<std::unique_ptr<InputRuntime>> inputs;
  std::vector<std::unique_ptr<Worker>> workers;
  // Parallel decoding (router; tasks are read by the workers they are queued to).
  bool parallel_decode = false;
  size_t max_in_flight = 0;
  int route_bits = 0;  // bits per rule in a route tag
  uint64_t route_mask = 0;
  std::vector<std::unique_ptr<DecodeTask>> tasks;  // every task ever made
  std::vector<DecodeTask*> free_tasks;
  std::deque<DecodeTask*> in_flight;  // dispatched, in read order
  DecodeTask* cur_task = nullptr;     // being filled
  InputRuntime* cur_input = nullptr;  // of cur_task
  int next_decoder = 0;
  std::mutex decode_mu;
  std::condition_variable decode_cv;

  std::vector<bool> runs_rule;   // by rule index
  std::vector<uint32_t> op_ids;  // by rule index
  std::vector<RuleMetrics> rule_metrics;
  std::vector<Sink*> sinks;
  Sink* default_output = nullptr;
  bool default_output_durable = false;
  DeadLetterWriter* dead_letter = nullptr;

  runtime::LaneQueue<OutBatch> out;           // lane w: worker w; lane P: the router
  std::vector<WorkBatch> pending;             // router: per worker
  bool inline_worker = false;                 // parallelism 1: the router applies work itself
  bool restored = false;                      // Restore() ran before Run()
  std::vector<std::vector<int64_t>> sent_wm;  // router: [worker][stream]
  OutBatch router_out;

  std::mutex error_mu;
  absl::Status error;
  std::atomic<bool> failed{false};

  // Checkpoints: the router starts them, the output thread finishes them.
  uint64_t next_checkpoint_id = 1;
  uint64_t started_id = 0;
  std::atomic<uint64_t> finished_id{0};
  int64_t next_due_ms = 0;
  bool stopped = false;

  // Wall-clock tick (router).
  int64_t next_tick_ms = 0;          // steady clock
  bool has_processing_time = false;  // some live stream is processing-time
  bool has_idle_inputs = false;      // some input can become idle
  bool yielded = false;              // WaitForInput gave way to another input
  std::vector<InputRuntime*> idle_candidates;

  // Output thread -> committer thread.
  std::mutex commit_mu;
  std::condition_variable commit_cv;
  std::optional<PendingCommit> pending_commit;
  bool commit_closed = false;

  // Written by the output and committer threads; read after they joined.
  uint64_t records = 0;
  uint64_t checkpoints = 0;
  uint64_t checkpoint_failures = 0;

  metrics::Counter* m_default_records = nullptr;
  std::vector<metrics::Counter*> m_sink_records, m_sink_errors;
  metrics::Gauge* m_out_depth = nullptr;
  metrics::Gauge* m_ckpt_size = nullptr;
  metrics::Gauge* m_state_size = nullptr;
  metrics::Counter* m_ckpt_failures = nullptr;
  metrics::Counter* m_ckpt_count = nullptr;
  metrics::Histogram* m_ckpt_duration = nullptr;
};

absl::StatusOr<std::unique_ptr<Job>> Job::Create(std::shared_ptr<const cep::RuleSet> rules,
                                                 JobOptions options, std::vector<JobInput> inputs,
                                                 std::vector<Sink*> sinks, Sink* default_output,
                                                 DeadLetterWriter* dead_letter) {
  if (options.parallelism < 1 || options.parallelism > kMaxKeyGroups) {
    return absl::InvalidArgumentError(
        absl::StrCat("parallelism must be between 1 and ", kMaxKeyGroups));
  }
  if (options.batch_items == 0) options.batch_items = 1;
  if (!options.now_ms) options.now_ms = WallMs;
  std::unique_ptr<Job> job(new Job());
  job->impl_ = std::make_unique<Impl>(std::move(options));
  Impl& im = *job->impl_;
  im.rules = rules;
  im.sinks = std::move(sinks);
  im.sinks.resize(rules->sinks.size(), nullptr);
  im.default_output = default_output;
  im.dead_letter = dead_letter;
  im.default_output_durable = im.options.default_output_durable;

  std::vector<int> parts(rules->streams.size(), 0);
  for (const JobInput& in : inputs) {
    if (in.stream < 0 || in.stream >= static_cast<int>(rules->streams.size())) {
      return absl::InvalidArgumentError("input bound to no stream");
    }
    ++parts[in.stream];
  }
  im.streams.resize(rules->streams.size());
  for (size_t s = 0; s < rules->streams.size(); ++s) {
    if (parts[s] == 0) continue;
    im.streams[s] =
        std::make_unique<Impl::StreamRuntime>(rules->streams[s], static_cast<int>(s), parts[s]);
  }
  std::vector<int> next_part(rules->streams.size(), 0);
  for (JobInput& in : inputs) {
    auto rt = std::make_unique<Impl::InputRuntime>();
    rt->source = std::move(in.source);
    rt->stream = im.streams[in.stream].get();
    rt->partition = next_part[in.stream]++;
    im.inputs.push_back(std::move(rt));
  }

  for (int w = 0; w < im.parallelism; ++w) {
    im.workers.push_back(std::make_unique<Impl::Worker>(&im, w));
    im.workers.back()->ops_.resize(rules->rules.size());
    im.workers.back()->last_stats_.resize(rules->rules.size());
    im.workers.back()->decoders_.resize(rules->streams.size());
  }
  im.pending.resize(im.parallelism);
  im.sent_wm.assign(im.parallelism,
                    std::vector<int64_t>(rules->streams.size(), Watermark::Min().ms));
  im.runs_rule.assign(rules->rules.size(), false);
  im.op_ids.assign(rules->rules.size(), 0);
  im.rule_metrics.resize(rules->rules.size());
  RuleOperatorOptions op_options;
  op_options.max_partial_matches = im.options.max_partial_matches;
  for (size_t r = 0; r < rules->rules.size(); ++r) {
    Impl::StreamRuntime* s = im.streams[rules->rules[r].stream].get();
    if (s == nullptr) continue;
    im.runs_rule[r] = true;
    im.op_ids[r] = OperatorStateId(rules->rules[r]);
    s->rules.push_back(static_cast<int>(r));
    for (auto& w : im.workers) {
      auto op = MakeRuleOperator(rules, static_cast<int>(r), op_options, w.get());
      if (!op.ok()) {
        if (absl::IsUnimplemented(op.status())) {
          return absl::FailedPreconditionError(op.status().message());
        }
        return op.status();
      }
      w->ops_[r] = std::move(op).value();
    }
  }

  im.parallel_decode = im.parallelism > 1 && im.options.parallel_decode;
  im.max_in_flight = 2 * static_cast<size_t>(im.parallelism);
  if (im.options.decode_lines == 0) im.options.decode_lines = 1;
  while ((1 << im.route_bits) < im.parallelism) ++im.route_bits;
  im.route_mask = (uint64_t{1} << im.route_bits) - 1;
  for (auto& s : im.streams) {
    // Bit 63 stays clear, so no packed route equals kNoRoute.
    if (s) s->route_fits = s->rules.size() * static_cast<size_t>(im.route_bits) <= 63;
  }

  if (metrics::Metrics* m = im.options.metrics) {
    for (auto& s : im.streams) {
      if (!s) continue;
      s->m_events = m->StreamEventsIn(s->def->name);
      s->m_late = m->StreamLateEvents(s->def->name);
      s->m_invalid = m->StreamInvalidEvents(s->def->name);
      s->m_lag = m->StreamWatermarkLag(s->def->name);
    }
    for (size_t r = 0; r < rules->rules.size(); ++r) {
      if (!im.runs_rule[r]) continue;
      const std::string& name = rules->rules[r].name;
      im.rule_metrics[r] = {m->RuleMatches(name), m->RuleTimeouts(name),
                            m->RuleDroppedPartialMatches(name), m->RulePartialMatches(name)};
    }
    for (auto& w : im.workers) w->m_depth_ = m->QueueDepth(absl::StrCat("worker-", w->index_));
    im.m_out_depth = m->QueueDepth("output");
    im.m_default_records = m->SinkRecords("output");
    im.m_sink_records.resize(rules->sinks.size(), nullptr);
    im.m_sink_errors.resize(rules->sinks.size(), nullptr);
    for (size_t i = 0; i < rules->sinks.size(); ++i) {
      const std::string& name =
          i < im.options.sink_names.size() && !im.options.sink_names[i].empty()
              ? im.options.sink_names[i]
              : rules->sinks[i].name;
      im.m_sink_records[i] = m->SinkRecords(name);
      im.m_sink_errors[i] = m->SinkErrors(name);
    }
    im.m_ckpt_size = m->CheckpointSizeBytes();
    im.m_state_size = m->StateSizeBytes();
    im.m_ckpt_failures = m->CheckpointFailures();
    im.m_ckpt_count = m->Checkpoints();
    im.m_ckpt_duration = m->CheckpointDuration();
  }
  return job;
}

Job::~Job() = default;

absl::Status Job::Restore(const state::CheckpointMeta& meta) {
  impl_->restored = true;
  Impl& im = *impl_;
  // Inputs: in order, per stream.
  if (meta.sources.size() != im.inputs.size()) {
    return absl::FailedPreconditionError(absl::StrCat("the checkpoint has ", meta.sources.size(),
                                                      " inputs, this run has ", im.inputs.size(),
                                                      ": restart with the same inputs"));
  }
  for (size_t i = 0; i < im.inputs.size(); ++i) {
    Impl::InputRuntime& in = *im.inputs[i];
    const state::CheckpointMeta::Source& src = meta.sources[i];
    if (src.stream != in.stream->def->name) {
      return absl::FailedPreconditionError(
          absl::StrCat("input ", i + 1, " reads stream '", in.stream->def->name,
                       "' but the checkpoint's reads '", src.stream, "'"));
    }
    if (!in.source->seekable()) {
      if (src.byte > 0) {
        im.Log(absl::StrCat("warning: input '", in.source->name(),
                            "' cannot be rewound: reading continues where it is"));
      }
      continue;
    }
    VIGIL_RETURN_IF_ERROR(in.source->Seek(SourceOffset{src.byte, src.line}));
  }

  // Router state.
  Decoder dec(meta.extra);
  uint32_t version = 0;
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(dec.U32(&version));
  if (version != kRouterStateVersion) {
    return absl::DataLossError(absl::StrCat("checkpoint: unknown router state version ", version));
  }
  VIGIL_RETURN_IF_ERROR(dec.U64(&n));
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    uint32_t partitions = 0;
    VIGIL_RETURN_IF_ERROR(dec.Str(&name));
    VIGIL_RETURN_IF_ERROR(dec.U32(&partitions));
    int idx = im.rules->FindStream(name);
    Impl::StreamRuntime* s = idx >= 0 ? im.streams[idx].get() : nullptr;
    if (s == nullptr)
      return absl::FailedPreconditionError("checkpoint: stream '" + name +
                                           "' is not read by this run");
    VIGIL_RETURN_IF_ERROR(s->tracker.Decode(&dec));
    VIGIL_RETURN_IF_ERROR(dec.I64(&s->last_processing_time));
    VIGIL_RETURN_IF_ERROR(dec.U64(&s->stats.events));
    VIGIL_RETURN_IF_ERROR(dec.U64(&s->stats.invalid));
    VIGIL_RETURN_IF_ERROR(dec.U64(&s->stats.late));
    uint64_t buffered = 0;
    VIGIL_RETURN_IF_ERROR(dec.U64(&buffered));
    for (uint64_t b = 0; b < buffered; ++b) {
      auto e = std::make_shared<Event>();
      VIGIL_RETURN_IF_ERROR(dec.Ev(e.get()));
      s->buffer.Push(std::move(e), kNoRoute);
    }
    // Workers have seen every watermark up to the checkpoint.
    s->released_wm = s->tracker.current().ms;
    for (auto& sent : im.sent_wm) sent[s->index] = s->released_wm;
  }
  uint64_t nrules = 0;
  VIGIL_RETURN_IF_ERROR(dec.U64(&nrules));
  absl::flat_hash_map<std::string, uint32_t> old_ids;
  for (uint64_t i = 0; i < nrules; ++i) {
    std::string name;
    uint32_t id = 0;
    VIGIL_RETURN_IF_ERROR(dec.Str(&name));
    VIGIL_RETURN_IF_ERROR(dec.U32(&id));
    old_ids[name] = id;
  }
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());

  absl::flat_hash_set<uint32_t> current_ids;
  for (size_t r = 0; r < im.rules->rules.size(); ++r) {
    if (!im.runs_rule[r]) continue;
    current_ids.insert(im.op_ids[r]);
    auto it = old_ids.find(im.rules->rules[r].name);
    if (it != old_ids.end() && it->second != im.op_ids[r]) {
      im.Log(absl::StrCat("warning: rule '", im.rules->rules[r].name,
                          "' changed since the checkpoint: its state starts fresh"));
    }
  }
  state::StateBackend* backend = im.options.backend;
  if (backend != nullptr) {
    // Drop the state of rules that no longer exist (or changed).
    for (const auto& [name, id] : old_ids) {
      if (current_ids.contains(id)) continue;
      state::WriteBatch batch;
      VIGIL_RETURN_IF_ERROR(
          backend->Scan(state::OperatorPrefix(id), [&](std::string_view k, std::string_view) {
            batch.Delete(std::string(k));
            return true;
          }));
      if (!batch.empty()) VIGIL_RETURN_IF_ERROR(backend->Write(batch));
    }
    // Keyed state: each worker loads its key groups.
    for (auto& w : im.workers) {
      state::KeyGroupRange range = RangeOfWorker(w->index_, im.parallelism);
      if (range.empty()) continue;
      for (size_t r = 0; r < im.rules->rules.size(); ++r) {
        if (!w->ops_[r]) continue;
        auto [begin, end] = state::KeyGroupRangeBounds(im.op_ids[r], range);
        absl::Status err;
        VIGIL_RETURN_IF_ERROR(
            backend->ScanRange(begin, end, [&](std::string_view k, std::string_view v) {
              std::optional<uint16_t> kg = state::KeyGroupOf(k);
              err = w->ops_[r]->Restore(kg.value_or(0), state::UserKeyOf(k), v);
              return err.ok();
            }));
        VIGIL_RETURN_IF_ERROR(err);
      }
    }
    im.next_checkpoint_id = std::max(im.next_checkpoint_id, meta.checkpoint_id + 1);
  }
  return absl::OkStatus();
}

absl::Status Job::Run() {
  Impl& im = *impl_;
  if (im.options.backend != nullptr) {
    auto ids = im.options.backend->ListCheckpoints();
    if (ids.ok() && !ids->empty()) {
      im.next_checkpoint_id = std::max(im.next_checkpoint_id, ids->back() + 1);
    }
  }
  im.finished_id.store(im.next_checkpoint_id - 1);
  im.started_id = im.next_checkpoint_id - 1;
  // A fresh restartable run checkpoints before it reads anything: the sizes of the file
  // outputs it appends to are then on record, and a kill before the next checkpoint cannot
  // leave records that a restart writes again.
  bool initial = im.options.backend != nullptr && !im.restored;
  im.next_due_ms = initial ? 0 : SteadyMs() + im.options.checkpoint_interval_ms;
  const int64_t start_ms =
      std::any_of(im.inputs.begin(), im.inputs.end(), [](const auto& in) { return in->can_idle(); })
          ? im.options.now_ms()
          : 0;
  for (auto& in : im.inputs) {
    if (in->stream->processing_time()) im.has_processing_time = true;
    if (in->can_idle()) {
      im.has_idle_inputs = true;
      in->last_data_ms = start_ms;
    }
    if (in->live()) {
      Impl::InputRuntime* inp = in.get();
      in->source->SetWaitHook([&im, inp](int fd) { return im.WaitForInput(*inp, fd); });
    }
  }
  im.next_tick_ms = SteadyMs() + kTickMs;
  im.inline_worker = im.parallelism == 1;
  for (auto& w : im.workers) {
    if (im.inline_worker) break;
    Impl::Worker* wp = w.get();
    w->thread_ = std::thread([wp] { wp->Loop(); });
  }
  std::thread output([&im] { im.OutputLoop(); });
  std::thread committer;
  if (im.options.backend != nullptr) committer = std::thread([&im] { im.CommitLoop(); });

  auto route = [&]() -> absl::Status {
    size_t remaining = im.inputs.size();
    while (remaining > 0) {
      if (im.stop_requested()) {
        im.stopped = true;
        return im.MaybeCheckpoint(/*final=*/true);
      }
      VIGIL_RETURN_IF_ERROR(im.MaybeCheckpoint(false));
      for (auto& in : im.inputs) {
        if (in->ended) continue;
        bool ended = false;
        absl::Status st = im.ReadChunk(*in, &ended);
        if (!st.ok() && absl::IsCancelled(st) && im.stop_requested() && !im.failed.load()) {
          im.stopped = true;
          return im.MaybeCheckpoint(/*final=*/true);
        }
        VIGIL_RETURN_IF_ERROR(st);
        VIGIL_RETURN_IF_ERROR(im.Tick());
        if (!ended) continue;
        VIGIL_RETURN_IF_ERROR(im.Drain());
        in->ended = true;
        --remaining;
        Impl::StreamRuntime& s = *in->stream;
        if (++s.ended == s.partitions) {
          // The stream's last input ended: watermark +infinity, flush everything.
          s.tracker.MarkEnded(in->partition);
          uint64_t route = kNoRoute;
          while (EventPtr e = s.buffer.PopReady(Watermark::Max(), &route)) {
            VIGIL_RETURN_IF_ERROR(im.RouteEvent(s, std::move(e), route));
          }
          s.released_wm = Watermark::Max().ms;
          if (s.m_lag != nullptr) s.m_lag->Set(Watermark::Max());
        } else if (s.tracker.MarkEnded(in->partition)) {
          VIGIL_RETURN_IF_ERROR(im.Release(s));
        }
      }
      VIGIL_RETURN_IF_ERROR(im.FlushAll());
    }
    return absl::OkStatus();
  };
  absl::Status st = route();
  if (st.ok()) st = im.Drain();
  if (st.ok()) st = im.FlushAll();
  if (st.ok()) {
    for (int w = 0; w < im.parallelism && st.ok(); ++w) {
      WorkItem it;
      it.kind = WorkItem::kEnd;
      st = im.Deliver(w, WorkBatch(1, std::move(it)));
    }
    if (st.ok() && !im.out.Push(im.parallelism, OutBatch(1, OutItem{{}, {}, nullptr, {}, true}))) {
      st = im.FirstErrorOr("stopped");
    }
  }
  if (!st.ok()) im.Fail(st);
  for (auto& w : im.workers) {
    if (w->thread_.joinable()) w->thread_.join();
  }
  output.join();
  im.CloseCommitter();
  if (committer.joinable()) committer.join();
  if (im.failed.load()) return im.FirstError();
  return im.dead_letter->Flush();
}

JobStats Job::stats() const {
  const Impl& im = *impl_;
  JobStats st;
  for (const auto& s : im.streams) {
    if (s) st.streams.push_back(s->stats);
  }
  for (size_t r = 0; r < im.rules->rules.size(); ++r) {
    if (!im.runs_rule[r]) continue;
    RuleStats rs;
    rs.name = im.rules->rules[r].name;
    for (const auto& w : im.workers) {
      OperatorStats o = w->ops_[r]->stats();
      rs.op.events += o.events;
      rs.op.filtered += o.filtered;
      rs.op.matches += o.matches;
      rs.op.timeouts += o.timeouts;
      rs.op.live_keys += o.live_keys;
      rs.op.partial_matches += o.partial_matches;
      rs.op.dropped_partial_matches += o.dropped_partial_matches;
      rs.op.state_bytes += o.state_bytes;
    }
    st.rules.push_back(std::move(rs));
  }
  st.records = im.records;
  st.checkpoints = im.checkpoints;
  st.checkpoint_failures = im.checkpoint_failures;
  return st;
}

}  // namespace vigil::engine
