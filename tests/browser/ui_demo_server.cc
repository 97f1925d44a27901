// ui-demo-server: the dashboard (admin/ui_server.h) over a FakeJobView, for the browser test
// (tests/browser/dashboard.test.mjs) and for looking at the page by hand until `vigil run --ui`
// serves a real job.
//
//   ui-demo-server [--listen HOST:PORT] [--rules FILE.vgl]...
//
// Compiles the rules (default: examples/card_testing/rules.vgl, found from the working
// directory), fills the view with plausible counters and a few match records, prints
// "listening on URL" on standard output, then reads commands from standard input, one a line:
//   fire RULE FIELD=VALUE [SUMMARY...]   an alert of RULE for that key starts firing
//   resolve RULE                         every alert of RULE stops firing
//   record JSON                          a record enters the tap (recent records)
//   count RULE EVENTS MATCHES            sets a rule's counters
// and exits when standard input ends or on SIGINT/SIGTERM. Exit codes: 0, 1 rules errors,
// 2 usage, 3 the address cannot be listened on.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "admin/ui_server.h"
#include "rules/compiler.h"
#include "tests/unit/admin/fake_job_view.h"

namespace {

using vigil::admin::FiringAlert;
using vigil::admin::JobStatus;
using vigil::admin::testing::FakeJobView;

constexpr int64_t kBaseTime = 1714557600000;  // 2024-05-01T10:00:00Z

std::string MatchRecord(const std::string& card, int i) {
  const int64_t t = kBaseTime + 60000LL * i;
  return R"({"id": ")" + std::to_string(100000 + i) +
         R"(", "rule": "card_testing", "kind": "match", "key": {"card": ")" + card +
         R"("}, "time": )" + std::to_string(t) + R"(, "events": {"small": [{"card": ")" + card +
         R"(", "amount": 0.5, "merchant": "donate.example"}], "large": [{"card": ")" + card +
         R"(", "amount": 899.0, "merchant": "electronics"}]}, "fields": {"small_amount": 0.5, "large_amount": 899.0}, "labels": {"alertname": "card_testing", "card": ")" +
         card +
         R"(", "severity": "critical", "team": "fraud"}, "annotations": {"summary": "card )" +
         card + R"(: 0.5 at donate.example, then 899 at electronics"}})";
}

void Command(const std::string& line, FakeJobView* view) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  if (verb == "fire") {
    std::string rule, kv;
    in >> rule >> kv;
    std::string summary;
    std::getline(in, summary);
    if (!summary.empty() && summary[0] == ' ') summary.erase(0, 1);
    const size_t eq = kv.find('=');
    if (rule.empty() || eq == std::string::npos) {
      std::fprintf(stderr, "ui-demo-server: usage: fire RULE FIELD=VALUE [SUMMARY]\n");
      return;
    }
    FiringAlert a;
    a.rule = rule;
    a.key = {{kv.substr(0, eq), vigil::Value::String(kv.substr(eq + 1))}};
    a.labels = {
        {"alertname", rule}, {kv.substr(0, eq), kv.substr(eq + 1)}, {"severity", "critical"}};
    a.annotations = {{"summary", summary}};
    a.since = vigil::EventTime(kBaseTime + 420000);
    std::vector<FiringAlert> alerts = view->AllAlerts();
    alerts.push_back(std::move(a));
    view->SetAlerts(std::move(alerts));
    JobStatus s = view->Status();
    for (auto& r : s.rules) r.firing += r.name == rule;
    view->SetStatus(std::move(s));
  } else if (verb == "resolve") {
    std::string rule;
    in >> rule;
    std::vector<FiringAlert> alerts = view->AllAlerts();
    std::erase_if(alerts, [&](const FiringAlert& a) { return a.rule == rule; });
    view->SetAlerts(std::move(alerts));
    JobStatus s = view->Status();
    for (auto& r : s.rules) {
      if (r.name == rule) r.firing = 0;
    }
    view->SetStatus(std::move(s));
  } else if (verb == "record") {
    std::string json;
    std::getline(in, json);
    view->tap().Offer(json);
  } else if (verb == "count") {
    std::string rule;
    uint64_t events = 0, matches = 0;
    in >> rule >> events >> matches;
    JobStatus s = view->Status();
    for (auto& r : s.rules) {
      if (r.name == rule) {
        r.events = events;
        r.matches = matches;
      }
    }
    view->SetStatus(std::move(s));
  } else if (!verb.empty()) {
    std::fprintf(stderr, "ui-demo-server: unknown command '%s'\n", verb.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--rules" && i + 1 < argc) {
      files.push_back(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: ui-demo-server [--listen HOST:PORT] [--rules FILE.vgl]...\n");
      return 2;
    }
  }
  if (files.empty()) files.push_back("examples/card_testing/rules.vgl");
  vigil::rules::CompileResult compiled = vigil::rules::CompileFiles(files);
  if (!compiled.ok()) {
    for (const auto& d : compiled.diagnostics) {
      std::fprintf(stderr, "ui-demo-server: %s\n", d.message.c_str());
    }
    return 1;
  }

  FakeJobView view(compiled.rule_set);
  view.SetStatus(vigil::admin::testing::StatusFor(*compiled.rule_set, 48211, 2));
  view.tap().Offer(MatchRecord("5500", 0));
  view.tap().Offer(MatchRecord("6011", 3));

  // Signals are taken synchronously by a thread that closes standard input's reader.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = vigil::admin::UiServer::Start(listen, &view);
  if (!server.ok()) {
    std::fprintf(stderr, "ui-demo-server: %s\n", std::string(server.status().message()).c_str());
    return 3;
  }
  std::printf("listening on %s\n", (*server)->url().c_str());
  std::fflush(stdout);

  std::thread waiter([&signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::_Exit(0);  // the server holds no state worth a clean shutdown
  });
  waiter.detach();

  std::string line;
  while (std::getline(std::cin, line)) Command(line, &view);
  (*server)->Stop();
  return 0;
}
