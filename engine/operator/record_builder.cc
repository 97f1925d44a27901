#include "engine/operator/record_builder.h"

#include <algorithm>
#include <utility>

#include "engine/record_id.h"

namespace vigil::engine {
namespace {

// Replaces the value of the pair named `name`, or appends one.
template <typename V>
void SetNamed(std::vector<std::pair<std::string, V>>* kvs, const std::string& name, V value) {
  for (auto& [k, v] : *kvs) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  kvs->emplace_back(name, std::move(value));
}

}  // namespace

void RecordBuilder::Start(RecordKind kind, EventTime time, const std::vector<Value>& key,
                          Record* r) const {
  r->rule = rule_->name;
  r->stream = stream_name_;
  r->kind = kind;
  r->time = time;
  r->key.clear();
  r->key.reserve(key.size());
  for (size_t i = 0; i < key.size(); ++i) r->key.emplace_back(rule_->partition_names[i], key[i]);
  r->events.clear();
  r->fields.clear();
  r->labels.clear();
  r->annotations.clear();
}

void RecordBuilder::AddPatternEmits(const std::vector<Value>& key, cep::EvalEnv* env,
                                    Record* r) {
  locals_.assign(key.begin(), key.end());
  locals_.reserve(key.size() + rule_->emit.size());
  r->fields.reserve(r->fields.size() + rule_->emit.size());
  for (const cep::EmitField& f : rule_->emit) {
    env->locals = locals_.data();
    Value v = f.expr->Eval(*env);
    r->fields.emplace_back(f.name, v);
    locals_.push_back(std::move(v));
  }
  env->locals = locals_.data();
}

void RecordBuilder::AddRecordFields(const Schema& schema, const Event& record,
                                    const cep::EvalEnv& env, Record* r) const {
  const auto& fields = schema.fields();
  r->fields.reserve(r->fields.size() + fields.size() + rule_->emit.size());
  for (size_t i = 0; i < fields.size() && i < record.values.size(); ++i) {
    r->fields.emplace_back(fields[i].name, record.values[i]);
  }
  for (const cep::EmitField& f : rule_->emit) SetNamed(&r->fields, f.name, f.expr->Eval(env));
}

void RecordBuilder::AddLabels(const std::vector<Value>& key, const cep::EvalEnv& env,
                              Record* r) const {
  r->labels.emplace_back("alertname", rule_->name);
  for (size_t i = 0; i < key.size(); ++i) {
    SetNamed(&r->labels, rule_->partition_names[i], key[i].ToString());
  }
  for (const auto& [name, tmpl] : rule_->labels) SetNamed(&r->labels, name, tmpl.Render(env));
  r->annotations.reserve(rule_->annotations.size());
  for (const auto& [name, tmpl] : rule_->annotations) {
    r->annotations.emplace_back(name, tmpl.Render(env));
  }
}

absl::Status RecordBuilder::Finish(const std::vector<uint64_t>& event_seqs, Record* r,
                                   RecordRouter* router) const {
  r->id = StableRecordId(r->rule, r->kind, r->key, event_seqs, r->time);
  const bool timeout = r->kind == RecordKind::kTimeout;
  const std::vector<int>& dest =
      (timeout && !rule_->timeout_to.empty()) ? rule_->timeout_to : rule_->to;
  return router->Route(*r, dest);
}

}  // namespace vigil::engine
