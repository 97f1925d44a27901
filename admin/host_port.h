#pragma once
// The address rules shared by the admin servers (the dashboard, ui_server.h, and the gRPC admin
// API, grpc_server.h): "HOST:PORT", "[IPv6]:PORT", or ":PORT" / "PORT" for 127.0.0.1. A server
// never listens on every interface unless asked in so many words ("0.0.0.0:PORT",
// "[::]:PORT"). Pure functions apart from DiagnoseBindFailure; thread-safe.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace vigil::admin {

struct HostPort {
  std::string host;  // never empty after ParseHostPort: an omitted host is "127.0.0.1"
  int port = 0;      // 0..65535; 0 asks the server to pick a free port
};

// Splits an address as the admin servers read it. Errors: InvalidArgument for an empty address,
// a bad or out-of-range port, or unbalanced brackets.
absl::StatusOr<HostPort> ParseHostPort(std::string_view host_port);

// "HOST:PORT", with IPv6 hosts bracketed ("[::1]:9000").
std::string FormatHostPort(const HostPort& hp);

// Why listening on `hp` fails, for an error message ("Address already in use", "cannot resolve
// 'x': ..."): binds a socket the same way (then releases it) to find the actual error, since
// the server libraries only say that they failed.
std::string DiagnoseBindFailure(const HostPort& hp);

}  // namespace vigil::admin
