#pragma once
// The options of the HTTP sinks (`webhook`, `alertmanager`; cep/connectors/connector_options.cc
// lists them), read with their defaults and checked beyond what the binder checks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/http_headers.h"
#include "alerting/retry_policy.h"
#include "cep/rule_set.h"
#include "core/status.h"

namespace vigil::alerting {

enum class Overflow { kBlock, kDeadLetter };

struct HttpSinkOptions {
  // webhook: one URL. alertmanager: one or more (comma-separated in `url`), each an
  // Alertmanager base URL to which "/api/v2/alerts" is appended (unless already there).
  std::vector<std::string> urls;
  int64_t timeout_ms = 5000;       // `timeout`
  RetryPolicy retry;               // `retries` 5, `backoff` 500ms, `max_backoff` 30s
  size_t queue = 10000;            // `queue`: records waiting per URL
  Overflow overflow = Overflow::kBlock;  // `overflow`: block (backpressure) | dead_letter
  HttpHeaders headers;             // `headers`, `bearer_token_env`
  size_t batch = 1;                // webhook `batch`: records per POST
  // alertmanager only
  int64_t resend_ms = 60000;          // `resend`: still-firing alerts are re-sent this often
  int64_t resolve_after_ms = 300000;  // `resolve_after`: a match's alert ends this long after
  std::string external_url;           // `external_url`, no trailing '/' (default vigil://HOST)
};

// Limits beyond which an option is rejected (a typo, not a configuration).
inline constexpr int kMaxRetries = 100;
inline constexpr size_t kMaxQueue = 10'000'000;
inline constexpr size_t kMaxBatch = 10'000;

// Reads `def` (kind "webhook" or "alertmanager") with defaults applied. Environment variables
// for headers are read through `getenv`.
// Errors (kInvalidArgument, "option 'NAME': ..."): a URL that is not http(s)://HOST...; several
// URLs for a webhook; `queue` or `batch` of 0 or above the limits; `retries` above kMaxRetries;
// `max_backoff` below `backoff`; header errors (ParseHeaders).
absl::StatusOr<HttpSinkOptions> ReadHttpSinkOptions(const cep::SinkDef& def,
                                                    const GetEnvFn& getenv);

// `url` for logs and dead-letter reasons: user information and query values masked
// ("http://***@host:8080/hook?token=***").
std::string RedactUrl(std::string_view url);

}  // namespace vigil::alerting
