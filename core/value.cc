#include "core/value.h"

#include <cmath>
#include <functional>

#include "fmt/format.h"

namespace vigil {

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kFloat:
      return "float";
    case Type::kString:
      return "string";
    case Type::kTimestamp:
      return "timestamp";
  }
  return "?";
}

bool IsNumeric(Type t) { return t == Type::kInt || t == Type::kFloat; }

bool operator==(const Value& a, const Value& b) { return Compare(a, b) == 0 && a.type_ == b.type_; }

namespace {
int Rank(Type t) {
  switch (t) {
    case Type::kNull:
      return 0;
    case Type::kBool:
      return 1;
    case Type::kInt:
    case Type::kFloat:
      return 2;
    case Type::kString:
      return 3;
    case Type::kTimestamp:
      return 4;
  }
  return 5;
}
template <typename T>
int Cmp(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}
}  // namespace

int Compare(const Value& a, const Value& b) {
  int ra = Rank(a.type_), rb = Rank(b.type_);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.type_) {
    case Type::kNull:
      return 0;
    case Type::kBool:
    case Type::kTimestamp:
      return Cmp(a.i_, b.i_);
    case Type::kInt:
    case Type::kFloat:
      if (a.type_ == Type::kInt && b.type_ == Type::kInt) return Cmp(a.i_, b.i_);
      return Cmp(a.AsDouble(), b.AsDouble());
    case Type::kString:
      return a.s_.compare(b.s_) < 0 ? -1 : (a.s_ == b.s_ ? 0 : 1);
  }
  return 0;
}

size_t Value::Hash() const {
  switch (type_) {
    case Type::kNull:
      return 0x9e3779b97f4a7c15ull;
    case Type::kBool:
    case Type::kTimestamp:
      return std::hash<int64_t>()(i_) ^ static_cast<size_t>(type_);
    case Type::kInt:
      return std::hash<double>()(static_cast<double>(i_));
    case Type::kFloat:
      return std::hash<double>()(f_);
    case Type::kString:
      return std::hash<std::string>()(s_);
  }
  return 0;
}

std::string Value::ToString() const {
  switch (type_) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return i_ ? "true" : "false";
    case Type::kInt:
    case Type::kTimestamp:
      return std::to_string(i_);
    case Type::kFloat:
      if (std::isnan(f_)) return "NaN";
      if (std::isinf(f_)) return f_ > 0 ? "Infinity" : "-Infinity";
      return fmt::format("{}", f_);
    case Type::kString:
      return s_;
  }
  return "";
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          out->append(fmt::format("\\u{:04x}", c));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void Value::AppendJson(std::string* out) const {
  switch (type_) {
    case Type::kNull:
      out->append("null");
      return;
    case Type::kString:
      AppendJsonString(s_, out);
      return;
    case Type::kFloat:
      if (!std::isfinite(f_)) {
        out->append("null");
        return;
      }
      {
        // Keep floats floats through a JSON round trip: 900.0, not 900 (language.md §8).
        size_t start = out->size();
        out->append(ToString());
        if (out->find_first_of(".e", start) == std::string::npos) out->append(".0");
      }
      return;
    default:
      out->append(ToString());
      return;
  }
}

}  // namespace vigil
