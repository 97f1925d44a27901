#pragma once
// Request headers of the HTTP sinks: the `headers` option ("Name: value" lines, `${VAR}`
// replaced by the environment variable VAR) and `bearer_token_env` (Authorization: Bearer
// <the variable's value>). Secrets come from the environment, never from the rules file, and
// never reach a log line or a dead-letter reason: only header names are shown, and Redact()
// masks every header value in texts that might echo one (an endpoint's error body).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::alerting {

// Reads an environment variable (std::getenv in production; a map in tests). nullopt = unset.
using GetEnvFn = std::function<std::optional<std::string>(const std::string& name)>;
GetEnvFn ProcessEnv();

struct HttpHeaders {
  std::vector<std::string> lines;  // "Name: value", as sent
  std::vector<std::string> names;  // the header names, for logs

  // `text` with every header value (of 4 characters or more) and every value taken from the
  // environment replaced by "***".
  std::string Redact(std::string_view text) const;
  // "Authorization, X-Team" ("none" without headers): what logs may say about the headers.
  std::string Describe() const;

  std::vector<std::string> secrets;  // what Redact masks, longest first
};

// Parses the `headers` option (lines separated by newlines; blank lines ignored; the name is
// an HTTP token, the value is trimmed) and adds "Authorization: Bearer $TOKEN" when
// `bearer_token_env` names a variable. `${VAR}` in a value is replaced by VAR's value; `$`
// not followed by `{` is kept as is.
// Errors (kInvalidArgument, naming the option, the header and the variable, never a value):
// a line without ':' or with an invalid name; an unterminated `${`; an unset variable; an
// unset or empty bearer token variable; a value (after substitution) holding a line break or
// NUL (header injection).
absl::StatusOr<HttpHeaders> ParseHeaders(std::string_view spec, std::string_view bearer_token_env,
                                         const GetEnvFn& getenv);

}  // namespace vigil::alerting
