#pragma once
// AdminClient: a client of a job's admin API (grpc_server.h), as `vigil ctl` uses it. Each call
// is one unary RPC with a deadline, translated back into the admin structs. gRPC stays behind
// this header.
//
// Errors keep the gRPC code as the absl::StatusCode of the same number (both are
// google.rpc.Code), with gRPC's message: Unavailable (cannot connect, TLS handshake failed, the
// job is stopping), Unauthenticated (the token was refused), DeadlineExceeded, InvalidArgument
// (a bad query), FailedPrecondition (a savepoint without --state), Internal, ...
//
// Thread-safety: every call may be made from any thread, concurrently.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "admin/job_control.h"
#include "admin/job_view.h"

namespace vigil::admin {

struct AdminClientOptions {
  std::string token_file;   // "" = send no token; read once by Connect (ReadTokenFile)
  std::string tls_ca_file;  // "" = plaintext; else TLS, trusting the PEM certificates in it
  std::chrono::milliseconds timeout{30000};  // deadline of each call
};

class AdminClient {
 public:
  // Prepares a channel to `host_port` (host_port.h rules: ":9000" is 127.0.0.1:9000). No
  // network I/O yet: a job that cannot be reached shows in the first call (Unavailable).
  // Proxies from the environment (http_proxy, ...) are not used. Errors: InvalidArgument for a
  // malformed address, or a token / CA file that cannot be read or is invalid.
  static absl::StatusOr<std::unique_ptr<AdminClient>> Connect(std::string_view host_port,
                                                              AdminClientOptions options = {});
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  absl::StatusOr<JobStatus> Status();
  // Rules that do not compile are a DeployResult with applied = false, not an error.
  absl::StatusOr<DeployResult> Deploy(const std::vector<RulesFile>& files);
  absl::StatusOr<AlertsReply> Alerts(const AlertsQuery& query);
  absl::StatusOr<std::string> Savepoint();  // the savepoint's path

  const std::string& address() const;  // "HOST:PORT" as connected to

  struct Impl;

 private:
  explicit AdminClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::admin
