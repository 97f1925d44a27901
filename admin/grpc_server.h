#pragma once
// AdminServer: the gRPC admin API of a running job (`vigil run --admin HOST:PORT`, issue 11;
// the service is admin/proto/vigil_admin.proto, package vigil.admin.v1). It serves a JobView
// (Status) and a JobControl (Deploy, Alerts, Savepoint); `vigil ctl` is its client
// (grpc_client.h). gRPC stays behind this header: nothing here includes it.
//
// Security:
// - Address: the rules of host_port.h (127.0.0.1 unless a host is written out; every
//   interface only for "0.0.0.0:PORT" or "[::]:PORT"). The port is bound exclusively (no
//   SO_REUSEPORT): a port in use is an error, never shared.
// - Token: with `token_file`, every call must carry `authorization: Bearer TOKEN` (the scheme
//   case-insensitive, the token compared in constant time); other calls fail with
//   UNAUTHENTICATED before reaching the job, and are counted (unauthenticated_calls(),
//   `on_unauthenticated`). The file is read once, at Start; the token is never logged.
// - TLS: with `tls_cert_file` and `tls_key_file` (PEM), the server speaks TLS only. Client
//   certificates are not asked for.
//
// Threads: calls are served on gRPC's own threads (at most `max_threads`), never on the job's;
// at most `max_control_calls` JobControl calls run at once (more are refused and counted);
// the JobView and JobControl are called on those threads, concurrently, so they must be
// thread-safe (job_view.h, job_control.h) and outlive the server.
//
// Deadlines: a JobControl call gets the smaller of `control_timeout` and what is left of the
// client's deadline; a call whose deadline has passed is answered DEADLINE_EXCEEDED without
// asking the job.
//
// Errors returned by the ports are translated at this edge: an absl::Status code becomes the
// gRPC code of the same number and meaning (both are google.rpc.Code), with its message.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "admin/job_control.h"
#include "admin/job_view.h"

namespace vigil::admin {

struct AdminServerOptions {
  std::string token_file;                   // "" = no authentication
  std::string tls_cert_file, tls_key_file;  // both or neither; "" = plaintext
  // Upper bound of one JobControl call (Deploy waits for its barrier; Savepoint for the files).
  std::chrono::milliseconds control_timeout{30000};
  // JobControl calls (Deploy, Alerts, Savepoint) running at once; more are answered
  // RESOURCE_EXHAUSTED at once and counted (busy_calls()). Status is not limited: it stays
  // available while control calls wait for a stuck job.
  int max_control_calls = 4;
  // gRPC threads in all (>= 4): a backstop against floods; beyond it gRPC itself answers
  // RESOURCE_EXHAUSTED ("Server Threadpool Exhausted"), not counted here.
  int max_threads = 32;
  int max_request_bytes = 4 * 1024 * 1024;  // larger requests fail with RESOURCE_EXHAUSTED
  // Called once per refused (UNAUTHENTICATED) call, on a gRPC thread, e.g. to count it in the
  // job's metrics. Must be thread-safe and quick.
  std::function<void()> on_unauthenticated;
};

// Limits of the Alerts call: `limit` in 1..kMaxAlertsLimit (0 = the default of AlertsQuery).
inline constexpr size_t kMaxAlertsLimit = 5000;

class AdminServer {
 public:
  // Listens on `host_port` and serves `view` and `control` (not owned; both must outlive the
  // server). PORT 0 picks a free port (port()).
  // Errors: InvalidArgument for a malformed address, a null view or control, an unreadable or
  // invalid token file (ReadTokenFile), only one of the TLS files, or a TLS file that cannot
  // be read or holds no PEM certificate / private key; Unavailable when the address cannot be
  // listened on, with the reason ("127.0.0.1:9000: Address already in use") or when gRPC
  // refuses the certificate and key.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(std::string_view host_port,
                                                            const JobView* view,
                                                            JobControl* control,
                                                            AdminServerOptions options = {});
  // Stops (Stop()).
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Stops accepting calls, cancels the calls still running after half a second and returns
  // once every handler has returned: within a second, unless a JobControl call is in flight,
  // which ends when the job answers (at the latest after its timeout; a stopping job should
  // answer Unavailable at once). Idempotent; thread-safe.
  void Stop();

  const std::string& host() const;  // as listened on, without brackets
  int port() const;                 // the port listened on (the chosen one for PORT 0)
  std::string address() const;      // "HOST:PORT" (IPv6 hosts bracketed)
  bool tls() const;
  bool authenticates() const;  // a token is required

  // Calls refused with UNAUTHENTICATED since Start (exported by the job as
  // vigil_admin_unauthenticated_total).
  uint64_t unauthenticated_calls() const;
  // Control calls refused with RESOURCE_EXHAUSTED because max_control_calls were running.
  uint64_t busy_calls() const;

  struct Impl;

 private:
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::admin
