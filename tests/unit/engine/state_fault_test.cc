#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "engine/state/fault_injection.h"
#include "tests/unit/engine/state_test_util.h"

namespace vigil::engine::state {
namespace {

class FaultInjectionTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Writes generation `gen` of 300 keys (some deleted in odd generations) and checkpoints it.
  static WriteBatch Generation(int gen) {
    WriteBatch wb;
    for (int i = 0; i < 300; ++i) {
      std::string key = StateKey(1, static_cast<uint16_t>(i % 32), std::to_string(i));
      if (gen % 2 == 1 && i % 5 == 0) {
        wb.Delete(key);
      } else {
        wb.Put(key, "gen" + std::to_string(gen) + "-" + std::to_string(i));
      }
    }
    return wb;
  }
  ScopedTempDir dir_;
};

TEST_P(FaultInjectionTest, FailedCheckpointsNeverCorruptTheLastCompleteOne) {
  FaultInjectingBackend b(OpenBackend(GetParam(), dir_.path()), {});
  ASSERT_TRUE(b.Write(Generation(1)).ok());
  ASSERT_TRUE(b.Checkpoint(1, "m1").ok());
  const Contents good = Dump(b);

  struct Case {
    const char* what;
    FaultInjectingBackend::Faults faults;
  };
  const Case cases[] = {
      {"prepare fails", {.fail_prepare_at = 1}},
      {"crash between snapshot and metadata", {.crash_after_snapshot_at = 1}},
      {"commit fails", {.fail_commit_at = 1}},
  };
  uint64_t id = 2;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    b.SetFaults(c.faults);
    ASSERT_TRUE(b.Write(Generation(static_cast<int>(id))).ok());
    EXPECT_FALSE(b.Checkpoint(id, "bad").ok());
    auto restored = b.RestoreLatest();
    ASSERT_TRUE(restored.ok()) << restored.status();
    ASSERT_TRUE(restored->has_value());
    EXPECT_EQ((*restored)->id, 1u);
    EXPECT_EQ((*restored)->metadata, "m1");
    EXPECT_EQ(Dump(b), good);
    auto ids = b.ListCheckpoints();
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, std::vector<uint64_t>{1});
    ++id;
  }
  EXPECT_EQ(b.injected(), 3u);

  // After the faults, checkpointing works again, with a higher id.
  b.SetFaults({});
  ASSERT_TRUE(b.Write(Generation(7)).ok());
  const Contents seven = Dump(b);
  ASSERT_TRUE(b.Checkpoint(id, "m7").ok());
  ASSERT_TRUE(b.Write(Generation(8)).ok());
  auto restored = b.RestoreLatest();
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ((*restored)->metadata, "m7");
  EXPECT_EQ(Dump(b), seven);
}

TEST_P(FaultInjectionTest, FailedWriteAppliesNothing) {
  FaultInjectingBackend b(OpenBackend(GetParam(), dir_.path()), {.fail_write_at = 2});
  ASSERT_TRUE(b.Write(Generation(2)).ok());
  const Contents before = Dump(b);
  EXPECT_EQ(b.Write(Generation(3)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Dump(b), before);
  ASSERT_TRUE(b.Checkpoint(1, "m").ok());
  auto restored = b.RestoreLatest();
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(Dump(b), before);
}

TEST_P(FaultInjectionTest, CrashAfterSnapshotThenRestart) {
  if (GetParam() == "heapmem") GTEST_SKIP() << "needs a directory to restart from";
  Contents good;
  {
    FaultInjectingBackend b(OpenBackend(GetParam(), dir_.path()), {.crash_after_snapshot_at = 2});
    ASSERT_TRUE(b.Write(Generation(1)).ok());
    ASSERT_TRUE(b.Checkpoint(1, "m1").ok());
    good = Dump(b);
    ASSERT_TRUE(b.Write(Generation(2)).ok());
    EXPECT_FALSE(b.Checkpoint(2, "m2").ok());
    // The partial checkpoint's data is on disk, without a marker.
    EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/checkpoints/chk-2"));
    EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/checkpoints/chk-2/_metadata"));
  }
  auto b = OpenBackend(GetParam(), dir_.path());
  auto restored = b->RestoreLatest();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->id, 1u);
  EXPECT_EQ(Dump(*b), good);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/checkpoints/chk-2"));
}

INSTANTIATE_TEST_SUITE_P(Backends, FaultInjectionTest,
                         ::testing::Values("heapmem", "heapdir", "rocksdb"));

}  // namespace
}  // namespace vigil::engine::state
