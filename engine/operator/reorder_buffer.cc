#include "engine/operator/reorder_buffer.h"

#include <algorithm>

namespace vigil::engine {

ReorderBuffer::ReorderBuffer() : wheel_(kWheelSlots) {}

void ReorderBuffer::Push(EventPtr e, EventTime time, uint64_t tag) {
  Entry entry{time.ms, next_arrival_++, tag, std::move(e)};
  ++size_;
  if (run_.empty() || run_.back().time <= entry.time) {
    run_.push_back(std::move(entry));
    return;
  }
  const int64_t t = entry.time;
  if (wheel_count_ == 0) {
    wheel_base_ = wheel_max_ = t;
  } else if (t < wheel_base_) {
    // Lower the base if the span still fits: every slot between stays empty.
    if (wheel_max_ - t >= kWheelSlots) {
      heap_.push_back(std::move(entry));
      std::push_heap(heap_.begin(), heap_.end(), Later());
      return;
    }
    wheel_base_ = t;
  } else if (t - wheel_base_ >= kWheelSlots) {
    heap_.push_back(std::move(entry));
    std::push_heap(heap_.begin(), heap_.end(), Later());
    return;
  }
  wheel_max_ = std::max(wheel_max_, t);
  Slot& slot = SlotOf(t);
  if (slot.empty()) {
    slot.entries.clear();
    slot.head = 0;
  }
  slot.entries.push_back(std::move(entry));
  ++wheel_count_;
}

int64_t ReorderBuffer::FirstWheelTime() const {
  int64_t t = wheel_base_;
  while (SlotOf(t).empty()) ++t;
  return t;
}

ReorderBuffer::Source ReorderBuffer::Next() const {
  Source best = Source::kNone;
  const Entry* e = nullptr;
  auto consider = [&](const Entry& c, Source s) {
    if (e == nullptr || Later()(*e, c)) {
      e = &c;
      best = s;
    }
  };
  if (!run_.empty()) consider(run_.front(), Source::kRun);
  if (wheel_count_ > 0) {
    const Slot& slot = SlotOf(wheel_base_);
    consider(slot.entries[slot.head], Source::kWheel);
  }
  if (!heap_.empty()) consider(heap_.front(), Source::kHeap);
  return best;
}

EventPtr ReorderBuffer::PopReady(Watermark wm, uint64_t* tag) {
  if (size_ == 0) return nullptr;
  if (wheel_count_ > 0) wheel_base_ = FirstWheelTime();
  Entry entry;
  switch (Next()) {
    case Source::kNone:
      return nullptr;
    case Source::kRun:
      if (run_.front().time > wm.ms) return nullptr;
      entry = std::move(run_.front());
      run_.pop_front();
      break;
    case Source::kWheel: {
      if (wheel_base_ > wm.ms) return nullptr;
      Slot& slot = SlotOf(wheel_base_);
      entry = std::move(slot.entries[slot.head++]);
      if (slot.empty()) {
        slot.entries.clear();
        slot.head = 0;
      }
      --wheel_count_;
      break;
    }
    case Source::kHeap:
      if (heap_.front().time > wm.ms) return nullptr;
      std::pop_heap(heap_.begin(), heap_.end(), Later());
      entry = std::move(heap_.back());
      heap_.pop_back();
      break;
  }
  --size_;
  if (tag != nullptr) *tag = entry.tag;
  return std::move(entry.event);
}

EventTime ReorderBuffer::min_time() const {
  int64_t t = EventTime::Max().ms;
  if (!run_.empty()) t = std::min(t, run_.front().time);
  if (wheel_count_ > 0) t = std::min(t, FirstWheelTime());
  if (!heap_.empty()) t = std::min(t, heap_.front().time);
  return EventTime(t);
}

std::vector<EventPtr> ReorderBuffer::Contents() const {
  std::vector<const Entry*> all;
  all.reserve(size());
  for (const Entry& e : run_) all.push_back(&e);
  for (const Slot& s : wheel_) {
    for (size_t i = s.head; i < s.entries.size(); ++i) all.push_back(&s.entries[i]);
  }
  for (const Entry& e : heap_) all.push_back(&e);
  std::sort(all.begin(), all.end(), [](const Entry* a, const Entry* b) {
    return a->time != b->time ? a->time < b->time : a->arrival < b->arrival;
  });
  std::vector<EventPtr> out;
  out.reserve(all.size());
  for (const Entry* e : all) out.push_back(e->event);
  return out;
}

}  // namespace vigil::engine
