#pragma once
// The RocksDB state backend (with --state DIR). Layout:
//   DIR/db                      live state (scratch: recreated empty on Open, replaced by
//                               RestoreLatest; never trusted after a crash)
//   DIR/checkpoints/chk-<id>/   rocksdb::Checkpoint of DIR/db (SST files hard-linked, so
//                               checkpoints are incremental in practice) + _metadata marker
//   DIR/checkpoints/CURRENT_CHECKPOINT
//
// Writes use a rocksdb::WriteBatch (atomic) with the WAL on but sync=false: the checkpoint is
// the durability point, not the write. PrepareCheckpoint flushes memtables and creates the
// RocksDB checkpoint while writers keep going; CommitCheckpoint writes the marker atomically
// (checkpoint_dir.h). RestoreLatest closes the DB, rebuilds DIR/db from the newest complete
// checkpoint (immutable .sst/.blob files hard-linked, the rest copied) and reopens it.
//
// Thread-safety: see state_backend.h. Errors: rocksdb::Status is translated at this edge
// (NotFound, DataLoss for corruption, ResourceExhausted for no space, Unavailable for busy,
// Internal otherwise), with RocksDB's message.
#include <atomic>
#include <memory>
#include <string>

#include "engine/state/checkpoint_dir.h"
#include "engine/state/state_backend.h"

namespace rocksdb {
class DB;
}

namespace vigil::engine::state {

class RocksDbBackend final : public StateBackend {
 public:
  struct Options {
    std::string dir;  // required
    int retained_checkpoints = kDefaultRetainedCheckpoints;
    size_t write_buffer_bytes = 64 << 20;
  };
  // Creates DIR if needed, discards any previous live DB in DIR/db (only checkpoints survive a
  // restart) and opens an empty one. Call RestoreLatest() to resume. Errors: file and RocksDB
  // errors.
  static absl::StatusOr<std::unique_ptr<RocksDbBackend>> Open(Options options);
  ~RocksDbBackend() override;

  std::string_view name() const override { return "rocksdb"; }
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
  explicit RocksDbBackend(Options options);
  absl::Status OpenDb();
  void CloseDb();
  std::string DbPath() const { return options_.dir + "/db"; }

  Options options_;
  internal::CheckpointDir chk_dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::optional<uint64_t> pending_id_;
};

}  // namespace vigil::engine::state
