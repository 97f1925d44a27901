#pragma once
// Assembles the output Records (language.md §8) of one rule, the same way for every rule kind
// (a pattern's matches and timeouts, `when`'s firing / resolved / nodata):
// - rule = the rule's name, stream = its stream's name, kind, time;
// - key = (partition field name, value) pairs in `partition by` order;
// - fields: a pattern's are its emit values (EvalEnv{captures, aggs of the match; locals =
//   partition values then the earlier emits}); a `when`'s are the triggering record's fields
//   by schema name, then its emit values (EvalEnv{fields = the record}), an emit whose name
//   equals a field replacing that field's value in place;
// - labels = alertname, the partition fields (Value::ToString), then the rule's labels
//   rendered with the env of the emits (a later name replaces an earlier one in place);
//   annotations = the rule's annotations rendered likewise (the binder rejects duplicates);
// - id = StableRecordId(rule, kind, key, Event::seq of the record's events, time);
// - destinations: a timeout goes to RuleDef::timeout_to when given, every other record to
//   RuleDef::to.
//
// Use: Start, then the fields (AddPatternEmits or AddRecordFields), AddLabels with the env
// of the emits, then Finish (id, route).
//
// Thread-compatible: one instance per operator (it keeps scratch buffers).
#include <cstdint>
#include <string>
#include <vector>

#include "cep/rule_set.h"
#include "core/event.h"
#include "core/schema.h"
#include "core/status.h"
#include "core/time.h"
#include "core/value.h"
#include "engine/operator/record_router.h"
#include "engine/record.h"

namespace vigil::engine {

class RecordBuilder {
 public:
  // `rule` must outlive the builder.
  RecordBuilder(const cep::RuleDef* rule, std::string stream_name)
      : rule_(rule), stream_name_(std::move(stream_name)) {}

  // Resets *r to a record of this rule: kind, time and key; no fields, labels or events.
  void Start(RecordKind kind, EventTime time, const std::vector<Value>& key, Record* r) const;

  // Pattern rules: appends the emit values, evaluated with *env (captures and aggs set by the
  // caller) and locals = `key` then the earlier emits; on return env->locals holds `key` and
  // every emit (the env of the labels), valid until the next call.
  void AddPatternEmits(const std::vector<Value>& key, cep::EvalEnv* env, Record* r);

  // `when` rules: appends the fields of `record` (by `schema`'s names, in schema order), then
  // the emit values evaluated with `env` (an emit named like a field replaces its value).
  void AddRecordFields(const Schema& schema, const Event& record, const cep::EvalEnv& env,
                       Record* r) const;

  // alertname, the partition fields, then the rule's labels; the annotations.
  void AddLabels(const std::vector<Value>& key, const cep::EvalEnv& env, Record* r) const;

  // Sets the id from the seqs of the record's events and routes the record to its
  // destinations. Errors: the router's.
  absl::Status Finish(const std::vector<uint64_t>& event_seqs, Record* r,
                      RecordRouter* router) const;

 private:
  const cep::RuleDef* rule_;
  std::string stream_name_;
  std::vector<Value> locals_;
};

}  // namespace vigil::engine
