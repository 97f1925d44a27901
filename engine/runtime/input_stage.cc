#include "engine/runtime/input_stage.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "engine/runtime/clock.h"

namespace vigil::engine::runtime {

InputStage::InputStage(std::vector<SourceInput> inputs, Options options)
    : options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = WallMs;
  for (SourceInput& si : inputs) {
    auto in = std::make_unique<Input>();
    in->source = std::move(si.source);
    in->stream_index = si.stream;
    in->partition_streams = std::move(si.partition_streams);
    in->last_data_ms.assign(in->source->partitions(), 0);
    inputs_.push_back(std::move(in));
  }
}

std::vector<int> InputStage::PartitionsPerStream(size_t streams) const {
  std::vector<int> parts(streams, 0);
  for (const auto& in : inputs_) {
    if (in->partition_streams.empty()) {
      parts[in->stream_index] += in->source->partitions();
    } else {
      for (int s : in->partition_streams) parts[s] += 1;
    }
  }
  return parts;
}

void InputStage::Connect(StreamRouter* router, DecodeStage* decode, Exchange* exchange,
                         FailureLatch* failure, StatusBoard* board,
                         std::function<absl::Status(bool)> on_round) {
  router_ = router;
  decode_ = decode;
  exchange_ = exchange;
  failure_ = failure;
  board_ = board;
  on_round_ = std::move(on_round);
  partition_map_.assign(router->streams().size(), {});
  mover_ = std::make_unique<PartitionMover>(exchange, router, decode);
  for (auto& in : inputs_) {
    SharedSource* shared = in->source->AsShared();
    in->stream = router->stream(in->stream_of(0));
    if (in->partition_streams.empty()) in->first_partition =
        static_cast<int>(partition_map_[in->stream_index].size());
    for (int p = 0; p < in->source->partitions(); ++p) {
      StreamRouter::Stream* s = router->stream(in->stream_of(p));
      partition_map_[s->index].emplace_back(in.get(), p);
      in->streams.push_back(s);
      if (in->source->explicit_watermarks_only()) s->tracker.SetExplicitOnly(true);
      if (shared != nullptr && !in->partition_streams.empty()) {
        // Scale-out: the stream is partition p of a shared source; until the group assigns
        // it to this process it holds nothing back.
        s->shared = shared;
        s->shard = p;
        router->ResetStream(*s);
      }
    }
    // Shared sources' partitions never go idle by silence: their writers say when.
    in->can_idle = shared == nullptr && in->source->live() && !in->stream->processing_time() &&
                   in->stream->def->idle_after.has_value();
    if (in->can_idle) has_idle_inputs_ = true;
  }
}

absl::Status InputStage::TakeAssignmentChange(Input& in) {
  SharedSource* shared = in.source->AsShared();
  if (shared == nullptr) return absl::OkStatus();
  std::optional<AssignmentChange> change = shared->TakeAssignmentChange();
  if (!change) return absl::OkStatus();
  std::vector<int> streams(in.streams.size());
  for (size_t p = 0; p < streams.size(); ++p) streams[p] = in.streams[p]->index;
  return mover_->Apply(streams, std::move(*change));
}

void InputStage::DescribeOrigin(int stream, int partition, uint64_t seq,
                                DeadLetterItem* out) const {
  const auto& map = partition_map_[stream];
  if (partition < 0 || partition >= static_cast<int>(map.size())) {
    out->position = seq;
    return;
  }
  const auto& [in, source_partition] = map[partition];
  RecordOrigin o = in->source->Origin(SourceRecord{{}, source_partition, seq});
  out->topic = std::string(o.topic);
  out->partition = o.partition;
  out->position = o.position;
}

absl::Status InputStage::Run() {
  remaining_ = 0;
  for (auto& in : inputs_) remaining_ += in->ended ? 0 : 1;
  // `idle after` counts silence from the start for sources that never deliver anything.
  const int64_t start_ms = has_idle_inputs_ ? options_.now_ms() : 0;
  for (auto& in : inputs_) {
    if (in->can_idle) std::fill(in->last_data_ms.begin(), in->last_data_ms.end(), start_ms);
  }
  next_tick_ms_ = SteadyMs() + kTickMs;
  while (remaining_ > 0) {
    if (stop_requested()) {
      stopped_ = true;
      absl::Status st = on_round_(/*final=*/true);
      PublishStatus(/*force=*/true);
      return st;
    }
    VIGIL_RETURN_IF_ERROR(on_round_(false));
    PublishStatus(/*force=*/false);
    bool progress = false;
    for (auto& in : inputs_) {
      if (in->ended) continue;
      VIGIL_RETURN_IF_ERROR(ReadChunk(*in, &progress));
      VIGIL_RETURN_IF_ERROR(Tick());
    }
    VIGIL_RETURN_IF_ERROR(exchange_->FlushAll());
    if (!progress && remaining_ > 0) VIGIL_RETURN_IF_ERROR(WaitForData());
  }
  PublishStatus(/*force=*/true);
  return absl::OkStatus();
}

void InputStage::PublishStatus(bool force) {
  if (board_ == nullptr) return;
  constexpr int64_t kStatusMs = 250;
  int64_t now = SteadyMs();
  if (!force && now < next_status_ms_) return;
  next_status_ms_ = now + kStatusMs;
  std::vector<StreamSnapshot> out;
  for (size_t s = 0; s < partition_map_.size(); ++s) {
    StreamRouter::Stream* st = router_->stream(static_cast<int>(s));
    if (st == nullptr) continue;
    StreamSnapshot snap;
    snap.stats = st->stats;
    snap.watermark = st->tracker.current();
    for (size_t p = 0; p < partition_map_[s].size(); ++p) {
      const auto& [in, sp] = partition_map_[s][p];
      PartitionSnapshot ps;
      ps.name = in->source->partitions() > 1
                    ? in->source->name() + "#" + std::to_string(sp)
                    : in->source->name();
      if (in->ended) {
        ps.watermark = Watermark::Max();
      } else if (st->processing_time()) {
        ps.watermark = st->tracker.current();
      } else {
        ps.watermark = st->tracker.partition_watermark(static_cast<int>(p));
      }
      ps.idle = st->tracker.idle(static_cast<int>(p));
      snap.partitions.push_back(std::move(ps));
    }
    out.push_back(std::move(snap));
  }
  board_->PublishStreams(std::move(out));
}

absl::Status InputStage::ReadChunk(Input& in, bool* progress) {
  absl::StatusOr<PollState> state = in.source->Poll(options_.chunk, &batch_);
  if (!state.ok()) return state.status();
  // Partitions that moved before this batch's records (which are all of partitions owned
  // after the change).
  VIGIL_RETURN_IF_ERROR(TakeAssignmentChange(in));
  switch (*state) {
    case PollState::kData: {
      *progress = true;
      in.waiting = false;
      if (in.can_idle) {
        int64_t now = options_.now_ms();
        for (const SourceRecord& r : batch_) in.last_data_ms[r.partition] = now;
      }
      for (const SourceRecord& r : batch_) {
        VIGIL_RETURN_IF_ERROR(
            decode_->Add(in.stream_of(r.partition), in.stream_partition(r.partition), r));
      }
      return decode_->Dispatch();
    }
    case PollState::kWait:
      in.waiting = true;
      return absl::OkStatus();
    case PollState::kEnd:
      *progress = true;
      return EndInput(in);
  }
  return absl::OkStatus();
}

absl::Status InputStage::EndInput(Input& in) {
  VIGIL_RETURN_IF_ERROR(decode_->Drain());
  in.ended = true;
  --remaining_;
  for (int p = 0; p < in.source->partitions(); ++p) {
    VIGIL_RETURN_IF_ERROR(router_->EndPartition(*in.streams[p], in.stream_partition(p)));
  }
  return absl::OkStatus();
}

// No source had data: push out what is pending (records leave as soon as the watermark
// allows), then wait up to one tick for any waiting source's descriptor. Sources without a
// descriptor (followed files) are polled again by the main loop after the tick.
absl::Status InputStage::WaitForData() {
  VIGIL_RETURN_IF_ERROR(decode_->Drain());
  VIGIL_RETURN_IF_ERROR(Tick());
  VIGIL_RETURN_IF_ERROR(exchange_->FlushAll());
  std::vector<struct pollfd> fds;
  for (auto& in : inputs_) {
    if (in->ended || !in->waiting) continue;
    int fd = in->source->wait_fd();
    if (fd >= 0) fds.push_back({fd, POLLIN, 0});
  }
  int r = ::poll(fds.data(), fds.size(), static_cast<int>(kTickMs));
  if (r < 0 && errno != EINTR) {
    return absl::InternalError(std::string("poll: ") + std::strerror(errno));
  }
  if (failure_->failed()) return failure_->ErrorOr("stopped");
  return absl::OkStatus();
}

absl::Status InputStage::Tick() {
  int64_t steady = SteadyMs();
  if (steady < next_tick_ms_) return absl::OkStatus();
  next_tick_ms_ = steady + kTickMs;
  if (!router_->has_processing_time() && !has_idle_inputs_) return absl::OkStatus();
  // Every record read is accounted for before the clock moves watermarks.
  VIGIL_RETURN_IF_ERROR(decode_->Drain());
  int64_t now = options_.now_ms();
  VIGIL_ASSIGN_OR_RETURN(bool moved, router_->AdvanceProcessingTime(now));
  // Oldest silence first, as a finer tick would have seen them (when every partition goes
  // idle, the first ones have already let the watermark advance); on a tie, the partition
  // furthest behind (holding the watermark back) first.
  idle_candidates_.clear();
  for (auto& in : inputs_) {
    if (in->ended || !in->can_idle) continue;
    for (int p = 0; p < in->source->partitions(); ++p) {
      if (!in->source->caught_up(p)) continue;
      if (now - in->last_data_ms[p] < in->streams[p]->def->idle_after->ms) continue;
      idle_candidates_.push_back({in.get(), p});
    }
  }
  std::stable_sort(idle_candidates_.begin(), idle_candidates_.end(),
                   [](const IdleCandidate& a, const IdleCandidate& b) {
                     int64_t la = a.in->last_data_ms[a.partition];
                     int64_t lb = b.in->last_data_ms[b.partition];
                     if (la != lb) return la < lb;
                     return a.in->streams[a.partition]->tracker.max_seen(
                                a.in->stream_partition(a.partition)) <
                            b.in->streams[b.partition]->tracker.max_seen(
                                b.in->stream_partition(b.partition));
                   });
  for (const IdleCandidate& c : idle_candidates_) {
    VIGIL_ASSIGN_OR_RETURN(bool m, router_->MarkIdle(*c.in->streams[c.partition],
                                                     c.in->stream_partition(c.partition)));
    moved = moved || m;
  }
  return moved ? exchange_->FlushAll() : absl::OkStatus();
}

std::vector<std::pair<PartitionStateSink*, std::vector<PartitionCommit>>>
InputStage::SharedStates() const {
  std::vector<std::pair<PartitionStateSink*, std::vector<PartitionCommit>>> out;
  for (const auto& in : inputs_) {
    SharedSource* shared = in->source->AsShared();
    if (shared == nullptr) continue;
    std::vector<PartitionCommit> commits;
    for (int p : shared->owned()) {
      if (p < 0 || p >= static_cast<int>(in->streams.size())) continue;
      commits.push_back({p, shared->PartitionState(p), router_->EncodeBuffered(*in->streams[p])});
    }
    out.emplace_back(shared->state_sink(), std::move(commits));
  }
  return out;
}

std::vector<PartitionStateSink*> InputStage::ChangelogsByStream(size_t streams) const {
  std::vector<PartitionStateSink*> out(streams, nullptr);
  for (const auto& in : inputs_) {
    SharedSource* shared = in->source->AsShared();
    if (shared == nullptr) continue;
    for (const StreamRouter::Stream* s : in->streams) out[s->index] = shared->state_sink();
  }
  return out;
}

std::vector<state::CheckpointMeta::Source> InputStage::Positions() const {
  std::vector<state::CheckpointMeta::Source> out;
  for (const auto& in : inputs_) {
    out.push_back({in->stream->def->name, in->source->name(), in->source->Position()});
  }
  return out;
}

absl::Status InputStage::Restore(const std::vector<state::CheckpointMeta::Source>& positions,
                                 const std::function<void(std::string_view)>& log) {
  if (positions.size() != inputs_.size()) {
    return absl::FailedPreconditionError(
        "the checkpoint has " + std::to_string(positions.size()) + " inputs, this run has " +
        std::to_string(inputs_.size()) + ": restart with the same inputs");
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    Input& in = *inputs_[i];
    const state::CheckpointMeta::Source& src = positions[i];
    const std::string& stream = in.stream->def->name;
    if (src.stream != stream) {
      return absl::FailedPreconditionError("input " + std::to_string(i + 1) + " reads stream '" +
                                           stream + "' but the checkpoint's reads '" +
                                           src.stream + "'");
    }
    absl::Status st = in.source->Seek(src.position);
    if (absl::IsUnimplemented(st)) {
      if (log) {
        log("warning: input '" + in.source->name() +
            "' cannot be rewound: reading continues where it is");
      }
      continue;
    }
    VIGIL_RETURN_IF_ERROR(st);
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine::runtime
