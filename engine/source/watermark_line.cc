#include "engine/source/watermark_line.h"

#include <charconv>

#include "engine/decode/event_decoder.h"

namespace vigil::engine {

namespace {

constexpr std::string_view kKey = "\"$watermark\"";

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t SkipBlanks(std::string_view s, size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  return i;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

constexpr std::string_view kInvalidJson = "$watermark: invalid JSON";
constexpr std::string_view kSingleKey =
    "a watermark line must be an object with the single key \"$watermark\"";

}  // namespace

bool LooksLikeWatermarkLine(std::string_view line) {
  size_t i = SkipBlanks(line, 0);
  if (i >= line.size() || line[i] != '{') return false;
  i = SkipBlanks(line, i + 1);
  return line.substr(i, kKey.size()) == kKey;
}

std::string_view ParseWatermarkLine(std::string_view line, int64_t* ms) {
  size_t i = SkipBlanks(line, 0);
  if (i >= line.size() || line[i] != '{') return kInvalidJson;
  i = SkipBlanks(line, i + 1);
  if (line.substr(i, kKey.size()) != kKey) return kInvalidJson;
  i = SkipBlanks(line, i + kKey.size());
  if (i >= line.size() || line[i] != ':') return kInvalidJson;
  i = SkipBlanks(line, i + 1);
  if (i >= line.size()) return kInvalidJson;

  int64_t value = 0;
  const char c = line[i];
  if (c == '-' || IsDigit(c)) {
    size_t start = i;
    if (line[i] == '-') ++i;
    size_t digits = i;
    while (i < line.size() && IsDigit(line[i])) ++i;
    if (i == digits || (line[digits] == '0' && i - digits > 1)) return kInvalidJson;
    if (i < line.size() && (line[i] == '.' || line[i] == 'e' || line[i] == 'E')) {
      return "$watermark must be integer milliseconds or an RFC 3339 string, got float";
    }
    auto [end, ec] = std::from_chars(line.data() + start, line.data() + i, value);
    if (ec != std::errc() || end != line.data() + i) return "$watermark: integer out of range";
  } else if (c == '"') {
    size_t start = ++i;
    while (i < line.size() && line[i] != '"' && line[i] != '\\') ++i;
    if (i >= line.size()) return kInvalidJson;
    // An RFC 3339 timestamp never needs an escape.
    if (line[i] == '\\' || !ParseRfc3339(line.substr(start, i - start), &value)) {
      return "$watermark: invalid RFC 3339 timestamp";
    }
    ++i;
  } else if (c == '{') {
    return "$watermark must be integer milliseconds or an RFC 3339 string, got object";
  } else if (c == '[') {
    return "$watermark must be integer milliseconds or an RFC 3339 string, got array";
  } else if (line.substr(i, 4) == "true" || line.substr(i, 5) == "false") {
    return "$watermark must be integer milliseconds or an RFC 3339 string, got bool";
  } else if (line.substr(i, 4) == "null") {
    return "$watermark must be integer milliseconds or an RFC 3339 string, got null";
  } else {
    return kInvalidJson;
  }

  i = SkipBlanks(line, i);
  if (i < line.size() && line[i] == ',') return kSingleKey;
  if (i >= line.size() || line[i] != '}') return kInvalidJson;
  if (SkipBlanks(line, i + 1) != line.size()) return kInvalidJson;
  *ms = value;
  return {};
}

}  // namespace vigil::engine
