#pragma once
// The `vigil` subcommands (spec/cli.md). Each returns the process exit code:
// 0 success; 1 rules errors; 2 usage errors; 3 runtime failure.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::cep {
struct RuleSet;
}

namespace vigil::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRulesError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRuntime = 3;

// Compiles rules files and writes every diagnostic, rendered with its source line, to
// standard error. Returns the rule set, or null when there were errors (exit kExitRulesError).
std::shared_ptr<const cep::RuleSet> CompileReporting(const std::vector<std::string>& files);

struct CheckOptions {
  std::vector<std::string> files;
};
int CheckCommand(const CheckOptions& opts);

struct RunOptions {
  std::vector<std::string> files;
  std::vector<std::string> inputs;  // "STREAM=PATH" (PATH "-" = standard input)
  std::string output;               // "" = standard output
  std::string dead_letter;          // "" = standard error
  int parallelism = 0;              // 0 = number of cores
  std::string state_dir;
  std::string checkpoint_interval = "10s";
  std::string metrics;               // HOST:PORT or ""
  uint64_t max_partial_matches = 0;  // 0 = unlimited
  int queue_capacity = 16;           // batches per worker queue / output lane (backpressure)
  std::string from_savepoint;        // start from this savepoint file
  bool follow = false;               // follow file inputs like `tail -f` (until SIGINT/SIGTERM)
  bool watermark_lines = false;      // {"$watermark": T} lines on file/stdin inputs (tests)
  // The web dashboard (admin/ui_server.h): HOST:PORT, "" = off.
  std::string ui;
  // The gRPC admin API (admin/grpc_server.h): HOST:PORT, "" = off; a bearer token file and an
  // optional TLS certificate and key (PEM; both or neither).
  std::string admin;
  std::string admin_token_file;
  std::string admin_tls_cert;
  std::string admin_tls_key;
};
// Parses "10s", "500ms", "1m30s", "0" into milliseconds; false if malformed.
bool ParseDurationMs(const std::string& text, int64_t* ms);
int RunCommand(const RunOptions& opts);

// `vigil savepoint --state DIR [--wait]`: asks the job running on DIR (DIR/vigil.pid) for a
// savepoint (SIGUSR1), waits until the file appears in DIR/savepoints/ (up to 60 s; without
// limit with --wait) and prints its path.
struct SavepointOptions {
  std::string state_dir;
  bool wait = false;
};
int SavepointCommand(const SavepointOptions& opts);

// `vigil ctl --admin HOST:PORT [--admin-token-file F] [--tls-ca FILE] [--timeout 30s]
// [--output text|json] status|deploy FILE...|alerts [--rule R] [--key k=v]... [--limit N]|
// savepoint`: a client of a running job's admin API (admin/grpc_client.h). Exit codes: 0 ok;
// 1 deploy rejected (the rules' diagnostics on stderr); 2 usage (also a query the job finds
// invalid: an unknown rule or key field); 3 cannot reach the job, the token was refused, or
// the job failed to answer.
struct CtlOptions {
  std::string admin;  // HOST:PORT (required)
  std::string token_file;
  std::string tls_ca;  // "" = plaintext
  std::string timeout = "30s";
  std::string output = "text";  // text | json
  std::string command;          // status | deploy | alerts | savepoint
  std::vector<std::string> files;  // deploy
  std::string rule;                // alerts
  std::vector<std::string> keys;   // alerts: "FIELD=VALUE"
  size_t limit = 0;                // alerts: 0 = the job's default (500)
};
int CtlCommand(const CtlOptions& opts);

struct ExplainOptions {
  std::vector<std::string> files;
  std::string rule;             // "" = every pattern rule
  std::string format = "text";  // text | dot
};
int ExplainCommand(const ExplainOptions& opts);

// `vigil test FILE.test.yml...`: rule unit tests (docs/language-notes.md, "Rule unit tests").
// Exit 0 when every test case passes; 1 when one fails or the rules do not compile; 2 when a
// test file is malformed.
struct TestOptions {
  std::vector<std::string> files;
};
int TestCommand(const TestOptions& opts);

}  // namespace vigil::app
