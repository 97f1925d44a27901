#pragma once
// UiServer: the web dashboard of a running job (`vigil run --ui HOST:PORT`). An HTTP server
// (cpp-httplib, used only inside ui_server.cc) on its own threads that serves
//   GET /                         the dashboard page (the embedded ui/dist, static_assets.h)
//   GET /assets/...               its scripts and styles
//   GET /api/status               JobStatusToJson(view.Status())        (status_json.h)
//   GET /api/alerts?limit=N       FiringAlertsToJson(view.Firing(N)); N in 1..5000, default 500
//   GET /api/records?limit=N      RecordsToJson(view.RecentRecords(N)); N in 1..1000, default 100
//   GET /api/rules/NAME/graph     RuleGraphToJson(BuildRuleGraph(view.Rules(), NAME))
//   (rule_graph.h)
// API answers are application/json and never cached; errors are {"error": MESSAGE} with
// status 400 (bad query), 404 (unknown rule or path) or 503 (no rule set yet).
// Read-only: there is no endpoint that changes the job.
//
// Thread-safety: Start and Stop may be called from any thread; requests are served
// concurrently on the server's own small thread pool, so the JobView must be thread-safe
// (job_view.h) and must outlive the server.
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "admin/host_port.h"  // ParseHostPort: the address rules
#include "admin/job_view.h"

namespace vigil::admin {

struct UiServerOptions {
  int threads = 4;  // request threads (each open browser connection holds one while it lasts)
};

class UiServer {
 public:
  // Listens on `host_port` and starts serving `view` (not owned; must outlive the server).
  // `host_port` is "HOST:PORT", "[IPv6]:PORT", or ":PORT" / "PORT" for 127.0.0.1: the server
  // never listens on every interface unless asked ("0.0.0.0:PORT", "[::]:PORT"). PORT 0 picks
  // a free port (see port()).
  // Errors: InvalidArgument for a malformed address or a null view; Unavailable when the
  // address cannot be listened on, with the reason (e.g. "127.0.0.1:8080: Address already in
  // use", an unknown host, an address not of this machine).
  static absl::StatusOr<std::unique_ptr<UiServer>> Start(std::string_view host_port,
                                                         const JobView* view,
                                                         UiServerOptions options = {});
  // Stops and joins (Stop()).
  ~UiServer();
  UiServer(const UiServer&) = delete;
  UiServer& operator=(const UiServer&) = delete;

  // Stops listening, closes connections and returns once the server threads ended (within
  // about a second: idle keep-alive connections are polled every few milliseconds and time out
  // after 1 s). Idempotent.
  void Stop();

  const std::string& host() const;  // as listened on, without brackets
  int port() const;                 // the port listened on (the chosen one for PORT 0)
  std::string url() const;          // "http://HOST:PORT/" (IPv6 hosts bracketed)

  struct Impl;

 private:
  explicit UiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::admin
