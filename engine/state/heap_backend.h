#pragma once
// The heap state backend: live state in a sorted in-memory map (std::map, so Scan and
// ScanRange are ordered range reads).
//
// Checkpoints:
//  - with a directory (HeapBackend::Options::dir): DIR/checkpoints/chk-<id>/state (a savepoint-
//    format file, savepoint.h) plus the atomic _metadata marker (checkpoint_dir.h), so a
//    restarted process can restore it. PrepareCheckpoint copies the map under a shared lock
//    (writers wait only for the copy) and writes the file without holding it.
//  - without one: the newest `retained` checkpoints are kept in memory only (tests, savepoint
//    source); they do not survive the process.
//
// Thread-safety: see state_backend.h (a std::shared_mutex guards the map).
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "engine/state/checkpoint_dir.h"
#include "engine/state/state_backend.h"

namespace vigil::engine::state {

class HeapBackend final : public StateBackend {
 public:
  struct Options {
    std::string dir;  // empty: checkpoints in memory only
    int retained_checkpoints = kDefaultRetainedCheckpoints;
  };
  // Creates the backend (and DIR/checkpoints when a dir is given); live state starts empty.
  // Errors: file errors creating the directory.
  static absl::StatusOr<std::unique_ptr<HeapBackend>> Open(Options options);
  HeapBackend() : HeapBackend(Options{}) {}

  std::string_view name() const override { return "heap"; }
  absl::Status Write(const WriteBatch& batch) override;
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  absl::Status Scan(std::string_view prefix, const ScanFn& fn) override;
  absl::Status ScanRange(std::string_view begin, std::string_view end, const ScanFn& fn) override;
  uint64_t ApproximateSize() override;
  absl::Status Clear() override;

  absl::Status PrepareCheckpoint(uint64_t id) override;
  absl::StatusOr<CheckpointInfo> CommitCheckpoint(uint64_t id,
                                                  const std::string& metadata) override;
  absl::StatusOr<std::optional<RestoredCheckpoint>> RestoreLatest() override;
  absl::StatusOr<std::vector<uint64_t>> ListCheckpoints() override;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  struct MemCheckpoint {
    uint64_t id = 0;
    std::shared_ptr<const Map> data;
    uint64_t bytes = 0;
    std::string metadata;
  };
  explicit HeapBackend(Options options);
  std::string DataPath(uint64_t id) const;

  Options options_;
  std::unique_ptr<internal::CheckpointDir> chk_dir_;  // null without a dir

  std::shared_mutex mu_;
  Map map_;
  uint64_t bytes_ = 0;  // keys + values in map_

  // Checkpoint bookkeeping (not concurrent with itself, see state_backend.h).
  std::optional<MemCheckpoint> pending_;
  std::vector<MemCheckpoint> completed_;  // in-memory mode, ascending ids
};

}  // namespace vigil::engine::state
