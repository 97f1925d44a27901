#include "engine/operator/when_operator.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "engine/operator/key_group.h"
#include "engine/operator/keyed_snapshot.h"
#include "engine/operator/window_operator.h"
#include "engine/record_id.h"
#include "engine/state/codec.h"

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

WhenOperator::WhenOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
                           RecordRouter* router)
    : rules_(std::move(rules)), rule_(rule), spec_(&*rule->when), router_(router) {
  if (rule_->window) {
    schema_ = &rule_->window->record_schema;
    for (size_t i = 0; i < rule_->partition_slots.size(); ++i) {
      key_slots_.push_back(static_cast<int>(i));
    }
  } else {
    schema_ = &rules_->streams[rule_->stream].schema;
    key_slots_ = rule_->partition_slots;
  }
  if (spec_->for_duration) for_ms_ = spec_->for_duration->ms;
  if (spec_->keep_firing_for) keep_ms_ = spec_->keep_firing_for->ms;
  if (spec_->no_data_after) no_data_ms_ = spec_->no_data_after->ms;
}

WhenOperator::~WhenOperator() = default;

WhenOperatorStats WhenOperator::stats() const {
  WhenOperatorStats s = stats_;
  s.live_keys = index_.size();
  return s;
}

void WhenOperator::EncodeKey(const Event& r) {
  key_buf_.clear();
  for (int s : key_slots_) AppendKeyEncoding(r.values[s], &key_buf_);
}

uint32_t WhenOperator::NewSlot() {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(keys_.size());
    keys_.emplace_back();
  }
  return slot;
}

uint32_t WhenOperator::CreateKey(const Event& r) {
  uint32_t slot = NewSlot();
  KeyState& ks = keys_[slot];
  ks.key.clear();
  for (int s : key_slots_) ks.key.push_back(r.values[s]);
  ks.encoded = key_buf_;
  ks.key_group = KeyGroupOfValues(ks.key);
  ks.phase = Phase::kPending;
  ks.run_start = r.time.ms;
  ks.streak = false;
  ks.streak_since = 0;
  ks.last.reset();
  ks.armed = false;
  ks.live = true;
  index_.emplace(ks.encoded, slot);
  ++stats_.keys_created;
  return slot;
}

void WhenOperator::FreeKey(uint32_t slot) {
  KeyState& ks = keys_[slot];
  MarkDirty(ks);
  index_.erase(ks.encoded);
  ks.key.clear();
  ks.encoded.clear();
  ks.last.reset();
  ks.live = false;
  ks.armed = false;
  ++ks.generation;  // invalidates its timer
  free_slots_.push_back(slot);
}

void WhenOperator::TouchFiring(uint32_t slot, const EventPtr& r) {
  if (!no_data_ms_) return;
  KeyState& ks = keys_[slot];
  ks.last = r;
  ks.nodata_deadline = (r->time + Duration(*no_data_ms_)).ms;
  if (!ks.armed) {
    timers_.push_back(Timer{ks.nodata_deadline, slot, ks.generation});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    ks.armed = true;
  }
}

absl::Status WhenOperator::Fire(uint32_t slot, const EventPtr& r) {
  KeyState& ks = keys_[slot];
  ks.phase = Phase::kFiring;
  ks.streak = false;
  ++stats_.firing;
  TouchFiring(slot, r);
  return Emit(ks, RecordKind::kFiring, *r, r->time);
}

absl::Status WhenOperator::Process(const EventPtr& record) {
  ++stats_.records;
  const Event& r = *record;
  const int64_t t = r.time.ms;
  cep::EvalEnv env;
  env.fields = r.values.data();

  EncodeKey(r);
  auto it = index_.find(key_buf_);
  if (it != index_.end() && no_data_ms_) {
    KeyState& ks = keys_[it->second];
    if (ks.phase == Phase::kFiring && t > ks.nodata_deadline) {
      // The key went silent for more than N before this record: nodata first.
      ++stats_.nodata;
      absl::Status st = Emit(ks, RecordKind::kNodata, *ks.last, EventTime(ks.nodata_deadline));
      FreeKey(it->second);
      VIGIL_RETURN_IF_ERROR(st);
      it = index_.end();
    }
  }

  const bool cond = spec_->cond->Test(env);
  if (it == index_.end()) {
    if (!cond) return absl::OkStatus();
    uint32_t slot = CreateKey(r);
    MarkDirty(keys_[slot]);
    if (!spec_->for_duration || t - keys_[slot].run_start >= for_ms_) return Fire(slot, record);
    return absl::OkStatus();
  }

  const uint32_t slot = it->second;
  KeyState& ks = keys_[slot];
  MarkDirty(ks);
  if (ks.phase == Phase::kPending) {
    if (!cond) {
      FreeKey(slot);  // the run broke before it fired
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
    absl::Status st = Emit(ks, RecordKind::kResolved, r, r.time);
    FreeKey(slot);
    return st;
  }
  TouchFiring(slot, record);
  return absl::OkStatus();
}

absl::Status WhenOperator::AdvanceWatermark(Watermark wm) {
  while (!timers_.empty() && timers_.front().deadline <= wm.ms) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    Timer tm = timers_.back();
    timers_.pop_back();
    KeyState& ks = keys_[tm.slot];
    if (!ks.live || ks.generation != tm.generation) continue;
    if (ks.phase != Phase::kFiring || ks.last == nullptr) {
      ks.armed = false;
      continue;
    }
    if (ks.nodata_deadline > tm.deadline) {
      // Records came since the timer was armed: re-arm at the current deadline.
      timers_.push_back(Timer{ks.nodata_deadline, tm.slot, ks.generation});
      std::push_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
      continue;
    }
    ++stats_.nodata;
    absl::Status st = Emit(ks, RecordKind::kNodata, *ks.last, EventTime(ks.nodata_deadline));
    FreeKey(tm.slot);
    VIGIL_RETURN_IF_ERROR(st);
  }
  return absl::OkStatus();
}

absl::Status WhenOperator::Emit(const KeyState& ks, RecordKind kind, const Event& r,
                                EventTime time) {
  const cep::RuleDef& rule = *rule_;
  Record out;
  out.rule = rule.name;
  out.stream = rules_->streams[rule.stream].name;
  out.kind = kind;
  out.time = time;
  out.key.reserve(ks.key.size());
  for (size_t i = 0; i < ks.key.size(); ++i)
    out.key.emplace_back(rule.partition_names[i], ks.key[i]);

  cep::EvalEnv env;
  env.fields = r.values.data();
  const auto& fields = schema_->fields();
  out.fields.reserve(fields.size() + rule.emit.size());
  for (size_t i = 0; i < fields.size() && i < r.values.size(); ++i) {
    out.fields.emplace_back(fields[i].name, r.values[i]);
  }
  for (const cep::EmitField& f : rule.emit) {
    Value v = f.expr->Eval(env);
    auto same = std::find_if(out.fields.begin(), out.fields.end(),
                             [&f](const auto& kv) { return kv.first == f.name; });
    if (same != out.fields.end()) {
      same->second = std::move(v);
    } else {
      out.fields.emplace_back(f.name, std::move(v));
    }
  }

  auto set = [](std::vector<std::pair<std::string, std::string>>* kvs, const std::string& name,
                std::string value) {
    for (auto& [k, v] : *kvs) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    kvs->emplace_back(name, std::move(value));
  };
  out.labels.emplace_back("alertname", rule.name);
  for (size_t i = 0; i < ks.key.size(); ++i) {
    set(&out.labels, rule.partition_names[i], ks.key[i].ToString());
  }
  for (const auto& [name, tmpl] : rule.labels) set(&out.labels, name, tmpl.Render(env));
  for (const auto& [name, tmpl] : rule.annotations) set(&out.annotations, name, tmpl.Render(env));

  out.id = StableRecordId(out.rule, out.kind, out.key, {r.seq}, out.time);
  return router_->Route(out, rule.to);
}

namespace {
constexpr uint32_t kWhenStateVersion = 1;
}  // namespace

absl::Status WhenOperator::Snapshot(SnapshotWriter* out, bool full) {
  auto put = [&](const KeyState& ks) {
    std::string value;
    state::Encoder enc(&value);
    enc.U32(kWhenStateVersion);
    enc.U64(ks.key.size());
    for (const Value& v : ks.key) enc.Val(v);
    enc.U32(ks.phase == Phase::kFiring ? 1 : 0);
    enc.I64(ks.run_start);
    enc.Bool(ks.streak);
    enc.I64(ks.streak_since);
    enc.Bool(ks.last != nullptr);
    if (ks.last != nullptr) {
      enc.Ev(*ks.last);
      enc.I64(ks.nodata_deadline);
    }
    out->Put(ks.key_group, ks.encoded, value);
  };
  WriteKeyedSnapshot(keys_, index_, &dirty_, full, out, put);
  return absl::OkStatus();
}

absl::Status WhenOperator::Restore(uint16_t key_group, std::string_view key,
                                   std::string_view value) {
  state::Decoder dec(value);
  uint32_t version;
  VIGIL_RETURN_IF_ERROR(dec.U32(&version));
  if (version != kWhenStateVersion) {
    return absl::DataLossError(absl::StrCat("when state: unknown version ", version));
  }
  uint64_t nkey;
  VIGIL_RETURN_IF_ERROR(dec.U64(&nkey));
  if (nkey != key_slots_.size()) {
    return absl::DataLossError("when state: wrong number of partition values");
  }
  std::vector<Value> values(nkey);
  key_buf_.clear();
  for (Value& v : values) {
    VIGIL_RETURN_IF_ERROR(dec.Val(&v));
    AppendKeyEncoding(v, &key_buf_);
  }
  if (key_buf_ != key) return absl::DataLossError("when state: key does not match");
  if (index_.contains(key_buf_)) return absl::AlreadyExistsError("when state: key is live");
  uint32_t phase;
  int64_t run_start, streak_since, deadline = 0;
  bool streak, has_last;
  VIGIL_RETURN_IF_ERROR(dec.U32(&phase));
  if (phase > 1) return absl::DataLossError("when state: bad phase");
  VIGIL_RETURN_IF_ERROR(dec.I64(&run_start));
  VIGIL_RETURN_IF_ERROR(dec.Bool(&streak));
  VIGIL_RETURN_IF_ERROR(dec.I64(&streak_since));
  VIGIL_RETURN_IF_ERROR(dec.Bool(&has_last));
  std::shared_ptr<Event> last;
  if (has_last) {
    last = std::make_shared<Event>();
    VIGIL_RETURN_IF_ERROR(dec.Ev(last.get()));
    VIGIL_RETURN_IF_ERROR(dec.I64(&deadline));
  }
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());

  (void)key_group;  // recomputed from the values
  uint32_t slot = NewSlot();
  KeyState& ks = keys_[slot];
  ks.key = std::move(values);
  ks.encoded = key_buf_;
  ks.key_group = KeyGroupOfValues(ks.key);
  ks.phase = phase == 1 ? Phase::kFiring : Phase::kPending;
  ks.run_start = run_start;
  ks.streak = streak;
  ks.streak_since = streak_since;
  ks.last = std::move(last);
  ks.nodata_deadline = deadline;
  ks.armed = false;
  ks.live = true;
  index_.emplace(ks.encoded, slot);
  if (ks.phase == Phase::kFiring && ks.last != nullptr && no_data_ms_) {
    timers_.push_back(Timer{ks.nodata_deadline, slot, ks.generation});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    ks.armed = true;
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine
