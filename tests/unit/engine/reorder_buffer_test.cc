#include "engine/operator/reorder_buffer.h"

#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

EventPtr Ev(int64_t t, uint64_t seq) {
  auto e = std::make_shared<Event>();
  e->time = EventTime(t);
  e->seq = seq;
  return e;
}

std::vector<uint64_t> Drain(ReorderBuffer& b, Watermark wm) {
  std::vector<uint64_t> out;
  while (EventPtr e = b.PopReady(wm)) out.push_back(e->seq);
  return out;
}

TEST(ReorderBuffer, ReleasesUpToWatermarkInTimeOrder) {
  ReorderBuffer b;
  b.Push(Ev(10, 1));
  b.Push(Ev(30, 2));
  b.Push(Ev(20, 3));  // out of order
  b.Push(Ev(5, 4));
  EXPECT_EQ(b.min_time(), EventTime(5));
  EXPECT_EQ(Drain(b, Watermark(4)), std::vector<uint64_t>{});
  EXPECT_EQ(Drain(b, Watermark(20)), (std::vector<uint64_t>{4, 1, 3}));
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(Drain(b, Watermark::Max()), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.min_time(), EventTime::Max());
}

TEST(ReorderBuffer, EqualTimesKeepArrivalOrder) {
  ReorderBuffer b;
  b.Push(Ev(10, 1));
  b.Push(Ev(20, 2));
  b.Push(Ev(10, 3));  // heap
  b.Push(Ev(20, 4));  // run
  b.Push(Ev(10, 5));  // heap
  b.Push(Ev(15, 6));  // heap
  b.Push(Ev(20, 7));
  EXPECT_EQ(Drain(b, Watermark::Max()), (std::vector<uint64_t>{1, 3, 5, 6, 2, 4, 7}));
}

TEST(ReorderBuffer, RandomisedAgainstStableSort) {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    ReorderBuffer b;
    std::vector<std::pair<int64_t, uint64_t>> all;
    std::vector<uint64_t> got;
    int64_t max_seen = 0;
    for (uint64_t i = 0; i < 500; ++i) {
      int64_t t = static_cast<int64_t>(i / 3) + static_cast<int64_t>(rng() % 7) - 3;
      all.emplace_back(t, i);
      b.Push(Ev(t, i));
      max_seen = std::max(max_seen, t);
      for (uint64_t s : Drain(b, Watermark(max_seen - 7))) got.push_back(s);
    }
    for (uint64_t s : Drain(b, Watermark::Max())) got.push_back(s);
    std::stable_sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<uint64_t> want;
    for (auto& [t, s] : all) want.push_back(s);
    // Events released early (before a later, smaller one arrived) can differ from a global
    // sort only if they were late; with max_seen - 7 and jitter +-3 nothing is late.
    EXPECT_EQ(got, want);
  }
}

}  // namespace
}  // namespace vigil::engine
