#include "engine/operator/reorder_buffer.h"

#include <algorithm>

namespace vigil::engine {

void ReorderBuffer::Push(EventPtr e, EventTime time, uint64_t tag) {
  Entry entry{time.ms, next_arrival_++, tag, std::move(e)};
  if (run_.empty() || run_.back().time <= entry.time) {
    run_.push_back(std::move(entry));
  } else {
    heap_.push_back(std::move(entry));
    std::push_heap(heap_.begin(), heap_.end(), Later());
  }
}

EventPtr ReorderBuffer::PopReady(Watermark wm, uint64_t* tag) {
  bool use_heap;
  if (run_.empty()) {
    if (heap_.empty()) return nullptr;
    use_heap = true;
  } else if (heap_.empty()) {
    use_heap = false;
  } else {
    use_heap = Later()(run_.front(), heap_.front());
  }
  if (use_heap) {
    if (heap_.front().time > wm.ms) return nullptr;
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    EventPtr e = std::move(heap_.back().event);
    if (tag != nullptr) *tag = heap_.back().tag;
    heap_.pop_back();
    return e;
  }
  if (run_.front().time > wm.ms) return nullptr;
  EventPtr e = std::move(run_.front().event);
  if (tag != nullptr) *tag = run_.front().tag;
  run_.pop_front();
  return e;
}

EventTime ReorderBuffer::min_time() const {
  int64_t t = EventTime::Max().ms;
  if (!run_.empty()) t = std::min(t, run_.front().time);
  if (!heap_.empty()) t = std::min(t, heap_.front().time);
  return EventTime(t);
}

std::vector<EventPtr> ReorderBuffer::Contents() const {
  std::vector<const Entry*> all;
  all.reserve(size());
  for (const Entry& e : run_) all.push_back(&e);
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
