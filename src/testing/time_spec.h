#pragma once
// Times in `vigil test` files (docs/language-notes.md, "Rule unit tests"): the virtual clock's
// origin (`start:`), absolute times (`time:`) and offsets from the origin (`at:`).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::ruletest {

// An absolute time: RFC 3339 ("2024-05-01T10:00:00Z", as event fields accept) or an integer
// of milliseconds since the epoch. nullopt if it is neither.
std::optional<int64_t> ParseAbsoluteTime(std::string_view text);

// An offset on the virtual clock: a duration as the rules language writes it ("90s", "1h30m",
// "250ms", "0"), optionally signed ("+5m", "-10s"). nullopt if malformed.
std::optional<int64_t> ParseOffset(std::string_view text);

// "+5m", "+1h2m3s", "+0s", "-250ms": an offset in the form ParseOffset reads.
std::string FormatOffset(int64_t ms);

// RFC 3339 in UTC with milliseconds when not whole seconds: "2024-05-01T10:00:00Z",
// "2024-05-01T10:00:00.250Z".
std::string FormatRfc3339(int64_t ms);

}  // namespace vigil::ruletest
