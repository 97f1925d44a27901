#include "src/testing/time_spec.h"

#include <cctype>
#include <ctime>

#include "engine/decode/event_decoder.h"
#include "fmt/format.h"
#include "src/commands.h"

namespace vigil::ruletest {

std::optional<int64_t> ParseAbsoluteTime(std::string_view text) {
  int64_t ms = 0;
  if (engine::ParseRfc3339(text, &ms)) return ms;
  // Integer milliseconds, optionally negative; at most 18 digits so that it cannot overflow.
  std::string_view digits = text;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

std::optional<int64_t> ParseOffset(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  int64_t ms = 0;
  if (!app::ParseDurationMs(std::string(text), &ms)) return std::nullopt;
  return negative ? -ms : ms;
}

std::string FormatOffset(int64_t ms) {
  std::string out = ms < 0 ? "-" : "+";
  uint64_t left = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  if (left == 0) return out + "0s";
  static constexpr struct {
    uint64_t ms;
    const char* unit;
  } kUnits[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& u : kUnits) {
    if (left >= u.ms) {
      out += fmt::format("{}{}", left / u.ms, u.unit);
      left %= u.ms;
    }
  }
  return out;
}

std::string FormatRfc3339(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);  // floor
  int64_t frac = ms - secs * 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(ms);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac != 0) out += fmt::format(".{:03}", frac);
  return out + "Z";
}

}  // namespace vigil::ruletest
