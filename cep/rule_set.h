#pragma once
// A compiled, resolved, typed rule set: the binder's output (rules/) and the engine's input
// (engine/). Everything is resolved to indices and slots; nothing is looked up by name at run
// time. Immutable once built; shared read-only by all workers.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cep/connectors/connector_options.h"
#include "cep/expr/expr.h"
#include "cep/pattern.h"
#include "core/schema.h"
#include "core/time.h"

namespace vigil::cep {

struct SourceSpec {
  std::string kind;  // "" (none: bind with --input), "file", "stdin", "kafka"
  Options options;   // e.g. {"path", "txn.jsonl"}
};

struct StreamDef {
  std::string name;
  std::string file;  // the rules file that declares it (`from file(path)` is relative to it)
  Schema schema;
  int event_time_slot = -1;  // -1: processing time
  Duration out_of_order{0};
  std::optional<Duration> idle_after;
  std::vector<int> late_to;  // sink indices; empty: the dead-letter output
  SourceSpec source;
};

struct SinkDef {
  std::string name;
  std::string kind;  // "file", "stdout", "webhook", "alertmanager", "kafka"
  Options options;
};

enum class WindowAggFn : uint8_t {
  kCount,    // count()
  kCountOf,  // count(f): non-null
  kSum,
  kAvg,
  kMin,
  kMax,
  kFirst,
  kLast,
  kDistinct,  // distinct(f): count of distinct values
  kQuantile,  // quantile(q, f): exact
};

struct WindowAgg {
  WindowAggFn fn = WindowAggFn::kCount;
  ExprPtr arg;  // over the stream's fields; null for count()
  double q = 0;
  std::string name;
  Type type = Type::kNull;
};

// `window SIZE [slide S] compute ...`: one record per partition and window, whose schema is
// the partition fields, then the computed names, then window_start, window_end (timestamps).
struct WindowSpec {
  Duration size{0};
  Duration slide{0};  // == size for tumbling windows
  std::vector<WindowAgg> aggs;
  Schema record_schema;
};

struct WhenSpec {
  ExprPtr cond;  // over the record (window record, or the event without a window)
  std::optional<Duration> for_duration;
  std::optional<Duration> keep_firing_for;
  ExprPtr clear_when;
  std::optional<Duration> no_data_after;
};

struct EmitField {
  std::string name;
  ExprPtr expr;
};

struct RuleDef {
  std::string name;
  int stream = -1;
  ExprPtr where;                             // over the stream's fields; null: none
  std::vector<int> partition_slots;          // stream slots
  std::vector<std::string> partition_names;  // as written
  std::optional<WindowSpec> window;
  // A pattern over the stream's events, or over window records when `window` is set.
  std::optional<Pattern> pattern;
  std::optional<WhenSpec> when;
  // Pattern rules: evaluated on a complete (or timed-out) match with
  // EvalEnv{captures, aggs of the match; locals = partition values then earlier emit values}.
  // When rules: EvalEnv{fields = the record}.
  std::vector<EmitField> emit;
  std::vector<std::pair<std::string, Template>> labels;       // same env as emit, all emits
  std::vector<std::pair<std::string, Template>> annotations;  // same env as emit, all emits
  std::vector<int> to;  // sink indices; empty: the default output
  bool on_timeout = false;
  std::vector<int> timeout_to;  // empty with on_timeout: the rule's own destinations
  // Hash of the rule's canonical definition (and of the streams it reads): equal
  // fingerprints mean state can be carried across a restore.
  std::string fingerprint;
};

struct RuleSet {
  std::vector<StreamDef> streams;
  std::vector<SinkDef> sinks;
  std::vector<RuleDef> rules;

  int FindStream(std::string_view name) const {
    for (size_t i = 0; i < streams.size(); ++i)
      if (streams[i].name == name) return static_cast<int>(i);
    return -1;
  }
  int FindSink(std::string_view name) const {
    for (size_t i = 0; i < sinks.size(); ++i)
      if (sinks[i].name == name) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace vigil::cep
