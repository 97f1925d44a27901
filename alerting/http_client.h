#pragma once
// HTTP for the network sinks: one POST of a body with headers and a timeout, answered by a
// status code or a transport error. libcurl stays behind this header (alerting/http_client.cc).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::alerting {

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
