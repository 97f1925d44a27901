#include "engine/operator/reorder_buffer.h"

#include <algorithm>

namespace vigil::engine {

void ReorderBuffer::Push(EventPtr e) {
  Entry entry{e->time.ms, next_arrival_++, std::move(e)};
  if (run_.empty() || run_.back().time <= entry.time) {
    run_.push_back(std::move(entry));
  } else {
    heap_.push_back(std::move(entry));
    std::push_heap(heap_.begin(), heap_.end(), Later());
  }
}

EventPtr ReorderBuffer::PopReady(Watermark wm) {
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
    heap_.pop_back();
    return e;
  }
  if (run_.front().time > wm.ms) return nullptr;
  EventPtr e = std::move(run_.front().event);
  run_.pop_front();
  return e;
}

EventTime ReorderBuffer::min_time() const {
  int64_t t = EventTime::Max().ms;
  if (!run_.empty()) t = std::min(t, run_.front().time);
  if (!heap_.empty()) t = std::min(t, heap_.front().time);
  return EventTime(t);
}

}  // namespace vigil::engine
