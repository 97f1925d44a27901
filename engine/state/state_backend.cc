#include "engine/state/state_backend.h"

#include "engine/state/heap_backend.h"
#include "engine/state/rocksdb_backend.h"

namespace vigil::engine::state {

absl::StatusOr<std::unique_ptr<StateBackend>> OpenStateBackend(const std::string& state_dir,
                                                               int retained_checkpoints) {
  if (state_dir.empty()) {
    HeapBackend::Options o;
    o.retained_checkpoints = retained_checkpoints;
    VIGIL_ASSIGN_OR_RETURN(auto b, HeapBackend::Open(std::move(o)));
    return std::unique_ptr<StateBackend>(std::move(b));
  }
  RocksDbBackend::Options o;
  o.dir = state_dir;
  o.retained_checkpoints = retained_checkpoints;
  VIGIL_ASSIGN_OR_RETURN(auto b, RocksDbBackend::Open(std::move(o)));
  return std::unique_ptr<StateBackend>(std::move(b));
}

}  // namespace vigil::engine::state
