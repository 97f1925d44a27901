#pragma once
// Small POSIX file helpers for checkpoints and savepoints (internal to engine/state).
// Errors carry the path and strerror. Thread-safe (no shared state).
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::engine::state::internal {

// An absl status for errno `err` ("<op> <path>: <strerror>"); NotFound for ENOENT.
absl::Status ErrnoStatus(int err, std::string_view op, std::string_view path);

// Writes `data` to `path` durably and atomically: path + ".tmp", fsync, rename over `path`,
// fsync of the parent directory. Readers see the old file or the new one, never a torn one.
absl::Status WriteFileAtomic(const std::string& path, std::string_view data);
absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status SyncDir(const std::string& dir);
absl::Status SyncFile(const std::string& path);
// mkdir -p.
absl::Status MakeDirs(const std::string& dir);
// rm -rf (absent is fine).
absl::Status RemoveAll(const std::string& path);
bool Exists(const std::string& path);
// Makes `dst` (must not exist) a copy of directory `src` (flat: regular files only). Files for
// which link_ok(name) is true are hard-linked when possible (immutable files), others copied;
// files for which skip(name) is true are left out. Everything is fsynced.
absl::Status CopyDir(const std::string& src, const std::string& dst,
                     bool (*link_ok)(std::string_view name), bool (*skip)(std::string_view name));

}  // namespace vigil::engine::state::internal
