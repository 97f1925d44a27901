#include "admin/grpc_client.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "admin/auth_token.h"
#include "admin/grpc_logging.h"
#include "admin/host_port.h"
#include "admin/proto/vigil_admin.grpc.pb.h"
#include "admin/proto_convert.h"

namespace vigil::admin {
namespace {

// Replies are bounded by the server (at most 5000 alerts), but a status of a very large job
// may exceed gRPC's default of 4 MiB.
constexpr int kMaxReplyBytes = 64 * 1024 * 1024;

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(static_cast<int>(s.error_code())),
                      s.error_message());
}

}  // namespace

struct AdminClient::Impl {
  std::string address;
  std::string authorization;  // "Bearer TOKEN" or ""
  std::chrono::milliseconds timeout{0};
  std::unique_ptr<v1::AdminService::Stub> stub;

  void Prepare(grpc::ClientContext* ctx) const {
    ctx->set_deadline(std::chrono::system_clock::now() + timeout);
    if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
  }
};

AdminClient::AdminClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminClient::~AdminClient() = default;

absl::StatusOr<std::unique_ptr<AdminClient>> AdminClient::Connect(std::string_view host_port,
                                                                  AdminClientOptions options) {
  QuietGrpcLog();
  absl::StatusOr<HostPort> address = ParseHostPort(host_port);
  if (!address.ok()) return address.status();
  if (address->port == 0) return absl::InvalidArgumentError("the admin API has no port 0");
  auto impl = std::make_unique<Impl>();
  impl->address = FormatHostPort(*address);
  impl->timeout = options.timeout;
  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(options.token_file);
    if (!token.ok()) return token.status();
    impl->authorization = "Bearer " + *token;
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (!options.tls_ca_file.empty()) {
    std::ifstream in(options.tls_ca_file, std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError("cannot read the CA certificates " + options.tls_ca_file);
    }
    std::ostringstream pem;
    pem << in.rdbuf();
    if (pem.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return absl::InvalidArgumentError("no PEM certificate in " + options.tls_ca_file);
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReplyBytes);
  // The admin API is reached directly; an http_proxy meant for the web must not carry it.
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  impl->stub =
      v1::AdminService::NewStub(grpc::CreateCustomChannel(impl->address, credentials, args));
  return std::unique_ptr<AdminClient>(new AdminClient(std::move(impl)));
}

absl::StatusOr<JobStatus> AdminClient::Status() {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  v1::StatusReply reply;
  if (grpc::Status s = impl_->stub->Status(&ctx, v1::StatusRequest(), &reply); !s.ok()) {
    return FromGrpc(s);
  }
  return FromProto(reply);
}

absl::StatusOr<DeployResult> AdminClient::Deploy(const std::vector<RulesFile>& files) {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  v1::DeployRequest request;
  ToProto(files, &request);
  v1::DeployReply reply;
  if (grpc::Status s = impl_->stub->Deploy(&ctx, request, &reply); !s.ok()) return FromGrpc(s);
  return FromProto(reply);
}

absl::StatusOr<AlertsReply> AdminClient::Alerts(const AlertsQuery& query) {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  v1::AlertsRequest request;
  ToProto(query, &request);
  v1::AlertsReply reply;
  if (grpc::Status s = impl_->stub->Alerts(&ctx, request, &reply); !s.ok()) return FromGrpc(s);
  return FromProto(reply);
}

absl::StatusOr<std::string> AdminClient::Savepoint() {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  v1::SavepointReply reply;
  if (grpc::Status s = impl_->stub->Savepoint(&ctx, v1::SavepointRequest(), &reply); !s.ok()) {
    return FromGrpc(s);
  }
  return reply.path();
}

const std::string& AdminClient::address() const { return impl_->address; }

}  // namespace vigil::admin
