#include "engine/runtime/stream_router.h"

#include "engine/metrics/metrics.h"
#include "engine/operator/key_group.h"
#include "engine/record_id.h"

namespace vigil::engine::runtime {

StreamRouter::Stream::Stream(const cep::StreamDef& d, int idx, int parts)
    : def(&d),
      index(idx),
      decoder(d, static_cast<uint32_t>(idx)),
      tracker(d.out_of_order, d.idle_after, parts),
      partitions(parts) {
  stats.name = d.name;
}

StreamRouter::StreamRouter(std::shared_ptr<const Topology> topology, Exchange* exchange,
                           const std::vector<int>& partitions, metrics::Metrics* metrics,
                           OriginFn origin)
    : topology_(std::move(topology)), exchange_(exchange), origin_(std::move(origin)) {
  const auto& defs = topology_->rules().streams;
  streams_.resize(defs.size());
  for (size_t s = 0; s < defs.size(); ++s) {
    if (s >= partitions.size() || partitions[s] == 0) continue;
    auto st = std::make_unique<Stream>(defs[s], static_cast<int>(s), partitions[s]);
    if (metrics != nullptr) {
      st->m_events = metrics->StreamEventsIn(defs[s].name);
      st->m_late = metrics->StreamLateEvents(defs[s].name);
      st->m_invalid = metrics->StreamInvalidEvents(defs[s].name);
      st->m_lag = metrics->StreamWatermarkLag(defs[s].name);
    }
    if (st->processing_time()) has_processing_time_ = true;
    streams_[s] = std::move(st);
  }
}

void StreamRouter::SetTopology(std::shared_ptr<const Topology> topology) {
  topology_ = std::move(topology);
  for (auto& s : streams_) {
    if (!s || s->buffer.empty()) continue;
    // Same release order, routes recomputed from the events when released.
    std::vector<EventPtr> buffered = s->buffer.Contents();
    s->buffer = ReorderBuffer();
    for (EventPtr& e : buffered) s->buffer.Push(std::move(e), kNoRoute);
  }
}

int64_t StreamRouter::StampProcessingTime(Stream& s, int64_t now_ms) {
  s.last_processing_time = std::max(s.last_processing_time, now_ms);
  return s.last_processing_time;
}

absl::Status StreamRouter::RouteEvent(Stream& s, EventPtr e, uint64_t route) {
  const std::vector<int>& rules = topology_->rules_of_stream(s.index);
  for (size_t i = 0; i < rules.size(); ++i) {
    int w;
    if (e->shard != Event::kNoShard && s.shared != nullptr) {
      // Scale-out: this process handles the event only for the rules whose key group came
      // through the event's repartition partition.
      uint16_t kg = topology_->KeyGroupOfRule(s.index, i, *e);
      if (s.shared->PartitionOfKeyGroup(kg) != e->shard) continue;
      w = WorkerOfKeyGroup(kg, topology_->parallelism());
    } else {
      w = topology_->WorkerFromRoute(s.index, i, route, *e);
    }
    WorkItem it;
    it.kind = WorkItem::kEvent;
    it.index = rules[i];
    it.event = i + 1 == rules.size() ? std::move(e) : e;
    VIGIL_RETURN_IF_ERROR(exchange_->PushWork(w, std::move(it)));
  }
  return absl::OkStatus();
}

absl::Status StreamRouter::Release(Stream& s) {
  Watermark wm = s.tracker.current();
  uint64_t route = kNoRoute;
  while (EventPtr e = s.buffer.PopReady(wm, &route)) {
    VIGIL_RETURN_IF_ERROR(RouteEvent(s, std::move(e), route));
  }
  exchange_->SetReleasedWatermark(s.index, wm.ms);
  if (s.m_lag != nullptr) s.m_lag->Set(wm);
  return absl::OkStatus();
}

absl::Status StreamRouter::Late(Stream& s, const EventPtr& e) {
  ++s.stats.late;
  if (s.m_late != nullptr) s.m_late->Inc();
  OutItem item;
  if (s.def->late_to.empty()) {
    auto d = std::make_unique<DeadLetterItem>();
    d->kind = DeadLetterItem::kLate;
    d->stream = s.def->name;
    d->event = e;
    d->watermark = s.tracker.current();
    origin_(s.index, static_cast<int>(e->seq >> kPartitionShift), e->seq & kSeqMask, d.get());
    item.dead_letter = std::move(d);
    return exchange_->PushRouterOut(std::move(item));
  }
  Record& r = item.record;
  r.kind = RecordKind::kLate;
  r.stream = s.def->name;
  r.time = e->time;
  r.events.emplace_back(s.def->name, std::vector<EventPtr>{e});
  r.id = StableRecordId(s.def->name, RecordKind::kLate, {}, {e->seq}, e->time);
  item.sinks = s.def->late_to;
  return exchange_->PushRouterOut(std::move(item));
}

absl::Status StreamRouter::Invalid(Stream& s, int partition, uint64_t seq,
                                   std::string_view reason, std::string_view text) {
  ++s.stats.invalid;
  if (s.m_invalid != nullptr) s.m_invalid->Inc();
  auto d = std::make_unique<DeadLetterItem>();
  d->kind = DeadLetterItem::kInvalid;
  d->stream = s.def->name;
  d->reason = std::string(reason);
  d->input = std::string(text);
  origin_(s.index, partition, seq, d.get());
  OutItem item;
  item.dead_letter = std::move(d);
  return exchange_->PushRouterOut(std::move(item));
}

absl::Status StreamRouter::Accept(Stream& s, int partition, EventPtr event, int64_t time,
                                  uint64_t route) {
  ++s.stats.events;
  if (s.m_events != nullptr) s.m_events->Inc();
  if (s.processing_time()) {
    VIGIL_RETURN_IF_ERROR(RouteEvent(s, std::move(event), route));
    // Later events are stamped at or after time: nothing at or before time - 1 can come.
    if (s.tracker.AdvanceTo(Watermark(time - 1))) {
      exchange_->SetReleasedWatermark(s.index, s.tracker.current().ms);
    }
    return absl::OkStatus();
  }
  if (s.tracker.IsLate(EventTime(time))) return Late(s, event);
  s.buffer.Push(std::move(event), EventTime(time), route);
  if (s.tracker.Observe(partition, EventTime(time))) return Release(s);
  return absl::OkStatus();
}

absl::Status StreamRouter::ExplicitWatermark(Stream& s, int partition, Watermark wm,
                                             uint64_t seq, std::string_view text) {
  if (s.processing_time()) {
    return Invalid(s, partition, seq,
                   "line " + std::to_string(seq) +
                       ": $watermark on a processing-time stream (it has no `event time`)",
                   text);
  }
  if (s.tracker.ObserveWatermark(partition, wm)) return Release(s);
  return absl::OkStatus();
}

absl::Status StreamRouter::EndPartition(Stream& s, int partition) {
  ++s.ended;
  bool moved = s.tracker.MarkEnded(partition);
  if (s.all_ended()) {
    // The stream's last input ended: watermark +infinity, flush everything.
    uint64_t route = kNoRoute;
    while (EventPtr e = s.buffer.PopReady(Watermark::Max(), &route)) {
      VIGIL_RETURN_IF_ERROR(RouteEvent(s, std::move(e), route));
    }
    exchange_->SetReleasedWatermark(s.index, Watermark::Max().ms);
    if (s.m_lag != nullptr) s.m_lag->Set(Watermark::Max());
    return absl::OkStatus();
  }
  return moved ? Release(s) : absl::OkStatus();
}

absl::StatusOr<bool> StreamRouter::MarkIdle(Stream& s, int partition) {
  if (!s.tracker.MarkIdle(partition)) return false;
  VIGIL_RETURN_IF_ERROR(Release(s));
  return true;
}

absl::StatusOr<bool> StreamRouter::AdvanceProcessingTime(int64_t now_ms) {
  bool moved = false;
  for (auto& sp : streams_) {
    if (!sp || !sp->processing_time() || sp->all_ended()) continue;
    Stream& s = *sp;
    s.last_processing_time = std::max(s.last_processing_time, now_ms);
    if (s.tracker.AdvanceTo(Watermark(s.last_processing_time - 1))) {
      VIGIL_RETURN_IF_ERROR(Release(s));
      moved = true;
    }
  }
  return moved;
}

std::string StreamRouter::EncodeBuffered(const Stream& s) const {
  Encoder enc;
  std::vector<EventPtr> buffered = s.buffer.Contents();
  enc.U64(buffered.size());
  for (const EventPtr& e : buffered) enc.Ev(*e);
  return std::move(enc.buffer());
}

absl::Status StreamRouter::RestoreBuffered(Stream& s, std::string_view state) {
  if (state.empty()) return absl::OkStatus();
  Decoder dec(state);
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(dec.U64(&n));
  for (uint64_t i = 0; i < n; ++i) {
    auto e = std::make_shared<Event>();
    VIGIL_RETURN_IF_ERROR(dec.Ev(e.get()));
    e->stream = static_cast<uint32_t>(s.index);
    e->shard = static_cast<uint16_t>(s.shard);
    EventTime t = e->time;
    s.buffer.Push(std::move(e), t, kNoRoute);
  }
  return dec.ExpectDone();
}

void StreamRouter::ResetStream(Stream& s) {
  s.buffer = ReorderBuffer();
  s.tracker = WatermarkTracker(s.def->out_of_order, s.def->idle_after, s.partitions);
  s.tracker.SetExplicitOnly(true);
  s.tracker.MarkIdle(0);  // not owned: holds nothing back
  exchange_->SetSentWatermark(s.index, Watermark::Min().ms);
}

void StreamRouter::Encode(Encoder* enc) const {
  uint64_t n = 0;
  for (const auto& s : streams_) n += s ? 1 : 0;
  enc->U64(n);
  for (const auto& s : streams_) {
    if (!s) continue;
    enc->Str(s->def->name);
    enc->U32(static_cast<uint32_t>(s->partitions));
    s->tracker.Encode(enc);
    enc->I64(s->last_processing_time);
    enc->U64(s->stats.events);
    enc->U64(s->stats.invalid);
    enc->U64(s->stats.late);
    std::vector<EventPtr> buffered = s->buffer.Contents();
    enc->U64(buffered.size());
    for (const EventPtr& e : buffered) enc->Ev(*e);
  }
}

absl::Status StreamRouter::Decode(Decoder* dec) {
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(dec->U64(&n));
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    uint32_t partitions = 0;
    VIGIL_RETURN_IF_ERROR(dec->Str(&name));
    VIGIL_RETURN_IF_ERROR(dec->U32(&partitions));
    int idx = topology_->rules().FindStream(name);
    Stream* s = idx >= 0 ? streams_[idx].get() : nullptr;
    if (s == nullptr) {
      return absl::FailedPreconditionError("checkpoint: stream '" + name +
                                           "' is not read by this run");
    }
    if (static_cast<int>(partitions) != s->partitions) {
      return absl::FailedPreconditionError(
          "checkpoint: stream '" + name + "' had " + std::to_string(partitions) +
          " input partitions, this run has " + std::to_string(s->partitions));
    }
    VIGIL_RETURN_IF_ERROR(s->tracker.Decode(dec));
    VIGIL_RETURN_IF_ERROR(dec->I64(&s->last_processing_time));
    VIGIL_RETURN_IF_ERROR(dec->U64(&s->stats.events));
    VIGIL_RETURN_IF_ERROR(dec->U64(&s->stats.invalid));
    VIGIL_RETURN_IF_ERROR(dec->U64(&s->stats.late));
    uint64_t buffered = 0;
    VIGIL_RETURN_IF_ERROR(dec->U64(&buffered));
    for (uint64_t b = 0; b < buffered; ++b) {
      auto e = std::make_shared<Event>();
      VIGIL_RETURN_IF_ERROR(dec->Ev(e.get()));
      s->buffer.Push(std::move(e), kNoRoute);
    }
    // Workers have seen every watermark up to the checkpoint.
    exchange_->SetSentWatermark(s->index, s->tracker.current().ms);
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine::runtime
