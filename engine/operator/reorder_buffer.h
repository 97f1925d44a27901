#pragma once
// Holds a stream's events until the watermark reaches their time, then releases them in
// event-time order, equal times in arrival order (language.md §7: "an event is processed once
// the watermark reaches its timestamp", i.e. time <= watermark).
//
// Events that arrive in order (time >= the newest buffered in-order event) go to a FIFO run
// (O(1)). Out-of-order arrivals go to a time wheel: kWheelSlots slots of one millisecond each
// covering [wheel_base_, wheel_base_ + kWheelSlots), every slot a FIFO of one event time, so
// push and pop are O(1) and a slot keeps arrival order by itself. Out-of-order events cannot
// be older than the watermark, so they stay within about the out-of-order bound of each
// other; the few that do not fit the wheel's span (bounds over ~4 s, partitions far apart)
// go to a binary heap. Releasing merges the three by (time, arrival).
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
  ReorderBuffer();

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

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Earliest buffered event time; EventTime::Max() when empty.
  EventTime min_time() const;
  // The buffered events in release order ((time, arrival)), for checkpoints: pushing them
  // into an empty buffer in this order restores the same release order.
  std::vector<EventPtr> Contents() const;

  static constexpr int64_t kWheelSlots = 4096;  // a power of two

 private:
  struct Entry {
    int64_t time = 0;
    uint64_t arrival = 0;
    uint64_t tag = 0;
    EventPtr event;
  };
  // std::push_heap builds a max-heap: "less" means "later".
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time != b.time ? a.time > b.time : a.arrival > b.arrival;
    }
  };
  struct Slot {
    std::vector<Entry> entries;  // one event time, in arrival order, from `head` on
    size_t head = 0;
    bool empty() const { return head == entries.size(); }
  };
  enum class Source { kNone, kRun, kWheel, kHeap };

  Slot& SlotOf(int64_t time) { return wheel_[static_cast<size_t>(time & (kWheelSlots - 1))]; }
  const Slot& SlotOf(int64_t time) const {
    return wheel_[static_cast<size_t>(time & (kWheelSlots - 1))];
  }
  // The time of the earliest wheel entry (the wheel must not be empty).
  int64_t FirstWheelTime() const;
  // Where the next event in (time, arrival) order is.
  Source Next() const;

  std::deque<Entry> run_;  // sorted by (time, arrival)
  std::vector<Slot> wheel_;
  int64_t wheel_base_ = 0;  // no wheel entry is earlier; == the earliest one's time
  int64_t wheel_max_ = 0;   // the latest wheel entry's time (while the wheel is not empty)
  size_t wheel_count_ = 0;
  std::vector<Entry> heap_;  // out-of-order arrivals outside the wheel's span
  uint64_t next_arrival_ = 0;
  size_t size_ = 0;
};

}  // namespace vigil::engine
