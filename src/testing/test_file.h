#pragma once
// A `vigil test` file (docs/language-notes.md, "Rule unit tests"), loaded and checked for
// shape: rules files, test cases with input events per stream on a virtual clock, and the
// records (and dead letters) each case expects. Checks that need the compiled rules (stream
// and rule names, event-time fields) are in test_inputs.h.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "src/testing/yaml_values.h"
#include "yaml-cpp/yaml.h"

namespace vigil::ruletest {

struct InputEvent {
  YAML::Node event;                // a map (the event), or undefined for `raw`
  std::optional<std::string> raw;  // a line given verbatim (e.g. to test invalid input)
  std::optional<int64_t> time;     // absolute ms: `time:`, or start + `at:`
  Pos pos;
};

struct StreamEvents {
  std::string stream;
  Pos pos;
  std::vector<InputEvent> events;  // in arrival order (as listed)
};

// An expected record or dead letter: a subset of its JSON form (language.md §8,
// engine/io/dead_letter.h), with `at:`/`time:` resolved to an absolute time.
struct Expectation {
  YAML::Node node;              // the map as written
  std::optional<int64_t> time;  // compared with the record's `time`
  Pos pos;
};

struct TestCase {
  std::string name;
  Pos pos;
  int64_t start_ms = 0;
  std::vector<StreamEvents> inputs;
  std::vector<Expectation> expect;
  bool ordered = false;
  // Without `dead_letters:` a case expects none; with it, exactly those listed.
  std::vector<Expectation> dead_letters;
};

struct TestFile {
  std::string path;
  std::vector<std::string> rule_files;  // resolved against the test file's directory
  std::vector<TestCase> tests;
};

// Reads and checks `path`. Errors (InvalidArgument, NotFound) carry "path:line:col: error: ..."
// for malformed YAML, unknown keys, wrong shapes and malformed times.
absl::StatusOr<TestFile> LoadTestFile(const std::string& path);

// "path:line:col: error: message", compiler style (the position omitted when unknown).
std::string Located(const std::string& path, Pos pos, const std::string& message);

}  // namespace vigil::ruletest
