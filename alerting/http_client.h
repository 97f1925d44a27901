#pragma once
// HTTP for the network sinks: one POST of a body with headers and a timeout, answered by a
// status code or a transport error. libcurl stays behind this header (alerting/http_client.cc).
//
// libcurl is loaded with dlopen when the first HttpClient is made, not linked: linking it
// (and the ~28 libraries it pulls in: OpenSSL, LDAP, SSH, Kerberos, ...) added ~15 ms to every
// start of `vigil` on an idle machine and 60 ms on a loaded one, also for `vigil check` and
// runs without network sinks. The Debian package libcurl4 (a dependency of
// libcurl4-openssl-dev, scripts/setup) provides libcurl.so.4.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::alerting {

inline constexpr char kLibcurlSoname[] = "libcurl.so.4";

struct HttpRequest {
  std::string_view url;
  std::string_view body;                           // sent as application/json
  const std::vector<std::string>* headers = nullptr;  // extra "Name: value" lines (may be null)
  int64_t timeout_ms = 5000;  // for the whole exchange (connect, send, response)
};

struct HttpResult {
  int status = 0;          // the HTTP status; 0 when no response arrived (transport error)
  bool timed_out = false;  // the timeout expired (status 0)
  std::string error;       // transport error ("Connection refused", ...); empty with a status
  std::string body;        // the start of the response body (at most kMaxBody bytes)
  static constexpr size_t kMaxBody = 512;

  bool ok() const { return status >= 200 && status < 300; }
};

// Where a delivery thread sends its requests: HttpClient, or a fake in tests. One instance per
// thread (not thread-safe); instances are independent.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResult Post(const HttpRequest& req) = 0;
};

// libcurl (one easy handle, so connections are kept alive and reused between requests to the
// same host). Redirects are not followed; only http and https URLs are accepted (others fail
// with an error result). Not thread-safe: one per thread. Never throws, never raises SIGPIPE
// or SIGALRM.
class HttpClient final : public HttpTransport {
 public:
  // OK when libcurl can be loaded; otherwise Unavailable with the loader's message. Sinks
  // check it at creation so that a missing libcurl is an error there, not a failed delivery.
  static absl::Status Available();

  // Without libcurl every request fails with Available()'s message as its error.
  HttpClient();
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POST req.body with "Content-Type: application/json" (unless req.headers set one) and
  // req.headers.
  HttpResult Post(const HttpRequest& req) override;
  // GET `url` (tests and tools, e.g. Alertmanager's API); the whole body is returned.
  HttpResult Get(std::string_view url, int64_t timeout_ms);

 private:
  HttpResult Perform(std::string_view url, int64_t timeout_ms, size_t max_body);
  void* curl_;  // CURL*
};

}  // namespace vigil::alerting
