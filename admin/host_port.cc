#include "admin/host_port.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <system_error>

namespace vigil::admin {

absl::StatusOr<HostPort> ParseHostPort(std::string_view s) {
  if (s.empty()) return absl::InvalidArgumentError("empty address (expected HOST:PORT)");
  HostPort hp;
  std::string_view port_text;
  if (s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return absl::InvalidArgumentError("malformed address '" + std::string(s) +
                                        "' (expected [IPv6]:PORT)");
    }
    hp.host = std::string(s.substr(1, close - 1));
    port_text = s.substr(close + 2);
  } else if (const size_t colon = s.rfind(':'); colon != std::string_view::npos) {
    hp.host = std::string(s.substr(0, colon));
    port_text = s.substr(colon + 1);
    if (hp.host.find(':') != std::string::npos) {
      return absl::InvalidArgumentError("malformed address '" + std::string(s) +
                                        "' (bracket IPv6 addresses: [::1]:PORT)");
    }
  } else {
    port_text = s;
  }
  if (hp.host.empty()) hp.host = "127.0.0.1";
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError("bad port in '" + std::string(s) +
                                      "' (expected HOST:PORT with PORT in 0..65535)");
  }
  hp.port = port;
  return hp;
}

std::string FormatHostPort(const HostPort& hp) {
  const bool v6 = hp.host.find(':') != std::string::npos;
  return (v6 ? "[" + hp.host + "]" : hp.host) + ":" + std::to_string(hp.port);
}

// Binds a socket as a server would (SO_REUSEADDR, no SO_REUSEPORT) to learn the error.
std::string DiagnoseBindFailure(const HostPort& hp) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(hp.port);
  if (const int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return "cannot resolve '" + hp.host + "': " + gai_strerror(rc);
  }
  std::string why = "cannot listen";
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      why = std::system_category().message(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const bool bound = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (!bound) why = std::system_category().message(errno);
    close(fd);
    if (bound) {
      why = "cannot listen (the address was free when checked again)";
      break;
    }
  }
  freeaddrinfo(res);
  return why;
}

}  // namespace vigil::admin
