#pragma once
// Binds a loaded test case to the compiled rules: checks the names it uses (streams, rules,
// sinks) and turns its input events into one JSON Lines input per stream.
#include <vector>

#include "cep/rule_set.h"
#include "core/status.h"
#include "src/testing/run_in_process.h"
#include "src/testing/test_file.h"

namespace vigil::ruletest {

// Every stream of the rule set gets an input (empty when the case lists no events for it), so
// every rule runs. An event of a stream with `event time F` gets F = its `at:`/`time:` (integer
// milliseconds) unless it sets F itself; it must do exactly one of the two. Errors
// (InvalidArgument, "path:line:col: error: message"): an unknown stream, rule or sink name; events
// for a processing-time stream (the virtual clock cannot drive arrival time); an event
// without a time or with two; a value JSON cannot hold.
absl::StatusOr<std::vector<StreamInput>> BindTestCase(const TestFile& file, const TestCase& tc,
                                                      const cep::RuleSet& rules);

}  // namespace vigil::ruletest
