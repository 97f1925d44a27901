#pragma once
// The admin API's bearer token (`--admin-token-file`): read from a file once, compared in
// constant time. The token is a secret: nothing here logs it or puts it in an error message.
// Pure functions apart from ReadTokenFile; thread-safe.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace vigil::admin {

inline constexpr size_t kMaxTokenBytes = 4096;

// The token in `path`: the file's text without trailing newlines ("\n", "\r\n"). Errors:
// InvalidArgument when the file cannot be read (with the reason), when the token is empty or
// longer than kMaxTokenBytes, or when it holds anything but printable ASCII without spaces
// (it travels in an HTTP/2 header: `authorization: Bearer TOKEN`).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// True when `a` and `b` are equal, in time that depends only on their lengths (not on where
// they differ), so a caller cannot find the token byte by byte by timing refusals.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `header` (an `authorization` metadata value) is "Bearer TOKEN" with `token`; the
// scheme is case-insensitive (RFC 6750), the token is compared with ConstantTimeEquals.
bool BearerTokenMatches(std::string_view header, std::string_view token);

}  // namespace vigil::admin
