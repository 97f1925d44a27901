#pragma once
// SharedBuffer: the per-key store of the events that partial matches have taken, after
// Agrawal et al., "Efficient Pattern Matching over Event Streams" (SIGMOD 2008) and Flink
// CEP's SharedBuffer.
//
// Each event is stored once (an EventEntry, with an id that orders events of the key) no
// matter how many partial matches take it. A take is recorded as a Node (variable, event,
// predecessor node): the nodes form a tree whose root-ward path from any node is exactly the
// sequence of (variable, event) pairs one run has bound. Runs that share a prefix share its
// nodes, so branching a run (Flink's Dewey-versioned pointers) is a reference-count increment
// rather than a copy; because a node names its single predecessor, no version is needed to
// pick the right path when a match is extracted.
//
// Everything is reference counted: a Node by the partial matches pointing at it and by its
// child nodes; an EventEntry by the nodes taking it. An entry is released as soon as its
// count drops to zero, and freed slots are reused, so memory stays flat while partial
// matches keep expiring.
//
// Thread-compatible: one SharedBuffer belongs to one key's NfaState.
#include <cstdint>
#include <vector>

#include "core/codec.h"
#include "core/event.h"
#include "core/status.h"

namespace vigil::cep {

class SharedBuffer {
 public:
  static constexpr uint32_t kNil = 0xffffffffu;

  struct EventEntry {
    EventPtr event;
    uint64_t id = 0;    // registration order within the key: compares events
    uint32_t refs = 0;  // nodes taking this event; 0 = free slot
    uint32_t next_free = kNil;
  };
  struct Node {
    uint32_t event = kNil;  // EventEntry index
    uint32_t prev = kNil;   // predecessor node, kNil for the first event of a run
    int32_t var = -1;       // pattern variable the event was taken into
    uint32_t refs = 0;      // partial matches + child nodes; 0 = free slot
  };

  // Stores `event` (once) and returns its entry index, holding one reference for the caller
  // (Flink's EventWrapper): nodes may take it, then the caller calls ReleaseEvent.
  uint32_t Register(const EventPtr& event);
  // Records that a run took event entry `ev` into `var` after node `prev` (kNil: first take).
  // The new node starts with one reference (the caller's).
  uint32_t AddNode(uint32_t ev, uint32_t prev, int32_t var);
  void Lock(uint32_t node) {
    if (node != kNil) ++nodes_[node].refs;
  }
  // Drops one reference; frees the node (and, transitively, its predecessors and events)
  // when none is left.
  void Release(uint32_t node);
  // Drops the caller's reference taken by Register.
  void ReleaseEvent(uint32_t ev);

  const Node& node(uint32_t i) const { return nodes_[i]; }
  const EventEntry& entry(uint32_t i) const { return events_[i]; }

  size_t live_events() const { return live_events_; }
  size_t live_nodes() const { return live_nodes_; }
  bool empty() const { return live_events_ == 0 && live_nodes_ == 0; }
  // Approximate heap bytes: the slots, plus a flat estimate per live event (events are shared
  // with other rules and keys, their size is not walked). O(1).
  size_t ApproxBytes() const {
    return events_.capacity() * sizeof(EventEntry) + nodes_.capacity() * sizeof(Node) +
           live_events_ * kApproxEventBytes;
  }
  static constexpr size_t kApproxEventBytes = 256;

  // ---- serialization (Nfa::SerializeState / RestoreState) ----
  // Writes the id counter, the live events ordered by id (each once, Encoder::Ev) and the live
  // nodes, predecessors first. Sets (*node_index)[slot] to the position at which a live node
  // was written (kNil for free slots): callers refer to nodes by that position.
  void Serialize(Encoder* out, std::vector<uint32_t>* node_index) const;
  // Replaces the contents with what Serialize wrote; node i is then slot i. Reference counts
  // come from the restored structure only (child nodes, taking nodes): the caller then calls
  // Lock once per partial match pointing at a node, and finally CheckRestored.
  // Errors: DataLoss on malformed input or indices out of range (`num_vars` bounds variables);
  // the buffer is then empty.
  absl::Status Restore(Decoder* in, int32_t num_vars);
  // DataLoss if a restored node or event is referenced by nothing (not a state Serialize
  // writes).
  absl::Status CheckRestored() const;
  // Drops everything (no reference counting): the buffer becomes empty.
  void Clear();

 private:
  void FreeEvent(uint32_t ev);
  void MaybeShrink();

  std::vector<EventEntry> events_;
  std::vector<Node> nodes_;
  uint32_t free_events_ = kNil;
  uint32_t free_nodes_ = kNil;
  size_t live_events_ = 0;
  size_t live_nodes_ = 0;
  uint64_t next_id_ = 0;
};

}  // namespace vigil::cep
