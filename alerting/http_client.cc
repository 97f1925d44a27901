#include "alerting/http_client.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string>

namespace vigil::alerting {

namespace {

// The libcurl functions we call, resolved from libcurl.so.4 at first use (see the header:
// linking libcurl would slow down every start of the program).
struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

struct LoadedCurl {
  CurlApi api{};
  std::string error;  // why it could not be loaded; empty when loaded
};

template <typename Fn>
void Resolve(void* lib, const char* name, Fn* out, std::string* error) {
  *out = reinterpret_cast<Fn>(::dlsym(lib, name));
  if (*out == nullptr && error->empty()) error->assign(std::string("no symbol ") + name);
}

// Loaded once per process (thread-safe); curl_global_init runs once here, as libcurl asks.
const LoadedCurl& Curl() {
  static const LoadedCurl* const loaded = [] {
    auto* l = new LoadedCurl();
    void* lib = ::dlopen(kLibcurlSoname, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      l->error = std::string("cannot load ") + kLibcurlSoname + ": " + (why ? why : "unknown");
      return l;
    }
    CurlApi& a = l->api;
    std::string err;
    Resolve(lib, "curl_global_init", &a.global_init, &err);
    Resolve(lib, "curl_easy_init", &a.easy_init, &err);
    Resolve(lib, "curl_easy_cleanup", &a.easy_cleanup, &err);
    Resolve(lib, "curl_easy_setopt", &a.easy_setopt, &err);
    Resolve(lib, "curl_easy_perform", &a.easy_perform, &err);
    Resolve(lib, "curl_easy_getinfo", &a.easy_getinfo, &err);
    Resolve(lib, "curl_easy_strerror", &a.easy_strerror, &err);
    Resolve(lib, "curl_slist_append", &a.slist_append, &err);
    Resolve(lib, "curl_slist_free_all", &a.slist_free_all, &err);
    if (!err.empty()) {
      l->error = std::string(kLibcurlSoname) + ": " + err;
      return l;
    }
    a.global_init(CURL_GLOBAL_DEFAULT);
    return l;
  }();
  return *loaded;
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

absl::Status HttpClient::Available() {
  const LoadedCurl& c = Curl();
  if (!c.error.empty()) return absl::UnavailableError("HTTP sinks need libcurl: " + c.error);
  return absl::OkStatus();
}

HttpClient::HttpClient() {
  if (Curl().error.empty()) curl_ = Curl().api.easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) Curl().api.easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResult HttpClient::Perform(std::string_view url, int64_t timeout_ms, size_t max_body) {
  HttpResult result;
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) {
    result.error = Curl().error.empty() ? "libcurl could not be initialised" : Curl().error;
    return result;
  }
  const CurlApi& api = Curl().api;
  const std::string url_z(url);
  char errbuf[CURL_ERROR_SIZE] = {0};
  BodySink sink{&result.body, max_body};
  api.easy_setopt(c, CURLOPT_URL, url_z.c_str());
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(timeout_ms, 1)));
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(timeout_ms, 1)));
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode rc = api.easy_perform(c);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    result.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    result.error = result.timed_out ? "timed out after " + std::to_string(timeout_ms) + " ms"
                   : errbuf[0] != '\0' ? std::string(errbuf)
                                       : std::string(api.easy_strerror(rc));
    result.body.clear();
    return result;
  }
  long status = 0;
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  result.status = static_cast<int>(status);
  return result;
}

HttpResult HttpClient::Post(const HttpRequest& req) {
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) return Perform(req.url, req.timeout_ms, HttpResult::kMaxBody);
  const CurlApi& api = Curl().api;
  curl_slist* list = nullptr;
  if (!HasHeader(req.headers, "Content-Type")) {
    list = api.slist_append(list, "Content-Type: application/json");
  }
  list = api.slist_append(list, "Expect:");  // no 100-continue round trip for large bodies
  if (req.headers != nullptr) {
    for (const std::string& h : *req.headers) list = api.slist_append(list, h.c_str());
  }
  api.easy_setopt(c, CURLOPT_HTTPGET, 0L);
  api.easy_setopt(c, CURLOPT_POST, 1L);
  api.easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
  api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  api.easy_setopt(c, CURLOPT_HTTPHEADER, list);
  HttpResult result = Perform(req.url, req.timeout_ms, HttpResult::kMaxBody);
  api.easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  api.slist_free_all(list);
  return result;
}

HttpResult HttpClient::Get(std::string_view url, int64_t timeout_ms) {
  CURL* c = static_cast<CURL*>(curl_);
  if (c != nullptr) {
    const CurlApi& api = Curl().api;
    api.easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    api.easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  return Perform(url, timeout_ms, std::string::npos);
}

}  // namespace vigil::alerting
