#include "admin/record_tap.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace vigil::admin {
namespace {

using Clock = RecordTap::Clock;
using std::chrono::milliseconds;

std::string Rec(int i) { return "{\"n\": " + std::to_string(i) + "}"; }

TEST(RecordTapTest, KeepsRecordsOldestFirstAndReturnsTheNewestUpToLimit) {
  RecordTap tap({.capacity = 10, .max_per_second = 100});
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(tap.Offer(Rec(i), t0));
  EXPECT_EQ(tap.Recent(100), (std::vector<std::string>{Rec(0), Rec(1), Rec(2), Rec(3)}));
  EXPECT_EQ(tap.Recent(2), (std::vector<std::string>{Rec(2), Rec(3)}));
  EXPECT_TRUE(tap.Recent(0).empty());
}

TEST(RecordTapTest, EvictsTheOldestBeyondCapacity) {
  RecordTap tap({.capacity = 3, .max_per_second = 100});
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 8; ++i) tap.Offer(Rec(i), t0);
  EXPECT_EQ(tap.Recent(10), (std::vector<std::string>{Rec(5), Rec(6), Rec(7)}));
  EXPECT_EQ(tap.Recent(2), (std::vector<std::string>{Rec(6), Rec(7)}));
  const RecordTap::Stats s = tap.stats();
  EXPECT_EQ(s.offered, 8u);
  EXPECT_EQ(s.kept, 8u);
  EXPECT_EQ(s.evicted, 5u);
  EXPECT_EQ(s.sampled_out, 0u);
}

TEST(RecordTapTest, KeepsAtMostMaxPerSecondPerSecond) {
  RecordTap tap({.capacity = 100, .max_per_second = 2});
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(tap.Offer(Rec(0), t0));
  EXPECT_TRUE(tap.Offer(Rec(1), t0 + milliseconds(10)));
  EXPECT_FALSE(tap.Offer(Rec(2), t0 + milliseconds(20)));
  EXPECT_FALSE(tap.Offer(Rec(3), t0 + milliseconds(999)));
  // A new second, a new budget.
  EXPECT_TRUE(tap.Offer(Rec(4), t0 + milliseconds(1000)));
  EXPECT_TRUE(tap.Offer(Rec(5), t0 + milliseconds(1500)));
  EXPECT_FALSE(tap.Offer(Rec(6), t0 + milliseconds(1900)));
  EXPECT_EQ(tap.Recent(10), (std::vector<std::string>{Rec(0), Rec(1), Rec(4), Rec(5)}));
  const RecordTap::Stats s = tap.stats();
  EXPECT_EQ(s.offered, 7u);
  EXPECT_EQ(s.kept, 4u);
  EXPECT_EQ(s.sampled_out, 3u);
}

TEST(RecordTapTest, OversizedRecordsBecomeAValidPlaceholder) {
  RecordTap tap({.capacity = 10, .max_per_second = 10, .max_record_bytes = 2000});
  // 3000 bytes whose 1024-byte cut falls inside a 3-byte UTF-8 sequence ("€" = E2 82 AC).
  std::string big = "{\"s\": \"" + std::string(1015, 'a');
  while (big.size() < 2990) big += "\xE2\x82\xAC";
  big += "\"}";
  ASSERT_GT(big.size(), 2000u);
  EXPECT_TRUE(tap.Offer(big));
  EXPECT_TRUE(tap.Offer(Rec(1)));
  const std::vector<std::string> recent = tap.Recent(10);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[1], Rec(1));
  EXPECT_EQ(tap.stats().oversized, 1u);

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(recent[0]).get(doc), simdjson::SUCCESS) << recent[0];
  EXPECT_TRUE(bool(doc["tap_truncated"]));
  EXPECT_EQ(uint64_t(doc["bytes"]), big.size());
  std::string_view prefix = doc["prefix"];
  // 7 + 1015 ASCII bytes, then "€" at bytes 1022..1024: the cut at 1024 backs off to 1022.
  EXPECT_EQ(prefix.size(), 1022u);
  EXPECT_EQ(prefix, std::string_view(big).substr(0, prefix.size()));
}

TEST(RecordTapTest, OptionsAreClampedToAtLeastOne) {
  RecordTap tap({.capacity = 0, .max_per_second = 0, .max_record_bytes = 0});
  EXPECT_EQ(tap.options().capacity, 1u);
  EXPECT_EQ(tap.options().max_per_second, 1u);
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(tap.Offer("{}", t0));
  EXPECT_FALSE(tap.Offer("{}", t0));
  EXPECT_EQ(tap.Recent(5).size(), 1u);
}

TEST(RecordTapTest, ConcurrentOffersAndReadsAreCountedExactly) {
  RecordTap tap({.capacity = 64, .max_per_second = 1000000});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&tap, t] {
      for (int i = 0; i < kPerThread; ++i) tap.Offer(Rec(t * kPerThread + i));
    });
  }
  std::thread reader([&tap] {
    for (int i = 0; i < 200; ++i) {
      for (const std::string& r : tap.Recent(64)) ASSERT_EQ(r.rfind("{\"n\": ", 0), 0u);
    }
  });
  for (std::thread& th : threads) th.join();
  reader.join();
  const RecordTap::Stats s = tap.stats();
  EXPECT_EQ(s.offered, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(s.kept + s.sampled_out, s.offered);
  EXPECT_EQ(tap.Recent(1000).size(), 64u);
  EXPECT_EQ(s.evicted, s.kept - 64);
}

}  // namespace
}  // namespace vigil::admin
