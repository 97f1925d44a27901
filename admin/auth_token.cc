#include "admin/auth_token.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace vigil::admin {

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError("cannot read the token file " + path + ": " +
                                      std::strerror(errno));
  }
  // Read at most one byte past the limit: a huge file is refused without reading it all.
  std::string token(kMaxTokenBytes + 3, '\0');
  in.read(token.data(), static_cast<std::streamsize>(token.size()));
  if (in.bad()) {
    return absl::InvalidArgumentError("cannot read the token file " + path + ": " +
                                      std::strerror(errno));
  }
  token.resize(static_cast<size_t>(in.gcount()));
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) return absl::InvalidArgumentError("the token file " + path + " is empty");
  if (token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError("the token in " + path + " is longer than " +
                                      std::to_string(kMaxTokenBytes) + " bytes");
  }
  for (const char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "the token in " + path +
          " must be one line of printable ASCII characters without spaces");
    }
  }
  return token;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of `a` is visited whatever the contents; lengths are not secret.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    const unsigned char x = static_cast<unsigned char>(a[i]);
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  // volatile: keep the compiler from turning the loop into an early-exit comparison.
  volatile unsigned char result = diff;
  return result == 0;
}

bool BearerTokenMatches(std::string_view header, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return false;
  }
  return ConstantTimeEquals(header.substr(kScheme.size()), token);
}

}  // namespace vigil::admin
