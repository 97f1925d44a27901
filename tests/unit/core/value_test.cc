// Unit tests of the core value and time model (core/value.h, core/time.h, core/schema.h).
#include "core/value.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/schema.h"
#include "core/time.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

std::string Json(const Value& v) {
  std::string out;
  v.AppendJson(&out);
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(Value, ConstructionAndAccessors) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value::Null().is_null());
  EXPECT_EQ(Value::Bool(true).type(), Type::kBool);
  EXPECT_TRUE(Value::Bool(true).as_bool());
  EXPECT_EQ(Value::Int(-5).as_int(), -5);
  EXPECT_EQ(Value::Float(0.5).as_float(), 0.5);
  EXPECT_EQ(Value::Int(3).AsDouble(), 3.0);
  EXPECT_EQ(Value::String("x").as_string(), "x");
  EXPECT_EQ(Value::Timestamp(EventTime(42)).as_timestamp(), EventTime(42));
  EXPECT_EQ(Value::Timestamp(EventTime(42)).as_int(), 42);
}

TEST(Value, TypeNames) {
  EXPECT_EQ(TypeName(Type::kNull), "null");
  EXPECT_EQ(TypeName(Type::kBool), "bool");
  EXPECT_EQ(TypeName(Type::kInt), "int");
  EXPECT_EQ(TypeName(Type::kFloat), "float");
  EXPECT_EQ(TypeName(Type::kString), "string");
  EXPECT_EQ(TypeName(Type::kTimestamp), "timestamp");
  EXPECT_TRUE(IsNumeric(Type::kInt));
  EXPECT_TRUE(IsNumeric(Type::kFloat));
  EXPECT_FALSE(IsNumeric(Type::kTimestamp));
  EXPECT_FALSE(IsNumeric(Type::kString));
}

TEST(Value, CompareTotalOrder) {
  // null < bool < numbers < string < timestamp.
  std::vector<Value> ordered = {Value(),
                                Value::Bool(false),
                                Value::Bool(true),
                                Value::Int(-10),
                                Value::Float(-0.5),
                                Value::Int(0),
                                Value::Float(0.5),
                                Value::Int(1),
                                Value::Float(1e20),
                                Value::String(""),
                                Value::String("a"),
                                Value::String("ab"),
                                Value::String("b"),
                                Value::Timestamp(EventTime(-1)),
                                Value::Timestamp(EventTime(0))};
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      int want = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(Compare(ordered[i], ordered[j]), want) << i << " vs " << j;
    }
  }
  // Numbers compare as numbers across int and float.
  EXPECT_EQ(Compare(Value::Int(2), Value::Float(2.0)), 0);
  EXPECT_EQ(Compare(Value::Int(2), Value::Float(2.5)), -1);
  // Large ints keep exact order among themselves.
  EXPECT_EQ(Compare(Value::Int(std::numeric_limits<int64_t>::max()),
                    Value::Int(std::numeric_limits<int64_t>::max() - 1)),
            1);
}

TEST(Value, StructuralEquality) {
  EXPECT_EQ(Value(), Value());  // null == null structurally
  EXPECT_EQ(Value::Int(1), Value::Int(1));
  EXPECT_FALSE(Value::Int(1) == Value::Float(1.0));  // different types
  EXPECT_FALSE(Value::Int(5) == Value::Timestamp(EventTime(5)));
  EXPECT_EQ(Value::String("a"), Value::String("a"));
  EXPECT_FALSE(Value::String("a") == Value::String("b"));
  EXPECT_FALSE(Value::Bool(true) == Value::Int(1));
}

TEST(Value, HashConsistentWithEquality) {
  EXPECT_EQ(Value().Hash(), Value().Hash());
  EXPECT_EQ(Value::Int(7).Hash(), Value::Int(7).Hash());
  EXPECT_EQ(Value::String("abc").Hash(), Value::String("abc").Hash());
  EXPECT_EQ(Value::Float(0.25).Hash(), Value::Float(0.25).Hash());
  EXPECT_EQ(Value::Timestamp(EventTime(9)).Hash(), Value::Timestamp(EventTime(9)).Hash());
  // Numerically equal int and float hash alike (they Compare equal).
  EXPECT_EQ(Value::Int(3).Hash(), Value::Float(3.0).Hash());
  // Different values (almost always) hash differently.
  EXPECT_NE(Value::String("abc").Hash(), Value::String("abd").Hash());
  EXPECT_NE(Value::Int(1).Hash(), Value::Int(2).Hash());
}

TEST(Value, ToString) {
  EXPECT_EQ(Value().ToString(), "null");
  EXPECT_EQ(Value::Bool(true).ToString(), "true");
  EXPECT_EQ(Value::Bool(false).ToString(), "false");
  EXPECT_EQ(Value::Int(-42).ToString(), "-42");
  EXPECT_EQ(Value::Float(0.5).ToString(), "0.5");
  EXPECT_EQ(Value::Float(900.0).ToString(), "900");
  EXPECT_EQ(Value::Float(1e21).ToString(), "1e+21");
  EXPECT_EQ(Value::Float(std::nan("")).ToString(), "NaN");
  EXPECT_EQ(Value::Float(INFINITY).ToString(), "Infinity");
  EXPECT_EQ(Value::Float(-INFINITY).ToString(), "-Infinity");
  EXPECT_EQ(Value::String("a \"b\"").ToString(), "a \"b\"");
  EXPECT_EQ(Value::Timestamp(EventTime(1700000000000)).ToString(), "1700000000000");
}

TEST(Value, AppendJson) {
  EXPECT_EQ(Json(Value()), "null");
  EXPECT_EQ(Json(Value::Bool(true)), "true");
  EXPECT_EQ(Json(Value::Int(-3)), "-3");
  EXPECT_EQ(Json(Value::Float(0.5)), "0.5");
  EXPECT_EQ(Json(Value::Float(900.0)), "900.0");  // floats stay floats (language.md §8)
  EXPECT_EQ(Json(Value::Float(-0.0)), "-0.0");
  EXPECT_EQ(Json(Value::Float(1e21)), "1e+21");
  EXPECT_EQ(Json(Value::Float(1e-7)), "1e-07");
  EXPECT_EQ(Json(Value::Float(std::nan(""))), "null");
  EXPECT_EQ(Json(Value::Float(INFINITY)), "null");
  EXPECT_EQ(Json(Value::Timestamp(EventTime(5))), "5");
  EXPECT_EQ(Json(Value::String("x\"y")), R"("x\"y")");
  std::string out = "[";
  Value::Int(1).AppendJson(&out);
  EXPECT_EQ(out, "[1");  // appends, never overwrites
}

TEST(Value, JsonStringEscaping) {
  EXPECT_EQ(JsonString(""), R"("")");
  EXPECT_EQ(JsonString("plain"), R"("plain")");
  EXPECT_EQ(JsonString("q\"b\\"), R"("q\"b\\")");
  EXPECT_EQ(JsonString("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(JsonString(std::string("\x01\x1f\x00", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(JsonString("/"), R"("/")");
  EXPECT_EQ(JsonString("\x7f"), "\"\x7f\"");
  EXPECT_EQ(JsonString("é日本\xF0\x9F\x98\x80"), "\"é日本\xF0\x9F\x98\x80\"");  // UTF-8 as is
}

TEST(Time, FormatDuration) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(Duration(250)), "250ms");
  EXPECT_EQ(FormatDuration(Duration::Seconds(5)), "5s");
  EXPECT_EQ(FormatDuration(Duration::Seconds(600)), "10m");
  EXPECT_EQ(FormatDuration(Duration::Seconds(5400)), "1h30m");
  EXPECT_EQ(FormatDuration(Duration::Seconds(2 * 86400)), "2d");
  EXPECT_EQ(FormatDuration(Duration(90061001)), "1d1h1m1s1ms");
  EXPECT_EQ(FormatDuration(Duration(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(Duration(-1500)), "-1s500ms");
}

TEST(Time, EventTimeArithmeticSaturates) {
  EXPECT_EQ(EventTime(1000) + Duration(500), EventTime(1500));
  EXPECT_EQ(EventTime(1000) - Duration(500), EventTime(500));
  EXPECT_EQ(EventTime(1500) - EventTime(1000), Duration(500));
  EXPECT_EQ(EventTime::Max() + Duration(1), EventTime::Max());
  EXPECT_EQ(EventTime::Min() - Duration(1), EventTime::Min());
  EXPECT_EQ(EventTime(std::numeric_limits<int64_t>::max() - 5) + Duration(10), EventTime::Max());
  EXPECT_EQ(EventTime(std::numeric_limits<int64_t>::min() + 5) - Duration(10), EventTime::Min());
  EXPECT_LT(EventTime(1), EventTime(2));
  EXPECT_LT(Duration::Millis(999), Duration::Seconds(1));
}

TEST(Time, WatermarkCovers) {
  Watermark w(100);
  EXPECT_TRUE(w.Covers(EventTime(100)));
  EXPECT_TRUE(w.Covers(EventTime(99)));
  EXPECT_FALSE(w.Covers(EventTime(101)));
  EXPECT_FALSE(Watermark::Min().Covers(EventTime(-1'000'000)));
  EXPECT_TRUE(Watermark::Max().Covers(EventTime(1'000'000)));
  EXPECT_EQ(Watermark().ms, Watermark::Min().ms);
  EXPECT_EQ(w.AsEventTime(), EventTime(100));
}

TEST(Schema, AddAndFind) {
  Schema s("txn");
  EXPECT_EQ(s.name(), "txn");
  EXPECT_EQ(s.AddField(FieldDef{"card", {"card"}, Type::kString}), 0);
  EXPECT_EQ(s.AddField(FieldDef{"geo.country", {"geo", "country"}, Type::kString}), 1);
  EXPECT_EQ(s.AddField(FieldDef{"card", {"card"}, Type::kInt}), -1);  // duplicate
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.Find("geo.country"), 1);
  EXPECT_EQ(s.Find("nope"), -1);
  EXPECT_EQ(s.field(1).path.size(), 2u);
  EXPECT_EQ(s.field(0).type, Type::kString);
}

}  // namespace
}  // namespace vigil
