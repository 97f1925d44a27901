#pragma once
// Holds a stream's events until the watermark reaches their time, then releases them in
// event-time order, equal times in arrival order (language.md §7: "an event is processed once
// the watermark reaches its timestamp", i.e. time <= watermark).
//
// Events that arrive in order (time >= the newest buffered in-order event) go to a FIFO run
// (O(1)); the others to a binary heap. Releasing merges the two by (time, arrival).
//
// Thread-compatible.
#include <cstdint>
#include <deque>
#include <vector>

#include "core/event.h"
#include "core/time.h"

namespace vigil::engine {

class ReorderBuffer {
 public:
  // Buffers an event; arrival order is the order of Push calls. `tag` is the caller's and
  // comes back with the event from PopReady (the job keeps the event's precomputed route
  // there, so that releasing an event never has to read it).
  void Push(EventPtr e, uint64_t tag = 0) {
    EventTime t = e->time;
    Push(std::move(e), t, tag);
  }
  // As above with the event's time given (== e->time): the buffer does not read the event.
  void Push(EventPtr e, EventTime time, uint64_t tag);
  // The next event with time <= wm in (time, arrival) order, or null when there is none.
  // Sets *tag (if given) to the tag it was pushed with.
  EventPtr PopReady(Watermark wm, uint64_t* tag = nullptr);

  bool empty() const { return run_.empty() && heap_.empty(); }
  size_t size() const { return run_.size() + heap_.size(); }
  // Earliest buffered event time; EventTime::Max() when empty.
  EventTime min_time() const;
  // The buffered events in release order ((time, arrival)), for checkpoints: pushing them
  // into an empty buffer in this order restores the same release order.
  std::vector<EventPtr> Contents() const;

 private:
  struct Entry {
    int64_t time;
    uint64_t arrival;
    uint64_t tag;
    EventPtr event;
  };
  // std::push_heap builds a max-heap: "less" means "later".
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time != b.time ? a.time > b.time : a.arrival > b.arrival;
    }
  };
  std::deque<Entry> run_;    // sorted by (time, arrival)
  std::vector<Entry> heap_;  // out-of-order arrivals
  uint64_t next_arrival_ = 0;
};

}  // namespace vigil::engine
