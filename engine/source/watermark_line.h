#pragma once
// Explicit watermark lines in JSON Lines inputs that enable them (`file(..., watermarks true)`,
// `--input S=file://PATH?watermarks=true`, `vigil run --watermark-lines`; docs/language-notes.md
// "Explicit watermarks in inputs"):
//
//   {"$watermark": 4000}
//   {"$watermark": "2024-05-01T10:00:04Z"}
//
// A line is a watermark line when its first non-blank characters are `{`, optional blanks and
// `"$watermark"` (a cheap check, so ordinary lines cost one comparison). It is valid when it
// is exactly a JSON object with that single key and an integer (milliseconds since the epoch,
// within int64) or an RFC 3339 string value; anything else that starts that way is a malformed
// watermark line, sent to the dead-letter output with the reason this parser gives.
//
// Thread-safe (no state).
#include <cstdint>
#include <string_view>

namespace vigil::engine {

// The cheap check: does `line` start like a watermark line?
bool LooksLikeWatermarkLine(std::string_view line);

// Parses a line for which LooksLikeWatermarkLine() is true. Returns an empty view and sets
// *ms on success; otherwise a static message saying what is wrong, e.g.
//   "$watermark must be integer milliseconds or an RFC 3339 string, got float"
//   "$watermark: invalid RFC 3339 timestamp"
//   "$watermark: integer out of range"
//   "a watermark line must be an object with the single key \"$watermark\""
//   "$watermark: invalid JSON"
std::string_view ParseWatermarkLine(std::string_view line, int64_t* ms);

}  // namespace vigil::engine
