#include "engine/operator/window_operator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/codec.h"
#include "engine/stable_hash.h"

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

namespace {
KeyedStateOptions KeysOptions(const cep::RuleDef& rule) {
  KeyedStateOptions o;
  o.key_slots = rule.partition_slots;
  o.format = WindowOperator::kStateFormat;
  o.name = absl::StrCat("rule '", rule.name, "': window state");
  return o;
}
}  // namespace

WindowOperator::WindowOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule,
                               Output output)
    : rules_(std::move(rules)),
      rule_(rule),
      spec_(&*rule->window),
      output_(std::move(output)),
      size_(spec_->size.ms),
      slide_(spec_->slide.ms),
      pane_(std::gcd(size_, slide_)),
      keys_(KeysOptions(*rule)) {}

WindowOperator::~WindowOperator() = default;

WindowOperatorStats WindowOperator::stats() const {
  WindowOperatorStats s = stats_;
  s.live_keys = keys_.size();
  s.live_panes = 0;
  keys_.ForEachLive([&](uint32_t slot) { s.live_panes += keys_.state(slot).panes.size(); });
  return s;
}

void WindowOperator::Rearm(uint32_t slot, int64_t done) {
  std::deque<Pane>& panes = keys_.state(slot).panes;
  // A pane's last window starts at FloorTo(start, slide); once that window is done the pane
  // is of no further use.
  if (done != kMin) {
    while (!panes.empty() && SatAdd(FloorTo(panes.front().start, slide_), size_) - 1 <= done) {
      panes.pop_front();
    }
  }
  if (panes.empty()) {
    keys_.Free(slot);
    return;
  }
  // The first window containing the front pane p: start >= p.start + pane - size; and not
  // done: start + size - 1 > done. It contains p (see the header: slide <= size, and both are
  // multiples of pane), hence it is not empty. The timer is due at the window's last
  // millisecond; an earlier deadline than the armed one (a pane inserted in front) supersedes
  // it.
  int64_t start = CeilTo(panes.front().start + pane_ - size_, slide_);
  if (done != kMin) start = std::max(start, CeilTo(SatAdd(done, 2 - size_), slide_));
  keys_.ArmTimer(slot, SatAdd(start, size_) - 1);
}

absl::Status WindowOperator::Process(const Event& e) {
  ++stats_.events;
  const int64_t t = e.time.ms;
  const int64_t pane_start = FloorTo(t, pane_);
  uint32_t slot = keys_.Find(e);
  if (slot == Keys::kNone) {
    slot = keys_.Create(e, /*order=*/0);
    ++stats_.keys_created;
  }
  keys_.MarkDirty(slot);
  std::deque<Pane>& panes = keys_.state(slot).panes;
  const bool was_empty = panes.empty();
  Pane* pane;
  bool new_front = false;
  if (was_empty || panes.back().start < pane_start) {
    panes.push_back(Pane{pane_start, std::vector<WindowAggState>(spec_->aggs.size())});
    pane = &panes.back();
  } else if (panes.back().start == pane_start) {
    pane = &panes.back();
  } else {
    // Out of order (not expected from the job): insert in place.
    auto it = std::lower_bound(panes.begin(), panes.end(), pane_start,
                               [](const Pane& p, int64_t s) { return p.start < s; });
    if (it == panes.end() || it->start != pane_start) {
      new_front = it == panes.begin();
      it = panes.insert(it, Pane{pane_start, std::vector<WindowAggState>(spec_->aggs.size())});
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
  if (was_empty || new_front) Rearm(slot, last_wm_.ms);
  return absl::OkStatus();
}

absl::Status WindowOperator::AdvanceWatermark(Watermark wm) {
  if (wm <= last_wm_) return absl::OkStatus();
  uint32_t slot;
  int64_t due;
  while (keys_.PopDueTimer(wm.ms, &slot, &due)) {
    const int64_t end = due + 1;
    VIGIL_RETURN_IF_ERROR(EmitWindow(slot, end));
    keys_.MarkDirty(slot);
    Rearm(slot, end - 1);
  }
  last_wm_ = wm;
  if (wm == Watermark::Max()) keys_.ClearTimers();  // (all keys were freed by Rearm)
  return absl::OkStatus();
}

uint64_t WindowOperator::RecordSeq(uint32_t slot, int64_t end) const {
  StableHasher h;
  h.Str(rule_->name);
  h.Str(keys_.encoded_key(slot));
  h.U64(static_cast<uint64_t>(end));
  return h.Finish();
}

absl::Status WindowOperator::EmitWindow(uint32_t slot, int64_t end) {
  std::deque<Pane>& panes = keys_.state(slot).panes;
  const int64_t start = end - size_;
  const size_t naggs = spec_->aggs.size();
  // The window's panes: a run at the front of the deque (the front pane is in the window).
  size_t first = 0;
  while (first < panes.size() && panes[first].start < start) ++first;
  size_t last = first;
  while (last < panes.size() && panes[last].start < end) ++last;
  if (first == last) return absl::OkStatus();  // empty (not expected: see Rearm)

  auto record = std::make_shared<Event>();
  record->values.reserve(spec_->record_schema.size());
  for (const Value& v : keys_.key(slot)) record->values.push_back(v);
  if (last - first == 1) {
    // One pane (always so for tumbling windows): finalise it directly; a pane whose window
    // fired may still be read by later windows, and WindowAggResult only reorders values.
    Pane& p = panes[first];
    for (size_t i = 0; i < naggs; ++i) {
      record->values.push_back(WindowAggResult(spec_->aggs[i], &p.aggs[i]));
    }
  } else {
    merged_.assign(naggs, WindowAggState());
    for (size_t p = first; p < last; ++p) {
      for (size_t i = 0; i < naggs; ++i) {
        WindowAggMerge(spec_->aggs[i].fn, panes[p].aggs[i], &merged_[i]);
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
  record->seq = RecordSeq(slot, end);
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

absl::Status WindowOperator::Snapshot(SnapshotWriter* out, bool full) {
  keys_.Snapshot(out, full, [this](const KeyState& ks, Encoder* enc) {
    enc->I64(last_wm_.ms);
    enc->U64(spec_->aggs.size());
    enc->U64(ks.panes.size());
    for (const Pane& p : ks.panes) {
      enc->I64(p.start);
      for (const WindowAggState& a : p.aggs) {
        enc->I64(a.n);
        enc->Val(a.v);
        enc->F64(a.fsum);
        enc->U64(a.nums.size());
        for (double d : a.nums) enc->F64(d);
        enc->U64(a.set.size());
        for (const Value& v : a.set) enc->Val(v);
      }
    }
  });
  return absl::OkStatus();
}

absl::Status WindowOperator::Restore(uint16_t key_group, std::string_view key,
                                     std::string_view value) {
  int64_t wm = kMin;
  auto decode = [&](Decoder* dec, KeyState* ks) -> absl::Status {
    VIGIL_RETURN_IF_ERROR(dec->I64(&wm));
    uint64_t naggs, npanes;
    VIGIL_RETURN_IF_ERROR(dec->U64(&naggs));
    if (naggs != spec_->aggs.size()) {
      return absl::DataLossError("wrong number of aggregates");
    }
    VIGIL_RETURN_IF_ERROR(dec->U64(&npanes));
    if (npanes > dec->remaining()) return absl::DataLossError("bad pane count");
    for (uint64_t i = 0; i < npanes; ++i) {
      Pane p;
      VIGIL_RETURN_IF_ERROR(dec->I64(&p.start));
      if (!ks->panes.empty() && ks->panes.back().start >= p.start) {
        return absl::DataLossError("panes out of order");
      }
      p.aggs.resize(naggs);
      for (WindowAggState& a : p.aggs) {
        uint64_t n;
        VIGIL_RETURN_IF_ERROR(dec->I64(&a.n));
        VIGIL_RETURN_IF_ERROR(dec->Val(&a.v));
        VIGIL_RETURN_IF_ERROR(dec->F64(&a.fsum));
        VIGIL_RETURN_IF_ERROR(dec->U64(&n));
        if (n > dec->remaining()) return absl::DataLossError("bad value count");
        a.nums.resize(n);
        for (double& d : a.nums) VIGIL_RETURN_IF_ERROR(dec->F64(&d));
        VIGIL_RETURN_IF_ERROR(dec->U64(&n));
        if (n > dec->remaining()) return absl::DataLossError("bad value count");
        for (uint64_t j = 0; j < n; ++j) {
          Value v;
          VIGIL_RETURN_IF_ERROR(dec->Val(&v));
          a.set.insert(std::move(v));
        }
      }
      ks->panes.push_back(std::move(p));
    }
    return absl::OkStatus();
  };
  VIGIL_ASSIGN_OR_RETURN(const uint32_t slot, keys_.Restore(key_group, key, value, decode));
  last_wm_ = std::max(last_wm_, Watermark(wm));
  Rearm(slot, last_wm_.ms);  // arms the timer (or frees a key without a pane)
  return absl::OkStatus();
}

}  // namespace vigil::engine
