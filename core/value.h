#pragma once
// The value model: every field of an event and every expression result is a Value.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.h"

namespace vigil {

// Language types (language.md §2). kNull is the type of the `null` literal only.
enum class Type : uint8_t { kNull, kBool, kInt, kFloat, kString, kTimestamp };

std::string_view TypeName(Type t);  // "bool", "int", ... ("null" for kNull)
bool IsNumeric(Type t);             // int or float

// A dynamically typed value. Cheap to copy for scalars; strings are owned (SSO applies).
// Thread-compatible.
class Value {
 public:
  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Bool(bool b) {
    Value v;
    v.type_ = Type::kBool;
    v.i_ = b ? 1 : 0;
    return v;
  }
  static Value Int(int64_t i) {
    Value v;
    v.type_ = Type::kInt;
    v.i_ = i;
    return v;
  }
  static Value Float(double f) {
    Value v;
    v.type_ = Type::kFloat;
    v.f_ = f;
    return v;
  }
  static Value String(std::string s) {
    Value v;
    v.type_ = Type::kString;
    v.s_ = std::move(s);
    return v;
  }
  static Value Timestamp(EventTime t) {
    Value v;
    v.type_ = Type::kTimestamp;
    v.i_ = t.ms;
    return v;
  }

  // In-place setters for decoders that reuse Values: they keep this value's string capacity.
  void SetNull() {
    type_ = Type::kNull;
    i_ = 0;
    s_.clear();
  }
  void SetBool(bool b) { SetScalar(Type::kBool, b ? 1 : 0); }
  void SetInt(int64_t i) { SetScalar(Type::kInt, i); }
  void SetFloat(double f) {
    SetScalar(Type::kFloat, 0);
    f_ = f;
  }
  void SetTimestamp(EventTime t) { SetScalar(Type::kTimestamp, t.ms); }
  void SetString(std::string_view s) {
    type_ = Type::kString;
    i_ = 0;
    s_.assign(s.data(), s.size());
  }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return i_; }  // int and timestamp
  double as_float() const { return f_; }
  const std::string& as_string() const { return s_; }
  EventTime as_timestamp() const { return EventTime(i_); }
  // int or float as double.
  double AsDouble() const { return type_ == Type::kFloat ? f_ : static_cast<double>(i_); }

  // Structural equality (null == null is true here; the language's `==` is in cep/expr).
  friend bool operator==(const Value& a, const Value& b);
  // Total order used for min/max/sorting: null < bool < numbers (int/float compared as
  // numbers) < string < timestamp.
  friend int Compare(const Value& a, const Value& b);
  size_t Hash() const;

  // Text form used in templates: numbers in shortest exact form ("0.5", "900", "1e+21"),
  // strings raw, null as "null", timestamps as integer milliseconds.
  std::string ToString() const;
  // JSON form: strings quoted and escaped; floats always show a fraction or exponent ("900.0",
  // "0.5", "1e+21"); NaN and infinities, which JSON cannot hold, as null.
  void AppendJson(std::string* out) const;

 private:
  void SetScalar(Type t, int64_t i) {
    type_ = t;
    i_ = i;
    s_.clear();
  }

  Type type_ = Type::kNull;
  union {
    int64_t i_ = 0;
    double f_;
  };
  std::string s_;
};

// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace vigil
