#include "engine/runtime/partition_mover.h"

#include "engine/operator/key_group.h"
#include "engine/state/state_key.h"

namespace vigil::engine::runtime {

namespace {
// Entries loaded into a worker per work item (the rest follow in later items).
constexpr size_t kLoadBatch = 4096;
}  // namespace

absl::Status PartitionMover::Apply(const std::vector<int>& streams, AssignmentChange change) {
  // Everything read before the change is finalized and routed first.
  VIGIL_RETURN_IF_ERROR(decode_->Drain());
  const int workers = exchange_->parallelism();
  for (int p : change.revoked) {
    if (p < 0 || p >= static_cast<int>(streams.size())) continue;
    StreamRouter::Stream& s = *router_->stream(streams[p]);
    router_->ResetStream(s);
    for (int w = 0; w < workers; ++w) {
      WorkItem it;
      it.kind = WorkItem::kResetStream;
      it.index = s.index;
      VIGIL_RETURN_IF_ERROR(exchange_->PushWork(w, std::move(it)));
    }
  }
  for (PartitionRestore& r : change.assigned) {
    if (r.partition < 0 || r.partition >= static_cast<int>(streams.size())) continue;
    StreamRouter::Stream& s = *router_->stream(streams[r.partition]);
    // Fresh operators first (a partition this process had before comes back empty), then the
    // keys, each to the worker owning its key group.
    std::vector<std::vector<std::pair<std::string, std::string>>> by_worker(workers);
    for (int w = 0; w < workers; ++w) {
      WorkItem it;
      it.kind = WorkItem::kResetStream;
      it.index = s.index;
      VIGIL_RETURN_IF_ERROR(exchange_->PushWork(w, std::move(it)));
    }
    auto flush = [&](int w) -> absl::Status {
      if (by_worker[w].empty()) return absl::OkStatus();
      WorkItem it;
      it.kind = WorkItem::kLoadState;
      it.index = s.index;
      it.state = std::make_shared<const std::vector<std::pair<std::string, std::string>>>(
          std::move(by_worker[w]));
      by_worker[w].clear();
      return exchange_->PushWork(w, std::move(it));
    };
    for (auto& [key, value] : r.keyed) {
      std::optional<uint16_t> kg = state::KeyGroupOf(key);
      if (!kg) return absl::DataLossError("restored state: malformed state key");
      int w = WorkerOfKeyGroup(*kg, workers);
      by_worker[w].emplace_back(std::move(key), std::move(value));
      if (by_worker[w].size() >= kLoadBatch) VIGIL_RETURN_IF_ERROR(flush(w));
    }
    for (int w = 0; w < workers; ++w) VIGIL_RETURN_IF_ERROR(flush(w));
    router_->ResetStream(s);
    VIGIL_RETURN_IF_ERROR(router_->RestoreBuffered(s, r.job_state));
  }
  return exchange_->FlushAll();
}

}  // namespace vigil::engine::runtime
