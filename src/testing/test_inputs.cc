#include "src/testing/test_inputs.h"

#include <string>
#include <utility>

#include "fmt/format.h"

namespace vigil::ruletest {

namespace {

absl::Status ErrorAt(const TestFile& file, Pos pos, const std::string& message) {
  return absl::InvalidArgumentError(Located(file.path, pos, message));
}

std::string Names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// The node at `path` inside `event` (undefined when any component is missing).
YAML::Node FindPath(const YAML::Node& event, const std::vector<std::string>& path) {
  YAML::Node cur = event;
  for (const std::string& part : path) {
    if (!cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node next = std::as_const(cur)[part];  // const lookup: never inserts
    if (!next.IsDefined()) return next;
    cur.reset(next);
  }
  return cur;
}

// A copy of `event` with `path` set to the integer `ms` (intermediate maps created).
absl::StatusOr<YAML::Node> WithTime(const YAML::Node& event, const std::vector<std::string>& path,
                                    int64_t ms) {
  YAML::Node copy = YAML::Clone(event);
  YAML::Node cur = copy;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    YAML::Node next = cur[path[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cur[path[i]] = YAML::Node(YAML::NodeType::Map);
      next.reset(cur[path[i]]);
    } else if (!next.IsMap()) {
      return absl::InvalidArgumentError(fmt::format(
          "event: '{}' is not a map, so the event-time field cannot go inside it", path[i]));
    }
    cur.reset(next);
  }
  cur[path.back()] = std::to_string(ms);
  return copy;
}

absl::Status CheckExpectationNames(const TestFile& file, const std::vector<Expectation>& expect,
                                   const cep::RuleSet& rules) {
  std::vector<std::string> rule_names, stream_names, sink_names{"default"};
  for (const cep::RuleDef& r : rules.rules) rule_names.push_back(r.name);
  for (const cep::StreamDef& s : rules.streams) stream_names.push_back(s.name);
  for (const cep::SinkDef& s : rules.sinks) sink_names.push_back(s.name);
  auto known = [](const std::vector<std::string>& names, const std::string& n) {
    for (const std::string& k : names) {
      if (k == n) return true;
    }
    return false;
  };
  for (const Expectation& e : expect) {
    const YAML::Node rule = e.node["rule"];
    if (rule.IsDefined() && !known(rule_names, rule.Scalar())) {
      return ErrorAt(file, PosOf(rule),
                     fmt::format("rule: no rule '{}' in the rules files (rules: {})", rule.Scalar(),
                                 Names(rule_names)));
    }
    const YAML::Node stream = e.node["stream"];
    if (stream.IsDefined() && !known(stream_names, stream.Scalar())) {
      return ErrorAt(file, PosOf(stream),
                     fmt::format("stream: no stream '{}' in the rules files (streams: {})",
                                 stream.Scalar(), Names(stream_names)));
    }
    const YAML::Node sinks = e.node["sinks"];
    if (sinks.IsDefined()) {
      for (const YAML::Node& s : sinks) {
        if (!known(sink_names, s.Scalar())) {
          return ErrorAt(file, PosOf(s),
                         fmt::format("sinks: no sink '{}' (sinks: {}; `default` is the default "
                                     "output of rules without `to`)",
                                     s.Scalar(), Names(sink_names)));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<StreamInput>> BindTestCase(const TestFile& file, const TestCase& tc,
                                                      const cep::RuleSet& rules) {
  VIGIL_RETURN_IF_ERROR(CheckExpectationNames(file, tc.expect, rules));
  VIGIL_RETURN_IF_ERROR(CheckExpectationNames(file, tc.dead_letters, rules));
  std::vector<StreamInput> inputs(rules.streams.size());
  for (size_t s = 0; s < rules.streams.size(); ++s) inputs[s].stream = static_cast<int>(s);

  for (const StreamEvents& se : tc.inputs) {
    int s = rules.FindStream(se.stream);
    if (s < 0) {
      std::vector<std::string> names;
      for (const cep::StreamDef& d : rules.streams) names.push_back(d.name);
      return ErrorAt(file, se.pos,
                     fmt::format("input: no stream '{}' in the rules files (streams: {})",
                                 se.stream, Names(names)));
    }
    const cep::StreamDef& def = rules.streams[s];
    if (def.event_time_slot < 0 && !se.events.empty()) {
      return ErrorAt(file, se.pos,
                     fmt::format("input: stream '{}' has no `event time`: its events are timed by "
                                 "the wall clock when they arrive, which a test cannot replay; "
                                 "declare `event time FIELD` to test rules on it",
                                 se.stream));
    }
    std::string& jsonl = inputs[s].jsonl;
    for (const InputEvent& e : se.events) {
      if (e.raw) {
        jsonl += *e.raw + "\n";
        continue;
      }
      const FieldDef& time_field = def.schema.field(def.event_time_slot);
      YAML::Node own = FindPath(e.event, time_field.path);
      YAML::Node event = e.event;
      if (own.IsDefined() && e.time) {
        return ErrorAt(file, e.pos,
                       fmt::format("input event: it sets its event-time field '{}' and has "
                                   "`at:`/`time:` too; give one of them",
                                   time_field.name));
      }
      if (!own.IsDefined()) {
        if (!e.time) {
          return ErrorAt(file, e.pos,
                         fmt::format("input event: no time: give `at:` (offset from start), "
                                     "`time:` or the event-time field '{}'",
                                     time_field.name));
        }
        absl::StatusOr<YAML::Node> timed = WithTime(e.event, time_field.path, *e.time);
        if (!timed.ok()) return ErrorAt(file, e.pos, std::string(timed.status().message()));
        event.reset(*timed);  // rebind: `=` would overwrite the shared original
      }
      // Checked on the event as written, whose nodes know their positions (the copy made to
      // add the time field does not).
      YAML::Node bad;
      std::string line;
      if (!AppendYamlAsJson(e.event, &line, &bad)) {
        return ErrorAt(file, PosOf(bad),
                       "event: a map key must be a name, and numbers must be finite (JSON has "
                       "no .inf or .nan)");
      }
      if (!event.is(e.event)) {
        line.clear();
        AppendYamlAsJson(event, &line, &bad);
      }
      jsonl += line;
      jsonl += "\n";
    }
  }
  return inputs;
}

}  // namespace vigil::ruletest
