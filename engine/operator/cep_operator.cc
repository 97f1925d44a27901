#include "engine/operator/cep_operator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "engine/record_id.h"

namespace vigil::engine {

namespace {

inline size_t Mix(size_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

size_t CepOperator::KeyHash::Hash(const char* p, size_t n) {
  // 64-bit FNV-1a over 8-byte words, then a murmur finaliser: keys are short.
  uint64_t h = 0xcbf29ce484222325ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * 0x100000001b3ULL;
  return Mix(h);
}

void CepOperator::EncodeValue(const Value& v, std::string* out) {
  out->push_back(static_cast<char>(v.type()));
  switch (v.type()) {
    case Type::kNull:
      return;
    case Type::kBool:
      out->push_back(v.as_bool() ? 1 : 0);
      return;
    case Type::kInt:
    case Type::kTimestamp: {
      int64_t i = v.as_int();
      out->append(reinterpret_cast<const char*>(&i), 8);
      return;
    }
    case Type::kFloat: {
      double d = v.as_float();
      if (d == 0) d = 0;                    // -0.0 == 0.0
      if (std::isnan(d)) d = std::nan("");  // one NaN
      out->append(reinterpret_cast<const char*>(&d), 8);
      return;
    }
    case Type::kString: {
      uint32_t n = static_cast<uint32_t>(v.as_string().size());
      out->append(reinterpret_cast<const char*>(&n), 4);
      out->append(v.as_string());
      return;
    }
  }
}

absl::StatusOr<std::unique_ptr<CepOperator>> CepOperator::Create(
    std::shared_ptr<const cep::RuleSet> rules, int rule_index, CepOperatorOptions options,
    RecordRouter* router) {
  const cep::RuleDef& rule = rules->rules[rule_index];
  if (rule.window || rule.when) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "': `window` and `when` are not supported yet"));
  }
  if (!rule.pattern) {
    return absl::InvalidArgumentError(absl::StrCat("rule '", rule.name, "' has no pattern"));
  }
  cep::NfaOptions nfa_options;
  nfa_options.report_timeouts = rule.on_timeout;
  nfa_options.max_partial_matches = options.max_partial_matches;
  auto nfa = cep::Nfa::Compile(*rule.pattern, nfa_options);
  if (!nfa.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "': ", nfa.status().message()));
  }
  return std::unique_ptr<CepOperator>(
      new CepOperator(std::move(rules), &rule, std::move(nfa).value(), router));
}

CepOperator::CepOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
                         std::shared_ptr<const cep::Nfa> nfa, RecordRouter* router)
    : rules_(std::move(rules)), rule_(rule), nfa_(std::move(nfa)), router_(router) {
  stream_name_ = rules_->streams[rule_->stream].name;
  within_ = rule_->pattern->within;
}

CepOperator::~CepOperator() = default;

CepOperatorStats CepOperator::stats() const {
  CepOperatorStats s = stats_;
  s.live_keys = index_.size();
  for (const KeyState& ks : keys_) {
    if (ks.live) s.dropped_partial_matches += nfa_->Stats(*ks.nfa).dropped_partial_matches;
  }
  return s;
}

uint32_t CepOperator::FindOrCreateKey(const Event& e) {
  key_buf_.clear();
  for (int s : rule_->partition_slots) EncodeValue(e.values[s], &key_buf_);
  auto it = index_.find(std::string_view(key_buf_));
  if (it != index_.end()) return it->second;
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(keys_.size());
    keys_.emplace_back();
  }
  KeyState& ks = keys_[slot];
  ks.key.clear();
  ks.key.reserve(rule_->partition_slots.size());
  for (int s : rule_->partition_slots) ks.key.push_back(e.values[s]);
  ks.encoded.assign(key_buf_.begin(), key_buf_.end());
  ks.nfa = nfa_->NewState();
  ks.live = true;
  ks.armed = false;
  index_.emplace(ks.encoded, slot);
  ++stats_.keys_created;
  return slot;
}

void CepOperator::FreeKey(uint32_t slot) {
  KeyState& ks = keys_[slot];
  stats_.dropped_partial_matches += nfa_->Stats(*ks.nfa).dropped_partial_matches;
  index_.erase(ks.encoded);
  ks.key.clear();
  ks.encoded.clear();
  ks.nfa.reset();
  ks.starts.Clear();
  ks.live = false;
  ks.armed = false;
  ++ks.generation;  // invalidates its timers
  free_slots_.push_back(slot);
}

void CepOperator::AfterStep(uint32_t slot, int64_t now) {
  KeyState& ks = keys_[slot];
  if (within_) {
    // Partial matches that started at or before now - within have expired by now.
    while (!ks.starts.empty() && (EventTime(ks.starts.front()) + *within_).ms <= now) {
      ks.starts.PopFront();
    }
  }
  if (nfa_->IsIdle(*ks.nfa)) {
    FreeKey(slot);
    return;
  }
  if (within_ && !ks.armed && !ks.starts.empty()) {
    timers_.push_back(Timer{(EventTime(ks.starts.front()) + *within_).ms, slot, ks.generation});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    ks.armed = true;
  }
}

absl::Status CepOperator::FireTimers(int64_t now) {
  while (!timers_.empty() && timers_.front().deadline <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    Timer t = timers_.back();
    timers_.pop_back();
    KeyState& ks = keys_[t.slot];
    if (!ks.live || ks.generation != t.generation) continue;
    ks.armed = false;
    ++stats_.timer_firings;
    results_.clear();
    nfa_->AdvanceTime(*ks.nfa, EventTime(t.deadline), &results_);
    VIGIL_RETURN_IF_ERROR(Emit(t.slot));
    AfterStep(t.slot, t.deadline);
  }
  return absl::OkStatus();
}

absl::Status CepOperator::Process(const EventPtr& e) {
  ++stats_.events;
  if (rule_->where) {
    cep::EvalEnv env;
    env.fields = e->values.data();
    if (!rule_->where->Test(env)) {
      ++stats_.filtered;
      return absl::OkStatus();
    }
  }
  if (!timers_.empty()) VIGIL_RETURN_IF_ERROR(FireTimers(e->time.ms));
  uint32_t slot = FindOrCreateKey(*e);
  KeyState& ks = keys_[slot];
  ks.starts.PushDistinct(e->time.ms);
  results_.clear();
  nfa_->Process(*ks.nfa, e, &results_);
  if (!results_.empty()) VIGIL_RETURN_IF_ERROR(Emit(slot));
  AfterStep(slot, e->time.ms);
  return absl::OkStatus();
}

absl::Status CepOperator::AdvanceWatermark(Watermark wm) {
  VIGIL_RETURN_IF_ERROR(FireTimers(wm.ms));
  if (wm != Watermark::Max()) return absl::OkStatus();
  // All inputs ended: close every window (rules without `within` included), in slot order
  // so that the output is deterministic.
  for (uint32_t slot = 0; slot < keys_.size(); ++slot) {
    if (!keys_[slot].live) continue;
    results_.clear();
    nfa_->AdvanceTime(*keys_[slot].nfa, EventTime::Max(), &results_);
    VIGIL_RETURN_IF_ERROR(Emit(slot));
    FreeKey(slot);
  }
  timers_.clear();
  return absl::OkStatus();
}

absl::Status CepOperator::Emit(uint32_t slot) {
  for (cep::MatchResult& m : results_) {
    VIGIL_RETURN_IF_ERROR(EmitOne(keys_[slot], m));
  }
  results_.clear();
  return absl::OkStatus();
}

absl::Status CepOperator::EmitOne(const KeyState& ks, cep::MatchResult& m) {
  const cep::RuleDef& rule = *rule_;
  const cep::Pattern& pattern = *rule.pattern;
  Record r;
  r.rule = rule.name;
  r.stream = stream_name_;
  bool timeout = m.kind == cep::MatchResult::Kind::kTimeout;
  r.kind = timeout ? RecordKind::kTimeout : RecordKind::kMatch;
  if (timeout) {
    ++stats_.timeouts;
  } else {
    ++stats_.matches;
  }
  r.time = m.time;
  r.key.reserve(ks.key.size());
  for (size_t i = 0; i < ks.key.size(); ++i) r.key.emplace_back(rule.partition_names[i], ks.key[i]);

  std::vector<uint64_t>& seqs = seqs_;
  seqs.clear();
  for (size_t v = 0; v < m.events.size() && v < pattern.vars.size(); ++v) {
    if (m.events[v].empty()) continue;
    for (const EventPtr& e : m.events[v]) seqs.push_back(e->seq);
    r.events.emplace_back(pattern.vars[v].name, std::move(m.events[v]));
  }

  // emit, labels, annotations: locals = partition values, then emits in order.
  locals_.assign(ks.key.begin(), ks.key.end());
  locals_.reserve(ks.key.size() + rule.emit.size());
  cep::EvalEnv env;
  env.captures = m.captures.data();
  env.aggs = m.aggs.data();
  for (const cep::EmitField& f : rule.emit) {
    env.locals = locals_.data();
    Value v = f.expr->Eval(env);
    r.fields.emplace_back(f.name, v);
    locals_.push_back(std::move(v));
  }
  env.locals = locals_.data();
  r.labels.emplace_back("alertname", rule.name);
  auto set_label = [&r](const std::string& name, std::string value) {
    for (auto& [k, v] : r.labels) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    r.labels.emplace_back(name, std::move(value));
  };
  for (size_t i = 0; i < ks.key.size(); ++i)
    set_label(rule.partition_names[i], ks.key[i].ToString());
  for (const auto& [name, tmpl] : rule.labels) set_label(name, tmpl.Render(env));
  for (const auto& [name, tmpl] : rule.annotations)
    r.annotations.emplace_back(name, tmpl.Render(env));

  r.id = StableRecordId(r.rule, r.kind, r.key, seqs, r.time);
  const std::vector<int>& dest = (timeout && !rule.timeout_to.empty()) ? rule.timeout_to : rule.to;
  return router_->Route(r, dest);
}

}  // namespace vigil::engine
