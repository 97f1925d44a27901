#include "engine/operator/window_operator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "engine/operator/key_group.h"
#include "engine/operator/keyed_snapshot.h"
#include "engine/stable_hash.h"
#include "engine/state/codec.h"

namespace vigil::engine {

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Floor / ceiling of t to a multiple of m (m > 0), correct for negative t.
int64_t FloorTo(int64_t t, int64_t m) {
  int64_t r = t % m;
  if (r < 0) r += m;
  return t - r;
}
int64_t CeilTo(int64_t t, int64_t m) {
  int64_t f = FloorTo(t, m);
  return f == t ? t : f + m;
}
int64_t SatAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kMax : kMin;
  return r;
}

// A window with exclusive end `end` is due at watermark `wm` when its last millisecond is
// covered: end - 1 <= wm.
bool Due(int64_t end, int64_t wm) { return wm == kMax || end - 1 <= wm; }

}  // namespace

absl::StatusOr<std::unique_ptr<WindowOperator>> WindowOperator::Create(
    std::shared_ptr<const cep::RuleSet> rules, int rule_index, Output output) {
  if (rules == nullptr || rule_index < 0 || rule_index >= static_cast<int>(rules->rules.size())) {
    return absl::InvalidArgumentError("WindowOperator: no such rule");
  }
  const cep::RuleDef& rule = rules->rules[rule_index];
  if (!rule.window) {
    return absl::InvalidArgumentError(absl::StrCat("rule '", rule.name, "' has no window"));
  }
  const cep::WindowSpec& w = *rule.window;
  if (w.size.ms <= 0 || w.slide.ms <= 0 || w.slide.ms > w.size.ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "': invalid window size/slide"));
  }
  if (w.record_schema.size() != rule.partition_slots.size() + w.aggs.size() + 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule '", rule.name, "': the window record schema does not match the aggregates"));
  }
  for (const cep::WindowAgg& a : w.aggs) {
    if (a.fn != cep::WindowAggFn::kCount && a.arg == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("rule '", rule.name, "': aggregate '", a.name, "' has no argument"));
    }
  }
  return std::unique_ptr<WindowOperator>(
      new WindowOperator(std::move(rules), &rule, std::move(output)));
}

WindowOperator::WindowOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
                               Output output)
    : rules_(std::move(rules)),
      rule_(rule),
      spec_(&*rule->window),
      output_(std::move(output)),
      size_(spec_->size.ms),
      slide_(spec_->slide.ms),
      pane_(std::gcd(size_, slide_)) {}

WindowOperator::~WindowOperator() = default;

WindowOperatorStats WindowOperator::stats() const {
  WindowOperatorStats s = stats_;
  s.live_keys = index_.size();
  s.live_panes = 0;
  for (const KeyState& ks : keys_) s.live_panes += ks.panes.size();
  return s;
}

uint32_t WindowOperator::FindOrCreateKey(const Event& e) {
  key_buf_.clear();
  for (int s : rule_->partition_slots) AppendKeyEncoding(e.values[s], &key_buf_);
  auto it = index_.find(key_buf_);
  if (it != index_.end()) return it->second;
  std::vector<Value> key;
  key.reserve(rule_->partition_slots.size());
  for (int s : rule_->partition_slots) key.push_back(e.values[s]);
  return CreateKey(std::move(key));
}

uint32_t WindowOperator::CreateKey(std::vector<Value> key) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(keys_.size());
    keys_.emplace_back();
  }
  KeyState& ks = keys_[slot];
  ks.key = std::move(key);
  ks.encoded = key_buf_;
  ks.key_group = KeyGroupOfValues(ks.key);
  ks.live = true;
  index_.emplace(ks.encoded, slot);
  ++stats_.keys_created;
  return slot;
}

void WindowOperator::FreeKey(uint32_t slot) {
  KeyState& ks = keys_[slot];
  dirty_[ks.encoded] = ks.key_group;
  index_.erase(ks.encoded);
  ks.key.clear();
  ks.encoded.clear();
  ks.panes.clear();
  ks.panes.shrink_to_fit();
  ks.live = false;
  ++ks.generation;  // invalidates its timer
  free_slots_.push_back(slot);
}

void WindowOperator::Rearm(uint32_t slot, int64_t done) {
  KeyState& ks = keys_[slot];
  // A pane's last window starts at FloorTo(start, slide); once that window is done the pane
  // is of no further use.
  if (done != kMin) {
    while (!ks.panes.empty() &&
           SatAdd(FloorTo(ks.panes.front().start, slide_), size_) - 1 <= done) {
      ks.panes.pop_front();
    }
  }
  if (ks.panes.empty()) {
    FreeKey(slot);
    return;
  }
  // The first window containing the front pane p: start >= p.start + pane - size; and not
  // done: start + size - 1 > done. It contains p (see the header: slide <= size, and both are
  // multiples of pane), hence it is not empty.
  int64_t start = CeilTo(ks.panes.front().start + pane_ - size_, slide_);
  if (done != kMin) start = std::max(start, CeilTo(SatAdd(done, 2 - size_), slide_));
  timers_.push_back(Timer{SatAdd(start, size_), slot, ks.generation});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
}

absl::Status WindowOperator::Process(const Event& e) {
  ++stats_.events;
  const int64_t t = e.time.ms;
  const int64_t pane_start = FloorTo(t, pane_);
  uint32_t slot = FindOrCreateKey(e);
  KeyState& ks = keys_[slot];
  dirty_.try_emplace(ks.encoded, ks.key_group);
  const bool was_empty = ks.panes.empty();
  Pane* pane;
  bool new_front = false;
  if (was_empty || ks.panes.back().start < pane_start) {
    ks.panes.push_back(Pane{pane_start, std::vector<WindowAggState>(spec_->aggs.size())});
    pane = &ks.panes.back();
  } else if (ks.panes.back().start == pane_start) {
    pane = &ks.panes.back();
  } else {
    // Out of order (not expected from the job): insert in place.
    auto it = std::lower_bound(ks.panes.begin(), ks.panes.end(), pane_start,
                               [](const Pane& p, int64_t s) { return p.start < s; });
    if (it == ks.panes.end() || it->start != pane_start) {
      new_front = it == ks.panes.begin();
      it = ks.panes.insert(it, Pane{pane_start, std::vector<WindowAggState>(spec_->aggs.size())});
    }
    pane = &*it;
  }
  cep::EvalEnv env;
  env.fields = e.values.data();
  for (size_t i = 0; i < spec_->aggs.size(); ++i) {
    const cep::WindowAgg& agg = spec_->aggs[i];
    if (agg.fn == cep::WindowAggFn::kCount) {
      WindowAggAdd(agg.fn, Value(), &pane->aggs[i]);
    } else {
      WindowAggAdd(agg.fn, agg.arg->Eval(env), &pane->aggs[i]);
    }
  }
  if (last_wm_.ms != kMin && Due(SatAdd(FloorTo(pane_start, slide_), size_), last_wm_.ms)) {
    ++stats_.late_events;  // every window of this event has fired already
  }
  if (was_empty || new_front) {
    if (new_front) ++ks.generation;  // the armed timer is too late now
    Rearm(slot, last_wm_.ms);
  }
  return absl::OkStatus();
}

absl::Status WindowOperator::AdvanceWatermark(Watermark wm) {
  if (wm <= last_wm_) return absl::OkStatus();
  while (!timers_.empty() && Due(timers_.front().end, wm.ms)) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<Timer>());
    Timer t = timers_.back();
    timers_.pop_back();
    if (!keys_[t.slot].live || keys_[t.slot].generation != t.generation) continue;
    VIGIL_RETURN_IF_ERROR(EmitWindow(t.slot, t.end));
    dirty_.try_emplace(keys_[t.slot].encoded, keys_[t.slot].key_group);
    Rearm(t.slot, t.end - 1);
  }
  last_wm_ = wm;
  if (wm == Watermark::Max()) {
    timers_.clear();  // (all keys were freed by Rearm)
  }
  return absl::OkStatus();
}

uint64_t WindowOperator::RecordSeq(const KeyState& ks, int64_t end) const {
  StableHasher h;
  h.Str(rule_->name);
  h.Str(std::string_view(ks.encoded.data(), ks.encoded.size()));
  h.U64(static_cast<uint64_t>(end));
  return h.Finish();
}

absl::Status WindowOperator::EmitWindow(uint32_t slot, int64_t end) {
  KeyState& ks = keys_[slot];
  const int64_t start = end - size_;
  const size_t naggs = spec_->aggs.size();
  // The window's panes: a run at the front of the deque (the front pane is in the window).
  size_t first = 0;
  while (first < ks.panes.size() && ks.panes[first].start < start) ++first;
  size_t last = first;
  while (last < ks.panes.size() && ks.panes[last].start < end) ++last;
  if (first == last) return absl::OkStatus();  // empty (not expected: see Rearm)

  auto record = std::make_shared<Event>();
  record->values.reserve(spec_->record_schema.size());
  for (const Value& v : ks.key) record->values.push_back(v);
  if (last - first == 1) {
    // One pane (always so for tumbling windows): finalise it directly; a pane whose window
    // fired may still be read by later windows, and WindowAggResult only reorders values.
    Pane& p = ks.panes[first];
    for (size_t i = 0; i < naggs; ++i) {
      record->values.push_back(WindowAggResult(spec_->aggs[i], &p.aggs[i]));
    }
  } else {
    merged_.assign(naggs, WindowAggState());
    for (size_t p = first; p < last; ++p) {
      for (size_t i = 0; i < naggs; ++i) {
        WindowAggMerge(spec_->aggs[i].fn, ks.panes[p].aggs[i], &merged_[i]);
      }
    }
    for (size_t i = 0; i < naggs; ++i) {
      record->values.push_back(WindowAggResult(spec_->aggs[i], &merged_[i]));
    }
    merged_.clear();
  }
  record->values.push_back(Value::Timestamp(EventTime(start)));
  record->values.push_back(Value::Timestamp(EventTime(end)));
  record->time = EventTime(end);
  record->stream = static_cast<uint32_t>(rule_->stream);
  record->seq = RecordSeq(ks, end);
  std::string& raw = record->raw;
  raw.push_back('{');
  const auto& fields = spec_->record_schema.fields();
  for (size_t i = 0; i < fields.size() && i < record->values.size(); ++i) {
    if (i > 0) raw.push_back(',');
    AppendJsonString(fields[i].name, &raw);
    raw.push_back(':');
    record->values[i].AppendJson(&raw);
  }
  raw.push_back('}');
  ++stats_.windows_emitted;
  return output_(record);
}

namespace {
constexpr uint32_t kWindowStateVersion = 1;
}  // namespace

absl::Status WindowOperator::Snapshot(SnapshotWriter* out, bool full) {
  auto put = [&](const KeyState& ks) {
    std::string value;
    state::Encoder enc(&value);
    enc.U32(kWindowStateVersion);
    enc.I64(last_wm_.ms);
    enc.U64(ks.key.size());
    for (const Value& v : ks.key) enc.Val(v);
    enc.U64(spec_->aggs.size());
    enc.U64(ks.panes.size());
    for (const Pane& p : ks.panes) {
      enc.I64(p.start);
      for (const WindowAggState& a : p.aggs) {
        enc.I64(a.n);
        enc.Val(a.v);
        enc.F64(a.fsum);
        enc.U64(a.nums.size());
        for (double d : a.nums) enc.F64(d);
        enc.U64(a.set.size());
        for (const Value& v : a.set) enc.Val(v);
      }
    }
    out->Put(ks.key_group, ks.encoded, value);
  };
  WriteKeyedSnapshot(keys_, index_, &dirty_, full, out, put);
  return absl::OkStatus();
}

absl::Status WindowOperator::Restore(uint16_t key_group, std::string_view key,
                                     std::string_view value) {
  state::Decoder dec(value);
  uint32_t version;
  VIGIL_RETURN_IF_ERROR(dec.U32(&version));
  if (version != kWindowStateVersion) {
    return absl::DataLossError(absl::StrCat("window state: unknown version ", version));
  }
  int64_t wm;
  VIGIL_RETURN_IF_ERROR(dec.I64(&wm));
  uint64_t nkey;
  VIGIL_RETURN_IF_ERROR(dec.U64(&nkey));
  if (nkey != rule_->partition_slots.size()) {
    return absl::DataLossError("window state: wrong number of partition values");
  }
  std::vector<Value> values(nkey);
  key_buf_.clear();
  for (Value& v : values) {
    VIGIL_RETURN_IF_ERROR(dec.Val(&v));
    AppendKeyEncoding(v, &key_buf_);
  }
  if (key_buf_ != key) return absl::DataLossError("window state: key does not match");
  if (index_.contains(key_buf_)) return absl::AlreadyExistsError("window state: key is live");
  uint64_t naggs, npanes;
  VIGIL_RETURN_IF_ERROR(dec.U64(&naggs));
  if (naggs != spec_->aggs.size()) {
    return absl::DataLossError("window state: wrong number of aggregates");
  }
  VIGIL_RETURN_IF_ERROR(dec.U64(&npanes));
  if (npanes > dec.remaining()) return absl::DataLossError("window state: bad pane count");
  std::deque<Pane> panes;
  for (uint64_t i = 0; i < npanes; ++i) {
    Pane p;
    VIGIL_RETURN_IF_ERROR(dec.I64(&p.start));
    if (!panes.empty() && panes.back().start >= p.start) {
      return absl::DataLossError("window state: panes out of order");
    }
    p.aggs.resize(naggs);
    for (WindowAggState& a : p.aggs) {
      uint64_t n;
      VIGIL_RETURN_IF_ERROR(dec.I64(&a.n));
      VIGIL_RETURN_IF_ERROR(dec.Val(&a.v));
      VIGIL_RETURN_IF_ERROR(dec.F64(&a.fsum));
      VIGIL_RETURN_IF_ERROR(dec.U64(&n));
      if (n > dec.remaining()) return absl::DataLossError("window state: bad value count");
      a.nums.resize(n);
      for (double& d : a.nums) VIGIL_RETURN_IF_ERROR(dec.F64(&d));
      VIGIL_RETURN_IF_ERROR(dec.U64(&n));
      if (n > dec.remaining()) return absl::DataLossError("window state: bad value count");
      for (uint64_t j = 0; j < n; ++j) {
        Value v;
        VIGIL_RETURN_IF_ERROR(dec.Val(&v));
        a.set.insert(std::move(v));
      }
    }
    panes.push_back(std::move(p));
  }
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
  (void)key_group;  // recomputed from the values
  last_wm_ = std::max(last_wm_, Watermark(wm));
  if (panes.empty()) return absl::OkStatus();
  uint32_t slot = CreateKey(std::move(values));
  keys_[slot].panes = std::move(panes);
  Rearm(slot, last_wm_.ms);
  return absl::OkStatus();
}

}  // namespace vigil::engine
