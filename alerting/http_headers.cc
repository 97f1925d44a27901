#include "alerting/http_headers.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace vigil::alerting {

namespace {

bool IsTokenChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

absl::Status Bad(std::string_view option, std::string_view why) {
  return absl::InvalidArgumentError("option '" + std::string(option) + "': " + std::string(why));
}

}  // namespace

GetEnvFn ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string HttpHeaders::Redact(std::string_view text) const {
  std::string out(text);
  for (const std::string& s : secrets) {
    for (size_t at = out.find(s); at != std::string::npos; at = out.find(s, at + 3)) {
      out.replace(at, s.size(), "***");
    }
  }
  return out;
}

std::string HttpHeaders::Describe() const {
  if (names.empty()) return "none";
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

absl::StatusOr<HttpHeaders> ParseHeaders(std::string_view spec, std::string_view bearer_token_env,
                                         const GetEnvFn& getenv) {
  HttpHeaders h;
  auto add_secret = [&h](std::string s) {
    if (!s.empty()) h.secrets.push_back(std::move(s));
  };
  auto check_value = [](std::string_view option, std::string_view name,
                        std::string_view value) -> absl::Status {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return Bad(option, "the value of header '" + std::string(name) +
                             "' holds a line break or NUL (from the environment?)");
    }
    return absl::OkStatus();
  };
  int line_no = 0;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t end = spec.find('\n', pos);
    if (end == std::string_view::npos) end = spec.size();
    std::string_view line = Trim(spec.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(line_no);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Bad("headers", where + ": expected 'Name: value'");
    }
    const std::string_view name = Trim(line.substr(0, colon));
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Bad("headers", where + ": '" + std::string(name) + "' is not a header name");
    }
    const std::string_view raw = Trim(line.substr(colon + 1));
    std::string value;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '$' || i + 1 >= raw.size() || raw[i + 1] != '{') {
        value.push_back(raw[i]);
        continue;
      }
      const size_t close = raw.find('}', i + 2);
      if (close == std::string_view::npos) {
        return Bad("headers", where + " (header '" + std::string(name) + "'): unterminated '${'");
      }
      const std::string var(raw.substr(i + 2, close - i - 2));
      std::optional<std::string> v = getenv(var);
      if (!v.has_value()) {
        return Bad("headers", "environment variable '" + var + "' (header '" + std::string(name) +
                                  "') is not set");
      }
      add_secret(*v);
      value += *v;
      i = close;
    }
    VIGIL_RETURN_IF_ERROR(check_value("headers", name, value));
    if (value.size() >= 4) add_secret(value);
    h.names.emplace_back(name);
    h.lines.push_back(std::string(name) + ": " + value);
    if (end == spec.size()) break;
  }
  if (!bearer_token_env.empty()) {
    const std::string var(bearer_token_env);
    std::optional<std::string> token = getenv(var);
    if (!token.has_value() || token->empty()) {
      return Bad("bearer_token_env", "environment variable '" + var + "' is not set or empty");
    }
    VIGIL_RETURN_IF_ERROR(check_value("bearer_token_env", "Authorization", *token));
    add_secret(*token);
    h.names.emplace_back("Authorization");
    h.lines.push_back("Authorization: Bearer " + *token);
  }
  // Longest first, so that a secret containing another is masked whole.
  std::sort(h.secrets.begin(), h.secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  h.secrets.erase(std::unique(h.secrets.begin(), h.secrets.end()), h.secrets.end());
  return h;
}

}  // namespace vigil::alerting
