// The `vigil` program: the composition root. Parses the command line (CLI11) and dispatches
// to the subcommands in src/*_cmd.cc.
#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "src/commands.h"

int main(int argc, char** argv) {
  using namespace vigil::app;
  CLI::App app{"vigil: complex event processing and real-time monitoring"};
  app.require_subcommand(1);

  CheckOptions check;
  auto* check_cmd = app.add_subcommand("check", "Parse and type-check rules files");
  check_cmd->add_option("files", check.files, "rules files (*.vgl)")->required();

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run rules as a streaming job on this machine");
  run_cmd->add_option("files", run.files, "rules files (*.vgl)")->required();
  run_cmd->add_option("--input", run.inputs, "STREAM=PATH (PATH '-' = standard input)");
  run_cmd->add_option("--output", run.output, "default output for rules without `to`");
  run_cmd->add_option("--dead-letter", run.dead_letter, "invalid and late events");
  run_cmd->add_option("--parallelism", run.parallelism, "worker threads")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--state", run.state_dir, "state and checkpoint directory");
  run_cmd->add_option("--checkpoint-interval", run.checkpoint_interval, "e.g. 10s");
  run_cmd->add_option("--metrics", run.metrics, "HOST:PORT to serve /metrics");
  run_cmd->add_option("--max-partial-matches", run.max_partial_matches,
                      "per rule and key; 0 = unlimited");
  run_cmd
      ->add_option("--queue-capacity", run.queue_capacity,
                   "batches (of up to 512 events or records) each worker queue and output "
                   "lane holds before its producer waits")
      ->check(CLI::Range(1, 1 << 16));

  run_cmd->add_option("--from-savepoint", run.from_savepoint, "start from this savepoint");
  run_cmd->add_flag("--follow", run.follow,
                    "follow file inputs like `tail -f` until SIGINT/SIGTERM");
  run_cmd->add_flag("--watermark-lines", run.watermark_lines,
                    "read lines {\"$watermark\": T} of file and stdin inputs as explicit "
                    "watermarks, not events (tests)");
  run_cmd->add_option("--ui", run.ui,
                      "HOST:PORT to serve the web dashboard (127.0.0.1 unless a host is given)");
  run_cmd->add_option("--admin", run.admin,
                      "HOST:PORT to serve the gRPC admin API for `vigil ctl` (127.0.0.1 unless "
                      "a host is given)");
  run_cmd->add_option("--admin-token-file", run.admin_token_file,
                      "file holding the bearer token every admin API call must carry");
  run_cmd->add_option("--admin-tls-cert", run.admin_tls_cert,
                      "PEM certificate (chain) for the admin API's TLS");
  run_cmd->add_option("--admin-tls-key", run.admin_tls_key,
                      "PEM private key for the admin API's TLS");

  SavepointOptions savepoint;
  auto* savepoint_cmd =
      app.add_subcommand("savepoint", "Have a running job (--state DIR) write a savepoint");
  savepoint_cmd->add_option("--state", savepoint.state_dir, "the job's state directory")
      ->required();
  savepoint_cmd->add_flag("--wait", savepoint.wait, "wait without a time limit");

  ExplainOptions explain;
  auto* explain_cmd = app.add_subcommand("explain", "Show a rule's compiled NFA");
  explain_cmd->add_option("files", explain.files, "rules files (*.vgl)")->required();
  explain_cmd->add_option("--rule", explain.rule, "rule name");
  explain_cmd->add_option("--format", explain.format, "text | dot")
      ->check(CLI::IsMember({"text", "dot"}));

  CtlOptions ctl;
  auto* ctl_cmd = app.add_subcommand(
      "ctl", "Ask a running job (vigil run --admin HOST:PORT) for its status, deploy rules, "
             "list alerts or take a savepoint");
  ctl_cmd->add_option("--admin", ctl.admin, "HOST:PORT of the job's admin API")->required();
  ctl_cmd->add_option("--admin-token-file", ctl.token_file, "file holding the bearer token");
  ctl_cmd->add_option("--tls-ca", ctl.tls_ca,
                      "PEM certificates to trust: speak TLS to the admin API");
  ctl_cmd->add_option("--timeout", ctl.timeout, "deadline of the call, e.g. 30s");
  ctl_cmd->add_option("--output", ctl.output, "text | json")
      ->check(CLI::IsMember({"text", "json"}));
  ctl_cmd->require_subcommand(1);
  ctl_cmd->fallthrough();  // `vigil ctl status --admin ...` works too
  auto* ctl_status = ctl_cmd->add_subcommand(
      "status", "Streams, rules, sinks and checkpoints with their counters");
  auto* ctl_deploy = ctl_cmd->add_subcommand(
      "deploy", "Replace the job's rules with these files (applied at a barrier, no restart)");
  ctl_deploy->add_option("files", ctl.files, "rules files (*.vgl)")->required();
  auto* ctl_alerts =
      ctl_cmd->add_subcommand("alerts", "Alerts firing now and open partial matches");
  ctl_alerts->add_option("--rule", ctl.rule, "only this rule");
  ctl_alerts->add_option("--key", ctl.keys, "FIELD=VALUE of the rule's partition key");
  ctl_alerts->add_option("--limit", ctl.limit, "firing alerts to list (default 500)")
      ->check(CLI::Range(1, 5000));
  auto* ctl_savepoint = ctl_cmd->add_subcommand("savepoint", "Take a savepoint; prints its path");

  TestOptions test;
  auto* test_cmd = app.add_subcommand(
      "test", "Run rule unit tests: input events and expected records (*.test.yml)");
  test_cmd->add_option("files", test.files, "test files (*.test.yml)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (*check_cmd) return CheckCommand(check);
  if (*run_cmd) return RunCommand(run);
  if (*explain_cmd) return ExplainCommand(explain);
  if (*savepoint_cmd) return SavepointCommand(savepoint);
  if (*test_cmd) return TestCommand(test);
  if (*ctl_cmd) {
    ctl.command = *ctl_status    ? "status"
                  : *ctl_deploy  ? "deploy"
                  : *ctl_alerts  ? "alerts"
                  : *ctl_savepoint ? "savepoint"
                                   : "";
    return CtlCommand(ctl);
  }
  return kExitUsage;
}
