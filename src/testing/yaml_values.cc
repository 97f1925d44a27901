#include "src/testing/yaml_values.h"

#include <cmath>
#include <cstdlib>
#include <regex>

#include "core/value.h"
#include "fmt/format.h"

namespace vigil::ruletest {

namespace {

const std::regex& IntPattern() {
  static const std::regex re("[-+]?[0-9]+");
  return re;
}
const std::regex& FloatPattern() {
  static const std::regex re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  return re;
}
const std::regex& JsonNumberPattern() {
  static const std::regex re(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  return re;
}

bool IsQuotedOrStr(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  return tag == "!" || tag == "tag:yaml.org,2002:str";
}

ScalarKind KindOfPlain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarKind::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return ScalarKind::kBool;
  }
  if (std::regex_match(s, IntPattern())) return ScalarKind::kInt;
  if (std::regex_match(s, FloatPattern())) return ScalarKind::kFloat;
  return ScalarKind::kString;
}

// A number in JSON syntax: as written when it already is, otherwise re-printed.
std::string JsonNumber(const std::string& s, ScalarKind kind) {
  if (std::regex_match(s, JsonNumberPattern())) return s;
  if (kind == ScalarKind::kInt) return fmt::format("{}", std::strtoll(s.c_str(), nullptr, 10));
  std::string out = fmt::format("{}", std::strtod(s.c_str(), nullptr));
  // Keep it a float for the decoder ("1." was a float; "1" would be an int).
  if (out.find_first_of(".eE") == std::string::npos) out += ".0";
  return out;
}

// Whether a bare (unquoted) word would be read back as this same string.
bool SafeBare(const std::string& s) {
  if (s.empty() || KindOfPlain(s) != ScalarKind::kString) return false;
  if (s.front() == ' ' || s.back() == ' ') return false;
  static const std::string kLead = "!&*-?|>'\"%@`#";
  if (kLead.find(s.front()) != std::string::npos) return false;
  for (char c : s) {
    if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == '\n' || c == '\t' ||
        c == '"' || c == '\\') {
      return false;
    }
  }
  return s.find(": ") == std::string::npos && s.find(" #") == std::string::npos && s.back() != ':';
}

}  // namespace

ScalarKind KindOf(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return ScalarKind::kNull;
  if (!n.IsScalar()) return ScalarKind::kString;
  if (IsQuotedOrStr(n)) return ScalarKind::kString;
  return KindOfPlain(n.Scalar());
}

Pos PosOf(const YAML::Node& n) {
  if (!n.IsDefined()) return {};
  YAML::Mark m = n.Mark();
  if (m.is_null()) return {};
  return Pos{m.line + 1, m.column + 1};
}

bool AppendYamlAsJson(const YAML::Node& n, std::string* out, YAML::Node* bad) {
  if (!n.IsDefined() || n.IsNull()) {
    out->append("null");
    return true;
  }
  if (n.IsMap()) {
    out->push_back('{');
    bool first = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) {
        bad->reset(it->first);
        return false;
      }
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(it->first.Scalar(), out);
      out->push_back(':');
      if (!AppendYamlAsJson(it->second, out, bad)) return false;
    }
    out->push_back('}');
    return true;
  }
  if (n.IsSequence()) {
    out->push_back('[');
    bool first = true;
    for (const YAML::Node& item : n) {
      if (!first) out->push_back(',');
      first = false;
      if (!AppendYamlAsJson(item, out, bad)) return false;
    }
    out->push_back(']');
    return true;
  }
  const std::string& s = n.Scalar();
  switch (KindOf(n)) {
    case ScalarKind::kNull:
      out->append("null");
      return true;
    case ScalarKind::kBool:
      out->append(s[0] == 't' || s[0] == 'T' ? "true" : "false");
      return true;
    case ScalarKind::kInt:
    case ScalarKind::kFloat: {
      std::string num = JsonNumber(s, KindOf(n));
      if (KindOf(n) == ScalarKind::kFloat && !std::isfinite(std::strtod(s.c_str(), nullptr))) {
        bad->reset(n);
        return false;
      }
      out->append(num);
      return true;
    }
    case ScalarKind::kString:
      AppendJsonString(s, out);
      return true;
  }
  return true;
}

std::string RenderScalar(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  const std::string& s = n.Scalar();
  if (KindOf(n) != ScalarKind::kString || SafeBare(s)) return s;
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string RenderFlow(const YAML::Node& n) {
  if (n.IsDefined() && n.IsMap()) {
    std::string out = "{";
    bool first = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += RenderScalar(it->first) + ": " + RenderFlow(it->second);
    }
    return out + "}";
  }
  if (n.IsDefined() && n.IsSequence()) {
    std::string out = "[";
    bool first = true;
    for (const YAML::Node& item : n) {
      if (!first) out += ", ";
      first = false;
      out += RenderFlow(item);
    }
    return out + "]";
  }
  return RenderScalar(n);
}

}  // namespace vigil::ruletest
