#pragma once
// The changelog of one repartition partition's state (docs/scale-out.md): what a process
// writes so that another can take the partition over, and the fold that turns it back into
// state. Records, in partition order:
//   claim   (token)                        a process took the partition over
//   put     (token, checkpoint, key, value) a key's state as of a checkpoint
//   delete  (token, checkpoint, key)
//   marker  (token, checkpoint, full, reader state)  checkpoint complete for the partition
// `token` names one ownership (process incarnation + assignment number). The fold applies a
// checkpoint's puts and deletes only when its marker follows from the same token, and ignores
// everything from a token other than the latest claim's (a process that lost the partition,
// or a transaction the broker did not really abort). A `full` marker replaces the state.
//
// Pure; thread-compatible.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::engine::scaleout {

std::string EncodeClaim(std::string_view token);
std::string EncodePut(std::string_view token, uint64_t checkpoint, std::string_view value);
std::string EncodeDelete(std::string_view token, uint64_t checkpoint);
std::string EncodeMarker(std::string_view token, uint64_t checkpoint, bool full,
                         std::string_view reader_state);

class ChangelogFold {
 public:
  // One record (key = the state key for puts and deletes, "" otherwise). Errors: DataLoss
  // for a value that is not a changelog record.
  absl::Status Add(std::string_view key, std::string_view value);

  struct Result {
    std::map<std::string, std::string> state;  // key -> value, as of the last marker
    std::optional<uint64_t> checkpoint;        // the last marker's (none: start empty)
    std::string reader_state;                  // the last marker's
  };
  // The state as of the last applicable marker (entries without a marker are dropped).
  Result Finish() &&;

 private:
  struct Pending {
    uint64_t checkpoint;
    bool put;
    std::string key, value;
  };
  std::optional<std::string> claim_;
  std::vector<Pending> pending_;  // of claim_'s token, not yet marked
  Result result_;
};

}  // namespace vigil::engine::scaleout
