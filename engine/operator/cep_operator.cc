#include "engine/operator/cep_operator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/codec.h"

namespace vigil::engine {

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

namespace {
KeyedStateOptions KeysOptions(const cep::RuleDef& rule) {
  KeyedStateOptions o;
  o.key_slots = rule.partition_slots;
  o.format = CepOperator::kSnapshotVersion;
  o.name = absl::StrCat("rule '", rule.name, "': snapshot of a key");
  return o;
}
}  // namespace

CepOperator::CepOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
                         std::shared_ptr<const cep::Nfa> nfa, RecordRouter* router)
    : rules_(std::move(rules)),
      rule_(rule),
      nfa_(std::move(nfa)),
      router_(router),
      builder_(rule, rules_->streams[rule->stream].name),
      keys_(KeysOptions(*rule)) {}

CepOperator::~CepOperator() = default;

OperatorStats CepOperator::stats() const {
  OperatorStats s;
  s.events = events_;
  s.filtered = filtered_;
  s.matches = matches_;
  s.timeouts = timeouts_;
  s.live_keys = keys_.size();
  s.dropped_partial_matches = freed_dropped_;
  s.state_bytes = keys_.ApproxBytes();
  keys_.ForEachLive([&](uint32_t slot) {
    const cep::NfaStateStats n = nfa_->Stats(*keys_.state(slot).nfa);
    s.partial_matches += n.partial_matches;
    s.dropped_partial_matches += n.dropped_partial_matches;
    s.state_bytes += n.approx_bytes + keys_.KeyBytes(slot);
  });
  return s;
}

void CepOperator::FreeKey(uint32_t slot) {
  std::unique_ptr<cep::NfaState>& nfa = keys_.state(slot).nfa;
  const uint64_t dropped = nfa_->Stats(*nfa).dropped_partial_matches;
  freed_dropped_ += dropped;
  // An idle state is as good as new unless it counted drops.
  if (spare_ == nullptr && dropped == 0) spare_ = std::move(nfa);
  keys_.Free(slot);
}

void CepOperator::AfterStep(uint32_t slot) {
  const cep::NfaState& nfa = *keys_.state(slot).nfa;
  if (nfa_->IsIdle(nfa)) {
    FreeKey(slot);
    return;
  }
  // The deadline only moves later while the key lives: the entry already in the heap then
  // stays (FireTimers re-arms it); a new or earlier deadline needs an entry.
  std::optional<EventTime> d = nfa_->NextDeadline(nfa);
  if (d) keys_.ArmTimer(slot, d->ms);
}

absl::Status CepOperator::FireTimers(int64_t now) {
  uint32_t slot;
  int64_t deadline;
  while (keys_.PopDueTimer(now, &slot, &deadline)) {
    cep::NfaState& nfa = *keys_.state(slot).nfa;
    std::optional<EventTime> d = nfa_->NextDeadline(nfa);
    if (!d) continue;
    if (d->ms > deadline) {  // the deadline moved later: re-arm, nothing expires yet
      keys_.ArmTimer(slot, d->ms);
      continue;
    }
    ++timer_firings_;
    keys_.MarkDirty(slot);
    results_.clear();
    nfa_->AdvanceTime(nfa, *d, &results_);
    VIGIL_RETURN_IF_ERROR(Emit(slot));
    AfterStep(slot);
  }
  return absl::OkStatus();
}

absl::Status CepOperator::Process(const EventPtr& e) {
  ++events_;
  if (rule_->where) {
    cep::EvalEnv env;
    env.fields = e->values.data();
    if (!rule_->where->Test(env)) {
      ++filtered_;
      return absl::OkStatus();
    }
  }
  if (keys_.TimerDue(e->time.ms)) VIGIL_RETURN_IF_ERROR(FireTimers(e->time.ms));
  uint32_t slot = keys_.Find(*e);
  if (slot != Keys::kNone) {
    results_.clear();
    nfa_->Process(*keys_.state(slot).nfa, e, &results_);
  } else {
    // A new key: run the event on a blank state first. Most events start nothing (the state
    // stays idle, nothing matched) and then no key is created at all.
    if (spare_ == nullptr) spare_ = nfa_->NewState();
    results_.clear();
    nfa_->Process(*spare_, e, &results_);
    if (results_.empty() && nfa_->IsIdle(*spare_)) return absl::OkStatus();
    slot = keys_.Create(*e, e->seq);
    keys_.state(slot).nfa = std::move(spare_);
    ++keys_created_;
  }
  keys_.MarkDirty(slot);
  if (!results_.empty()) VIGIL_RETURN_IF_ERROR(Emit(slot));
  AfterStep(slot);
  return absl::OkStatus();
}

absl::Status CepOperator::AdvanceWatermark(Watermark wm) {
  if (keys_.TimerDue(wm.ms)) VIGIL_RETURN_IF_ERROR(FireTimers(wm.ms));
  if (wm != Watermark::Max()) return absl::OkStatus();
  // All inputs ended: close every window (rules without `within` included), in the order the
  // keys were created so that the output does not depend on slot reuse or restore order.
  for (uint32_t slot : keys_.LiveSlotsByOrder()) {
    keys_.MarkDirty(slot);
    results_.clear();
    nfa_->AdvanceTime(*keys_.state(slot).nfa, EventTime::Max(), &results_);
    VIGIL_RETURN_IF_ERROR(Emit(slot));
    FreeKey(slot);
  }
  keys_.ClearTimers();
  return absl::OkStatus();
}

void CepOperator::DiscardChanges() { keys_.DiscardChanges(); }

absl::Status CepOperator::Snapshot(SnapshotWriter* out, bool full) {
  keys_.Snapshot(out, full, [this](const KeyState& ks, Encoder* enc) {
    nfa_->SerializeState(*ks.nfa, enc);
  });
  return absl::OkStatus();
}

absl::Status CepOperator::Restore(uint16_t key_group, std::string_view key,
                                  std::string_view value) {
  VIGIL_ASSIGN_OR_RETURN(
      const uint32_t slot,
      keys_.Restore(key_group, key, value, [this](Decoder* dec, KeyState* ks) {
        ks->nfa = nfa_->NewState();
        return nfa_->RestoreState(ks->nfa.get(), dec);
      }));
  AfterStep(slot);  // arms the timer (or frees an idle key)
  return absl::OkStatus();
}

absl::Status CepOperator::Emit(uint32_t slot) {
  for (cep::MatchResult& m : results_) VIGIL_RETURN_IF_ERROR(EmitOne(slot, m));
  results_.clear();
  return absl::OkStatus();
}

absl::Status CepOperator::EmitOne(uint32_t slot, cep::MatchResult& m) {
  const cep::Pattern& pattern = *rule_->pattern;
  const std::vector<Value>& key = keys_.key(slot);
  const bool timeout = m.kind == cep::MatchResult::Kind::kTimeout;
  if (timeout) {
    ++timeouts_;
  } else {
    ++matches_;
  }
  Record r;
  builder_.Start(timeout ? RecordKind::kTimeout : RecordKind::kMatch, m.time, key, &r);
  seqs_.clear();
  for (size_t v = 0; v < m.events.size() && v < pattern.vars.size(); ++v) {
    if (m.events[v].empty()) continue;
    for (const EventPtr& e : m.events[v]) seqs_.push_back(e->seq);
    r.events.emplace_back(pattern.vars[v].name, std::move(m.events[v]));
  }
  cep::EvalEnv env;
  env.captures = m.captures.data();
  env.aggs = m.aggs.data();
  builder_.AddPatternEmits(key, &env, &r);
  builder_.AddLabels(key, env, &r);
  return builder_.Finish(seqs_, &r, router_);
}

}  // namespace vigil::engine
