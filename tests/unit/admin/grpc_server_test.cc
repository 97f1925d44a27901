// The admin API end to end in one process: an AdminServer over a FakeJobView and a
// FakeJobControl on 127.0.0.1, called through AdminClient (what `vigil ctl` uses) and, where
// the wire matters (authorization headers), through a raw generated stub.
#include "admin/grpc_server.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "admin/auth_token.h"
#include "admin/control_json.h"
#include "admin/grpc_client.h"
#include "admin/proto/vigil_admin.grpc.pb.h"
#include "admin/status_json.h"
#include "rules/compiler.h"
#include "tests/unit/admin/fake_job_control.h"
#include "tests/unit/admin/fake_job_view.h"

namespace vigil::admin {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::FakeJobControl;
using testing::FakeJobView;

constexpr const char* kRules = R"(
stream txn (card string, amount float, merchant string, at timestamp)
  event time at
rule card_testing
  from txn
  partition by card
  pattern small -> large
  define small as amount < 1.00, large as amount >= 500
  within 10m
)";

constexpr const char* kToken = "s3cr3t-T0ken_with.symbols~";

std::shared_ptr<const cep::RuleSet> Compile() {
  rules::CompileResult r = rules::CompileSources({{"test.vgl", kRules}});
  EXPECT_TRUE(r.ok());
  return r.rule_set;
}

// A fresh directory under the test's temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::path(::testing::TempDir()) / "vigil-admin-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// A status exercising every optional and special value: an ended and an unstarted watermark,
// no lag, an idle partition, a sink without latencies.
JobStatus RichStatus(const cep::RuleSet& rules) {
  JobStatus s = testing::StatusFor(rules, 123456789012ULL, 42);
  s.checkpoint.in_flight = true;
  s.checkpoint.failures = 2;
  StreamStatus ended;
  ended.name = "ended_stream";
  ended.watermark = Watermark::Max();
  ended.partitions.push_back({"a.jsonl", Watermark::Max(), false});
  ended.partitions.push_back({"b.jsonl", Watermark::Min(), true});
  s.streams.push_back(ended);
  RuleStatus when;
  when.name = "hot";
  when.kind = RuleKind::kWhen;
  when.stream = "txn";
  when.events_per_second = 0.125;
  when.firing = 3;
  when.timeouts = 9;
  when.dropped_partial_matches = 4;
  s.rules.push_back(when);
  RuleStatus window = when;
  window.name = "per_minute";
  window.kind = RuleKind::kWindow;
  s.rules.push_back(window);
  SinkStatus hook;
  hook.name = "pager";
  hook.kind = "webhook";
  hook.failed = 1;
  hook.retried = 5;
  hook.dead_lettered = 1;
  hook.queue_depth = -1;
  s.sinks.push_back(hook);
  return s;
}

AlertsReply RichAlerts() {
  AlertsReply r;
  FiringAlert a;
  a.rule = "card_testing";
  a.key = {{"card", Value::String("4111")},
           {"n", Value::Int(-7)},
           {"f", Value::Float(0.5)},
           {"b", Value::Bool(true)},
           {"t", Value::Timestamp(EventTime(1714557600123))},
           {"z", Value::Null()}};
  a.labels = {{"severity", "critical"}, {"team", "fraud"}};
  a.annotations = {{"summary", "card 4111 \"tested\"\nline two ✓"}};
  a.since = EventTime(1714557600000);
  r.firing.alerts = {a};
  r.firing.total = 12;
  KeyState k;
  k.rule = "card_testing";
  k.key = {{"card", Value::String("4111")}};
  k.partial_matches.push_back({EventTime(1714557500000), {{"small", 2}, {"large", 0}}});
  k.partial_matches.push_back({EventTime(1714557550000), {{"small", 1}}});
  k.firing = true;
  k.firing_since = EventTime(1714557600000);
  r.keys = {k};
  r.partial_matches = 2;
  return r;
}

AdminClientOptions Opts(std::string token_file, std::string tls_ca_file = "",
                        milliseconds timeout = milliseconds(30000)) {
  AdminClientOptions o;
  o.token_file = std::move(token_file);
  o.tls_ca_file = std::move(tls_ca_file);
  o.timeout = timeout;
  return o;
}

AlertsQuery RuleQuery(std::string rule) {
  AlertsQuery q;
  q.rule = std::move(rule);
  return q;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    view_ = std::make_unique<FakeJobView>(Compile());
    view_->SetStatus(RichStatus(*view_->Rules()));
  }

  // Starts the server; the test fails (and returns null) if it does not start.
  AdminServer* Serve(AdminServerOptions options = {}, std::string address = "127.0.0.1:0") {
    auto server = AdminServer::Start(address, view_.get(), &control_, std::move(options));
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    server_ = std::move(*server);
    return server_.get();
  }

  std::unique_ptr<AdminClient> Client(AdminClientOptions options = {}) {
    auto client = AdminClient::Connect(server_->address(), std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::unique_ptr<v1::AdminService::Stub> RawStub() {
    return v1::AdminService::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  AdminServerOptions WithToken() {
    AdminServerOptions o;
    o.token_file = dir_.Write("token", std::string(kToken) + "\n");
    return o;
  }

  TempDir dir_;
  std::unique_ptr<FakeJobView> view_;
  FakeJobControl control_;
  std::unique_ptr<AdminServer> server_;
};

TEST_F(AdminServerTest, StatusRoundTripsEveryField) {
  ASSERT_NE(Serve(), nullptr);
  auto client = Client();
  absl::StatusOr<JobStatus> got = client->Status();
  ASSERT_TRUE(got.ok()) << got.status();
  // The JSON document names every field of JobStatus: equal documents, equal statuses.
  EXPECT_EQ(JobStatusToJson(*got), JobStatusToJson(view_->Status()));
  EXPECT_EQ(got->streams.back().watermark, Watermark::Max());
  EXPECT_EQ(got->streams.back().partitions[1].watermark, Watermark::Min());
  EXPECT_FALSE(got->streams.back().lag.has_value());
  EXPECT_EQ(got->rules[1].kind, RuleKind::kWhen);
  EXPECT_EQ(got->rules[2].kind, RuleKind::kWindow);
  EXPECT_FALSE(got->sinks.back().latency_p50_ms.has_value());
  EXPECT_EQ(got->checkpoint.last_time, view_->Status().checkpoint.last_time);
  EXPECT_EQ(control_.calls(), 0);  // Status reads the view only
}

TEST_F(AdminServerTest, DeployCarriesFilesAndListsBack) {
  ASSERT_NE(Serve(), nullptr);
  DeployResult result;
  result.applied = true;
  result.unchanged = {"card_testing", "velocity"};
  result.changed = {"high_amount"};
  result.added = {"new_rule"};
  result.removed = {"old_rule"};
  result.barrier_id = 77;
  control_.SetDeploy(result);

  const std::vector<RulesFile> files = {{"a.vgl", kRules}, {"dir/b.vgl", "rule x\n  ✓\n"}};
  absl::StatusOr<DeployResult> got = Client()->Deploy(files);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DeployResultToJson(*got), DeployResultToJson(result));
  ASSERT_EQ(control_.files().size(), 2u);
  EXPECT_EQ(control_.files()[0].name, "a.vgl");
  EXPECT_EQ(control_.files()[0].text, kRules);
  EXPECT_EQ(control_.files()[1].name, "dir/b.vgl");
  EXPECT_EQ(control_.files()[1].text, "rule x\n  ✓\n");
  // No client deadline beyond the default 30 s: the server's 30 s bound (a little less, as the
  // client's 30 s deadline started earlier).
  EXPECT_GT(control_.last_timeout(), milliseconds(29000));
  EXPECT_LE(control_.last_timeout(), milliseconds(30000));
  // On a gRPC thread, not the caller's.
  EXPECT_NE(control_.last_thread(), std::this_thread::get_id());
}

TEST_F(AdminServerTest, DeployRejectedCarriesDiagnosticsVerbatim) {
  ASSERT_NE(Serve(), nullptr);
  DeployResult rejected;
  rejected.applied = false;
  rejected.diagnostics =
      "bad.vgl:3:9: error: unknown field 'amout' (did you mean 'amount'?)\n"
      "    3 |   where amout > 5\n"
      "      |         ^~~~~\n";
  control_.SetDeploy(rejected);
  absl::StatusOr<DeployResult> got = Client()->Deploy({{"bad.vgl", "..."}});
  ASSERT_TRUE(got.ok()) << got.status();  // rules errors are a reply, not an RPC error
  EXPECT_FALSE(got->applied);
  EXPECT_EQ(got->diagnostics, rejected.diagnostics);
  EXPECT_TRUE(got->unchanged.empty() && got->added.empty());
}

TEST_F(AdminServerTest, DeployWithoutFilesIsRefusedBeforeTheJob) {
  ASSERT_NE(Serve(), nullptr);
  absl::StatusOr<DeployResult> got = Client()->Deploy({});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  got = Client()->Deploy({{"", "rule"}});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(control_.calls(), 0);
}

TEST_F(AdminServerTest, DeployLargerThanTheLimitIsRefused) {
  AdminServerOptions o;
  o.max_request_bytes = 64 * 1024;
  ASSERT_NE(Serve(o), nullptr);
  absl::StatusOr<DeployResult> got = Client()->Deploy({{"big.vgl", std::string(100000, 'x')}});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kResourceExhausted) << got.status();
  EXPECT_EQ(control_.calls(), 0);
}

TEST_F(AdminServerTest, AlertsWithRuleAndKey) {
  ASSERT_NE(Serve(), nullptr);
  control_.SetAlerts(RichAlerts());
  AlertsQuery q;
  q.rule = "card_testing";
  q.key = {{"card", "4111"}, {"region", "eu=west"}};
  absl::StatusOr<AlertsReply> got = Client()->Alerts(q);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(AlertsReplyToJson(*got), AlertsReplyToJson(RichAlerts()));
  // Every Value type survives the trip.
  const auto& key = got->firing.alerts[0].key;
  ASSERT_EQ(key.size(), 6u);
  EXPECT_EQ(key[0].second, Value::String("4111"));
  EXPECT_EQ(key[1].second, Value::Int(-7));
  EXPECT_EQ(key[2].second, Value::Float(0.5));
  EXPECT_EQ(key[3].second, Value::Bool(true));
  EXPECT_EQ(key[4].second, Value::Timestamp(EventTime(1714557600123)));
  EXPECT_TRUE(key[5].second.is_null());

  const AlertsQuery seen = control_.query();
  EXPECT_EQ(seen.rule, "card_testing");
  ASSERT_EQ(seen.key.size(), 2u);
  EXPECT_EQ(seen.key[0], (std::pair<std::string, std::string>{"card", "4111"}));
  EXPECT_EQ(seen.key[1], (std::pair<std::string, std::string>{"region", "eu=west"}));
  EXPECT_EQ(seen.limit, 500u);  // the default
}

TEST_F(AdminServerTest, AlertsQueryIsCheckedBeforeTheJob) {
  ASSERT_NE(Serve(), nullptr);
  auto client = Client();
  AlertsQuery key_without_rule;
  key_without_rule.key = {{"card", "1"}};
  EXPECT_EQ(client->Alerts(key_without_rule).status().code(), absl::StatusCode::kInvalidArgument);
  AlertsQuery too_many;
  too_many.limit = kMaxAlertsLimit + 1;
  EXPECT_EQ(client->Alerts(too_many).status().code(), absl::StatusCode::kInvalidArgument);
  AlertsQuery unnamed;
  unnamed.rule = "r";
  unnamed.key = {{"", "1"}};
  EXPECT_EQ(client->Alerts(unnamed).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(control_.calls(), 0);

  AlertsQuery ok;
  ok.limit = kMaxAlertsLimit;
  EXPECT_TRUE(client->Alerts(ok).ok());
  EXPECT_EQ(control_.query().limit, kMaxAlertsLimit);
}

TEST_F(AdminServerTest, JobErrorsKeepTheirCodeAndMessage) {
  ASSERT_NE(Serve(), nullptr);
  auto client = Client();
  control_.SetAlerts(absl::InvalidArgumentError("unknown rule 'nope'"));
  absl::StatusOr<AlertsReply> alerts = client->Alerts(RuleQuery("nope"));
  EXPECT_EQ(alerts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(alerts.status().message(), "unknown rule 'nope'");

  control_.SetSavepoint(absl::FailedPreconditionError("the job runs without --state"));
  absl::StatusOr<std::string> sp = client->Savepoint();
  EXPECT_EQ(sp.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sp.status().message(), "the job runs without --state");

  control_.SetDeploy(absl::UnavailableError("the job is stopping"));
  EXPECT_EQ(client->Deploy({{"a.vgl", ""}}).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AdminServerTest, SavepointReturnsThePath) {
  ASSERT_NE(Serve(), nullptr);
  control_.SetSavepoint(std::string("/var/lib/vigil/savepoints/savepoint-12-1714557600000"));
  absl::StatusOr<std::string> path = Client()->Savepoint();
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, "/var/lib/vigil/savepoints/savepoint-12-1714557600000");
  EXPECT_EQ(control_.calls(), 1);
}

TEST_F(AdminServerTest, ControlCallsGetTheSmallerOfServerBoundAndClientDeadline) {
  AdminServerOptions o;
  o.control_timeout = milliseconds(2000);
  ASSERT_NE(Serve(o), nullptr);
  ASSERT_TRUE(Client()->Savepoint().ok());
  EXPECT_LE(control_.last_timeout(), milliseconds(2000));
  EXPECT_GT(control_.last_timeout(), milliseconds(1500));

  ASSERT_TRUE(Client(Opts("", "", milliseconds(400)))->Savepoint().ok());
  EXPECT_LE(control_.last_timeout(), milliseconds(400));
  EXPECT_GT(control_.last_timeout(), milliseconds(0));
}

TEST_F(AdminServerTest, SlowJobAnswersDeadlineExceeded) {
  AdminServerOptions o;
  o.control_timeout = milliseconds(200);
  ASSERT_NE(Serve(o), nullptr);
  control_.SetDelay(milliseconds(2000));
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> sp = Client()->Savepoint();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(sp.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(took, milliseconds(1500));
}

// ---- authentication ----

TEST_F(AdminServerTest, CallsWithoutTheTokenAreRefusedAndCounted) {
  std::atomic<int> callback{0};
  AdminServerOptions o = WithToken();
  o.on_unauthenticated = [&callback] { callback.fetch_add(1); };
  ASSERT_NE(Serve(o), nullptr);
  EXPECT_TRUE(server_->authenticates());

  auto anonymous = Client();
  EXPECT_EQ(anonymous->Status().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(anonymous->Deploy({{"a.vgl", kRules}}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(anonymous->Alerts({}).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(anonymous->Savepoint().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(server_->unauthenticated_calls(), 4u);

  auto wrong = Client(Opts(dir_.Write("wrong", "s3cr3t-T0ken_with.symbols")));
  const absl::Status refused = wrong->Status().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  // The refusal says nothing about the token.
  EXPECT_EQ(std::string(refused.message()).find(kToken), std::string::npos);
  EXPECT_EQ(wrong->Savepoint().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(server_->unauthenticated_calls(), 6u);
  EXPECT_EQ(callback.load(), 6);
  EXPECT_EQ(control_.calls(), 0);  // nothing reached the job

  auto right = Client(Opts(dir_.Write("right", std::string(kToken) + "\r\n")));
  EXPECT_TRUE(right->Status().ok());
  EXPECT_TRUE(right->Savepoint().ok());
  EXPECT_EQ(server_->unauthenticated_calls(), 6u);
  EXPECT_EQ(control_.calls(), 1);
}

TEST_F(AdminServerTest, AuthorizationHeaderMustBeExactlyOneBearerToken) {
  ASSERT_NE(Serve(WithToken()), nullptr);
  auto stub = RawStub();
  auto call = [&](const std::vector<std::string>& headers) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    for (const std::string& h : headers) ctx.AddMetadata("authorization", h);
    v1::StatusReply reply;
    return stub->Status(&ctx, v1::StatusRequest(), &reply).error_code();
  };
  const std::string token = kToken;
  EXPECT_EQ(call({"Bearer " + token}), grpc::StatusCode::OK);
  EXPECT_EQ(call({"bearer " + token}), grpc::StatusCode::OK);  // the scheme ignores case
  EXPECT_EQ(call({"BEARER " + token}), grpc::StatusCode::OK);
  uint64_t refused = server_->unauthenticated_calls();
  EXPECT_EQ(call({}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({token}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({"Basic " + token}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({"Bearer " + token + "x"}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({"Bearer " + token.substr(1)}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({"Bearer  " + token}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({"Bearer"}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({"Bearer " + token, "Bearer " + token}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call({"Bearer wrong", "Bearer " + token}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(server_->unauthenticated_calls(), refused + 9);
}

TEST_F(AdminServerTest, WithoutATokenFileEveryCallIsServed) {
  ASSERT_NE(Serve(), nullptr);
  EXPECT_FALSE(server_->authenticates());
  auto with_token = Client(Opts(dir_.Write("t", "anything")));
  EXPECT_TRUE(with_token->Status().ok());
  EXPECT_TRUE(Client()->Status().ok());
  EXPECT_EQ(server_->unauthenticated_calls(), 0u);
}

TEST_F(AdminServerTest, BadTokenFilesStopTheServerFromStarting) {
  struct Case {
    std::string path;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {dir_.Path("missing"), "cannot read the token file"},
      {dir_.Write("empty", ""), "is empty"},
      {dir_.Write("newline", "\n\r\n"), "is empty"},
      {dir_.Write("space", "two words\n"), "printable ASCII"},
      {dir_.Write("lines", "line1\nline2\n"), "printable ASCII"},
      {dir_.Write("huge", std::string(kMaxTokenBytes + 1, 'a')), "longer than"},
  };
  for (const Case& c : cases) {
    AdminServerOptions o;
    o.token_file = c.path;
    auto server = AdminServer::Start("127.0.0.1:0", view_.get(), &control_, o);
    ASSERT_FALSE(server.ok()) << c.path;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << c.path;
    EXPECT_NE(server.status().message().find(c.expect), std::string::npos) << server.status();
    EXPECT_NE(server.status().message().find(c.path), std::string::npos) << server.status();
  }
  // The longest token allowed is fine.
  AdminServerOptions o;
  o.token_file = dir_.Write("max", std::string(kMaxTokenBytes, 'a'));
  EXPECT_TRUE(AdminServer::Start("127.0.0.1:0", view_.get(), &control_, o).ok());
}

// ---- TLS ----

// A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command line
// (Debian's openssl package; scripts/setup installs it). Empty when openssl is not there.
struct TestCert {
  std::string cert, key;
};
TestCert MakeCert(const TempDir& dir, const std::string& name) {
  const std::string cert = dir.Path(name + ".crt"), key = dir.Path(name + ".key");
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" +
      key + "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return {};
  return {cert, key};
}

TEST_F(AdminServerTest, TlsWithASelfSignedCertificate) {
  const TestCert tc = MakeCert(dir_, "server");
  ASSERT_FALSE(tc.cert.empty()) << "openssl could not make a test certificate";
  AdminServerOptions o = WithToken();
  o.tls_cert_file = tc.cert;
  o.tls_key_file = tc.key;
  ASSERT_NE(Serve(o), nullptr);
  EXPECT_TRUE(server_->tls());

  auto client = Client(Opts(dir_.Write("t", kToken), tc.cert));
  absl::StatusOr<JobStatus> s = client->Status();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(JobStatusToJson(*s), JobStatusToJson(view_->Status()));

  // Plaintext to a TLS server, and TLS trusting another certificate: no connection.
  auto plain = Client(Opts(dir_.Path("t")));
  EXPECT_EQ(plain->Status().status().code(), absl::StatusCode::kUnavailable);
  const TestCert other = MakeCert(dir_, "other");
  ASSERT_FALSE(other.cert.empty());
  auto untrusting = Client(Opts(dir_.Path("t"), other.cert));
  EXPECT_EQ(untrusting->Status().status().code(), absl::StatusCode::kUnavailable);
  // TLS does not replace the token.
  auto anonymous = Client(Opts("", tc.cert));
  EXPECT_EQ(anonymous->Status().status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AdminServerTest, TlsToAPlaintextServerFails) {
  const TestCert tc = MakeCert(dir_, "server");
  ASSERT_FALSE(tc.cert.empty()) << "openssl could not make a test certificate";
  ASSERT_NE(Serve(), nullptr);
  EXPECT_FALSE(server_->tls());
  auto client = Client(Opts("", tc.cert));
  EXPECT_EQ(client->Status().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AdminServerTest, BadTlsFilesAreErrors) {
  const TestCert tc = MakeCert(dir_, "server");
  ASSERT_FALSE(tc.cert.empty()) << "openssl could not make a test certificate";
  auto start = [&](std::string cert, std::string key) {
    AdminServerOptions o;
    o.tls_cert_file = std::move(cert);
    o.tls_key_file = std::move(key);
    return AdminServer::Start("127.0.0.1:0", view_.get(), &control_, o).status();
  };
  EXPECT_EQ(start(tc.cert, "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start("", tc.key).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start(dir_.Path("nope.crt"), tc.key).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start(dir_.Write("text.crt", "not a certificate"), tc.key).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(start(tc.key, tc.key).code(), absl::StatusCode::kInvalidArgument);  // swapped
  EXPECT_EQ(start(tc.cert, tc.cert).code(), absl::StatusCode::kInvalidArgument);
  // PEM markers but not a usable key: gRPC refuses it when it builds the server.
  const std::string fake_key =
      dir_.Write("fake.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  absl::Status s = start(tc.cert, fake_key);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("TLS"), std::string::npos) << s;
}

TEST(AdminClientTest, BadClientFilesAreErrors) {
  TempDir dir;
  EXPECT_EQ(AdminClient::Connect("127.0.0.1:1", Opts(dir.Path("none"))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminClient::Connect("127.0.0.1:1", Opts("", dir.Path("none"))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminClient::Connect("127.0.0.1:1", Opts("", dir.Write("x", "text"))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminClient::Connect("", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminClient::Connect("127.0.0.1:0", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdminClientTest, NothingListeningIsUnavailableQuickly) {
  // A port just released: nothing listens there.
  FakeJobView view(Compile());
  FakeJobControl control;
  int port = 0;
  {
    auto server = AdminServer::Start("127.0.0.1:0", &view, &control);
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  auto client = AdminClient::Connect("127.0.0.1:" + std::to_string(port), {});
  ASSERT_TRUE(client.ok());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ((*client)->Status().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// ---- addresses ----

TEST_F(AdminServerTest, AddressRules) {
  // An empty address is refused; an omitted host is loopback, never every interface.
  EXPECT_EQ(AdminServer::Start("", view_.get(), &control_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminServer::Start("127.0.0.1:99999", view_.get(), &control_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminServer::Start("127.0.0.1:0", nullptr, &control_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminServer::Start("127.0.0.1:0", view_.get(), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* omitted : {":0", "0"}) {
    auto server = AdminServer::Start(omitted, view_.get(), &control_);
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_EQ((*server)->host(), "127.0.0.1") << omitted;
    EXPECT_EQ((*server)->address(), "127.0.0.1:" + std::to_string((*server)->port()));
  }
  // 0.0.0.0 only when written out; then it is reachable on loopback too.
  auto all = AdminServer::Start("0.0.0.0:0", view_.get(), &control_);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ((*all)->host(), "0.0.0.0");
  auto client = AdminClient::Connect("127.0.0.1:" + std::to_string((*all)->port()), {});
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE((*client)->Status().ok());
}

// An IPv4 address of this machine other than loopback; "" when it has none.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    if (std::string(text).rfind("127.", 0) != 0) found = text;
  }
  freeifaddrs(list);
  return found;
}

// True when a TCP connection to ip:port is accepted.
bool Connects(const std::string& ip, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

TEST_F(AdminServerTest, OnlyAnAddressWrittenOutListensBeyondLoopback) {
  const std::string lan = NonLoopbackAddress();
  if (lan.empty()) GTEST_SKIP() << "this machine has no IPv4 address besides loopback";
  auto loopback = AdminServer::Start(":0", view_.get(), &control_);
  ASSERT_TRUE(loopback.ok()) << loopback.status();
  EXPECT_TRUE(Connects("127.0.0.1", (*loopback)->port()));
  EXPECT_FALSE(Connects(lan, (*loopback)->port())) << lan;
  auto all = AdminServer::Start("0.0.0.0:0", view_.get(), &control_);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(Connects(lan, (*all)->port())) << lan;
}

TEST_F(AdminServerTest, PortInUseIsAnErrorNotShared) {
  ASSERT_NE(Serve(), nullptr);
  auto second =
      AdminServer::Start("127.0.0.1:" + std::to_string(server_->port()), view_.get(), &control_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("Address already in use"), std::string::npos)
      << second.status();
}

// ---- lifecycle and concurrency ----

TEST_F(AdminServerTest, StopIsPromptWithConnectedClients) {
  ASSERT_NE(Serve(), nullptr);
  auto client = Client();
  ASSERT_TRUE(client->Status().ok());  // an open, idle HTTP/2 connection
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  server_->Stop();  // idempotent
  EXPECT_EQ(client->Status().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AdminServerTest, StopWaitsForARunningControlCall) {
  ASSERT_NE(Serve(), nullptr);
  control_.SetDelay(milliseconds(300));
  auto client = Client();
  std::thread caller([&] { (void)client->Savepoint(); });
  while (control_.calls() == 0) std::this_thread::sleep_for(milliseconds(1));
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();  // returns once the handler returned: the fake was not left running
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(1));
  caller.join();
}

TEST_F(AdminServerTest, ConcurrentClients) {
  ASSERT_NE(Serve(WithToken()), nullptr);
  control_.SetAlerts(RichAlerts());
  const std::string token_file = dir_.Write("t", kToken);
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto client = AdminClient::Connect(server_->address(), Opts(t % 4 == 3 ? "" : token_file));
      if (!client.ok()) return;
      for (int i = 0; i < 40; ++i) {
        absl::Status s = i % 2 == 0 ? (*client)->Status().status()
                                    : (*client)->Alerts(RuleQuery("card_testing")).status();
        if (s.ok()) ok.fetch_add(1);
        if (s.code() == absl::StatusCode::kUnauthenticated) refused.fetch_add(1);
        if (!s.ok() && s.code() != absl::StatusCode::kUnauthenticated) ADD_FAILURE() << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6 * 40);
  EXPECT_EQ(refused.load(), 2 * 40);
  EXPECT_EQ(server_->unauthenticated_calls(), 80u);
  EXPECT_EQ(control_.calls(), 6 * 20);
}

TEST_F(AdminServerTest, ControlCallsBeyondTheLimitAreRefusedAndCounted) {
  AdminServerOptions o;
  o.max_control_calls = 2;
  ASSERT_NE(Serve(o), nullptr);
  control_.SetDelay(milliseconds(1500));
  auto client = Client();
  std::vector<std::thread> slow;
  for (int i = 0; i < 2; ++i) slow.emplace_back([&] { EXPECT_TRUE(client->Savepoint().ok()); });
  while (control_.calls() < 2) std::this_thread::sleep_for(milliseconds(1));
  // Both slots taken: the next control call is refused at once; Status is still served.
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<AlertsReply> third = client->Alerts({});
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted) << third.status();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000));
  EXPECT_TRUE(client->Status().ok());
  EXPECT_EQ(server_->busy_calls(), 1u);
  EXPECT_EQ(control_.calls(), 2);
  for (auto& t : slow) t.join();
  // Slots are given back.
  control_.SetDelay(milliseconds(0));
  EXPECT_TRUE(client->Alerts({}).ok());
  EXPECT_EQ(server_->busy_calls(), 1u);
}

}  // namespace
}  // namespace vigil::admin
