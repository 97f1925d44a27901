#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "engine/state/codec.h"
#include "engine/state/heap_backend.h"
#include "engine/state/savepoint.h"
#include "tests/unit/engine/state_test_util.h"

namespace vigil::engine::state {
namespace {

// Keyed state for two operators over 128 key groups, values are encoded events.
void Fill(StateBackend& b) {
  WriteBatch wb;
  for (uint32_t op : {1u, 2u}) {
    for (int i = 0; i < 1000; ++i) {
      Event ev;
      ev.values = {Value::String("user" + std::to_string(i)), Value::Int(i)};
      ev.raw = "{}";
      ev.seq = static_cast<uint64_t>(i);
      Encoder e;
      e.Ev(ev);
      wb.Put(StateKey(op, static_cast<uint16_t>(i % 128), "u" + std::to_string(i)), e.buffer());
    }
  }
  wb.Put("glob", "not keyed");  // shorter than a StateKey prefix: not keyed
  ASSERT_TRUE(b.Write(wb).ok());
}

class SavepointPortabilityTest
    : public ::testing::TestWithParam<std::pair<std::string, std::string>> {
 protected:
  ScopedTempDir dir_;
};

TEST_P(SavepointPortabilityTest, RoundTripAcrossBackends) {
  auto [from_kind, to_kind] = GetParam();
  auto from = OpenBackend(from_kind, dir_.path() + "/from");
  Fill(*from);
  const std::string sp = dir_.path() + "/savepoint.vsp";
  ASSERT_TRUE(WriteSavepoint(*from, sp, "engine-meta").ok());

  auto to = OpenBackend(to_kind, dir_.path() + "/to");
  WriteBatch junk;
  junk.Put("junk", "replaced by the restore");
  ASSERT_TRUE(to->Write(junk).ok());
  auto meta = RestoreSavepoint(*to, sp);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(*meta, "engine-meta");
  EXPECT_EQ(Dump(*to), Dump(*from));
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, SavepointPortabilityTest,
    ::testing::Values(std::pair<std::string, std::string>{"heap", "rocksdb"},
                      std::pair<std::string, std::string>{"rocksdb", "heap"},
                      std::pair<std::string, std::string>{"heap", "heap"},
                      std::pair<std::string, std::string>{"rocksdb", "rocksdb"}),
    [](const auto& info) { return info.param.first + "_to_" + info.param.second; });

TEST(SavepointTest, RescaleOneToThreeWorkers) {
  ScopedTempDir dir;
  auto src = OpenBackend("heap", "");
  Fill(*src);
  const Contents all = Dump(*src);
  const std::string sp = dir.path() + "/sp";
  ASSERT_TRUE(WriteSavepoint(*src, sp, "m").ok());

  Contents merged;
  size_t unkeyed = 0;
  for (uint32_t w = 0; w < 3; ++w) {
    KeyGroupRange r = KeyGroupRangeForWorker(128, 3, w);
    auto worker = OpenBackend("rocksdb", dir.path() + "/w" + std::to_string(w));
    ASSERT_TRUE(RestoreSavepoint(*worker, sp, KeyGroupFilter(r)).ok());
    for (const auto& [k, v] : Dump(*worker)) {
      auto kg = KeyGroupOf(k);
      if (!kg) {
        ++unkeyed;  // non-keyed entries go to every worker
        continue;
      }
      EXPECT_TRUE(r.Contains(*kg)) << "worker " << w << " got key group " << *kg;
      EXPECT_TRUE(merged.emplace(k, v).second) << "key restored twice";
    }
  }
  EXPECT_EQ(unkeyed, 3u);
  EXPECT_EQ(merged.size() + 1, all.size());
}

TEST(SavepointTest, CorruptionIsDetectedAndLeavesStateUntouched) {
  ScopedTempDir dir;
  auto src = OpenBackend("heap", "");
  Fill(*src);
  const std::string sp = dir.path() + "/sp";
  ASSERT_TRUE(WriteSavepoint(*src, sp, "m").ok());
  std::string bytes;
  {
    std::ifstream in(sp, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto dst = OpenBackend("heap", "");
  WriteBatch keep;
  keep.Put("keep", "me");
  ASSERT_TRUE(dst->Write(keep).ok());
  const std::string bad = dir.path() + "/bad";
  auto write_bad = [&](const std::string& content) {
    std::ofstream out(bad, std::ios::binary | std::ios::trunc);
    out << content;
  };
  // Truncations at several points, and flipped bytes in header, body and trailer.
  for (size_t n : {size_t{0}, size_t{5}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    write_bad(bytes.substr(0, n));
    EXPECT_EQ(RestoreSavepoint(*dst, bad).status().code(), absl::StatusCode::kDataLoss) << n;
  }
  for (size_t pos : {size_t{3}, size_t{12}, bytes.size() / 3, bytes.size() - 3}) {
    std::string flipped = bytes;
    flipped[pos] ^= 0x20;
    write_bad(flipped);
    EXPECT_EQ(RestoreSavepoint(*dst, bad).status().code(), absl::StatusCode::kDataLoss) << pos;
  }
  write_bad(bytes + "trailing");
  EXPECT_EQ(RestoreSavepoint(*dst, bad).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(RestoreSavepoint(*dst, dir.path() + "/missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Dump(*dst), (Contents{{"keep", "me"}}));
}

TEST(SavepointTest, EmptyStateAndHeader) {
  ScopedTempDir dir;
  HeapBackend empty;
  const std::string sp = dir.path() + "/sp";
  ASSERT_TRUE(WriteSavepoint(empty, sp, "").ok());
  auto header = ReadSavepoint(sp, nullptr);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->backend, "heap");
  EXPECT_EQ(header->metadata, "");
  EXPECT_FALSE(std::filesystem::exists(sp + ".tmp"));
}

}  // namespace
}  // namespace vigil::engine::state
