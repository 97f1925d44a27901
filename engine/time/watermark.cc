#include "engine/time/watermark.h"

#include <algorithm>

namespace vigil::engine {

WatermarkTracker::WatermarkTracker(Duration out_of_order, std::optional<Duration> idle_after,
                                   int partitions)
    : out_of_order_(out_of_order), idle_after_(idle_after), parts_(std::max(partitions, 1)) {}

bool WatermarkTracker::Observe(int partition, EventTime t) {
  Partition& p = parts_[partition];
  bool was_active = p.state == State::kActive;
  p.state = State::kActive;
  if (t <= p.max_seen && was_active) return false;
  p.max_seen = std::max(p.max_seen, t);
  if (explicit_only_) return was_active ? false : Recompute();
  // Fast path: a single partition.
  if (parts_.size() == 1) {
    EventTime wm = p.max_seen - out_of_order_ - Duration(1);
    if (p.max_seen == EventTime::Min()) return false;
    if (wm.ms > current_.ms) {
      current_ = Watermark(wm.ms);
      return true;
    }
    return false;
  }
  return Recompute();
}

bool WatermarkTracker::ObserveWatermark(int partition, Watermark wm) {
  Partition& p = parts_[partition];
  bool was_active = p.state == State::kActive;
  p.state = State::kActive;
  if (wm.ms <= p.explicit_wm.ms && was_active) return false;
  p.explicit_wm = Watermark(std::max(p.explicit_wm.ms, wm.ms));
  return Recompute();
}

int64_t WatermarkTracker::PartitionWatermark(const Partition& p) const {
  if (explicit_only_) return p.explicit_wm.ms;
  int64_t generated = p.max_seen == EventTime::Min()
                          ? Watermark::Min().ms
                          : (p.max_seen - out_of_order_ - Duration(1)).ms;
  return std::max(generated, p.explicit_wm.ms);
}

Watermark WatermarkTracker::partition_watermark(int partition) const {
  return Watermark(PartitionWatermark(parts_[partition]));
}

bool WatermarkTracker::MarkEnded(int partition) {
  parts_[partition].state = State::kEnded;
  return Recompute();
}

bool WatermarkTracker::MarkIdle(int partition) {
  if (parts_[partition].state != State::kActive) return false;
  parts_[partition].state = State::kIdle;
  return Recompute();
}

bool WatermarkTracker::AdvanceTo(Watermark wm) {
  if (wm.ms <= current_.ms) return false;
  current_ = wm;
  return true;
}

bool WatermarkTracker::Recompute() {
  bool any_active = false;
  bool any_idle = false;
  int64_t wm = Watermark::Max().ms;
  for (const Partition& p : parts_) {
    if (p.state == State::kEnded) continue;
    if (p.state == State::kIdle) {
      any_idle = true;
      continue;
    }
    any_active = true;
    wm = std::min(wm, PartitionWatermark(p));
  }
  if (!any_active) {
    if (any_idle) return false;  // all idle: hold the watermark where it is
    wm = Watermark::Max().ms;
  }
  if (wm > current_.ms) {
    current_ = Watermark(wm);
    return true;
  }
  return false;
}

namespace {
// Set in a partition's encoded state when its explicit watermark follows.
constexpr uint32_t kHasExplicit = 0x100;
}  // namespace

void WatermarkTracker::Encode(Encoder* out) const {
  out->I64(current_.ms);
  out->U64(parts_.size());
  for (const Partition& p : parts_) {
    out->I64(p.max_seen.ms);
    bool has_explicit = p.explicit_wm != Watermark::Min();
    out->U32(static_cast<uint32_t>(p.state) | (has_explicit ? kHasExplicit : 0));
    if (has_explicit) out->I64(p.explicit_wm.ms);
  }
}

absl::Status WatermarkTracker::Decode(Decoder* in) {
  int64_t wm = 0;
  uint64_t n = 0;
  VIGIL_RETURN_IF_ERROR(in->I64(&wm));
  VIGIL_RETURN_IF_ERROR(in->U64(&n));
  if (n != parts_.size()) {
    return absl::DataLossError("watermark state: the number of input partitions changed");
  }
  for (Partition& p : parts_) {
    int64_t t = 0;
    uint32_t state = 0;
    VIGIL_RETURN_IF_ERROR(in->I64(&t));
    VIGIL_RETURN_IF_ERROR(in->U32(&state));
    int64_t explicit_wm = Watermark::Min().ms;
    if ((state & kHasExplicit) != 0) {
      VIGIL_RETURN_IF_ERROR(in->I64(&explicit_wm));
      state &= ~kHasExplicit;
    }
    if (state > static_cast<uint32_t>(State::kEnded)) {
      return absl::DataLossError("watermark state: bad partition state");
    }
    p.max_seen = EventTime(t);
    p.explicit_wm = Watermark(explicit_wm);
    p.state = static_cast<State>(state);
  }
  current_ = Watermark(wm);
  return absl::OkStatus();
}

}  // namespace vigil::engine
