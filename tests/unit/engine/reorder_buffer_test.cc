#include "engine/operator/reorder_buffer.h"

#include <algorithm>
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

// The time wheel's edges: an out-of-order event exactly one span above or below what the wheel
// holds would share a slot with another time; it must go to the heap instead, and everything
// still comes out in (time, arrival) order.
TEST(ReorderBuffer, EventsAtTheWheelSpanEdgesKeepTheirOrder) {
  const int64_t span = ReorderBuffer::kWheelSlots;
  ReorderBuffer b;
  b.Push(Ev(100000, 0));           // in order: the run
  b.Push(Ev(1000, 1));             // out of order: the wheel starts at 1000
  b.Push(Ev(1000 + span - 1, 2));  // the wheel's last slot
  b.Push(Ev(1000 + span, 3));      // one span above the first: the heap
  b.Push(Ev(999, 4));              // would make the span too wide: the heap
  b.Push(Ev(1001, 5));             // the wheel
  b.Push(Ev(1000 + span, 6));      // the heap again (ties with 3, arrives later)
  b.Push(Ev(1000, 7));             // the wheel, after 1
  EXPECT_EQ(b.min_time(), EventTime(999));
  EXPECT_EQ(Drain(b, Watermark(1000)), (std::vector<uint64_t>{4, 1, 7}));
  EXPECT_EQ(Drain(b, Watermark(1000 + span)), (std::vector<uint64_t>{5, 2, 3, 6}));
  b.Push(Ev(50000, 8));             // the wheel again, restarted at 50000
  b.Push(Ev(50000 - span + 1, 9));  // lowers its base by span - 1
  EXPECT_EQ(Drain(b, Watermark::Max()), (std::vector<uint64_t>{9, 8, 0}));
  EXPECT_TRUE(b.empty());
}

// Against a reference model, with arrivals spread far beyond the time wheel's span (so the
// heap fallback, a lowered wheel base and a wheel emptied and refilled all happen), equal
// times, negative times, and watermarks that stall and jump: every release is the smallest
// (time, arrival) at or before the watermark, and Contents() is the remaining release order.
TEST(ReorderBuffer, RandomisedAgainstModelAcrossWheelSpans) {
  std::mt19937_64 rng(7);
  const int64_t span = ReorderBuffer::kWheelSlots;
  for (int round = 0; round < 280; ++round) {
    ReorderBuffer b;
    std::vector<std::pair<int64_t, uint64_t>> model;  // (time, arrival) of buffered events
    const int64_t spread =
        std::vector<int64_t>{3, 50, span / 2, span - 1, span, span + 1, 3 * span}[round % 7];
    int64_t base = static_cast<int64_t>(rng() % 1000) - 500;
    int64_t wm = base - spread - 1;
    uint64_t arrival = 0;
    for (int step = 0; step < 400; ++step) {
      const uint64_t op = rng() % 10;
      if (op < 7) {
        base += static_cast<int64_t>(rng() % 3);
        int64_t t = base - static_cast<int64_t>(rng() % static_cast<uint64_t>(spread + 1));
        if (rng() % 8 == 0) t = base;           // ties
        if (rng() % 4 == 0) t = base - spread;  // the span's edges
        if (t <= wm) t = wm + 1;                // never late
        b.Push(Ev(t, arrival));
        model.emplace_back(t, arrival++);
      } else {
        wm = std::max(wm, base - static_cast<int64_t>(rng() % static_cast<uint64_t>(spread + 1)));
        std::sort(model.begin(), model.end());
        size_t n = 0;
        while (EventPtr e = b.PopReady(Watermark(wm))) {
          ASSERT_LT(n, model.size());
          EXPECT_EQ(e->time.ms, model[n].first);
          EXPECT_EQ(e->seq, model[n].second);
          ++n;
        }
        ASSERT_TRUE(n == model.size() || model[n].first > wm) << "held back at " << n;
        model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(n));
      }
      ASSERT_EQ(b.size(), model.size());
      std::vector<std::pair<int64_t, uint64_t>> sorted = model;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(b.min_time(), sorted.empty() ? EventTime::Max() : EventTime(sorted[0].first));
      if (step % 50 == 0) {
        std::vector<EventPtr> c = b.Contents();
        ASSERT_EQ(c.size(), sorted.size());
        for (size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c[i]->seq, sorted[i].second);
      }
      if (HasFailure()) return;
    }
    std::sort(model.begin(), model.end());
    for (auto& [t, s] : model) {
      EventPtr e = b.PopReady(Watermark::Max());
      ASSERT_TRUE(e);
      EXPECT_EQ(e->seq, s);
    }
    EXPECT_TRUE(b.empty());
  }
}

}  // namespace
}  // namespace vigil::engine
