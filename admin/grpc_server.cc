#include "admin/grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

#include "admin/auth_token.h"
#include "admin/grpc_logging.h"
#include "admin/host_port.h"
#include "admin/proto/vigil_admin.grpc.pb.h"
#include "admin/proto_convert.h"

namespace vigil::admin {
namespace {

// How long Stop() lets running calls finish before cancelling them.
constexpr std::chrono::milliseconds kShutdownGrace{500};

grpc::Status ToGrpc(const absl::Status& s) {
  // absl::StatusCode and grpc::StatusCode are both google.rpc.Code: same numbers, same meaning.
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(s.code())),
                      std::string(s.message()));
}

// Certificates and keys are small; a bigger file is a wrong path, not a certificate.
constexpr size_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPemFile(const std::string& path, std::string_view what,
                                        std::string_view marker) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError("cannot read the TLS " + std::string(what) + " " + path +
                                      ": " + std::strerror(errno));
  }
  std::string pem(kMaxPemBytes + 1, '\0');
  in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
  pem.resize(static_cast<size_t>(in.gcount()));
  if (pem.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError("the TLS " + std::string(what) + " " + path +
                                      " is larger than 1 MiB");
  }
  if (pem.find("-----BEGIN ") == std::string::npos || pem.find(marker) == std::string::npos) {
    return absl::InvalidArgumentError("the TLS " + std::string(what) + " " + path +
                                      " is not PEM (no '" + std::string(marker) + "')");
  }
  return pem;
}

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  AdminServiceImpl(const JobView* view, JobControl* control, std::string token,
                   const AdminServerOptions& options)
      : view_(view),
        control_(control),
        token_(std::move(token)),
        control_timeout_(options.control_timeout),
        max_control_calls_(std::max(options.max_control_calls, 1)),
        on_refused_(options.on_unauthenticated) {}

  grpc::Status Status(grpc::ServerContext* ctx, const v1::StatusRequest*,
                      v1::StatusReply* reply) override {
    if (!Authenticated(*ctx)) return Refuse();
    ToProto(view_->Status(), reply);
    return grpc::Status::OK;
  }

  grpc::Status Deploy(grpc::ServerContext* ctx, const v1::DeployRequest* request,
                      v1::DeployReply* reply) override {
    if (!Authenticated(*ctx)) return Refuse();
    if (request->files_size() == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no rules files to deploy");
    }
    for (const v1::RulesFile& f : request->files()) {
      if (f.name().empty()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a rules file has no name");
      }
    }
    std::chrono::milliseconds timeout{0};
    if (!TimeLeft(*ctx, &timeout)) return DeadlinePassed();
    ControlSlot slot(this);
    if (!slot.acquired()) return Busy();
    absl::StatusOr<DeployResult> result = control_->Deploy(FromProto(*request), timeout);
    if (!result.ok()) return ToGrpc(result.status());
    ToProto(*result, reply);
    return grpc::Status::OK;
  }

  grpc::Status Alerts(grpc::ServerContext* ctx, const v1::AlertsRequest* request,
                      v1::AlertsReply* reply) override {
    if (!Authenticated(*ctx)) return Refuse();
    if (request->limit() > kMaxAlertsLimit) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "limit must be in 1.." + std::to_string(kMaxAlertsLimit));
    }
    if (request->key_size() > 0 && request->rule().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "a key needs its rule (the worker owning the key depends on the rule)");
    }
    for (const v1::StringPair& kv : request->key()) {
      if (kv.name().empty()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a key field has no name");
      }
    }
    std::chrono::milliseconds timeout{0};
    if (!TimeLeft(*ctx, &timeout)) return DeadlinePassed();
    ControlSlot slot(this);
    if (!slot.acquired()) return Busy();
    absl::StatusOr<AlertsReply> result = control_->Alerts(FromProto(*request), timeout);
    if (!result.ok()) return ToGrpc(result.status());
    ToProto(*result, reply);
    return grpc::Status::OK;
  }

  grpc::Status Savepoint(grpc::ServerContext* ctx, const v1::SavepointRequest*,
                         v1::SavepointReply* reply) override {
    if (!Authenticated(*ctx)) return Refuse();
    std::chrono::milliseconds timeout{0};
    if (!TimeLeft(*ctx, &timeout)) return DeadlinePassed();
    ControlSlot slot(this);
    if (!slot.acquired()) return Busy();
    absl::StatusOr<std::string> path = control_->Savepoint(timeout);
    if (!path.ok()) return ToGrpc(path.status());
    reply->set_path(*path);
    return grpc::Status::OK;
  }

  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  uint64_t busy() const { return busy_.load(std::memory_order_relaxed); }

 private:
  // One of the max_control_calls_ slots for a JobControl call, held while it runs.
  class ControlSlot {
   public:
    explicit ControlSlot(AdminServiceImpl* s) : s_(s) {
      acquired_ = s_->control_running_.fetch_add(1) < s_->max_control_calls_;
      if (!acquired_) {
        s_->control_running_.fetch_sub(1);
        s_->busy_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    ~ControlSlot() {
      if (acquired_) s_->control_running_.fetch_sub(1);
    }
    ControlSlot(const ControlSlot&) = delete;
    ControlSlot& operator=(const ControlSlot&) = delete;
    bool acquired() const { return acquired_; }

   private:
    AdminServiceImpl* s_;
    bool acquired_ = false;
  };

  grpc::Status Busy() const {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "the admin API is busy: " + std::to_string(max_control_calls_) +
                            " control calls are running; try again");
  }

  // Exactly one `authorization` entry, "Bearer TOKEN" with our token.
  bool Authenticated(const grpc::ServerContext& ctx) const {
    if (token_.empty()) return true;
    const auto [begin, end] = ctx.client_metadata().equal_range("authorization");
    if (begin == end || std::next(begin) != end) return false;
    return BearerTokenMatches(std::string_view(begin->second.data(), begin->second.size()), token_);
  }

  grpc::Status Refuse() {
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (on_refused_) on_refused_();
    // Says nothing about what was sent: the reason is the same for a missing and a wrong token.
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing or invalid bearer token (authorization: Bearer TOKEN)");
  }

  // The JobControl timeout for this call: control_timeout_, cut to the client's deadline.
  // False when that deadline has passed already.
  bool TimeLeft(const grpc::ServerContext& ctx, std::chrono::milliseconds* timeout) const {
    *timeout = control_timeout_;
    const auto deadline = ctx.deadline();
    if (deadline == std::chrono::system_clock::time_point::max()) return true;
    const auto now = std::chrono::system_clock::now();
    if (deadline <= now) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left <= std::chrono::milliseconds(0)) return false;
    *timeout = std::min(*timeout, left);
    return true;
  }

  static grpc::Status DeadlinePassed() {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the call's deadline passed before the job was asked");
  }

  const JobView* view_;
  JobControl* control_;
  const std::string token_;
  const std::chrono::milliseconds control_timeout_;
  const int max_control_calls_;
  const std::function<void()> on_refused_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<int> control_running_{0};
  std::atomic<uint64_t> busy_{0};
};

}  // namespace

struct AdminServer::Impl {
  HostPort address;
  bool tls = false;
  bool authenticates = false;
  std::unique_ptr<AdminServiceImpl> service;
  std::unique_ptr<grpc::Server> server;
  std::mutex stop_mu;
  bool stopped = false;
};

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(std::string_view host_port,
                                                                const JobView* view,
                                                                JobControl* control,
                                                                AdminServerOptions options) {
  QuietGrpcLog();
  if (view == nullptr || control == nullptr) {
    return absl::InvalidArgumentError("AdminServer: null JobView or JobControl");
  }
  absl::StatusOr<HostPort> address = ParseHostPort(host_port);
  if (!address.ok()) return address.status();

  std::string token;
  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> read = ReadTokenFile(options.token_file);
    if (!read.ok()) return read.status();
    token = std::move(*read);
  }

  std::shared_ptr<grpc::ServerCredentials> credentials;
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "TLS needs both a certificate and its private key (--admin-tls-cert, --admin-tls-key)");
    }
    absl::StatusOr<std::string> cert =
        ReadPemFile(options.tls_cert_file, "certificate", "CERTIFICATE-----");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPemFile(options.tls_key_file, "key", "PRIVATE KEY-----");
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({std::move(*key), std::move(*cert)});
    credentials = grpc::SslServerCredentials(ssl);
  } else {
    credentials = grpc::InsecureServerCredentials();
  }

  auto impl = std::make_unique<Impl>();
  impl->address = *address;
  impl->tls = tls;
  impl->authenticates = !token.empty();
  impl->service = std::make_unique<AdminServiceImpl>(view, control, std::move(token), options);

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(FormatHostPort(*address), credentials, &selected_port);
  builder.RegisterService(impl->service.get());
  // gRPC shares ports (SO_REUSEPORT) by default: a second job on the same port would then take
  // half the calls. Bind exclusively, so a taken port is an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  // A bounded pool beside a busy job: at most two threads wait for calls; more are made for
  // calls being served, up to max_threads.
  grpc::ResourceQuota quota("vigil-admin");
  quota.SetMaxThreads(std::max(options.max_threads, 4));
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 2);
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || selected_port == 0) {
    if (impl->server != nullptr) impl->server->Shutdown();
    std::string why = DiagnoseBindFailure(*address);
    if (tls && why.rfind("cannot listen (the address was free", 0) == 0) {
      why =
          "the TLS certificate and key were not accepted (a PEM certificate and its "
          "private key expected)";
    }
    return absl::UnavailableError("cannot serve the admin API on " + FormatHostPort(*address) +
                                  ": " + why);
  }
  impl->address.port = selected_port;
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

void AdminServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  impl_->server->Wait();
}

const std::string& AdminServer::host() const { return impl_->address.host; }
int AdminServer::port() const { return impl_->address.port; }
std::string AdminServer::address() const { return FormatHostPort(impl_->address); }
bool AdminServer::tls() const { return impl_->tls; }
bool AdminServer::authenticates() const { return impl_->authenticates; }
uint64_t AdminServer::unauthenticated_calls() const { return impl_->service->refused(); }
uint64_t AdminServer::busy_calls() const { return impl_->service->busy(); }

}  // namespace vigil::admin
