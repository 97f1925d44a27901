#include "src/testing/test_file.h"

#include <filesystem>
#include <set>
#include <string_view>

#include "absl/strings/str_join.h"
#include "fmt/format.h"
#include "src/testing/time_spec.h"

namespace vigil::ruletest {

namespace {

constexpr const char* kRecordKinds[] = {"match", "timeout", "firing", "resolved", "nodata", "late"};
constexpr const char* kDeadLetterKinds[] = {"invalid", "late"};

// Thrown inside the loader only (never escapes LoadTestFile): keeps the shape checks linear.
struct LoadError {
  Pos pos;
  std::string message;
};

[[noreturn]] void Fail(const YAML::Node& at, std::string message) {
  throw LoadError{PosOf(at), std::move(message)};
}

std::string Describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  return "'" + n.Scalar() + "'";
}

// A map whose keys are all in `allowed` (and none twice).
void CheckKeys(const YAML::Node& map, const char* what,
               std::initializer_list<const char*> allowed) {
  if (!map.IsMap()) Fail(map, fmt::format("{}: expected a map, got {}", what, Describe(map)));
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) Fail(it->first, fmt::format("{}: keys must be names", what));
    const std::string& key = it->first.Scalar();
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      Fail(it->first, fmt::format("{}: unknown key '{}' (expected one of: {})", what, key,
                                  absl::StrJoin(allowed, ", ")));
    }
    if (!seen.insert(key).second) Fail(it->first, fmt::format("{}: '{}' given twice", what, key));
  }
}

std::string ScalarOf(const YAML::Node& n, const char* what) {
  if (!n.IsScalar()) Fail(n, fmt::format("{}: expected a value, got {}", what, Describe(n)));
  return n.Scalar();
}

bool BoolOf(const YAML::Node& n, const char* what) {
  if (n.IsScalar() && KindOf(n) == ScalarKind::kBool) {
    char c = n.Scalar()[0];
    return c == 't' || c == 'T';
  }
  Fail(n, fmt::format("{}: expected true or false, got {}", what, Describe(n)));
}

std::vector<YAML::Node> ListOf(const YAML::Node& n, const char* what) {
  std::vector<YAML::Node> out;
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsSequence()) Fail(n, fmt::format("{}: expected a list, got {}", what, Describe(n)));
  for (const YAML::Node& item : n) out.push_back(item);
  return out;
}

int64_t AbsoluteOf(const YAML::Node& n, const char* what) {
  std::string text = ScalarOf(n, what);
  std::optional<int64_t> t = ParseAbsoluteTime(text);
  if (!t) {
    Fail(n, fmt::format("{}: '{}' is not a time: expected RFC 3339 (2024-05-01T10:00:00Z) or "
                        "milliseconds since the epoch",
                        what, text));
  }
  return *t;
}

int64_t OffsetOf(const YAML::Node& n, const char* what) {
  std::string text = ScalarOf(n, what);
  std::optional<int64_t> t = ParseOffset(text);
  if (!t) {
    Fail(n, fmt::format("{}: '{}' is not an offset: expected a duration from the start such "
                        "as +0s, +90s, +5m, +1h30m",
                        what, text));
  }
  return *t;
}

// `at:` (an offset from start) or `time:` (absolute), at most one of them.
std::optional<int64_t> TimeOf(const YAML::Node& map, int64_t start_ms, const char* what) {
  const YAML::Node at = map["at"];
  const YAML::Node time = map["time"];
  if (at.IsDefined() && time.IsDefined()) {
    Fail(time,
         fmt::format("{}: give `at:` (offset from start) or `time:` (absolute), not both", what));
  }
  if (at.IsDefined()) return start_ms + OffsetOf(at, what);
  if (time.IsDefined()) return AbsoluteOf(time, what);
  return std::nullopt;
}

void CheckStringMap(const YAML::Node& n, const std::string& what) {
  if (!n.IsMap()) Fail(n, fmt::format("{}: expected a map, got {}", what, Describe(n)));
}

Expectation LoadRecordExpectation(const YAML::Node& n, int64_t start_ms) {
  CheckKeys(n, "expected record",
            {"rule", "kind", "stream", "id", "at", "time", "key", "fields", "labels", "annotations",
             "events", "sinks"});
  for (const char* name : {"rule", "stream", "id"}) {
    if (n[name].IsDefined()) ScalarOf(n[name], name);
  }
  if (n["kind"].IsDefined()) {
    std::string kind = ScalarOf(n["kind"], "kind");
    bool known = false;
    for (const char* k : kRecordKinds) known = known || kind == k;
    if (!known) {
      Fail(n["kind"], fmt::format("kind: unknown record kind '{}' (expected one of: {})", kind,
                                  absl::StrJoin(kRecordKinds, ", ")));
    }
  }
  for (const char* name : {"key", "fields", "labels", "annotations", "events"}) {
    if (n[name].IsDefined()) CheckStringMap(n[name], name);
  }
  if (n["events"].IsDefined()) {
    for (auto it = n["events"].begin(); it != n["events"].end(); ++it) {
      for (const YAML::Node& e : ListOf(it->second, "events: each variable")) {
        if (!e.IsMap()) Fail(e, "events: each event is a map of the fields to compare");
      }
    }
  }
  if (n["sinks"].IsDefined()) {
    for (const YAML::Node& s : ListOf(n["sinks"], "sinks")) ScalarOf(s, "sinks");
  }
  return Expectation{n, TimeOf(n, start_ms, "expected record"), PosOf(n)};
}

Expectation LoadDeadLetterExpectation(const YAML::Node& n, int64_t start_ms) {
  CheckKeys(n, "expected dead letter",
            {"kind", "stream", "reason", "line", "input", "at", "time", "watermark", "event"});
  if (n["kind"].IsDefined()) {
    std::string kind = ScalarOf(n["kind"], "kind");
    if (kind != kDeadLetterKinds[0] && kind != kDeadLetterKinds[1]) {
      Fail(n["kind"], fmt::format("kind: a dead letter is 'invalid' or 'late', not '{}'", kind));
    }
  }
  for (const char* name : {"stream", "reason", "line", "input", "watermark"}) {
    if (n[name].IsDefined()) ScalarOf(n[name], name);
  }
  if (n["event"].IsDefined()) CheckStringMap(n["event"], "event");
  return Expectation{n, TimeOf(n, start_ms, "expected dead letter"), PosOf(n)};
}

InputEvent LoadInputEvent(const YAML::Node& n, int64_t start_ms) {
  CheckKeys(n, "input event", {"at", "time", "event", "raw"});
  InputEvent e;
  e.pos = PosOf(n);
  e.time = TimeOf(n, start_ms, "input event");
  const YAML::Node event = n["event"];
  const YAML::Node raw = n["raw"];
  if (event.IsDefined() == raw.IsDefined()) {
    Fail(n, "input event: give `event:` (a map of fields) or `raw:` (a line as is), one of them");
  }
  if (event.IsDefined()) {
    if (!event.IsMap()) {
      Fail(event, fmt::format("event: expected a map of fields, got {}", Describe(event)));
    }
    e.event.reset(event);
  } else {
    e.raw = ScalarOf(raw, "raw");
    if (e.raw->find('\n') != std::string::npos) Fail(raw, "raw: one line only");
    if (e.time) Fail(n, "raw: a raw line carries its own time; drop `at:`/`time:`");
  }
  return e;
}

TestCase LoadTestCase(const YAML::Node& n, size_t index, int64_t file_start) {
  CheckKeys(n, "test", {"name", "start", "input", "expect", "ordered", "dead_letters"});
  TestCase tc;
  tc.pos = PosOf(n);
  tc.name = n["name"].IsDefined() ? ScalarOf(n["name"], "name") : fmt::format("#{}", index + 1);
  tc.start_ms = n["start"].IsDefined() ? AbsoluteOf(n["start"], "start") : file_start;
  if (n["ordered"].IsDefined()) tc.ordered = BoolOf(n["ordered"], "ordered");
  const YAML::Node input = n["input"];
  if (input.IsDefined() && !input.IsNull()) {
    if (!input.IsMap()) {
      Fail(input,
           fmt::format("input: expected a map of stream name to events, got {}", Describe(input)));
    }
    for (auto it = input.begin(); it != input.end(); ++it) {
      StreamEvents s;
      s.stream = ScalarOf(it->first, "input: stream name");
      s.pos = PosOf(it->first);
      for (const StreamEvents& other : tc.inputs) {
        if (other.stream == s.stream) Fail(it->first, "input: stream '" + s.stream + "' twice");
      }
      for (const YAML::Node& e : ListOf(it->second, "input: a stream's events")) {
        s.events.push_back(LoadInputEvent(e, tc.start_ms));
      }
      tc.inputs.push_back(std::move(s));
    }
  }
  for (const YAML::Node& e : ListOf(n["expect"], "expect")) {
    tc.expect.push_back(LoadRecordExpectation(e, tc.start_ms));
  }
  for (const YAML::Node& e : ListOf(n["dead_letters"], "dead_letters")) {
    tc.dead_letters.push_back(LoadDeadLetterExpectation(e, tc.start_ms));
  }
  return tc;
}

TestFile LoadRoot(const YAML::Node& root, const std::string& path) {
  if (!root.IsDefined() || root.IsNull()) Fail(root, "the file is empty");
  CheckKeys(root, "test file", {"rule_files", "start", "tests"});
  TestFile f;
  f.path = path;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::vector<YAML::Node> files = ListOf(root["rule_files"], "rule_files");
  if (files.empty()) Fail(root, "rule_files: list the rules files to test (relative to this file)");
  for (const YAML::Node& r : files) {
    std::filesystem::path p = ScalarOf(r, "rule_files");
    f.rule_files.push_back(p.is_relative() && !dir.empty() ? (dir / p).string() : p.string());
  }
  int64_t start = root["start"].IsDefined() ? AbsoluteOf(root["start"], "start") : 0;
  std::vector<YAML::Node> tests = ListOf(root["tests"], "tests");
  if (tests.empty()) Fail(root, "tests: no test cases");
  for (size_t i = 0; i < tests.size(); ++i) f.tests.push_back(LoadTestCase(tests[i], i, start));
  return f;
}

}  // namespace

std::string Located(const std::string& path, Pos pos, const std::string& message) {
  if (pos.line == 0) return fmt::format("{}: error: {}", path, message);
  return fmt::format("{}:{}:{}: error: {}", path, pos.line, pos.col, message);
}

absl::StatusOr<TestFile> LoadTestFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(Located(path, {}, "cannot read the test file (no such file)"));
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(
        Located(path, Pos{e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(Located(path, {}, "cannot read the test file: " + e.msg));
  }
  try {
    return LoadRoot(root, path);
  } catch (const LoadError& e) {
    return absl::InvalidArgumentError(Located(path, e.pos, e.message));
  } catch (const YAML::Exception& e) {  // not expected: every access above is checked
    return absl::InvalidArgumentError(
        Located(path, Pos{e.mark.line + 1, e.mark.column + 1}, e.msg));
  }
}

}  // namespace vigil::ruletest
