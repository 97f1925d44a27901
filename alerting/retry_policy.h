#pragma once
// When the HTTP sinks retry, and how long they wait: exponential backoff with full jitter
// (the delay before retry n is uniform in [0, min(max_backoff, backoff * 2^(n-1))]), as in
// "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015).
#include <cstdint>
#include <string>

#include "alerting/http_client.h"

namespace vigil::alerting {

struct RetryPolicy {
  int retries = 5;                 // attempts after the first
  int64_t backoff_ms = 500;        // cap of the first retry's delay
  int64_t max_backoff_ms = 30000;  // largest cap

  // The cap of retry `n`'s delay (n >= 1): backoff * 2^(n-1), at most max_backoff.
  int64_t CapMs(int n) const;
  // The delay before retry `n`, from `u` uniform in [0, 1]: round(u * CapMs(n)).
  int64_t DelayMs(int n, double u) const;
};

// Whether a failed attempt may succeed later: transport errors (connection refused or reset,
// timeouts, DNS), HTTP 5xx, 429 Too Many Requests and 408 Request Timeout. Other statuses
// (4xx: the request itself is wrong) are not retried.
bool IsRetryable(const HttpResult& r);

// A failed attempt in words, for logs and dead-letter reasons: "HTTP 500",
// "HTTP 400: <start of the response body>", "timed out after 2000 ms", "Connection refused".
// The body is cut at 200 bytes and its control characters replaced by spaces.
std::string DescribeFailure(const HttpResult& r);

}  // namespace vigil::alerting
