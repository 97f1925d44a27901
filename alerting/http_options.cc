#include "alerting/http_options.h"

#include <unistd.h>

#include <cctype>

#include "cep/connectors/connector_options.h"

namespace vigil::alerting {

namespace {

absl::Status Bad(std::string_view option, std::string_view why) {
  return absl::InvalidArgumentError("option '" + std::string(option) + "': " + std::string(why));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Checks http(s)://HOST[...]: a scheme curl will speak, a host, no whitespace.
absl::Status CheckUrl(std::string_view url) {
  size_t host = 0;
  if (StartsWithNoCase(url, "http://")) {
    host = 7;
  } else if (StartsWithNoCase(url, "https://")) {
    host = 8;
  } else {
    return Bad("url", "'" + RedactUrl(url) + "' is not an http:// or https:// URL");
  }
  if (host >= url.size() || url[host] == '/' || url[host] == ':') {
    return Bad("url", "'" + RedactUrl(url) + "' has no host");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Bad("url", "'" + RedactUrl(url) + "' holds a space or control character");
    }
  }
  return absl::OkStatus();
}

std::string AlertmanagerPostUrl(std::string_view base) {
  std::string url(base);
  constexpr std::string_view kPath = "/api/v2/alerts";
  if (url.size() >= kPath.size() && url.compare(url.size() - kPath.size(), kPath.size(), kPath) == 0) {
    return url;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + std::string(kPath);
}

std::string Hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  const size_t scheme = out.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t path = out.find_first_of("/?#", start);
  const size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
  if (at != std::string::npos && at >= start) out.replace(start, at - start, "***");
  const size_t query = out.find('?');
  if (query != std::string::npos) {
    // Each value of the query (key=VALUE) is masked; keys stay.
    size_t i = query + 1;
    while (i < out.size() && out[i] != '#') {
      size_t amp = out.find_first_of("&#", i);
      if (amp == std::string::npos) amp = out.size();
      const size_t eq = out.find('=', i);
      if (eq != std::string::npos && eq < amp) {
        out.replace(eq + 1, amp - eq - 1, "***");
        amp = eq + 4;
      }
      if (amp >= out.size() || out[amp] == '#') break;
      i = amp + 1;
    }
  }
  return out;
}

absl::StatusOr<HttpSinkOptions> ReadHttpSinkOptions(const cep::SinkDef& def,
                                                    const GetEnvFn& getenv) {
  const cep::OptionReader opt(def.options);
  const bool alertmanager = def.kind == "alertmanager";
  HttpSinkOptions o;
  const std::string url_option = opt.String("url");
  if (alertmanager) {
    size_t pos = 0;
    while (pos <= url_option.size()) {
      size_t comma = url_option.find(',', pos);
      if (comma == std::string::npos) comma = url_option.size();
      std::string_view one = Trim(std::string_view(url_option).substr(pos, comma - pos));
      pos = comma + 1;
      if (one.empty()) return Bad("url", "an empty URL in the list");
      VIGIL_RETURN_IF_ERROR(CheckUrl(one));
      o.urls.push_back(AlertmanagerPostUrl(one));
    }
  } else {
    std::string_view one = Trim(url_option);
    if (one.empty()) return Bad("url", "a URL is required");
    VIGIL_RETURN_IF_ERROR(CheckUrl(one));
    o.urls.emplace_back(one);
  }

  o.timeout_ms = opt.DurationMs("timeout", o.timeout_ms);
  const int64_t retries = opt.Int("retries", o.retry.retries);
  if (retries < 0 || retries > kMaxRetries) {
    return Bad("retries", "must be from 0 to " + std::to_string(kMaxRetries));
  }
  o.retry.retries = static_cast<int>(retries);
  o.retry.backoff_ms = opt.DurationMs("backoff", o.retry.backoff_ms);
  o.retry.max_backoff_ms = opt.DurationMs("max_backoff", std::max(o.retry.max_backoff_ms,
                                                                  o.retry.backoff_ms));
  if (o.retry.max_backoff_ms < o.retry.backoff_ms) {
    return Bad("max_backoff", "must not be below 'backoff'");
  }
  const int64_t queue = opt.Int("queue", static_cast<int64_t>(o.queue));
  if (queue < 1 || static_cast<uint64_t>(queue) > kMaxQueue) {
    return Bad("queue", "must be from 1 to " + std::to_string(kMaxQueue));
  }
  o.queue = static_cast<size_t>(queue);
  o.overflow = opt.String("overflow", "block") == "dead_letter" ? Overflow::kDeadLetter
                                                                : Overflow::kBlock;
  VIGIL_ASSIGN_OR_RETURN(o.headers,
                         ParseHeaders(opt.String("headers"), opt.String("bearer_token_env"), getenv));
  if (!alertmanager) {
    const int64_t batch = opt.Int("batch", 1);
    if (batch < 1 || static_cast<uint64_t>(batch) > kMaxBatch) {
      return Bad("batch", "must be from 1 to " + std::to_string(kMaxBatch));
    }
    o.batch = static_cast<size_t>(batch);
  } else {
    o.resend_ms = opt.DurationMs("resend", o.resend_ms);
    o.resolve_after_ms = opt.DurationMs("resolve_after", o.resolve_after_ms);
    o.external_url = opt.String("external_url", "vigil://" + Hostname());
    while (!o.external_url.empty() && o.external_url.back() == '/') o.external_url.pop_back();
  }
  return o;
}

}  // namespace vigil::alerting
