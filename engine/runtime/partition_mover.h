#pragma once
// Scale-out (docs/scale-out.md): applies a shared source's partition assignment changes on the
// router's thread, in order with the data. Each repartition partition feeds a stream of its
// own, so a partition that moved away resets its stream (buffered events dropped, watermark
// back to Min and idle, its rules' operators recreated empty on every worker: the new owner
// restored that state from the changelog), and a partition that came restores its stream
// (every worker loads the keys of its key groups, buffered events go back into the reorder
// buffer; the source then reports the partition's watermark as it reads on).
//
// Thread-compatible: the router's thread.
#include <vector>

#include "core/status.h"
#include "engine/runtime/decode_stage.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/stream_router.h"
#include "engine/source/shared_source.h"

namespace vigil::engine::runtime {

class PartitionMover {
 public:
  PartitionMover(Exchange* exchange, StreamRouter* router, DecodeStage* decode)
      : exchange_(exchange), router_(router), decode_(decode) {}

  // `streams[p]`: the stream fed by the source's partition p.
  absl::Status Apply(const std::vector<int>& streams, AssignmentChange change);

 private:
  Exchange* exchange_;
  StreamRouter* router_;
  DecodeStage* decode_;
};

}  // namespace vigil::engine::runtime
