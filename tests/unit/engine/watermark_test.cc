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

// Explicit watermarks ($watermark lines), as Flink's processWatermark on one input: events at
// or before the watermark that arrive after it are late.
TEST(Watermark, ExplicitWatermarkMakesOlderEventsLate) {
  WatermarkTracker w(Duration::Seconds(10));
  EXPECT_TRUE(w.Observe(0, EventTime(5)));
  EXPECT_EQ(w.current(), Watermark(5 - 10000 - 1));
  EXPECT_FALSE(w.IsLate(EventTime(3)));
  EXPECT_FALSE(w.Observe(0, EventTime(3)));
  EXPECT_TRUE(w.ObserveWatermark(0, Watermark(4)));
  EXPECT_EQ(w.current(), Watermark(4));
  EXPECT_EQ(w.partition_watermark(0), Watermark(4));
  EXPECT_TRUE(w.IsLate(EventTime(2)));
  EXPECT_TRUE(w.IsLate(EventTime(4)));  // time == watermark is late, as for generated ones
  EXPECT_FALSE(w.IsLate(EventTime(5)));
  // A lower or equal explicit watermark is ignored; the watermark never goes backwards.
  EXPECT_FALSE(w.ObserveWatermark(0, Watermark(3)));
  EXPECT_FALSE(w.ObserveWatermark(0, Watermark(4)));
  EXPECT_EQ(w.current(), Watermark(4));
  EXPECT_EQ(w.max_seen(0), EventTime(5));  // a watermark is not an event
}

TEST(Watermark, PartitionWatermarkIsMaxOfGeneratedAndExplicit) {
  WatermarkTracker w(Duration(0));
  EXPECT_TRUE(w.ObserveWatermark(0, Watermark(100)));
  EXPECT_EQ(w.current(), Watermark(100));
  // An event whose generated watermark (50 - 1) is below the explicit one changes nothing.
  EXPECT_FALSE(w.Observe(0, EventTime(150 - 100)));
  EXPECT_EQ(w.partition_watermark(0), Watermark(100));
  // One above it takes over: the generated watermark is not held back by the explicit one.
  EXPECT_TRUE(w.Observe(0, EventTime(150)));
  EXPECT_EQ(w.current(), Watermark(149));
  // An explicit watermark below the generated one is ignored.
  EXPECT_FALSE(w.ObserveWatermark(0, Watermark(120)));
  EXPECT_EQ(w.current(), Watermark(149));
  EXPECT_EQ(w.partition_watermark(0), Watermark(149));
}

TEST(Watermark, ExplicitWatermarksTakeTheMinimumOverPartitions) {
  WatermarkTracker w(Duration::Seconds(60), Duration::Seconds(60), 2);
  EXPECT_FALSE(w.ObserveWatermark(0, Watermark(1000)));  // partition 1 has nothing yet
  EXPECT_EQ(w.current(), Watermark::Min());
  EXPECT_EQ(w.partition_watermark(0), Watermark(1000));
  EXPECT_EQ(w.partition_watermark(1), Watermark::Min());
  EXPECT_TRUE(w.ObserveWatermark(1, Watermark(400)));
  EXPECT_EQ(w.current(), Watermark(400));
  // Lateness is judged against the stream's watermark: 500 is not late on either partition.
  EXPECT_FALSE(w.IsLate(EventTime(500)));
  EXPECT_TRUE(w.ObserveWatermark(1, Watermark(2000)));
  EXPECT_EQ(w.current(), Watermark(1000));
  // An idle partition stops holding back; an explicit watermark makes it active again.
  EXPECT_TRUE(w.MarkIdle(0));
  EXPECT_EQ(w.current(), Watermark(2000));
  EXPECT_FALSE(w.ObserveWatermark(0, Watermark(1500)));  // min(1500, 2000): no move back
  EXPECT_EQ(w.current(), Watermark(2000));
  EXPECT_FALSE(w.ObserveWatermark(0, Watermark(3000)));  // min(3000, 2000): partition 1 holds
  EXPECT_TRUE(w.MarkEnded(1));
  EXPECT_EQ(w.current(), Watermark(3000));
}

TEST(Watermark, EncodeDecodeKeepsExplicitWatermarks) {
  WatermarkTracker w(Duration(10), {}, 2);
  w.Observe(0, EventTime(500));
  w.ObserveWatermark(1, Watermark(700));
  w.Observe(1, EventTime(20));
  Encoder enc;
  w.Encode(&enc);
  WatermarkTracker r(Duration(10), {}, 2);
  Decoder dec(enc.buffer());
  ASSERT_TRUE(r.Decode(&dec).ok());
  EXPECT_TRUE(dec.ExpectDone().ok());
  EXPECT_EQ(r.current(), w.current());
  EXPECT_EQ(r.partition_watermark(0), Watermark(489));
  EXPECT_EQ(r.partition_watermark(1), Watermark(700));
  EXPECT_EQ(r.max_seen(1), EventTime(20));
  // The explicit watermark still holds after the restore: 600 on partition 0 raises the
  // stream's watermark to min(589, 700).
  EXPECT_TRUE(r.Observe(0, EventTime(600)));
  EXPECT_EQ(r.current(), Watermark(589));
}

TEST(Watermark, EncodingWithoutExplicitWatermarksIsTheEarlierFormat) {
  // Written as the tracker wrote it before explicit watermarks existed: current, partitions,
  // then (max seen, state) per partition.
  Encoder old;
  old.I64(99);
  old.U64(1);
  old.I64(100);
  old.U32(0);
  WatermarkTracker w(Duration(0));
  w.Observe(0, EventTime(100));
  Encoder now;
  w.Encode(&now);
  EXPECT_EQ(now.buffer(), old.buffer());
  WatermarkTracker r(Duration(0));
  Decoder dec(old.buffer());
  ASSERT_TRUE(r.Decode(&dec).ok());
  EXPECT_EQ(r.current(), Watermark(99));
  EXPECT_EQ(r.partition_watermark(0), Watermark(99));
}

}  // namespace
}  // namespace vigil::engine
