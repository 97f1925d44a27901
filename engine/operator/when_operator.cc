#include "engine/operator/when_operator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/codec.h"

namespace vigil::engine {

absl::StatusOr<std::unique_ptr<WhenOperator>> WhenOperator::Create(
    std::shared_ptr<const cep::RuleSet> rules, int rule_index, RecordRouter* router) {
  if (rules == nullptr || rule_index < 0 || rule_index >= static_cast<int>(rules->rules.size())) {
    return absl::InvalidArgumentError("WhenOperator: no such rule");
  }
  const cep::RuleDef& rule = rules->rules[rule_index];
  if (!rule.when || rule.when->cond == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("rule '", rule.name, "' has no `when`"));
  }
  if (rule.stream < 0 || rule.stream >= static_cast<int>(rules->streams.size())) {
    return absl::InvalidArgumentError(absl::StrCat("rule '", rule.name, "' has no stream"));
  }
  return std::unique_ptr<WhenOperator>(new WhenOperator(std::move(rules), &rule, router));
}

namespace {
std::vector<int> KeySlots(const cep::RuleDef& rule) {
  if (!rule.window) return rule.partition_slots;
  // A window record starts with the partition values.
  std::vector<int> slots(rule.partition_slots.size());
  for (size_t i = 0; i < slots.size(); ++i) slots[i] = static_cast<int>(i);
  return slots;
}

KeyedStateOptions KeysOptions(const cep::RuleDef& rule) {
  KeyedStateOptions o;
  o.key_slots = KeySlots(rule);
  o.format = WhenOperator::kStateFormat;
  o.name = absl::StrCat("rule '", rule.name, "': when state");
  return o;
}
}  // namespace

WhenOperator::WhenOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
                           RecordRouter* router)
    : rules_(std::move(rules)),
      rule_(rule),
      spec_(&*rule->when),
      schema_(rule->window ? &rule->window->record_schema
                           : &rules_->streams[rule->stream].schema),
      router_(router),
      builder_(rule, rules_->streams[rule->stream].name),
      keys_(KeysOptions(*rule)) {
  if (spec_->for_duration) for_ms_ = spec_->for_duration->ms;
  if (spec_->keep_firing_for) keep_ms_ = spec_->keep_firing_for->ms;
  if (spec_->no_data_after) no_data_ms_ = spec_->no_data_after->ms;
}

WhenOperator::~WhenOperator() = default;

WhenOperatorStats WhenOperator::stats() const {
  WhenOperatorStats s = stats_;
  s.live_keys = keys_.size();
  return s;
}

void WhenOperator::TouchFiring(uint32_t slot, const EventPtr& r) {
  if (!no_data_ms_) return;
  KeyState& ks = keys_.state(slot);
  ks.last = r;
  ks.nodata_deadline = (r->time + Duration(*no_data_ms_)).ms;
  keys_.ArmTimer(slot, ks.nodata_deadline);
}

absl::Status WhenOperator::Fire(uint32_t slot, const EventPtr& r) {
  KeyState& ks = keys_.state(slot);
  ks.phase = Phase::kFiring;
  ks.streak = false;
  ++stats_.firing;
  TouchFiring(slot, r);
  return Emit(slot, RecordKind::kFiring, *r, r->time);
}

absl::Status WhenOperator::EmitNodata(uint32_t slot) {
  ++stats_.nodata;
  const KeyState& ks = keys_.state(slot);
  absl::Status st = Emit(slot, RecordKind::kNodata, *ks.last, EventTime(ks.nodata_deadline));
  keys_.Free(slot);
  return st;
}

absl::Status WhenOperator::Process(const EventPtr& record) {
  ++stats_.records;
  const Event& r = *record;
  const int64_t t = r.time.ms;
  cep::EvalEnv env;
  env.fields = r.values.data();

  uint32_t slot = keys_.Find(r);
  if (slot != Keys::kNone && no_data_ms_) {
    const KeyState& ks = keys_.state(slot);
    if (ks.phase == Phase::kFiring && t > ks.nodata_deadline) {
      // The key went silent for more than N before this record: nodata first.
      VIGIL_RETURN_IF_ERROR(EmitNodata(slot));
      slot = Keys::kNone;
    }
  }

  const bool cond = spec_->cond->Test(env);
  if (slot == Keys::kNone) {
    if (!cond) return absl::OkStatus();
    slot = keys_.Create(r, /*order=*/0);
    keys_.state(slot).run_start = t;
    ++stats_.keys_created;
    keys_.MarkDirty(slot);
    if (!spec_->for_duration || t - keys_.state(slot).run_start >= for_ms_) {
      return Fire(slot, record);
    }
    return absl::OkStatus();
  }

  KeyState& ks = keys_.state(slot);
  keys_.MarkDirty(slot);
  if (ks.phase == Phase::kPending) {
    if (!cond) {
      keys_.Free(slot);  // the run broke before it fired
      return absl::OkStatus();
    }
    if (t - ks.run_start >= for_ms_) return Fire(slot, record);
    return absl::OkStatus();
  }

  // Firing.
  const bool resolving = spec_->clear_when ? spec_->clear_when->Test(env) : !cond;
  if (!resolving) {
    ks.streak = false;
    TouchFiring(slot, record);
    return absl::OkStatus();
  }
  if (!ks.streak) {
    ks.streak = true;
    ks.streak_since = t;
  }
  if (t - ks.streak_since >= keep_ms_) {
    ++stats_.resolved;
    absl::Status st = Emit(slot, RecordKind::kResolved, r, r.time);
    keys_.Free(slot);
    return st;
  }
  TouchFiring(slot, record);
  return absl::OkStatus();
}

absl::Status WhenOperator::AdvanceWatermark(Watermark wm) {
  if (!keys_.TimerDue(wm.ms)) return absl::OkStatus();  // the common case, inline
  uint32_t slot;
  int64_t deadline;
  while (keys_.PopDueTimer(wm.ms, &slot, &deadline)) {
    KeyState& ks = keys_.state(slot);
    if (ks.phase != Phase::kFiring || ks.last == nullptr) continue;
    if (ks.nodata_deadline > deadline) {
      // Records came since the timer was armed: re-arm at the current deadline.
      keys_.ArmTimer(slot, ks.nodata_deadline);
      continue;
    }
    VIGIL_RETURN_IF_ERROR(EmitNodata(slot));
  }
  return absl::OkStatus();
}

absl::Status WhenOperator::Emit(uint32_t slot, RecordKind kind, const Event& r, EventTime time) {
  const std::vector<Value>& key = keys_.key(slot);
  cep::EvalEnv env;
  env.fields = r.values.data();
  Record out;
  builder_.Start(kind, time, key, &out);
  builder_.AddRecordFields(*schema_, r, env, &out);
  builder_.AddLabels(key, env, &out);
  return builder_.Finish({r.seq}, &out, router_);
}

absl::Status WhenOperator::Snapshot(SnapshotWriter* out, bool full) {
  keys_.Snapshot(out, full, [](const KeyState& ks, Encoder* enc) {
    enc->U32(ks.phase == Phase::kFiring ? 1 : 0);
    enc->I64(ks.run_start);
    enc->Bool(ks.streak);
    enc->I64(ks.streak_since);
    enc->Bool(ks.last != nullptr);
    if (ks.last != nullptr) {
      enc->Ev(*ks.last);
      enc->I64(ks.nodata_deadline);
    }
  });
  return absl::OkStatus();
}

absl::Status WhenOperator::Restore(uint16_t key_group, std::string_view key,
                                   std::string_view value) {
  VIGIL_ASSIGN_OR_RETURN(
      const uint32_t slot,
      keys_.Restore(key_group, key, value, [](Decoder* dec, KeyState* ks) -> absl::Status {
        uint32_t phase;
        bool has_last;
        VIGIL_RETURN_IF_ERROR(dec->U32(&phase));
        if (phase > 1) return absl::DataLossError("bad phase");
        ks->phase = phase == 1 ? Phase::kFiring : Phase::kPending;
        VIGIL_RETURN_IF_ERROR(dec->I64(&ks->run_start));
        VIGIL_RETURN_IF_ERROR(dec->Bool(&ks->streak));
        VIGIL_RETURN_IF_ERROR(dec->I64(&ks->streak_since));
        VIGIL_RETURN_IF_ERROR(dec->Bool(&has_last));
        if (has_last) {
          auto last = std::make_shared<Event>();
          VIGIL_RETURN_IF_ERROR(dec->Ev(last.get()));
          VIGIL_RETURN_IF_ERROR(dec->I64(&ks->nodata_deadline));
          ks->last = std::move(last);
        }
        return absl::OkStatus();
      }));
  const KeyState& ks = keys_.state(slot);
  if (ks.phase == Phase::kFiring && ks.last != nullptr && no_data_ms_) {
    keys_.ArmTimer(slot, ks.nodata_deadline);
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine
