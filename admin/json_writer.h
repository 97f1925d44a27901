#pragma once
// JsonWriter: a small streaming JSON builder for the admin endpoints (commas and nesting are
// tracked for the caller). Strings are escaped with core's AppendJsonString; doubles print in
// shortest round-trip form, NaN and infinities (which JSON cannot hold) as null.
// Misuse (a value where a key is due, unbalanced End*) is a programming error, not checked.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::admin {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  // Inside an object: the next value's key.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Already-rendered JSON (e.g. a record object), inserted as one value.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void BeforeValue();
  std::string out_;
  std::vector<bool> has_item_;  // per open container: something was written in it
  bool after_key_ = false;
};

}  // namespace vigil::admin
