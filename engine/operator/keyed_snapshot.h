#pragma once
// The incremental snapshot of an operator that keeps its keys in a slab (`keys`, each with
// `live`), an index from encoded partition key to slot, and the set of keys changed since
// the last snapshot (encoded key -> key group): RuleOperator::Snapshot's contract
// (operator.h) for the window and when operators.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/operator/operator.h"

namespace vigil::engine {

// With full, calls put(key_state) for every live key; otherwise for every changed key still
// live, and out->Delete for every changed key freed since. Clears *dirty.
template <typename KeyState, typename Put>
void WriteKeyedSnapshot(const std::vector<KeyState>& keys,
                        const absl::flat_hash_map<std::string, uint32_t>& index,
                        absl::flat_hash_map<std::string, uint16_t>* dirty, bool full,
                        SnapshotWriter* out, const Put& put) {
  if (full) {
    for (const KeyState& ks : keys) {
      if (ks.live) put(ks);
    }
  } else {
    for (const auto& [encoded, key_group] : *dirty) {
      auto it = index.find(encoded);
      if (it == index.end()) {
        out->Delete(key_group, encoded);
      } else {
        put(keys[it->second]);
      }
    }
  }
  dirty->clear();
}

}  // namespace vigil::engine
