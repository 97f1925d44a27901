#pragma once
// State backends (Flink's design): where keyed operator state lives and how checkpoints of it
// are taken. Two implementations behind this one interface: heap (default without --state,
// heap_backend.h) and RocksDB (with --state DIR, rocksdb_backend.h). RocksDB is used only
// inside engine/state.
//
// Operators keep their live state in memory and write the keys that changed since the last
// checkpoint to the backend when a checkpoint barrier reaches them (binary form, codec.h; keys
// laid out by state_key.h); once every operator has done so (aligned barriers), the engine
// calls Checkpoint(id, metadata), which snapshots everything together with the engine's
// metadata blob (source offsets, sink offsets, watermarks: checkpoint_meta.h).
//
// Checkpoint protocol (both phases are also callable separately, e.g. by FaultInjecting-
// Backend or to flush sinks between them):
//   PrepareCheckpoint(id)          snapshot the live state as checkpoint `id`; not yet visible
//   CommitCheckpoint(id, metadata) atomically mark it complete (the only completion point),
//                                  then drop all but the newest `retained` complete ones
// A crash or error anywhere before the commit's atomic step leaves the previous complete
// checkpoint untouched; leftovers of incomplete checkpoints are ignored and removed by
// RestoreLatest and by the next PrepareCheckpoint of the same id.
//
// Restart: open the backend on the same directory and call RestoreLatest(): the live state
// becomes that of the newest complete checkpoint (or empty if there is none: live state that
// was never checkpointed is never resurrected).
//
// Savepoints (savepoint.h) are portable single files written from any backend and restorable
// into any backend, optionally only for some key groups (rescaling).
//
// Thread-safety: Write, Get, Scan, ScanRange and ApproximateSize may be called concurrently
// from any threads. PrepareCheckpoint and CommitCheckpoint (and Checkpoint, ListCheckpoints)
// must not run concurrently with each other, but may run concurrently with the calls above;
// writes concurrent with PrepareCheckpoint may or may not be in the snapshot (aligned
// barriers make the engine stop writing until the snapshot is taken: operators only write at
// barriers). RestoreLatest and Clear must not run concurrently with any other call.
//
// Errors are absl::Status: IOError-like statuses (Internal / Unavailable / DataLoss) from the
// store; FailedPrecondition for protocol misuse (e.g. committing a checkpoint that was not
// prepared, or a checkpoint id not above the latest complete one).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/state/state_key.h"

namespace vigil::engine::state {

// A batch of writes applied atomically (all or nothing), in order (a later op on the same key
// wins).
struct WriteBatch {
  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  std::vector<Op> ops;
  void Put(std::string key, std::string value) {
    ops.push_back({std::move(key), std::move(value)});
  }
  void Delete(std::string key) { ops.push_back({std::move(key), std::nullopt}); }
  bool empty() const { return ops.empty(); }
  size_t size() const { return ops.size(); }
};

// Called with each (key, value) in key order; return false to stop early. The views are valid
// only during the call.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

struct CheckpointInfo {
  uint64_t id = 0;
  std::string path;    // where it lives on disk; empty for in-memory checkpoints
  uint64_t bytes = 0;  // approximate size of the state it holds
};

struct RestoredCheckpoint {
  uint64_t id = 0;
  std::string metadata;  // exactly the blob given to Checkpoint / CommitCheckpoint
};

inline constexpr int kDefaultRetainedCheckpoints = 3;

class StateBackend {
 public:
  virtual ~StateBackend() = default;
  virtual std::string_view name() const = 0;  // "heap", "rocksdb", "fault-injecting(...)"

  // ---- Live state ----
  // Applies a batch atomically. Errors: store errors (nothing of the batch is applied).
  virtual absl::Status Write(const WriteBatch& batch) = 0;
  // The value of `key`, or nullopt when absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key) = 0;
  // Calls fn for every key starting with `prefix` ("" = all), in key order, until it returns
  // false. Sees a consistent view (writes concurrent with the scan are not observed).
  virtual absl::Status Scan(std::string_view prefix, const ScanFn& fn) = 0;
  // Like Scan, for keys in [begin, end) (an empty `end` means no upper bound). With
  // KeyGroupRangeBounds this reads the state of a range of key groups.
  virtual absl::Status ScanRange(std::string_view begin, std::string_view end,
                                 const ScanFn& fn) = 0;
  // Approximate bytes of live state (keys + values; RocksDB: on-disk estimate + memtables).
  virtual uint64_t ApproximateSize() = 0;
  // Removes all live state (checkpoints are kept).
  virtual absl::Status Clear() = 0;

  // ---- Checkpoints ----
  // Phase 1: snapshots the live state as checkpoint `id`. `id` must be greater than the id of
  // the newest complete checkpoint (FailedPrecondition otherwise). Leftovers of an earlier
  // incomplete attempt with the same id are removed first.
  virtual absl::Status PrepareCheckpoint(uint64_t id) = 0;
  // Phase 2: atomically makes prepared checkpoint `id` complete with `metadata` (opaque
  // bytes), then deletes the oldest complete checkpoints beyond the retention count (a
  // failure to delete an old one is not an error). Errors: FailedPrecondition when `id` was
  // not prepared; store errors (the checkpoint then is not complete).
  virtual absl::StatusOr<CheckpointInfo> CommitCheckpoint(uint64_t id,
                                                          const std::string& metadata) = 0;
  // PrepareCheckpoint + CommitCheckpoint.
  absl::StatusOr<CheckpointInfo> Checkpoint(uint64_t id, const std::string& metadata) {
    VIGIL_RETURN_IF_ERROR(PrepareCheckpoint(id));
    return CommitCheckpoint(id, metadata);
  }
  // Makes the newest complete checkpoint the live state and returns its id and metadata;
  // nullopt (and empty live state) when there is none. Removes incomplete checkpoints.
  // Errors: store errors; DataLoss if the newest complete checkpoint's data is corrupt (older
  // ones are not tried silently: that would rewind further than the caller expects).
  virtual absl::StatusOr<std::optional<RestoredCheckpoint>> RestoreLatest() = 0;
  // Ids of the complete checkpoints held, ascending.
  virtual absl::StatusOr<std::vector<uint64_t>> ListCheckpoints() = 0;
};

}  // namespace vigil::engine::state

namespace vigil::engine::state {

// The backend the CLI asks for: heap (checkpoints in memory) when `state_dir` is empty,
// RocksDB in `state_dir` otherwise. Errors: as the backends' Open.
absl::StatusOr<std::unique_ptr<StateBackend>> OpenStateBackend(
    const std::string& state_dir, int retained_checkpoints = kDefaultRetainedCheckpoints);

}  // namespace vigil::engine::state
