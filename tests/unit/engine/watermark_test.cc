#include "engine/time/watermark.h"

#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

TEST(Watermark, MaxSeenMinusBoundMinusOne) {
  WatermarkTracker w(Duration::Seconds(5));
  EXPECT_EQ(w.current(), Watermark::Min());
  EXPECT_FALSE(w.IsLate(EventTime(-1000000)));
  EXPECT_TRUE(w.Observe(0, EventTime(10000)));
  EXPECT_EQ(w.current(), Watermark(4999));
  // Boundary: time == watermark is late; one past is not.
  EXPECT_TRUE(w.IsLate(EventTime(4999)));
  EXPECT_FALSE(w.IsLate(EventTime(5000)));
  // Older events do not move it; it never goes backwards.
  EXPECT_FALSE(w.Observe(0, EventTime(6000)));
  EXPECT_EQ(w.current(), Watermark(4999));
  EXPECT_TRUE(w.Observe(0, EventTime(10001)));
  EXPECT_EQ(w.current(), Watermark(5000));
}

TEST(Watermark, ZeroBoundEqualTimesAreNotLate) {
  WatermarkTracker w(Duration(0));
  w.Observe(0, EventTime(100));
  EXPECT_EQ(w.current(), Watermark(99));
  EXPECT_FALSE(w.IsLate(EventTime(100)));
  EXPECT_TRUE(w.IsLate(EventTime(99)));
}

TEST(Watermark, MinOverPartitionsAndEnd) {
  WatermarkTracker w(Duration(0), Duration::Seconds(60), 2);
  EXPECT_FALSE(w.Observe(0, EventTime(100)));  // partition 1 has seen nothing
  EXPECT_EQ(w.current(), Watermark::Min());
  EXPECT_TRUE(w.Observe(1, EventTime(50)));
  EXPECT_EQ(w.current(), Watermark(49));
  EXPECT_TRUE(w.MarkEnded(1));
  EXPECT_EQ(w.current(), Watermark(99));
  EXPECT_TRUE(w.MarkEnded(0));
  EXPECT_EQ(w.current(), Watermark::Max());
  EXPECT_TRUE(w.IsLate(EventTime(1000000)));
}

TEST(Watermark, IdlePartitionStopsHoldingBack) {
  WatermarkTracker w(Duration(0), Duration::Seconds(60), 2);
  w.Observe(0, EventTime(100));
  w.Observe(1, EventTime(10));
  EXPECT_EQ(w.current(), Watermark(9));
  EXPECT_TRUE(w.MarkIdle(1));
  EXPECT_EQ(w.current(), Watermark(99));
  // Back from idle with an old time: the watermark does not regress.
  EXPECT_FALSE(w.Observe(1, EventTime(20)));
  EXPECT_EQ(w.current(), Watermark(99));
  EXPECT_FALSE(w.Observe(1, EventTime(200)));  // min(99, 199) = 99: partition 0 holds it
  EXPECT_TRUE(w.Observe(0, EventTime(300)));
  EXPECT_EQ(w.current(), Watermark(199));
}

TEST(Watermark, AdvanceToOnlyRaises) {
  WatermarkTracker w(Duration(0));
  EXPECT_TRUE(w.AdvanceTo(Watermark(100)));
  EXPECT_EQ(w.current(), Watermark(100));
  EXPECT_FALSE(w.AdvanceTo(Watermark(50)));
  EXPECT_FALSE(w.AdvanceTo(Watermark(100)));
  EXPECT_EQ(w.current(), Watermark(100));
  EXPECT_TRUE(w.IsLate(EventTime(100)));
  EXPECT_FALSE(w.IsLate(EventTime(101)));
  EXPECT_EQ(w.max_seen(0), EventTime::Min());  // AdvanceTo is not an event
  w.Observe(0, EventTime(300));
  EXPECT_EQ(w.max_seen(0), EventTime(300));
}

TEST(Watermark, EndWithoutEvents) {
  WatermarkTracker w(Duration(0));
  EXPECT_TRUE(w.MarkEnded(0));
  EXPECT_EQ(w.current(), Watermark::Max());
}

}  // namespace
}  // namespace vigil::engine
