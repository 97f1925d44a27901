#include "alerting/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace vigil::alerting {

int64_t RetryPolicy::CapMs(int n) const {
  int64_t cap = std::max<int64_t>(backoff_ms, 0);
  for (int i = 1; i < n && cap < max_backoff_ms; ++i) cap *= 2;
  return std::min(cap, max_backoff_ms);
}

int64_t RetryPolicy::DelayMs(int n, double u) const {
  u = std::clamp(u, 0.0, 1.0);
  return std::llround(u * static_cast<double>(CapMs(n)));
}

bool IsRetryable(const HttpResult& r) {
  if (r.status == 0) return true;  // no response: the endpoint may come back
  return r.status >= 500 || r.status == 429 || r.status == 408;
}

std::string DescribeFailure(const HttpResult& r) {
  if (r.status == 0) return r.error.empty() ? std::string("no response") : r.error;
  std::string out = "HTTP " + std::to_string(r.status);
  if (r.status >= 400 && r.status < 500 && !IsRetryable(r) && !r.body.empty()) {
    std::string body = r.body.substr(0, 200);
    for (char& c : body) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    out += ": " + body;
  }
  return out;
}

}  // namespace vigil::alerting
