#include "admin/ui_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <mutex>
#include <thread>

#include "admin/host_port.h"
#include "admin/rule_graph.h"
#include "admin/static_assets.h"
#include "admin/status_json.h"
#include "httplib.h"

namespace vigil::admin {
namespace {

constexpr size_t kDefaultRecordsLimit = 100;
constexpr size_t kMaxRecordsLimit = 1000;
constexpr size_t kDefaultAlertsLimit = 500;
constexpr size_t kMaxAlertsLimit = 5000;

// The page loads only its own scripts and styles and talks only to this server. Records hold
// user data; the page renders them as text, and this keeps it that way should a bug slip in.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

void SendJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(body), "application/json");
}

// The request's `limit` (default `def`, allowed 1..max); false after answering 400.
bool LimitParam(const httplib::Request& req, httplib::Response& res, size_t def, size_t max,
                size_t* limit) {
  *limit = def;
  if (!req.has_param("limit")) return true;
  const std::string text = req.get_param_value("limit");
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 1 || n > max) {
    SendJson(res, 400, ErrorJson("limit must be an integer in 1.." + std::to_string(max)));
    return false;
  }
  *limit = n;
  return true;
}

}  // namespace

struct UiServer::Impl {
  const JobView* view = nullptr;
  HostPort address;
  httplib::Server http;
  std::thread thread;
  std::mutex stop_mu;
  bool stopped = false;

  void Routes(int threads);
};

void UiServer::Impl::Routes(int threads) {
  const size_t pool = static_cast<size_t>(std::max(threads, 1));
  http.new_task_queue = [pool] { return new httplib::ThreadPool(pool); };
  // SO_REUSEADDR only (no SO_REUSEPORT): a port another process listens on must fail to bind.
  http.set_socket_options([](socket_t sock) {
    const int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  // Short timeouts so Stop() is prompt and idle browsers do not hold threads for long.
  http.set_keep_alive_timeout(1);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_payload_max_length(64 * 1024);
  http.set_default_headers({{"X-Content-Type-Options", "nosniff"}});

  http.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, JobStatusToJson(view->Status()));
  });
  http.Get("/api/alerts", [this](const httplib::Request& req, httplib::Response& res) {
    size_t limit = 0;
    if (!LimitParam(req, res, kDefaultAlertsLimit, kMaxAlertsLimit, &limit)) return;
    SendJson(res, 200, FiringAlertsToJson(view->Firing(limit)));
  });
  http.Get("/api/records", [this](const httplib::Request& req, httplib::Response& res) {
    size_t limit = 0;
    if (!LimitParam(req, res, kDefaultRecordsLimit, kMaxRecordsLimit, &limit)) return;
    SendJson(res, 200, RecordsToJson(view->RecentRecords(limit)));
  });
  http.Get(R"(/api/rules/([^/]+)/graph)",
           [this](const httplib::Request& req, httplib::Response& res) {
             std::shared_ptr<const cep::RuleSet> rules = view->Rules();
             if (rules == nullptr) {
               SendJson(res, 503, ErrorJson("the job has no rule set yet"));
               return;
             }
             absl::StatusOr<RuleGraph> graph = BuildRuleGraph(*rules, req.matches[1].str());
             if (!graph.ok()) {
               const int status = absl::IsNotFound(graph.status()) ? 404 : 500;
               SendJson(res, status, ErrorJson(std::string(graph.status().message())));
               return;
             }
             SendJson(res, 200, RuleGraphToJson(*graph));
           });
  http.Get(R"(/api/.*)", [](const httplib::Request& req, httplib::Response& res) {
    SendJson(res, 404, ErrorJson("no endpoint " + req.path));
  });
  http.Get(R"(/.*)", [](const httplib::Request& req, httplib::Response& res) {
    const std::string path = req.path == "/" ? "/index.html" : req.path;
    const StaticAsset* asset = FindStaticAsset(path);
    if (asset == nullptr) {
      res.status = 404;
      res.set_content(StaticAssetsBegin() == StaticAssetsEnd()
                          ? "this vigil was built without the dashboard's assets (ui/dist)\n"
                          : "not found\n",
                      "text/plain; charset=utf-8");
      return;
    }
    // Vite names assets by content hash: they never change under the same name.
    res.set_header("Cache-Control", path.rfind("/assets/", 0) == 0
                                        ? "public, max-age=31536000, immutable"
                                        : "no-cache");
    if (path == "/index.html") res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_content(asset->data.data(), asset->data.size(), std::string(asset->content_type));
  });
}

UiServer::UiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

UiServer::~UiServer() { Stop(); }

absl::StatusOr<std::unique_ptr<UiServer>> UiServer::Start(std::string_view host_port,
                                                          const JobView* view,
                                                          UiServerOptions options) {
  if (view == nullptr) return absl::InvalidArgumentError("UiServer: null JobView");
  absl::StatusOr<HostPort> address = ParseHostPort(host_port);
  if (!address.ok()) return address.status();
  auto impl = std::make_unique<Impl>();
  impl->view = view;
  impl->address = *address;
  impl->Routes(options.threads);
  if (address->port == 0) {
    const int port = impl->http.bind_to_any_port(address->host);
    if (port < 0) {
      return absl::UnavailableError("cannot serve the dashboard on " + std::string(host_port) +
                                    ": " + DiagnoseBindFailure(*address));
    }
    impl->address.port = port;
  } else if (!impl->http.bind_to_port(address->host, address->port)) {
    return absl::UnavailableError("cannot serve the dashboard on " + std::string(host_port) + ": " +
                                  DiagnoseBindFailure(*address));
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->http.listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs: wait for it so that Stop() (or an
  // early destruction) always ends the thread. The loop starts at once; 5 s bounds the wait.
  for (int i = 0; i < 5000 && !impl->http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unique_ptr<UiServer>(new UiServer(std::move(impl)));
}

void UiServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

const std::string& UiServer::host() const { return impl_->address.host; }
int UiServer::port() const { return impl_->address.port; }

std::string UiServer::url() const {
  const std::string& h = impl_->address.host;
  const bool v6 = h.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->address.port) + "/";
}

}  // namespace vigil::admin
