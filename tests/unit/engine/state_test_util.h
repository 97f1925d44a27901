// Scaffolding shared by the state backend unit tests (state_backend_test.cc,
// state_fault_test.cc, state_savepoint_test.cc): a self-removing temporary directory, a backend
// opener by kind name, and a dump of a backend's contents.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "engine/state/heap_backend.h"
#include "engine/state/rocksdb_backend.h"
#include "engine/state/state_backend.h"

namespace vigil::engine::state {

// A fresh directory under ::testing::TempDir(), removed with everything in it on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    path_ = ::testing::TempDir();  // "/tmp/" unless TEST_TMPDIR says otherwise
    if (path_.empty() || path_.back() != '/') path_ += '/';
    path_ += "vigil_state_test_XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + path_);
    }
  }
  ~ScopedTempDir() { std::filesystem::remove_all(path_); }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Contents = std::map<std::string, std::string>;

// Everything `b` holds under `prefix` (all of it by default).
inline Contents Dump(StateBackend& b, std::string_view prefix = "") {
  Contents out;
  EXPECT_TRUE(b.Scan(prefix, [&](std::string_view k, std::string_view v) {
                 out.emplace(std::string(k), std::string(v));
                 return true;
               }).ok());
  return out;
}

// Opens a backend of `kind` (dashes ignored): "rocksdb" in `dir`; "heap-dir" a heap backend that
// checkpoints to `dir`; "heap" or "heap-mem" a heap backend without a directory (`dir` unused).
// On failure (or an unknown kind) records a test failure, then throws out of the test body.
inline std::unique_ptr<StateBackend> OpenBackend(std::string_view kind, const std::string& dir,
                                                 int retained = kDefaultRetainedCheckpoints) {
  std::string k(kind);
  std::erase(k, '-');
  absl::StatusOr<std::unique_ptr<StateBackend>> b =
      absl::InvalidArgumentError("unknown backend kind");
  if (k == "rocksdb") {
    b = RocksDbBackend::Open({.dir = dir, .retained_checkpoints = retained});
  } else if (k == "heapdir" || k == "heapmem" || k == "heap") {
    HeapBackend::Options o;
    if (k == "heapdir") o.dir = dir;
    o.retained_checkpoints = retained;
    b = HeapBackend::Open(o);
  }
  EXPECT_TRUE(b.ok()) << kind << ": " << b.status();
  return std::move(b).value();
}

}  // namespace vigil::engine::state
