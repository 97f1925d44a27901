#include "engine/operator/cep_operator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "core/codec.h"
#include "engine/operator/key_group.h"
#include "engine/record_id.h"
#include "engine/stable_hash.h"

namespace vigil::engine {

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
  return Fmix64(h);
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
}

CepOperator::~CepOperator() = default;

OperatorStats CepOperator::stats() const {
  OperatorStats s;
  s.events = events_;
  s.filtered = filtered_;
  s.matches = matches_;
  s.timeouts = timeouts_;
  s.live_keys = index_.size();
  s.dropped_partial_matches = freed_dropped_;
  s.state_bytes = keys_.capacity() * sizeof(KeyState) + timers_.capacity() * sizeof(Timer) +
                  index_.capacity() * (sizeof(EncodedKey) + sizeof(uint32_t) + 1);
  for (const KeyState& ks : keys_) {
    if (!ks.live) continue;
    const cep::NfaStateStats n = nfa_->Stats(*ks.nfa);
    s.partial_matches += n.partial_matches;
    s.dropped_partial_matches += n.dropped_partial_matches;
    s.state_bytes += n.approx_bytes + ks.key.capacity() * sizeof(Value);
  }
  return s;
}

uint32_t CepOperator::AllocSlot() {
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

uint32_t CepOperator::CreateKey(const Event& e, std::unique_ptr<cep::NfaState> nfa) {
  const uint32_t slot = AllocSlot();
  KeyState& ks = keys_[slot];
  ks.key.clear();
  ks.key.reserve(rule_->partition_slots.size());
  for (int s : rule_->partition_slots) ks.key.push_back(e.values[s]);
  ks.encoded.assign(key_buf_.begin(), key_buf_.end());
  ks.nfa = std::move(nfa);
  ks.created_seq = e.seq;
  ks.timer = kNoTimer;
  ks.key_group = KeyGroupOf(PartitionKeyHash(rule_->partition_slots, e));
  ks.live = true;
  ks.dirty = false;
  ks.stored = false;
  // Freed since the last snapshot and back: the stored entry is overwritten, not deleted.
  if (!pending_deletes_.empty()) ks.stored = pending_deletes_.erase(key_buf_) > 0;
  index_.emplace(ks.encoded, slot);
  ++keys_created_;
  return slot;
}

void CepOperator::FreeKey(uint32_t slot) {
  KeyState& ks = keys_[slot];
  if (ks.stored) {
    pending_deletes_.emplace(std::string(ks.encoded.data(), ks.encoded.size()), ks.key_group);
  }
  index_.erase(ks.encoded);
  ks.key.clear();
  ks.encoded.clear();
  const uint64_t dropped = nfa_->Stats(*ks.nfa).dropped_partial_matches;
  freed_dropped_ += dropped;
  // An idle state is as good as new unless it counted drops.
  if (spare_ == nullptr && dropped == 0) {
    spare_ = std::move(ks.nfa);
  } else {
    ks.nfa.reset();
  }
  ks.live = false;
  ks.dirty = false;
  ks.stored = false;
  ks.timer = kNoTimer;
  ++ks.generation;  // invalidates its timer
  free_slots_.push_back(slot);
}

void CepOperator::MarkDirty(uint32_t slot) {
  KeyState& ks = keys_[slot];
  if (!ks.dirty) {
    ks.dirty = true;
    dirty_slots_.push_back(slot);
  }
}

void CepOperator::PushTimer(uint32_t slot, int64_t deadline) {
  KeyState& ks = keys_[slot];
  timers_.push_back(Timer{deadline, ks.created_seq, slot, ks.generation});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
  ks.timer = deadline;
}

void CepOperator::AfterStep(uint32_t slot) {
  KeyState& ks = keys_[slot];
  if (nfa_->IsIdle(*ks.nfa)) {
    FreeKey(slot);
    return;
  }
  // The deadline only moves later while the key lives: the entry already in the heap then
  // stays (FireTimers re-pushes it); a new or earlier deadline needs an entry.
  std::optional<EventTime> d = nfa_->NextDeadline(*ks.nfa);
  if (d && d->ms < ks.timer) PushTimer(slot, d->ms);
}

absl::Status CepOperator::FireTimers(int64_t now) {
  while (!timers_.empty() && timers_.front().deadline <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    const Timer t = timers_.back();
    timers_.pop_back();
    KeyState& ks = keys_[t.slot];
    if (!ks.live || ks.generation != t.generation || ks.timer != t.deadline) continue;  // stale
    ks.timer = kNoTimer;
    std::optional<EventTime> d = nfa_->NextDeadline(*ks.nfa);
    if (!d) continue;
    if (d->ms > t.deadline) {  // the deadline moved later: re-arm, nothing expires yet
      PushTimer(t.slot, d->ms);
      continue;
    }
    ++timer_firings_;
    MarkDirty(t.slot);
    results_.clear();
    nfa_->AdvanceTime(*ks.nfa, *d, &results_);
    VIGIL_RETURN_IF_ERROR(Emit(t.slot));
    AfterStep(t.slot);
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
  if (!timers_.empty() && timers_.front().deadline <= e->time.ms) {
    VIGIL_RETURN_IF_ERROR(FireTimers(e->time.ms));
  }
  key_buf_.clear();
  for (int s : rule_->partition_slots) AppendKeyEncoding(e->values[s], &key_buf_);
  uint32_t slot;
  auto it = index_.find(std::string_view(key_buf_));
  if (it != index_.end()) {
    slot = it->second;
    results_.clear();
    nfa_->Process(*keys_[slot].nfa, e, &results_);
  } else {
    // A new key: run the event on a blank state first. Most events start nothing (the state
    // stays idle, nothing matched) and then no key is created at all.
    if (spare_ == nullptr) spare_ = nfa_->NewState();
    results_.clear();
    nfa_->Process(*spare_, e, &results_);
    if (results_.empty() && nfa_->IsIdle(*spare_)) return absl::OkStatus();
    slot = CreateKey(*e, std::move(spare_));
  }
  MarkDirty(slot);
  if (!results_.empty()) VIGIL_RETURN_IF_ERROR(Emit(slot));
  AfterStep(slot);
  return absl::OkStatus();
}

absl::Status CepOperator::AdvanceWatermark(Watermark wm) {
  VIGIL_RETURN_IF_ERROR(FireTimers(wm.ms));
  if (wm != Watermark::Max()) return absl::OkStatus();
  // All inputs ended: close every window (rules without `within` included), in the order the
  // keys were created so that the output does not depend on slot reuse or restore order.
  std::vector<uint32_t> order;
  order.reserve(index_.size());
  for (uint32_t slot = 0; slot < keys_.size(); ++slot) {
    if (keys_[slot].live) order.push_back(slot);
  }
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
    const KeyState& x = keys_[a];
    const KeyState& y = keys_[b];
    if (x.created_seq != y.created_seq) return x.created_seq < y.created_seq;
    return KeyEq::View(x.encoded) < KeyEq::View(y.encoded);
  });
  for (uint32_t slot : order) {
    MarkDirty(slot);
    results_.clear();
    nfa_->AdvanceTime(*keys_[slot].nfa, EventTime::Max(), &results_);
    VIGIL_RETURN_IF_ERROR(Emit(slot));
    FreeKey(slot);
  }
  timers_.clear();
  return absl::OkStatus();
}

void CepOperator::DiscardChanges() {
  for (uint32_t slot : dirty_slots_) keys_[slot].dirty = false;
  pending_deletes_.clear();
  dirty_slots_.clear();
}

absl::Status CepOperator::Snapshot(SnapshotWriter* out, bool full) {
  auto put = [&](uint32_t slot) {
    KeyState& ks = keys_[slot];
    snap_buf_.clear();
    Encoder enc(&snap_buf_);
    enc.Raw(std::string_view(reinterpret_cast<const char*>(&kSnapshotVersion), 1));
    enc.U64(ks.created_seq);
    enc.U64(ks.key.size());
    for (const Value& v : ks.key) enc.Val(v);
    nfa_->SerializeState(*ks.nfa, &enc);
    out->Put(ks.key_group, KeyEq::View(ks.encoded), snap_buf_);
    ks.dirty = false;
    ks.stored = true;
  };
  if (out == nullptr) {
    DiscardChanges();
    return absl::OkStatus();
  }
  if (full) {
    for (uint32_t slot = 0; slot < keys_.size(); ++slot) {
      if (keys_[slot].live) put(slot);
    }
  } else {
    // Sorted so that the writes do not depend on the hash table's iteration order.
    std::vector<std::pair<std::string_view, uint16_t>> dels(pending_deletes_.begin(),
                                                            pending_deletes_.end());
    std::sort(dels.begin(), dels.end());
    for (const auto& [key, group] : dels) out->Delete(group, key);
    for (uint32_t slot : dirty_slots_) {
      if (keys_[slot].live && keys_[slot].dirty) put(slot);
    }
  }
  pending_deletes_.clear();
  dirty_slots_.clear();
  return absl::OkStatus();
}

absl::Status CepOperator::Restore(uint16_t key_group, std::string_view key,
                                  std::string_view value) {
  auto loss = [this](std::string_view what) {
    return absl::DataLossError(
        absl::StrCat("rule '", rule_->name, "': snapshot of a key: ", std::string(what)));
  };
  Decoder dec(value);
  std::string_view version;
  VIGIL_RETURN_IF_ERROR(dec.Raw(1, &version));
  if (static_cast<uint8_t>(version[0]) != kSnapshotVersion) {
    return loss(absl::StrCat("unknown format version ",
                             static_cast<int>(static_cast<uint8_t>(version[0]))));
  }
  uint64_t created_seq, n;
  VIGIL_RETURN_IF_ERROR(dec.U64(&created_seq));
  VIGIL_RETURN_IF_ERROR(dec.U64(&n));
  const std::vector<int>& slots = rule_->partition_slots;
  if (n != slots.size()) return loss("wrong number of partition values");
  std::vector<Value> values(slots.size());
  for (Value& v : values) VIGIL_RETURN_IF_ERROR(dec.Val(&v));
  key_buf_.clear();
  for (const Value& v : values) AppendKeyEncoding(v, &key_buf_);
  if (key_buf_ != key) return loss("key does not match its partition values");
  // The key group, as PartitionKeyHash computes it from an event holding the values.
  Event probe;
  int max_slot = -1;
  for (int s : slots) max_slot = std::max(max_slot, s);
  probe.values.resize(static_cast<size_t>(max_slot + 1));
  for (size_t i = 0; i < slots.size(); ++i) probe.values[slots[i]] = values[i];
  if (KeyGroupOf(PartitionKeyHash(slots, probe)) != key_group) {
    return loss("key in the wrong key group");
  }
  if (index_.contains(std::string_view(key_buf_))) return loss("key restored twice");
  std::unique_ptr<cep::NfaState> nfa = nfa_->NewState();
  VIGIL_RETURN_IF_ERROR(nfa_->RestoreState(nfa.get(), &dec));
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());

  const uint32_t slot = AllocSlot();
  KeyState& ks = keys_[slot];
  ks.key = std::move(values);
  ks.encoded.assign(key_buf_.begin(), key_buf_.end());
  ks.nfa = std::move(nfa);
  ks.created_seq = created_seq;
  ks.timer = kNoTimer;
  ks.key_group = key_group;
  ks.live = true;
  ks.dirty = false;
  ks.stored = true;
  index_.emplace(ks.encoded, slot);
  AfterStep(slot);  // arms the timer (or frees an idle key)
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
    ++timeouts_;
  } else {
    ++matches_;
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
