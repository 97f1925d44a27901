#pragma once
// On-disk layout of checkpoints, shared by the heap and RocksDB backends (internal).
//
//   ROOT/chk-<id>/...            the backend's data for checkpoint <id>
//   ROOT/chk-<id>/_metadata      completion marker: magic, version, backend kind, id, the
//                                engine's metadata blob, CRC-32C. Written atomically
//                                (_metadata.tmp, fsync, rename, fsync dir): a checkpoint is
//                                complete iff its _metadata exists and checks out.
//   ROOT/CURRENT_CHECKPOINT      "<id>\n" of the newest complete checkpoint, replaced
//                                atomically after each commit (for tools and humans; restore
//                                does not depend on it, it trusts the _metadata markers).
//
// Thread-compatible.
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/state/state_backend.h"

namespace vigil::engine::state::internal {

class CheckpointDir {
 public:
  explicit CheckpointDir(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string PathOf(uint64_t id) const;
  // Creates ROOT if needed.
  absl::Status Init() const;
  // Checkpoints with a _metadata marker, ascending ids (the marker is validated on read).
  absl::StatusOr<std::vector<uint64_t>> ListComplete() const;
  // Reads the marker of checkpoint `id`. Errors: NotFound, DataLoss (corrupt or wrong kind).
  absl::StatusOr<RestoredCheckpoint> ReadMarker(uint64_t id, std::string_view kind) const;
  // Writes the marker of `id` atomically, then CURRENT_CHECKPOINT.
  absl::Status WriteMarker(uint64_t id, std::string_view kind, const std::string& metadata) const;
  // Removes every entry of ROOT that is not a complete checkpoint (partial chk-<id> folders,
  // RocksDB's chk-<id>.tmp, stray temporary files).
  absl::Status RemoveIncomplete() const;
  // Deletes complete checkpoints older than the newest `keep`. Best effort.
  void Retain(int keep) const;
  // FailedPrecondition unless `id` is above every complete checkpoint.
  absl::Status CheckNewId(uint64_t id) const;

 private:
  std::string root_;
};

}  // namespace vigil::engine::state::internal
