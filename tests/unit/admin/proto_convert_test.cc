// The struct <-> message translation on its own (the server test covers it over the wire).
#include "admin/proto_convert.h"

#include <gtest/gtest.h>

#include <limits>

namespace vigil::admin {
namespace {

TEST(ProtoConvertTest, ValuesOfEveryTypeRoundTrip) {
  const std::vector<Value> values = {Value::Null(),
                                     Value::Bool(false),
                                     Value::Bool(true),
                                     Value::Int(std::numeric_limits<int64_t>::min()),
                                     Value::Int(0),
                                     Value::Float(-0.25),
                                     Value::String(""),
                                     Value::String(std::string("nul\0byte", 8)),
                                     Value::Timestamp(EventTime(1714557600123))};
  for (const Value& v : values) {
    v1::Value p;
    ToProto(v, &p);
    const Value back = FromProto(p);
    EXPECT_EQ(back.type(), v.type()) << v.ToString();
    EXPECT_EQ(back, v) << v.ToString();
  }
  // A reused message is cleared: a null after a string is a null.
  v1::Value p;
  ToProto(Value::String("x"), &p);
  ToProto(Value::Null(), &p);
  EXPECT_TRUE(FromProto(p).is_null());
}

TEST(ProtoConvertTest, WatermarkSentinelsRoundTrip) {
  JobStatus s;
  for (Watermark wm : {Watermark::Min(), Watermark::Max(), Watermark(0), Watermark(-5),
                       Watermark(1714557600000)}) {
    StreamStatus st;
    st.watermark = wm;
    st.partitions.push_back({"p", wm, true});
    s.streams.push_back(st);
  }
  v1::StatusReply reply;
  ToProto(s, &reply);
  EXPECT_FALSE(reply.streams(0).has_watermark_ms());
  EXPECT_FALSE(reply.streams(0).ended());
  EXPECT_FALSE(reply.streams(1).has_watermark_ms());
  EXPECT_TRUE(reply.streams(1).ended());
  EXPECT_TRUE(reply.streams(2).has_watermark_ms());  // 0 is a watermark, not "unset"
  const JobStatus back = FromProto(reply);
  ASSERT_EQ(back.streams.size(), s.streams.size());
  for (size_t i = 0; i < s.streams.size(); ++i) {
    EXPECT_EQ(back.streams[i].watermark, s.streams[i].watermark) << i;
    EXPECT_EQ(back.streams[i].partitions[0].watermark, s.streams[i].partitions[0].watermark);
    EXPECT_TRUE(back.streams[i].partitions[0].idle);
  }
}

TEST(ProtoConvertTest, AlertsLimitZeroMeansTheDefault) {
  AlertsQuery q;
  q.limit = 0;
  v1::AlertsRequest r;
  ToProto(q, &r);
  EXPECT_EQ(FromProto(r).limit, AlertsQuery{}.limit);
  q.limit = size_t{1} << 40;  // does not wrap into range
  ToProto(q, &r);
  EXPECT_EQ(r.limit(), std::numeric_limits<uint32_t>::max());
}

TEST(ProtoConvertTest, UnknownRuleKindReadsAsPattern) {
  v1::StatusReply reply;
  reply.add_rules()->set_kind(static_cast<v1::RuleKind>(42));
  EXPECT_EQ(FromProto(reply).rules[0].kind, RuleKind::kPattern);
}

}  // namespace
}  // namespace vigil::admin
