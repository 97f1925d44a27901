#include "engine/state/heap_backend.h"

#include <algorithm>

#include "engine/state/file_util.h"
#include "engine/state/savepoint.h"

namespace vigil::engine::state {

HeapBackend::HeapBackend(Options options) : options_(std::move(options)) {
  if (!options_.dir.empty()) {
    chk_dir_ = std::make_unique<internal::CheckpointDir>(options_.dir + "/checkpoints");
  }
}

absl::StatusOr<std::unique_ptr<HeapBackend>> HeapBackend::Open(Options options) {
  std::unique_ptr<HeapBackend> b(new HeapBackend(std::move(options)));
  if (b->chk_dir_) VIGIL_RETURN_IF_ERROR(b->chk_dir_->Init());
  return b;
}

std::string HeapBackend::DataPath(uint64_t id) const { return chk_dir_->PathOf(id) + "/state"; }

absl::Status HeapBackend::Write(const WriteBatch& batch) {
  std::unique_lock lock(mu_);
  for (const auto& op : batch.ops) {
    auto it = map_.find(op.key);
    if (it != map_.end()) {
      bytes_ -= it->first.size() + it->second.size();
      if (op.value) {
        it->second = *op.value;
        bytes_ += it->first.size() + it->second.size();
      } else {
        map_.erase(it);
      }
    } else if (op.value) {
      map_.emplace(op.key, *op.value);
      bytes_ += op.key.size() + op.value->size();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> HeapBackend::Get(std::string_view key) {
  std::shared_lock lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::Status HeapBackend::Scan(std::string_view prefix, const ScanFn& fn) {
  std::shared_lock lock(mu_);
  for (auto it = map_.lower_bound(prefix); it != map_.end(); ++it) {
    if (std::string_view(it->first).substr(0, prefix.size()) != prefix) break;
    if (!fn(it->first, it->second)) break;
  }
  return absl::OkStatus();
}

absl::Status HeapBackend::ScanRange(std::string_view begin, std::string_view end,
                                    const ScanFn& fn) {
  std::shared_lock lock(mu_);
  for (auto it = map_.lower_bound(begin); it != map_.end(); ++it) {
    if (!end.empty() && std::string_view(it->first) >= end) break;
    if (!fn(it->first, it->second)) break;
  }
  return absl::OkStatus();
}

uint64_t HeapBackend::ApproximateSize() {
  std::shared_lock lock(mu_);
  return bytes_;
}

absl::Status HeapBackend::Clear() {
  std::unique_lock lock(mu_);
  map_.clear();
  bytes_ = 0;
  return absl::OkStatus();
}

absl::Status HeapBackend::PrepareCheckpoint(uint64_t id) {
  pending_.reset();
  uint64_t latest = completed_.empty() ? 0 : completed_.back().id;
  if (chk_dir_) {
    VIGIL_RETURN_IF_ERROR(chk_dir_->CheckNewId(id));
    VIGIL_RETURN_IF_ERROR(internal::RemoveAll(chk_dir_->PathOf(id)));
  } else if (!completed_.empty() && id <= latest) {
    return absl::FailedPreconditionError("checkpoint id " + std::to_string(id) +
                                         " is not above the latest complete checkpoint " +
                                         std::to_string(latest));
  }
  MemCheckpoint c;
  c.id = id;
  {
    // A copy under the shared lock: writers wait only for the copy, not for the file I/O.
    std::shared_lock lock(mu_);
    c.data = std::make_shared<const Map>(map_);
    c.bytes = bytes_;
  }
  if (chk_dir_) {
    VIGIL_RETURN_IF_ERROR(internal::MakeDirs(chk_dir_->PathOf(id)));
    VIGIL_ASSIGN_OR_RETURN(auto writer, SavepointWriter::Create(DataPath(id), name(), ""));
    for (const auto& [k, v] : *c.data) VIGIL_RETURN_IF_ERROR(writer->Add(k, v));
    VIGIL_RETURN_IF_ERROR(writer->Finish());
    c.data.reset();  // on disk now
  }
  pending_ = std::move(c);
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> HeapBackend::CommitCheckpoint(uint64_t id,
                                                             const std::string& metadata) {
  if (!pending_ || pending_->id != id) {
    return absl::FailedPreconditionError("checkpoint " + std::to_string(id) + " was not prepared");
  }
  MemCheckpoint c = std::move(*pending_);
  pending_.reset();
  CheckpointInfo info{id, "", c.bytes};
  if (chk_dir_) {
    VIGIL_RETURN_IF_ERROR(chk_dir_->WriteMarker(id, name(), metadata));
    chk_dir_->Retain(options_.retained_checkpoints);
    info.path = chk_dir_->PathOf(id);
    return info;
  }
  c.metadata = metadata;
  completed_.push_back(std::move(c));
  const size_t keep = static_cast<size_t>(std::max(options_.retained_checkpoints, 1));
  if (completed_.size() > keep) {
    completed_.erase(completed_.begin(), completed_.end() - static_cast<ptrdiff_t>(keep));
  }
  return info;
}

absl::StatusOr<std::optional<RestoredCheckpoint>> HeapBackend::RestoreLatest() {
  pending_.reset();
  if (!chk_dir_) {
    if (completed_.empty()) {
      VIGIL_RETURN_IF_ERROR(Clear());
      return std::optional<RestoredCheckpoint>();
    }
    const MemCheckpoint& c = completed_.back();
    std::unique_lock lock(mu_);
    map_ = *c.data;
    bytes_ = c.bytes;
    return std::optional<RestoredCheckpoint>(RestoredCheckpoint{c.id, c.metadata});
  }
  VIGIL_RETURN_IF_ERROR(chk_dir_->RemoveIncomplete());
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, chk_dir_->ListComplete());
  if (ids.empty()) {
    VIGIL_RETURN_IF_ERROR(Clear());
    return std::optional<RestoredCheckpoint>();
  }
  VIGIL_ASSIGN_OR_RETURN(RestoredCheckpoint restored, chk_dir_->ReadMarker(ids.back(), name()));
  Map fresh;
  uint64_t bytes = 0;
  VIGIL_RETURN_IF_ERROR(
      ReadSavepoint(DataPath(ids.back()), [&](std::string_view k, std::string_view v) {
        fresh.emplace_hint(fresh.end(), std::string(k), std::string(v));
        bytes += k.size() + v.size();
        return absl::OkStatus();
      }).status());
  std::unique_lock lock(mu_);
  map_ = std::move(fresh);
  bytes_ = bytes;
  return std::optional<RestoredCheckpoint>(std::move(restored));
}

absl::StatusOr<std::vector<uint64_t>> HeapBackend::ListCheckpoints() {
  if (chk_dir_) return chk_dir_->ListComplete();
  std::vector<uint64_t> ids;
  for (const auto& c : completed_) ids.push_back(c.id);
  return ids;
}

}  // namespace vigil::engine::state
