// admin-demo-server: the gRPC admin API (admin/grpc_server.h) over a FakeJobView and a small
// JobControl that really compiles what is deployed, for tests/e2e/test_ctl.py (`vigil ctl`
// end to end) and for trying `vigil ctl` by hand until `vigil run --admin` serves a real job.
//
//   admin-demo-server [--listen HOST:PORT] [--rules FILE.vgl]... [--token-file F]
//                     [--tls-cert C --tls-key K] [--no-state]
//
// Compiles the rules (default: examples/card_testing/rules.vgl, found from the working
// directory), fills the view with plausible counters and one alert of the first rule firing for
// the key FIELD=4111 (FIELD: the rule's first partition field), prints "listening on HOST:PORT"
// on standard output, and serves until standard input ends or SIGINT/SIGTERM. Its JobControl:
// - Deploy compiles the files as `vigil check` does (same diagnostics, rendered by
//   rules::Render); when they compile, it classifies the rules by name and fingerprint
//   (unchanged, changed, added, removed), "applies" them at barrier 100, 101, ... and shows
//   them in the status from then on.
// - Alerts filters the firing alerts by rule and key (unknown rule: InvalidArgument); with a key
//   it answers that key's state (firing or not, and one open partial match).
// - Savepoint answers a path (nothing is written), or FailedPrecondition with --no-state.
// Exit codes: 0, 1 rules errors, 2 usage, 3 the server cannot start.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "admin/grpc_server.h"
#include "rules/compiler.h"
#include "tests/unit/admin/fake_job_view.h"

namespace {

using namespace vigil;
using namespace vigil::admin;

constexpr int64_t kBaseTime = 1714557600000;  // 2024-05-01T10:00:00Z

class DemoJobControl : public JobControl {
 public:
  DemoJobControl(testing::FakeJobView* view, bool state) : view_(view), state_(state) {}

  absl::StatusOr<DeployResult> Deploy(const std::vector<RulesFile>& files,
                                      std::chrono::milliseconds) override {
    std::vector<std::pair<std::string, std::string>> sources;
    for (const RulesFile& f : files) sources.emplace_back(f.name, f.text);
    rules::CompileResult compiled = rules::CompileSources(sources);
    DeployResult result;
    if (!compiled.ok()) {
      for (const rules::Diagnostic& d : compiled.diagnostics) {
        result.diagnostics += rules::Render(compiled.sources, d);
      }
      return result;
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, std::string> old;
    for (const cep::RuleDef& r : view_->Rules()->rules) old[r.name] = r.fingerprint;
    for (const cep::RuleDef& r : compiled.rule_set->rules) {
      auto it = old.find(r.name);
      if (it == old.end()) {
        result.added.push_back(r.name);
      } else {
        (it->second == r.fingerprint ? result.unchanged : result.changed).push_back(r.name);
        old.erase(it);
      }
    }
    for (const auto& [name, fingerprint] : old) result.removed.push_back(name);
    result.applied = true;
    result.barrier_id = next_barrier_++;
    view_->SetRules(compiled.rule_set);
    view_->SetStatus(testing::StatusFor(*compiled.rule_set, 48211, 2));
    return result;
  }

  absl::StatusOr<AlertsReply> Alerts(const AlertsQuery& q, std::chrono::milliseconds) override {
    std::shared_ptr<const cep::RuleSet> rules = view_->Rules();
    const cep::RuleDef* rule = nullptr;
    for (const cep::RuleDef& r : rules->rules) {
      if (r.name == q.rule) rule = &r;
    }
    if (!q.rule.empty() && rule == nullptr) {
      return absl::InvalidArgumentError("unknown rule '" + q.rule + "'");
    }
    if (!q.key.empty() && rule == nullptr) return absl::InvalidArgumentError("a key needs a rule");
    for (const auto& [field, value] : q.key) {
      const auto& names = rule->partition_names;
      if (std::find(names.begin(), names.end(), field) == names.end()) {
        return absl::InvalidArgumentError("rule '" + q.rule + "' is not partitioned by '" + field +
                                          "'");
      }
    }
    auto matches = [&](const FiringAlert& a) {
      if (!q.rule.empty() && a.rule != q.rule) return false;
      for (const auto& [field, value] : q.key) {
        bool found = false;
        for (const auto& [name, v] : a.key) found |= name == field && v.ToString() == value;
        if (!found) return false;
      }
      return true;
    };
    AlertsReply reply;
    for (const FiringAlert& a : view_->Firing(1u << 20).alerts) {
      if (!matches(a)) continue;
      ++reply.firing.total;
      if (reply.firing.alerts.size() < q.limit) reply.firing.alerts.push_back(a);
    }
    if (q.key.empty()) {
      for (const RuleStatus& r : view_->Status().rules) {
        if (q.rule.empty() || r.name == q.rule) reply.partial_matches += r.partial_matches;
      }
    } else {
      KeyState k;
      k.rule = q.rule;
      for (const auto& [field, value] : q.key) k.key.emplace_back(field, Value::String(value));
      k.firing = reply.firing.total > 0;
      if (k.firing) k.firing_since = reply.firing.alerts[0].since;
      k.partial_matches.push_back({EventTime(kBaseTime + 60000), {{"small", 1}, {"large", 0}}});
      reply.keys.push_back(std::move(k));
    }
    return reply;
  }

  absl::StatusOr<std::string> Savepoint(std::chrono::milliseconds) override {
    if (!state_) return absl::FailedPreconditionError("the job runs without --state");
    std::lock_guard<std::mutex> lock(mu_);
    return "/var/lib/vigil/savepoints/savepoint-" + std::to_string(next_savepoint_++);
  }

 private:
  testing::FakeJobView* view_;
  const bool state_;
  std::mutex mu_;
  uint64_t next_barrier_ = 100;
  int next_savepoint_ = 1;
};

int Usage() {
  std::fprintf(stderr,
               "usage: admin-demo-server [--listen HOST:PORT] [--rules FILE.vgl]... "
               "[--token-file F] [--tls-cert C --tls-key K] [--no-state]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> files;
  AdminServerOptions options;
  bool state = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--listen" && has_value) {
      listen = argv[++i];
    } else if (arg == "--rules" && has_value) {
      files.push_back(argv[++i]);
    } else if (arg == "--token-file" && has_value) {
      options.token_file = argv[++i];
    } else if (arg == "--tls-cert" && has_value) {
      options.tls_cert_file = argv[++i];
    } else if (arg == "--tls-key" && has_value) {
      options.tls_key_file = argv[++i];
    } else if (arg == "--no-state") {
      state = false;
    } else {
      return Usage();
    }
  }
  if (files.empty()) files.push_back("examples/card_testing/rules.vgl");
  rules::CompileResult compiled = rules::CompileFiles(files);
  if (!compiled.ok()) {
    for (const auto& d : compiled.diagnostics) {
      const std::string text = rules::Render(compiled.sources, d);
      std::fwrite(text.data(), 1, text.size(), stderr);
    }
    return 1;
  }

  testing::FakeJobView view(compiled.rule_set);
  view.SetStatus(testing::StatusFor(*compiled.rule_set, 48211, 2));
  if (!compiled.rule_set->rules.empty()) {
    const cep::RuleDef& first = compiled.rule_set->rules[0];
    FiringAlert a;
    a.rule = first.name;
    const std::string field = first.partition_names.empty() ? "key" : first.partition_names.front();
    a.key = {{field, Value::String("4111")}};
    a.labels = {{"alertname", first.name}, {"severity", "critical"}};
    a.annotations = {{"summary", "card 4111: 0.5 then 899"}};
    a.since = EventTime(kBaseTime + 420000);
    view.SetAlerts({a});
  }
  DemoJobControl control(&view, state);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = AdminServer::Start(listen, &view, &control, options);
  if (!server.ok()) {
    std::fprintf(stderr, "admin-demo-server: %s\n", std::string(server.status().message()).c_str());
    return 3;
  }
  std::printf("listening on %s\n", (*server)->address().c_str());
  std::fflush(stdout);

  std::thread waiter([&signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::_Exit(0);  // nothing worth a clean shutdown
  });
  waiter.detach();

  std::string line;
  while (std::getline(std::cin, line)) {
  }
  (*server)->Stop();
  return 0;
}
