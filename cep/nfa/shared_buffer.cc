#include "cep/nfa/shared_buffer.h"

namespace vigil::cep {

uint32_t SharedBuffer::Register(const EventPtr& event) {
  uint32_t i;
  if (free_events_ != kNil) {
    i = free_events_;
    free_events_ = events_[i].next_free;
  } else {
    i = static_cast<uint32_t>(events_.size());
    events_.emplace_back();
  }
  EventEntry& e = events_[i];
  e.event = event;
  e.id = next_id_++;
  e.refs = 1;
  e.next_free = kNil;
  ++live_events_;
  return i;
}

uint32_t SharedBuffer::AddNode(uint32_t ev, uint32_t prev, int32_t var) {
  uint32_t i;
  if (free_nodes_ != kNil) {
    i = free_nodes_;
    free_nodes_ = nodes_[i].prev;
  } else {
    i = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& n = nodes_[i];
  n.event = ev;
  n.prev = prev;
  n.var = var;
  n.refs = 1;
  ++events_[ev].refs;
  if (prev != kNil) ++nodes_[prev].refs;
  ++live_nodes_;
  return i;
}

void SharedBuffer::Release(uint32_t node) {
  while (node != kNil) {
    Node& n = nodes_[node];
    if (--n.refs != 0) return;
    uint32_t prev = n.prev;
    if (--events_[n.event].refs == 0) FreeEvent(n.event);
    n.event = kNil;
    n.prev = free_nodes_;  // free list threads through `prev`
    free_nodes_ = node;
    --live_nodes_;
    node = prev;
  }
  MaybeShrink();
}

void SharedBuffer::ReleaseEvent(uint32_t ev) {
  if (--events_[ev].refs == 0) {
    FreeEvent(ev);
    MaybeShrink();
  }
}

void SharedBuffer::FreeEvent(uint32_t ev) {
  EventEntry& e = events_[ev];
  e.event.reset();
  e.next_free = free_events_;
  free_events_ = ev;
  --live_events_;
}

void SharedBuffer::MaybeShrink() {
  // Once a burst is over give the memory back: an idle key keeps no slots.
  if (live_nodes_ == 0 && live_events_ == 0 && (!nodes_.empty() || !events_.empty())) {
    if (nodes_.capacity() > 64) {
      std::vector<Node>().swap(nodes_);
    } else {
      nodes_.clear();
    }
    if (events_.capacity() > 64) {
      std::vector<EventEntry>().swap(events_);
    } else {
      events_.clear();
    }
    free_events_ = kNil;
    free_nodes_ = kNil;
  }
}

}  // namespace vigil::cep
