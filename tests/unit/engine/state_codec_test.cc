#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "engine/state/checkpoint_meta.h"
#include "engine/state/codec.h"
#include "engine/state/state_key.h"

namespace vigil::engine::state {
namespace {

TEST(StateCodecTest, IntegersRoundTrip) {
  const uint64_t us[] = {0, 1, 127, 128, 300, 1ull << 35, UINT64_MAX};
  const int64_t is[] = {0, -1, 1, -64, 64, INT64_MIN, INT64_MAX};
  Encoder e;
  for (uint64_t u : us) e.U64(u);
  for (int64_t i : is) e.I64(i);
  e.F64(-0.5);
  e.F64(std::numeric_limits<double>::infinity());
  e.Fixed32(0xDEADBEEF);
  e.Bool(true);
  Decoder d(e.buffer());
  for (uint64_t u : us) {
    uint64_t got;
    ASSERT_TRUE(d.U64(&got).ok());
    EXPECT_EQ(got, u);
  }
  for (int64_t i : is) {
    int64_t got;
    ASSERT_TRUE(d.I64(&got).ok());
    EXPECT_EQ(got, i);
  }
  double f;
  ASSERT_TRUE(d.F64(&f).ok());
  EXPECT_EQ(f, -0.5);
  ASSERT_TRUE(d.F64(&f).ok());
  EXPECT_TRUE(std::isinf(f));
  uint32_t x;
  ASSERT_TRUE(d.Fixed32(&x).ok());
  EXPECT_EQ(x, 0xDEADBEEF);
  bool b;
  ASSERT_TRUE(d.Bool(&b).ok());
  EXPECT_TRUE(b);
  EXPECT_TRUE(d.ExpectDone().ok());
}

TEST(StateCodecTest, SmallIntegersAreCompact) {
  Encoder e;
  e.U64(5);
  e.I64(-3);
  e.Str("ab");
  EXPECT_EQ(e.size(), 1u + 1u + 3u);
}

TEST(StateCodecTest, ValuesAndEventsRoundTrip) {
  Event ev;
  ev.values = {Value::Null(),
               Value::Bool(true),
               Value::Int(-42),
               Value::Float(3.25),
               Value::String(std::string("h\0llo", 5)),
               Value::Timestamp(EventTime(1700000000000))};
  ev.raw = R"({"user":"u1","amount":-42})";
  ev.time = EventTime(1700000000123);
  ev.seq = 987654321;
  ev.stream = 3;
  Encoder e;
  e.Ev(ev);
  Decoder d(e.buffer());
  Event out;
  ASSERT_TRUE(d.Ev(&out).ok());
  EXPECT_TRUE(d.done());
  ASSERT_EQ(out.values.size(), ev.values.size());
  for (size_t i = 0; i < ev.values.size(); ++i) {
    EXPECT_EQ(out.values[i].type(), ev.values[i].type()) << i;
    EXPECT_TRUE(out.values[i] == ev.values[i]) << i;
  }
  EXPECT_EQ(out.raw, ev.raw);
  EXPECT_EQ(out.time, ev.time);
  EXPECT_EQ(out.seq, ev.seq);
  EXPECT_EQ(out.stream, ev.stream);
}

TEST(StateCodecTest, TruncationIsDataLossAtEveryLength) {
  Event ev;
  ev.values = {Value::String("abcdef"), Value::Float(1.5), Value::Int(1 << 20)};
  ev.raw = "{}";
  ev.seq = 1u << 30;
  Encoder e;
  e.Ev(ev);
  const std::string& full = e.buffer();
  for (size_t n = 0; n < full.size(); ++n) {
    Decoder d(std::string_view(full).substr(0, n));
    Event out;
    absl::Status st = d.Ev(&out);
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << n;
  }
}

TEST(StateCodecTest, MalformedInputsAreDataLoss) {
  {
    std::string s(11, '\xff');  // varint too long
    uint64_t v;
    EXPECT_EQ(Decoder(s).U64(&v).code(), absl::StatusCode::kDataLoss);
  }
  {
    std::string s = "\x02";  // 10-byte varint whose last byte overflows
    std::string over(9, '\xff');
    over.push_back('\x02');
    uint64_t v;
    EXPECT_EQ(Decoder(over).U64(&v).code(), absl::StatusCode::kDataLoss);
  }
  {
    Encoder e;
    e.U64(1ull << 40);  // string length far beyond the input
    std::string s;
    EXPECT_EQ(Decoder(e.buffer()).Str(&s).code(), absl::StatusCode::kDataLoss);
  }
  {
    std::string s = "\x09";  // unknown value type tag
    Value v;
    EXPECT_EQ(Decoder(s).Val(&v).code(), absl::StatusCode::kDataLoss);
  }
  {
    Encoder e;
    e.U64(1ull << 50);  // absurd value count: rejected before allocating
    Event ev;
    EXPECT_EQ(Decoder(e.buffer()).Ev(&ev).code(), absl::StatusCode::kDataLoss);
  }
  {
    Encoder e;
    e.U64(uint64_t{UINT32_MAX} + 1);
    uint32_t v;
    EXPECT_EQ(Decoder(e.buffer()).U32(&v).code(), absl::StatusCode::kDataLoss);
  }
}

TEST(StateCodecTest, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    Decoder d(s);
    Event ev;
    (void)d.Ev(&ev);
    (void)DecodeCheckpointMeta(s);
  }
}

TEST(StateCodecTest, Crc32cKnownValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), 0xE3069283u);
}

TEST(StateCodecTest, CheckpointMetaRoundTripAndCorruption) {
  CheckpointMeta m;
  m.checkpoint_id = 12;
  m.created_unix_ms = 1700000000000;
  m.parallelism = 4;
  m.max_key_groups = 128;
  m.sources = {{"txn", "/data/txn.jsonl", std::string("\x01\x80\x02", 3)}, {"login", "-", ""}};
  m.sinks = {{"audit", "4096"}, {"dead-letter", std::string("\0\1", 2)}};
  m.watermarks = {{"txn", Watermark(1700000000000)}, {"login", Watermark::Min()}};
  m.extra = std::string("\0\1\2", 3);
  m.rules = {{"fraud.vgl", "stream s (a int)\n"}, {"more.vgl", ""}};
  const std::string bytes = EncodeCheckpointMeta(m);
  auto back = DecodeCheckpointMeta(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeCheckpointMeta(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_FALSE(DecodeCheckpointMeta(bytes + "x").ok());
}

TEST(StateKeyTest, LayoutAndAccessors) {
  std::string k = StateKey(0x01020304, 0x0506, "user");
  EXPECT_EQ(k, std::string("\x01\x02\x03\x04\x05\x06user"));
  EXPECT_EQ(OperatorOf(k), 0x01020304u);
  EXPECT_EQ(KeyGroupOf(k), 0x0506);
  EXPECT_EQ(UserKeyOf(k), "user");
  EXPECT_FALSE(KeyGroupOf("abc").has_value());
  // Big-endian: key groups of one operator sort numerically.
  EXPECT_LT(StateKey(1, 255, "zzz"), StateKey(1, 256, ""));
  EXPECT_LT(StateKey(1, 65535, "z"), StateKey(2, 0, ""));
}

TEST(StateKeyTest, WorkerRangesPartitionKeyGroups) {
  for (uint16_t max : {1, 7, 128, 1000}) {
    for (uint32_t p = 1; p <= std::min<uint32_t>(max, 9); ++p) {
      uint32_t next = 0;
      for (uint32_t w = 0; w < p; ++w) {
        KeyGroupRange r = KeyGroupRangeForWorker(max, p, w);
        ASSERT_FALSE(r.empty());
        EXPECT_EQ(r.first, next);
        for (uint32_t kg = r.first; kg <= r.last; ++kg) {
          EXPECT_EQ(WorkerForKeyGroup(static_cast<uint16_t>(kg), max, p), w);
        }
        next = r.last + 1u;
      }
      EXPECT_EQ(next, max);
    }
  }
}

TEST(StateKeyTest, RangeBounds) {
  auto [b, e] = KeyGroupRangeBounds(7, {10, 20});
  EXPECT_LE(b, StateKey(7, 10, ""));
  EXPECT_LT(StateKey(7, 20, "\xff\xff"), e);
  EXPECT_GE(StateKey(7, 21, ""), e);
  auto [b2, e2] = KeyGroupRangeBounds(7, {0, 65535});
  EXPECT_LT(StateKey(7, 65535, "\xff"), e2);
  EXPECT_GE(StateKey(8, 0, ""), e2);
}

}  // namespace
}  // namespace vigil::engine::state
