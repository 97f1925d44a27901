#pragma once
// Savepoints: portable, self-describing snapshots of all state plus the engine's metadata, in
// one file independent of the backend kind (a heap run's savepoint restores into RocksDB and
// vice versa) and of the parallelism (restore only the key groups a worker owns).
//
// File format (version 1; all integers per codec.h):
//   magic "VIGILSP1" (8 bytes)
//   blocks, each: Fixed32 payload length, Fixed32 CRC-32C of payload, payload
//     payload[0] = 1 header:  U32 version, Str source backend name, Str metadata
//                = 2 entries: U64 n, then n x (Str key, Str value), keys ascending
//                = 3 end:     U64 total entries
//   nothing after the end block.
// The heap backend also uses this format for its on-disk checkpoint data.
//
// Thread-safety: the functions are thread-safe given the backend's own guarantees; the
// backend must not be written concurrently with WriteSavepoint if a consistent cut is wanted
// (the scan itself is consistent).
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "engine/state/state_backend.h"

namespace vigil::engine::state {

// Returns true for keys to keep.
using KeyFilter = std::function<bool(std::string_view key)>;

// A filter keeping StateKeys whose key group is in `range` (keys too short to carry a key
// group are kept: they are not keyed).
KeyFilter KeyGroupFilter(KeyGroupRange range);

// Writes all live state of `backend` and `metadata` to `path` (atomically: a temporary file
// renamed into place after fsync). Errors: store errors, file errors with the path.
absl::Status WriteSavepoint(StateBackend& backend, const std::string& path,
                            const std::string& metadata);

// Replaces the live state of `backend` with the savepoint's entries that pass `filter` (all
// when null) and returns the savepoint's metadata. The file is fully validated before the
// backend is touched. Errors: NotFound, DataLoss (corrupt / truncated / not a savepoint),
// store errors (live state is then unspecified).
absl::StatusOr<std::string> RestoreSavepoint(StateBackend& backend, const std::string& path,
                                             const KeyFilter& filter = nullptr);

// ---- Lower level (also used by the heap backend's checkpoints) ----

// Streams entries (which must arrive in ascending key order) into a savepoint file.
class SavepointWriter {
 public:
  // Starts `path`.tmp. Errors: file errors.
  static absl::StatusOr<std::unique_ptr<SavepointWriter>> Create(const std::string& path,
                                                                 std::string_view backend_name,
                                                                 std::string_view metadata);
  ~SavepointWriter();
  absl::Status Add(std::string_view key, std::string_view value);
  // Writes the end block, fsyncs, renames into place and fsyncs the directory.
  absl::Status Finish();
  uint64_t entries() const { return total_; }

 private:
  SavepointWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status FlushBlock(char kind);
  std::string path_;
  int fd_;
  std::string block_;
  uint64_t block_entries_ = 0;
  uint64_t total_ = 0;
  bool finished_ = false;
};

struct SavepointHeader {
  std::string backend;  // name() of the backend that wrote it
  std::string metadata;
};

// Reads and validates a whole savepoint, calling fn for each entry (if fn is not null) in
// file order; fn's error aborts. Errors: NotFound, DataLoss, fn's errors.
absl::StatusOr<SavepointHeader> ReadSavepoint(
    const std::string& path,
    const std::function<absl::Status(std::string_view key, std::string_view value)>& fn);

}  // namespace vigil::engine::state
