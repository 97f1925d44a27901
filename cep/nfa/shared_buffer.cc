#include "cep/nfa/shared_buffer.h"

#include <algorithm>
#include <memory>

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
    next_id_ = 0;  // nothing refers to an id any more
  }
}

void SharedBuffer::Clear() {
  std::vector<EventEntry>().swap(events_);
  std::vector<Node>().swap(nodes_);
  free_events_ = kNil;
  free_nodes_ = kNil;
  live_events_ = 0;
  live_nodes_ = 0;
  next_id_ = 0;
}

// Serialized form:
//   U64 next_id
//   U64 #events, then per event (ascending id): U64 id - (previous id + 1), Ev
//   U64 #nodes, then per node (predecessors first): U32 event position,
//       U32 predecessor position + 1 (0: none; always < own position + 1), U32 var + 1
namespace {
// Per-thread scratch of Serialize: checkpoints serialize many small buffers in a row.
struct SerialScratch {
  std::vector<uint32_t> live;
  std::vector<uint32_t> event_pos;
  std::vector<uint32_t> order;
  std::vector<uint32_t> chain;
};
SerialScratch& GetSerialScratch() {
  thread_local SerialScratch s;
  return s;
}
}  // namespace

void SharedBuffer::Serialize(Encoder* out, std::vector<uint32_t>* node_index) const {
  SerialScratch& sc = GetSerialScratch();
  out->U64(next_id_);
  // Events by id: positions are ranks. Slots are mostly in id order already.
  std::vector<uint32_t>& live = sc.live;
  live.clear();
  bool sorted = true;
  for (uint32_t i = 0; i < events_.size(); ++i) {
    if (events_[i].refs == 0) continue;
    if (!live.empty() && events_[live.back()].id > events_[i].id) sorted = false;
    live.push_back(i);
  }
  if (!sorted) {
    std::sort(live.begin(), live.end(),
              [this](uint32_t a, uint32_t b) { return events_[a].id < events_[b].id; });
  }
  std::vector<uint32_t>& event_pos = sc.event_pos;
  event_pos.assign(events_.size(), kNil);
  out->U64(live.size());
  uint64_t expect = 0;
  for (uint32_t p = 0; p < live.size(); ++p) {
    const EventEntry& e = events_[live[p]];
    event_pos[live[p]] = p;
    out->U64(e.id - expect);
    expect = e.id + 1;
    out->Ev(*e.event);
  }
  // Nodes in an order where a predecessor always precedes its children (slots are reused, so
  // slot order is not one): walk each unvisited chain up to a visited node, number downwards.
  node_index->assign(nodes_.size(), kNil);
  std::vector<uint32_t>& order = sc.order;
  order.clear();
  std::vector<uint32_t>& chain = sc.chain;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].refs == 0 || (*node_index)[i] != kNil) continue;
    chain.clear();
    for (uint32_t n = i; n != kNil && (*node_index)[n] == kNil; n = nodes_[n].prev) {
      chain.push_back(n);
      (*node_index)[n] = 0;  // placeholder: on the chain
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      (*node_index)[*it] = static_cast<uint32_t>(order.size());
      order.push_back(*it);
    }
  }
  out->U64(order.size());
  for (uint32_t n : order) {
    const Node& node = nodes_[n];
    out->U32(event_pos[node.event]);
    out->U32(node.prev == kNil ? 0 : (*node_index)[node.prev] + 1);
    out->U32(static_cast<uint32_t>(node.var + 1));
  }
}

absl::Status SharedBuffer::Restore(Decoder* in, int32_t num_vars) {
  Clear();
  auto fail = [this](const char* what) {
    Clear();
    return absl::DataLossError(std::string("nfa state: ") + what);
  };
  uint64_t next_id;
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(in->U64(&next_id));
  VIGIL_RETURN_IF_ERROR(in->U64(&n));
  if (n > in->remaining() || n >= kNil) return fail("event count beyond input");
  events_.resize(static_cast<size_t>(n));
  uint64_t expect = 0;
  for (EventEntry& e : events_) {
    uint64_t delta;
    absl::Status st = in->U64(&delta);
    if (!st.ok()) {
      Clear();
      return st;
    }
    if (delta >= next_id || expect > next_id - 1 - delta) return fail("event id out of range");
    e.id = expect + delta;
    expect = e.id + 1;
    auto ev = std::make_shared<Event>();
    st = in->Ev(ev.get());
    if (!st.ok()) {
      Clear();
      return st;
    }
    e.event = std::move(ev);
  }
  VIGIL_RETURN_IF_ERROR(in->U64(&n));
  if (n > in->remaining() || n >= kNil) return fail("node count beyond input");
  nodes_.resize(static_cast<size_t>(n));
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    uint32_t ev, prev, var;
    absl::Status st = in->U32(&ev);
    if (st.ok()) st = in->U32(&prev);
    if (st.ok()) st = in->U32(&var);
    if (!st.ok()) {
      Clear();
      return st;
    }
    if (ev >= events_.size()) return fail("node refers to an unknown event");
    if (prev > i) return fail("node predecessor out of order");
    if (var > static_cast<uint32_t>(num_vars)) return fail("node variable out of range");
    Node& node = nodes_[i];
    node.event = ev;
    node.prev = prev == 0 ? kNil : prev - 1;
    node.var = static_cast<int32_t>(var) - 1;
    ++events_[ev].refs;
    if (node.prev != kNil) ++nodes_[node.prev].refs;
  }
  live_events_ = events_.size();
  live_nodes_ = nodes_.size();
  next_id_ = next_id;
  return absl::OkStatus();
}

absl::Status SharedBuffer::CheckRestored() const {
  for (const EventEntry& e : events_) {
    if (e.refs == 0) return absl::DataLossError("nfa state: unreferenced buffered event");
  }
  for (const Node& n : nodes_) {
    if (n.refs == 0) return absl::DataLossError("nfa state: unreferenced buffer node");
  }
  return absl::OkStatus();
}

}  // namespace vigil::cep
