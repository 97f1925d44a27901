#pragma once
// Comparing what a run produced with what a test case expects.
//
// A produced record (or dead letter) is its JSON form parsed as YAML, plus `sinks` (where it
// went). An expectation matches it when every key it gives matches (a subset: keys it does not
// give are not compared), recursively through maps; lists must have the same length and match
// element by element. Special keys: `at:`/`time:` compare the record's `time`; `sinks:` is
// compared as a set; a dead letter's `reason:` matches when the reason contains it.
//
// Scalars: a produced string matches the same text (quoted or not in the test file); produced
// numbers match numbers within a relative 1e-9, and a timestamp (integer milliseconds) also
// matches `+5m` (an offset from the case's start) or an RFC 3339 string; bools match bools;
// null matches null (`~`, `null` or an empty value).
#include <string>
#include <vector>

#include "src/testing/test_file.h"
#include "yaml-cpp/yaml.h"

namespace vigil::ruletest {

struct MatchContext {
  int64_t start_ms = 0;
  bool dead_letters = false;  // `reason` matches by substring
};

// Why `got` does not satisfy `expected`: lines such as
// "fields.amount: expected 0.5, got 0.6"; empty when it does.
std::vector<std::string> Differences(const Expectation& expected, const YAML::Node& got,
                                     const MatchContext& ctx);

// Expected and produced items paired up. Unordered: a maximum matching (every expectation is
// paired with a distinct produced item it matches, as many as possible). Ordered: item i with
// item i. The rest are reported.
struct Pairing {
  std::vector<size_t> missing;     // indices of expectations left unpaired
  std::vector<size_t> unexpected;  // indices of produced items left unpaired
};
Pairing Pair(const std::vector<Expectation>& expected, const std::vector<YAML::Node>& got,
             bool ordered, const MatchContext& ctx);

// A produced record in the test file's terms, one line: {kind: match, rule: r, at: +2m,
// time: ..., key: {...}, fields: {...}, labels: {...}, annotations: {...}} (`id` and `events`
// left out; `sinks` shown unless it is just the default output).
std::string RenderRecord(const YAML::Node& got, int64_t start_ms);

}  // namespace vigil::ruletest
