#include "engine/runtime/checkpoint_coordinator.h"

#include <thread>

#include "absl/container/flat_hash_set.h"
#include "core/codec.h"
#include "engine/metrics/metrics.h"
#include "engine/operator/key_group.h"
#include "engine/runtime/clock.h"
#include "engine/state/savepoint.h"
#include "engine/state/state_key.h"

namespace vigil::engine::runtime {

namespace {
constexpr uint32_t kRouterStateVersion = 2;
}

CheckpointCoordinator::CheckpointCoordinator(Options options, Stages stages,
                                             metrics::Metrics* metrics, StatusBoard* board,
                                             FailureLatch* failure)
    : options_(std::move(options)), stages_(std::move(stages)), board_(board), failure_(failure) {
  if (board_ != nullptr) {
    CheckpointSnapshot c;
    c.enabled = enabled();
    board_->PublishCheckpoint(c);
  }
  if (metrics != nullptr) {
    m_size_ = metrics->CheckpointSizeBytes();
    m_state_size_ = metrics->StateSizeBytes();
    m_failures_ = metrics->CheckpointFailures();
    m_count_ = metrics->Checkpoints();
    m_duration_ = metrics->CheckpointDuration();
  }
}

void CheckpointCoordinator::Start(bool restored) {
  if (!enabled()) return;
  auto ids = options_.backend->ListCheckpoints();
  if (ids.ok() && !ids->empty()) next_id_ = std::max(next_id_, ids->back() + 1);
  finished_id_.store(next_id_ - 1);
  started_id_ = next_id_ - 1;
  // A fresh restartable run checkpoints before it reads anything: the sizes of the file
  // outputs it appends to are then on record, and a kill before the next checkpoint cannot
  // leave records that a restart writes again.
  next_due_ms_ = restored ? SteadyMs() + options_.interval_ms : 0;
  committer_ = std::thread([this] { CommitLoop(); });
}

void CheckpointCoordinator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_one();
  if (committer_.joinable()) committer_.join();
}

absl::Status CheckpointCoordinator::MaybeCheckpoint(bool final) {
  if (!enabled()) return absl::OkStatus();
  bool sp = options_.savepoint_request != nullptr && options_.savepoint_request->load() &&
            !options_.savepoint_dir.empty();
  int64_t now = SteadyMs();
  bool due = (options_.interval_ms > 0 || next_due_ms_ == 0) && now >= next_due_ms_;
  if (!due && !sp && !final) return absl::OkStatus();
  if (in_flight()) {
    if (!final) return absl::OkStatus();
    VIGIL_RETURN_IF_ERROR(WaitForInFlight());
  }
  if (sp) options_.savepoint_request->store(false);
  VIGIL_RETURN_IF_ERROR(InjectBarrier(sp, final));
  next_due_ms_ = SteadyMs() + options_.interval_ms;
  return absl::OkStatus();
}

absl::Status CheckpointCoordinator::WaitForInFlight() {
  while (in_flight()) {
    if (failure_->failed()) return failure_->ErrorOr("stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

absl::Status CheckpointCoordinator::InjectReconfiguration(
    std::shared_ptr<const Reconfiguration> rc) {
  if (enabled()) VIGIL_RETURN_IF_ERROR(WaitForInFlight());
  VIGIL_RETURN_IF_ERROR(InjectBarrier(/*savepoint=*/false, /*final=*/false, std::move(rc)));
  if (enabled()) next_due_ms_ = SteadyMs() + options_.interval_ms;
  return absl::OkStatus();
}

std::string CheckpointCoordinator::EncodeRouterState() const {
  Encoder enc;
  enc.U32(kRouterStateVersion);
  stages_.router->Encode(&enc);
  const Topology& t = *stages_.topology;
  uint64_t nrules = 0;  // (the rules running after the barrier)
  for (size_t r = 0; r < t.rule_count(); ++r) nrules += t.runs(r) ? 1 : 0;
  enc.U64(nrules);
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!t.runs(r)) continue;
    enc.Str(t.rules().rules[r].name);
    enc.U32(t.op_id(r));
  }
  return std::move(enc.buffer());
}

absl::Status CheckpointCoordinator::InjectBarrier(bool savepoint, bool final,
                                                  std::shared_ptr<const Reconfiguration> rc) {
  VIGIL_RETURN_IF_ERROR(stages_.decode->Drain());
  auto info = std::make_shared<BarrierInfo>();
  info->id = next_id_++;
  info->checkpoint = enabled();
  info->savepoint = savepoint;
  info->final = final;
  info->started_ms = SteadyMs();
  if (rc) {
    // From this barrier on the router routes by the new rules; the checkpoint it cuts (with a
    // backend) is of the state right after the switch: the new rules, unchanged rules' state,
    // and the deployed files, so that a restart runs what was deployed.
    info->reconfig = rc;
    stages_.topology = rc->topology;
    stages_.router->SetTopology(rc->topology);
    deployed_files_ = rc->files;
    if (board_ != nullptr) board_->ResetRules(rc->topology->version(), rc->topology->rule_count());
  }
  if (savepoint) {
    info->savepoint_path = options_.savepoint_dir + "/savepoint-" + std::to_string(info->id);
  }
  state::CheckpointMeta& meta = info->meta;
  meta.checkpoint_id = info->id;
  meta.parallelism = static_cast<uint32_t>(stages_.topology->parallelism());
  meta.max_key_groups = kMaxKeyGroups;
  meta.sources = stages_.input->Positions();
  for (const auto& s : stages_.router->streams()) {
    if (s) meta.watermarks.push_back({s->def->name, s->tracker.current()});
  }
  meta.extra = EncodeRouterState();
  meta.rules = deployed_files_;
  if (info->checkpoint) info->partition_commits = stages_.input->SharedStates();
  if (info->checkpoint) {
    started_id_ = info->id;
    if (board_ != nullptr) board_->SetCheckpointInFlight(true);
  }
  std::shared_ptr<const BarrierInfo> shared = info;
  Exchange& ex = *stages_.exchange;
  for (int w = 0; w < ex.parallelism(); ++w) {
    WorkItem it;
    it.kind = WorkItem::kBarrier;
    it.barrier = shared;
    VIGIL_RETURN_IF_ERROR(ex.PushWork(w, std::move(it)));
    VIGIL_RETURN_IF_ERROR(ex.FlushWorker(w));
  }
  OutItem item;
  item.barrier = shared;
  VIGIL_RETURN_IF_ERROR(ex.PushRouterOut(std::move(item)));
  return ex.FlushRouterLane();
}

absl::Status CheckpointCoordinator::OnAligned(
    const std::shared_ptr<const BarrierInfo>& info, absl::Status parts,
    std::vector<state::CheckpointMeta::SinkState> outputs) {
  PendingCommit commit{info, parts, info->meta};
  if (parts.ok()) {
    commit.meta.sinks = std::move(outputs);
    commit.meta.created_unix_ms = WallMs();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = std::move(commit);
  }
  cv_.notify_one();
  return absl::OkStatus();
}

void CheckpointCoordinator::CommitLoop() {
  while (true) {
    PendingCommit c;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return pending_.has_value() || closed_; });
      if (!pending_.has_value()) return;
      c = std::move(*pending_);
      pending_.reset();
    }
    Commit(c);
  }
}

void CheckpointCoordinator::Commit(const PendingCommit& c) {
  const BarrierInfo& info = *c.info;
  absl::Status st = c.parts;
  // Scale-out: the partitions' changelogs first (the workers' changes of this barrier were
  // handed to them during the barrier; the markers make them count).
  for (const auto& [sink, commits] : info.partition_commits) {
    if (!st.ok()) break;
    st = sink->Commit(info.id, commits);
  }
  if (st.ok()) {
    std::string blob = state::EncodeCheckpointMeta(c.meta);
    auto done = options_.backend->Checkpoint(info.id, blob);
    if (!done.ok()) {
      st = done.status();
    } else {
      ++checkpoints_;
      if (m_size_ != nullptr) m_size_->Set(static_cast<int64_t>(done->bytes));
      if (info.savepoint) {
        absl::Status sp = state::WriteSavepoint(*options_.backend, info.savepoint_path, blob);
        if (sp.ok()) {
          Log("savepoint " + info.savepoint_path);
        } else {
          Log("warning: savepoint " + info.savepoint_path + " failed: " +
              std::string(sp.message()));
        }
        FinishSavepoint(info.id, sp.ok() ? absl::StatusOr<std::string>(info.savepoint_path)
                                         : absl::StatusOr<std::string>(sp));
      }
    }
  }
  if (!st.ok() && info.savepoint) FinishSavepoint(info.id, st);
  if (!st.ok()) {
    ++failures_;
    if (m_failures_ != nullptr) m_failures_->Inc();
    Log("warning: checkpoint " + std::to_string(info.id) + " failed: " +
        std::string(st.message()) +
        " (the job continues; the previous checkpoint stays the restore point)");
  } else {
    if (m_count_ != nullptr) {
      m_count_->Inc();
      m_duration_->Observe(static_cast<double>(SteadyMs() - info.started_ms) / 1000.0);
      m_state_size_->Set(static_cast<int64_t>(options_.backend->ApproximateSize()));
    }
    stages_.output->CheckpointCommitted(info.id);
  }
  if (board_ != nullptr) {
    CheckpointSnapshot snap;
    snap.enabled = true;
    snap.completed = checkpoints_;
    snap.failures = failures_;
    if (st.ok()) {
      last_ok_id_ = info.id;
      last_ok_unix_ms_ = WallMs();
      last_ok_duration_ms_ = SteadyMs() - info.started_ms;
    }
    snap.last_id = last_ok_id_;
    snap.last_unix_ms = last_ok_unix_ms_;
    snap.last_duration_ms = last_ok_duration_ms_;
    board_->PublishCheckpoint(snap);
  }
  finished_id_.store(info.id, std::memory_order_release);
}

void CheckpointCoordinator::FinishSavepoint(uint64_t id, absl::StatusOr<std::string> result) {
  {
    std::lock_guard<std::mutex> lock(savepoint_mu_);
    savepoint_id_ = id;
    savepoint_result_ = std::move(result);
  }
  savepoint_cv_.notify_all();
}

uint64_t CheckpointCoordinator::last_savepoint_id() const {
  std::lock_guard<std::mutex> lock(savepoint_mu_);
  return savepoint_id_;
}

absl::StatusOr<std::string> CheckpointCoordinator::AwaitSavepoint(uint64_t after_id,
                                                                  int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(savepoint_mu_);
  bool done = savepoint_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                     [&] { return savepoint_id_ > after_id; });
  if (!done) return absl::DeadlineExceededError("no savepoint was written in time");
  return savepoint_result_;
}

absl::Status CheckpointCoordinator::Restore(const state::CheckpointMeta& meta) {
  restored_ = true;
  VIGIL_RETURN_IF_ERROR(stages_.input->Restore(meta.sources, options_.log));
  VIGIL_RETURN_IF_ERROR(stages_.output->Restore(meta.sinks, options_.log));

  Decoder dec(meta.extra);
  uint32_t version = 0;
  VIGIL_RETURN_IF_ERROR(dec.U32(&version));
  if (version != kRouterStateVersion) {
    return absl::DataLossError("checkpoint: unknown router state version " +
                               std::to_string(version));
  }
  VIGIL_RETURN_IF_ERROR(stages_.router->Decode(&dec));
  uint64_t nrules = 0;
  VIGIL_RETURN_IF_ERROR(dec.U64(&nrules));
  std::vector<std::pair<std::string, uint32_t>> old_ids;
  for (uint64_t i = 0; i < nrules; ++i) {
    std::string name;
    uint32_t id = 0;
    VIGIL_RETURN_IF_ERROR(dec.Str(&name));
    VIGIL_RETURN_IF_ERROR(dec.U32(&id));
    old_ids.emplace_back(std::move(name), id);
  }
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
  const Topology& t = *stages_.topology;
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!t.runs(r)) continue;
    for (const auto& [name, id] : old_ids) {
      if (name == t.rules().rules[r].name && id != t.op_id(r)) {
        Log("warning: rule '" + name + "' changed since the checkpoint: its state starts fresh");
      }
    }
  }
  state::StateBackend* backend =
      options_.restore_backend != nullptr ? options_.restore_backend : options_.backend;
  if (backend != nullptr) VIGIL_RETURN_IF_ERROR(RestoreKeyedState(backend, old_ids));
  if (enabled()) next_id_ = std::max(next_id_, meta.checkpoint_id + 1);
  deployed_files_ = meta.rules;
  return absl::OkStatus();
}

absl::Status CheckpointCoordinator::RestoreKeyedState(
    state::StateBackend* backend, const std::vector<std::pair<std::string, uint32_t>>& old_ids) {
  const Topology& t = *stages_.topology;
  absl::flat_hash_set<uint32_t> current;
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (t.runs(r)) current.insert(t.op_id(r));
  }
  // Drop the state of rules that no longer exist (or changed).
  for (const auto& [name, id] : old_ids) {
    if (current.contains(id)) continue;
    state::WriteBatch batch;
    VIGIL_RETURN_IF_ERROR(
        backend->Scan(state::OperatorPrefix(id), [&](std::string_view k, std::string_view) {
          batch.Delete(std::string(k));
          return true;
        }));
    if (!batch.empty()) VIGIL_RETURN_IF_ERROR(backend->Write(batch));
  }
  // Keyed state: each worker loads its key groups.
  for (Worker* w : stages_.workers) {
    state::KeyGroupRange range = t.RangeOfWorker(w->index());
    if (range.empty()) continue;
    for (size_t r = 0; r < t.rule_count(); ++r) {
      if (!w->runs(r)) continue;
      auto [begin, end] = state::KeyGroupRangeBounds(t.op_id(r), range);
      absl::Status err;
      VIGIL_RETURN_IF_ERROR(
          backend->ScanRange(begin, end, [&](std::string_view k, std::string_view v) {
            std::optional<uint16_t> kg = state::KeyGroupOf(k);
            err = w->RestoreKey(r, kg.value_or(0), state::UserKeyOf(k), v);
            return err.ok();
          }));
      VIGIL_RETURN_IF_ERROR(err);
    }
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine::runtime
