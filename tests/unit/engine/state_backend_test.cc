#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "engine/state/codec.h"
#include "engine/state/state_backend.h"
#include "tests/unit/engine/state_test_util.h"

namespace vigil::engine::state {
namespace {

class StateBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<StateBackend> Open(int retained = kDefaultRetainedCheckpoints) {
    return OpenBackend(GetParam(), dir_.path(), retained);
  }
  bool durable() const { return GetParam() != "heap-mem"; }
  ScopedTempDir dir_;
};

TEST_P(StateBackendTest, WriteGetScanDelete) {
  auto b = Open();
  WriteBatch wb;
  wb.Put("a/1", "x");
  wb.Put("a/2", "y");
  wb.Put("b/1", "z");
  wb.Put("a/1", "x2");  // later op wins
  ASSERT_TRUE(b->Write(wb).ok());
  auto v = b->Get("a/1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or("?"), "x2");
  EXPECT_FALSE(b->Get("missing")->has_value());
  EXPECT_EQ(Dump(*b, "a/"), (Contents{{"a/1", "x2"}, {"a/2", "y"}}));
  EXPECT_EQ(Dump(*b).size(), 3u);

  WriteBatch del;
  del.Delete("a/2");
  del.Delete("never-there");
  ASSERT_TRUE(b->Write(del).ok());
  EXPECT_EQ(Dump(*b, "a/"), (Contents{{"a/1", "x2"}}));

  // Early stop.
  int n = 0;
  ASSERT_TRUE(b->Scan("", [&](std::string_view, std::string_view) { return ++n < 1; }).ok());
  EXPECT_EQ(n, 1);
  EXPECT_GT(b->ApproximateSize(), 0u);

  ASSERT_TRUE(b->Clear().ok());
  EXPECT_TRUE(Dump(*b).empty());
}

TEST_P(StateBackendTest, BinaryKeysAndValues) {
  auto b = Open();
  std::string k = StateKey(1, 2, std::string("\0\xff\0", 3));
  std::string v(1000, '\0');
  v[500] = '\x80';
  WriteBatch wb;
  wb.Put(k, v);
  ASSERT_TRUE(b->Write(wb).ok());
  EXPECT_EQ(b->Get(k)->value_or(""), v);
}

TEST_P(StateBackendTest, KeyGroupRangeScan) {
  auto b = Open();
  WriteBatch wb;
  for (uint32_t op : {1u, 2u}) {
    for (uint16_t kg = 0; kg < 128; ++kg) {
      wb.Put(StateKey(op, kg, "k" + std::to_string(kg)), std::to_string(op));
    }
  }
  ASSERT_TRUE(b->Write(wb).ok());
  KeyGroupRange r = KeyGroupRangeForWorker(128, 3, 1);
  auto [begin, end] = KeyGroupRangeBounds(2, r);
  std::vector<uint16_t> seen;
  ASSERT_TRUE(b->ScanRange(begin, end, [&](std::string_view k, std::string_view v) {
                 EXPECT_EQ(OperatorOf(k), 2u);
                 EXPECT_EQ(v, "2");
                 seen.push_back(*KeyGroupOf(k));
                 return true;
               }).ok());
  ASSERT_EQ(seen.size(), r.last - r.first + 1u);
  EXPECT_EQ(seen.front(), r.first);
  EXPECT_EQ(seen.back(), r.last);
  // Unbounded end.
  int n = 0;
  ASSERT_TRUE(b->ScanRange(StateKeyPrefix(2, 120), "", [&](auto, auto) {
                 ++n;
                 return true;
               }).ok());
  EXPECT_EQ(n, 8);
}

TEST_P(StateBackendTest, CheckpointRestoreExactState) {
  auto b = Open();
  WriteBatch wb;
  wb.Put("k1", "v1");
  wb.Put("k2", "v2");
  ASSERT_TRUE(b->Write(wb).ok());
  auto info = b->Checkpoint(1, "meta-1");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, 1u);

  WriteBatch after;
  after.Put("k1", "changed");
  after.Delete("k2");
  after.Put("k3", "new");
  ASSERT_TRUE(b->Write(after).ok());

  auto restored = b->RestoreLatest();
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_TRUE(restored->has_value());
  EXPECT_EQ((*restored)->id, 1u);
  EXPECT_EQ((*restored)->metadata, "meta-1");
  EXPECT_EQ(Dump(*b), (Contents{{"k1", "v1"}, {"k2", "v2"}}));
  // The restored state is live: it can be written and checkpointed again.
  ASSERT_TRUE(b->Write(after).ok());
  ASSERT_TRUE(b->Checkpoint(2, "meta-2").ok());
  restored = b->RestoreLatest();
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ((*restored)->id, 2u);
  EXPECT_EQ(Dump(*b), (Contents{{"k1", "changed"}, {"k3", "new"}}));
}

TEST_P(StateBackendTest, RestoreWithoutCheckpointIsEmpty) {
  auto b = Open();
  WriteBatch wb;
  wb.Put("k", "v");
  ASSERT_TRUE(b->Write(wb).ok());
  auto restored = b->RestoreLatest();
  ASSERT_TRUE(restored.ok());
  EXPECT_FALSE(restored->has_value());
  EXPECT_TRUE(Dump(*b).empty());
}

TEST_P(StateBackendTest, RetainsLastThree) {
  auto b = Open();
  for (uint64_t id = 1; id <= 6; ++id) {
    WriteBatch wb;
    wb.Put("k", std::to_string(id));
    ASSERT_TRUE(b->Write(wb).ok());
    ASSERT_TRUE(b->Checkpoint(id, "m" + std::to_string(id)).ok());
  }
  auto ids = b->ListCheckpoints();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<uint64_t>{4, 5, 6}));
  if (durable()) {
    EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/checkpoints/chk-3"));
    EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/checkpoints/chk-6/_metadata"));
  }
}

TEST_P(StateBackendTest, RejectsNonIncreasingIdsAndUnpreparedCommit) {
  auto b = Open();
  ASSERT_TRUE(b->Checkpoint(5, "").ok());
  EXPECT_EQ(b->Checkpoint(5, "").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(b->Checkpoint(4, "").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(b->CommitCheckpoint(9, "").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(b->Checkpoint(6, "").ok());
}

TEST_P(StateBackendTest, RestartRestoresLatestCompleteCheckpoint) {
  if (!durable()) GTEST_SKIP() << "in-memory checkpoints do not survive a restart";
  {
    auto b = Open();
    for (int i = 0; i < 1000; ++i) {
      WriteBatch wb;
      wb.Put(StateKey(1, i % 128, std::to_string(i)), std::string(200, 'a' + i % 26));
      ASSERT_TRUE(b->Write(wb).ok());
    }
    ASSERT_TRUE(b->Checkpoint(1, "one").ok());
    WriteBatch wb;
    wb.Put("uncheckpointed", "x");
    ASSERT_TRUE(b->Write(wb).ok());
    ASSERT_TRUE(b->PrepareCheckpoint(2).ok());  // never committed: the process "dies"
  }
  auto b = Open();
  EXPECT_TRUE(Dump(*b).empty()) << "live state starts empty until restored";
  auto restored = b->RestoreLatest();
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_TRUE(restored->has_value());
  EXPECT_EQ((*restored)->id, 1u);
  EXPECT_EQ((*restored)->metadata, "one");
  Contents c = Dump(*b);
  EXPECT_EQ(c.size(), 1000u);
  EXPECT_EQ(c.count("uncheckpointed"), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/checkpoints/chk-2"));
  // Checkpoint 2 can now be taken again.
  EXPECT_TRUE(b->Checkpoint(2, "two").ok());
}

// Run in a separate process by KillDashNineDuringRun (exec'd, so RocksDB's thread pools are
// fresh): checkpoints 1..3, keeps writing, prepares checkpoint 4, then dies by SIGKILL.
TEST(StateKillChild, Run) {
  const char* dir = std::getenv("VIGIL_STATE_KILL_DIR");
  const char* kind = std::getenv("VIGIL_STATE_KILL_KIND");
  if (dir == nullptr || kind == nullptr) GTEST_SKIP() << "only run as a child process";
  auto b = OpenBackend(kind, dir);
  ASSERT_NE(b, nullptr);
  for (uint64_t id = 1; id <= 4; ++id) {
    WriteBatch wb;
    for (int i = 0; i < 500; ++i)
      wb.Put(StateKey(1, i % 16, std::to_string(i)), std::to_string(id));
    ASSERT_TRUE(b->Write(wb).ok());
    if (id < 4) {
      ASSERT_TRUE(b->Checkpoint(id, "m" + std::to_string(id)).ok());
    }
  }
  ASSERT_TRUE(b->PrepareCheckpoint(4).ok());
  ::kill(::getpid(), SIGKILL);
}

TEST_P(StateBackendTest, KillDashNineDuringRun) {
  if (!durable()) GTEST_SKIP() << "in-memory checkpoints do not survive a restart";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("VIGIL_STATE_KILL_DIR", dir_.path().c_str(), 1);
    ::setenv("VIGIL_STATE_KILL_KIND", GetParam().c_str(), 1);
    char filter[] = "--gtest_filter=StateKillChild.Run";
    char self[] = "/proc/self/exe";
    char* argv[] = {self, filter, nullptr};
    ::execv(self, argv);
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exited with " << WEXITSTATUS(status);
  auto b = Open();
  auto restored = b->RestoreLatest();
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_TRUE(restored->has_value());
  EXPECT_EQ((*restored)->id, 3u);
  EXPECT_EQ((*restored)->metadata, "m3");
  Contents c = Dump(*b);
  ASSERT_EQ(c.size(), 500u);
  for (const auto& [k, v] : c) EXPECT_EQ(v, "3");
}

TEST_P(StateBackendTest, CorruptMarkerIsDataLoss) {
  if (!durable()) GTEST_SKIP();
  {
    auto b = Open();
    ASSERT_TRUE(b->Checkpoint(1, "meta").ok());
  }
  const std::string marker = dir_.path() + "/checkpoints/chk-1/_metadata";
  {
    std::FILE* f = std::fopen(marker.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 6, SEEK_SET);
    std::fputc('!', f);
    std::fclose(f);
  }
  auto b = Open();
  EXPECT_EQ(b->RestoreLatest().status().code(), absl::StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(Backends, StateBackendTest,
                         ::testing::Values("heap-mem", "heap-dir", "rocksdb"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::erase(n, '-');
                           return n;
                         });

TEST(StateBackendFactoryTest, PicksBackendByDirectory) {
  ScopedTempDir dir;
  auto heap = OpenStateBackend("");
  ASSERT_TRUE(heap.ok());
  EXPECT_EQ((*heap)->name(), "heap");
  auto rocks = OpenStateBackend(dir.path());
  ASSERT_TRUE(rocks.ok()) << rocks.status();
  EXPECT_EQ((*rocks)->name(), "rocksdb");
}

TEST(RocksDbBackendTest, CheckpointsShareFilesByHardLinks) {
  ScopedTempDir dir;
  auto b = OpenBackend("rocksdb", dir.path());
  WriteBatch wb;
  for (int i = 0; i < 2000; ++i) wb.Put("k" + std::to_string(i), std::string(200, 'x'));
  ASSERT_TRUE(b->Write(wb).ok());
  ASSERT_TRUE(b->Checkpoint(1, "").ok());
  ASSERT_TRUE(b->Checkpoint(2, "").ok());
  // An SST of checkpoint 1 is the same inode in checkpoint 2 (nothing changed in between).
  int shared = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/checkpoints/chk-2")) {
    if (e.path().extension() == ".sst" && std::filesystem::hard_link_count(e.path()) > 1) {
      ++shared;
    }
  }
  EXPECT_GT(shared, 0);
}

TEST(RocksDbBackendTest, HeapCheckpointIsNotRestoredByRocksDb) {
  ScopedTempDir dir;
  {
    auto heap = OpenBackend("heap-dir", dir.path());
    ASSERT_TRUE(heap->Checkpoint(1, "").ok());
  }
  auto rocks = OpenBackend("rocksdb", dir.path());
  EXPECT_EQ(rocks->RestoreLatest().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vigil::engine::state
