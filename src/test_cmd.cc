// `vigil test FILE.test.yml...`: rule unit tests in the manner of `promtool test rules`
// (docs/language-notes.md, "Rule unit tests"). Each file names rules files and test cases;
// each case runs the rules in process over its input events on a virtual clock and compares
// the records (and dead letters) with the expected ones.
//
// Standard output: `PASS file: name` or `FAIL file:line: name` with expected-vs-produced
// details per case, then `N passed, M failed`. Standard error: rules diagnostics and malformed
// test files. Exit 0 when every case passes; 1 when one fails or the rules do not compile;
// 2 when a test file is malformed (reported with file:line:col; the other files still run).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "fmt/format.h"
#include "src/commands.h"
#include "src/testing/expectations.h"
#include "src/testing/run_in_process.h"
#include "src/testing/test_file.h"
#include "src/testing/test_inputs.h"
#include "src/testing/time_spec.h"

namespace vigil::app {

namespace {

using ruletest::Expectation;
using ruletest::MatchContext;

// A JSON line (a record or a dead letter) as a YAML node; a line that does not parse (never
// expected) is kept as {unparsed: LINE} so that it still shows up as unexpected.
YAML::Node ParseJson(const std::string& json) {
  try {
    YAML::Node n = YAML::Load(json);
    if (n.IsMap()) return n;
  } catch (const YAML::Exception&) {
  }
  YAML::Node n(YAML::NodeType::Map);
  n["unparsed"] = json;
  return n;
}

struct CaseReport {
  std::string text;  // the details under a FAIL line
  bool failed() const { return !text.empty(); }
};

// At most this many expectations, and as many produced items, are listed per case.
constexpr size_t kMaxListed = 20;

// Reports the expectations left unpaired (each with the closest produced item and how it
// differs) and the produced items left unpaired.
void ReportPairing(const char* what, const std::vector<Expectation>& expected,
                   const std::vector<YAML::Node>& got, const ruletest::Pairing& p,
                   const MatchContext& ctx, std::string* out) {
  std::vector<bool> shown(got.size(), false);
  if (!p.missing.empty()) {
    *out += fmt::format("  expected {}, not produced ({}):\n", what, p.missing.size());
    for (size_t n = 0; n < p.missing.size(); ++n) {
      if (n == kMaxListed) {
        *out += fmt::format("    ... and {} more\n", p.missing.size() - kMaxListed);
        break;
      }
      const Expectation& e = expected[p.missing[n]];
      *out += fmt::format("    - line {}: {}\n", e.pos.line, ruletest::RenderFlow(e.node));
      // The closest produced item: among the unpaired ones, else among all.
      const std::vector<size_t>* pool = &p.unexpected;
      std::vector<size_t> all;
      if (pool->empty()) {
        for (size_t j = 0; j < got.size(); ++j) all.push_back(j);
        pool = &all;
      }
      std::vector<std::string> best_diff;
      size_t best = got.size();
      for (size_t j : *pool) {
        std::vector<std::string> d = ruletest::Differences(e, got[j], ctx);
        if (best == got.size() || d.size() < best_diff.size()) {
          best = j;
          best_diff = std::move(d);
        }
      }
      if (best < got.size()) {
        *out += fmt::format("      closest produced: {}\n",
                            ruletest::RenderRecord(got[best], ctx.start_ms));
        shown[best] = true;
        for (const std::string& d : best_diff) *out += fmt::format("        {}\n", d);
      }
    }
  }
  if (!p.unexpected.empty()) {
    size_t above = 0;
    for (size_t j : p.unexpected) above += shown[j] ? 1 : 0;
    *out += fmt::format("  produced {}, not expected ({}{}):\n", what, p.unexpected.size(),
                        above > 0 ? fmt::format(", {} shown above as closest", above) : "");
    size_t listed = 0;
    for (size_t j : p.unexpected) {
      if (shown[j]) continue;
      if (listed++ == kMaxListed) {
        *out += fmt::format("    ... and {} more\n", p.unexpected.size() - above - kMaxListed);
        break;
      }
      *out += fmt::format("    - {}\n", ruletest::RenderRecord(got[j], ctx.start_ms));
    }
  }
}

CaseReport Compare(const ruletest::TestCase& tc, const ruletest::InProcessRun& run) {
  CaseReport report;
  std::vector<YAML::Node> records;
  for (const ruletest::CapturedRecord& r : run.records) {
    YAML::Node n = ParseJson(r.json);
    for (const std::string& d : r.destinations) n["sinks"].push_back(d);
    records.push_back(n);
  }
  std::vector<YAML::Node> dead;
  for (const std::string& line : run.dead_letters) dead.push_back(ParseJson(line));

  // Pairing compares every expectation with every produced item: bounded so that a case
  // that produces far more than it expects fails quickly instead of running for minutes.
  constexpr size_t kMaxComparisons = 1'000'000;
  if (tc.expect.size() * records.size() > kMaxComparisons ||
      tc.dead_letters.size() * dead.size() > kMaxComparisons) {
    report.text = fmt::format(
        "  too many to compare: {} records produced x {} expected, {} dead letters x {} "
        "expected (limit {} pairs); split the test case\n",
        records.size(), tc.expect.size(), dead.size(), tc.dead_letters.size(), kMaxComparisons);
    return report;
  }
  MatchContext ctx{tc.start_ms, false};
  ruletest::Pairing rp = ruletest::Pair(tc.expect, records, tc.ordered, ctx);
  ReportPairing("records", tc.expect, records, rp, ctx, &report.text);
  MatchContext dctx{tc.start_ms, true};
  ruletest::Pairing dp = ruletest::Pair(tc.dead_letters, dead, false, dctx);
  ReportPairing("dead letters", tc.dead_letters, dead, dp, dctx, &report.text);
  if (report.failed()) {
    report.text += fmt::format("  ({} record(s) produced, {} expected{})\n", records.size(),
                               tc.expect.size(), tc.ordered ? ", in order" : "");
    if (!run.log.empty()) {
      report.text += "  job log:\n";
      std::vector<std::string> lines = absl::StrSplit(run.log, '\n', absl::SkipEmpty());
      for (const std::string& line : lines) {
        report.text += fmt::format("    {}\n", line);
      }
    }
  }
  return report;
}

}  // namespace

int TestCommand(const TestOptions& opts) {
  if (opts.files.empty()) {
    std::fputs("vigil test: no test files given\n", stderr);
    return kExitUsage;
  }
  size_t passed = 0, failed = 0;
  bool malformed = false;
  for (const std::string& path : opts.files) {
    absl::StatusOr<ruletest::TestFile> file = ruletest::LoadTestFile(path);
    if (!file.ok()) {
      std::fprintf(stderr, "%s\n", std::string(file.status().message()).c_str());
      malformed = true;
      continue;
    }
    std::shared_ptr<const cep::RuleSet> rules = CompileReporting(file->rule_files);
    if (rules == nullptr) {
      std::printf(
          "FAIL %s: the rules files do not compile (diagnostics on standard error); "
          "%zu test case(s) not run\n",
          path.c_str(), file->tests.size());
      failed += file->tests.size();
      continue;
    }
    for (const ruletest::TestCase& tc : file->tests) {
      absl::StatusOr<std::vector<ruletest::StreamInput>> inputs =
          ruletest::BindTestCase(*file, tc, *rules);
      if (!inputs.ok()) {
        std::fprintf(stderr, "%s (test case '%s')\n",
                     std::string(inputs.status().message()).c_str(), tc.name.c_str());
        malformed = true;
        continue;
      }
      absl::StatusOr<ruletest::InProcessRun> run = ruletest::RunRulesOnEvents(rules, *inputs);
      std::string details;
      if (!run.ok()) {
        details = fmt::format("  the job failed: {}\n", std::string(run.status().message()));
      } else {
        details = Compare(tc, *run).text;
      }
      if (details.empty()) {
        ++passed;
        std::printf("PASS %s: %s\n", path.c_str(), tc.name.c_str());
      } else {
        ++failed;
        std::printf("FAIL %s:%d: %s\n%s", path.c_str(), tc.pos.line, tc.name.c_str(),
                    details.c_str());
      }
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  std::fflush(stdout);
  if (malformed) return kExitUsage;
  return failed > 0 ? kExitRulesError : kExitOk;
}

}  // namespace vigil::app
