#include "alerting/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string>

namespace vigil::alerting {

namespace {

// curl_global_init is not thread-safe before libcurl 7.84 and must run once per process.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct BodySink {
  std::string* out;
  size_t max;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t bytes = size * n;
  if (sink->out->size() < sink->max) {
    sink->out->append(data, std::min(bytes, sink->max - sink->out->size()));
  }
  return bytes;  // the rest is read and dropped
}

bool HasHeader(const std::vector<std::string>* headers, std::string_view name) {
  if (headers == nullptr) return false;
  for (const std::string& h : *headers) {
    if (h.size() <= name.size() || h[name.size()] != ':') continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(h[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return true;
  }
  return false;
}

}  // namespace

HttpClient::HttpClient() {
  GlobalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResult HttpClient::Perform(std::string_view url, int64_t timeout_ms, size_t max_body) {
  HttpResult result;
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) {
    result.error = "libcurl could not be initialised";
    return result;
  }
  const std::string url_z(url);
  char errbuf[CURL_ERROR_SIZE] = {0};
  BodySink sink{&result.body, max_body};
  curl_easy_setopt(c, CURLOPT_URL, url_z.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(timeout_ms, 1)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(timeout_ms, 1)));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    result.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    result.error = result.timed_out ? "timed out after " + std::to_string(timeout_ms) + " ms"
                   : errbuf[0] != '\0' ? std::string(errbuf)
                                       : std::string(curl_easy_strerror(rc));
    result.body.clear();
    return result;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  result.status = static_cast<int>(status);
  return result;
}

HttpResult HttpClient::Post(const HttpRequest& req) {
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) return Perform(req.url, req.timeout_ms, HttpResult::kMaxBody);
  curl_slist* list = nullptr;
  if (!HasHeader(req.headers, "Content-Type")) {
    list = curl_slist_append(list, "Content-Type: application/json");
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for large bodies
  if (req.headers != nullptr) {
    for (const std::string& h : *req.headers) list = curl_slist_append(list, h.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPGET, 0L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  HttpResult result = Perform(req.url, req.timeout_ms, HttpResult::kMaxBody);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(list);
  return result;
}

HttpResult HttpClient::Get(std::string_view url, int64_t timeout_ms) {
  CURL* c = static_cast<CURL*>(curl_);
  if (c != nullptr) {
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  return Perform(url, timeout_ms, std::string::npos);
}

}  // namespace vigil::alerting
