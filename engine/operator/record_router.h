#pragma once
// The port through which operators hand their output records to the job, which owns the sinks.
#include <vector>

#include "core/status.h"
#include "engine/record.h"

namespace vigil::engine {

class RecordRouter {
 public:
  virtual ~RecordRouter() = default;
  // Delivers `r` to the rule set's sinks with these indices; an empty list means the default
  // output (--output). Errors are the sinks' and stop the job.
  virtual absl::Status Route(const Record& r, const std::vector<int>& sinks) = 0;
};

}  // namespace vigil::engine
