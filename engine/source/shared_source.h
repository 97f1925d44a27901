#pragma once
// A source whose partitions are shared with other processes (scale-out, docs/scale-out.md):
// Kafka's consumer group moves partitions between processes, and with a partition goes the
// job's state behind it (the keyed state of its key groups, the events it holds in the
// reorder buffer). Such a source keeps that state recoverable outside the process (a
// changelog), so the port adds to Source:
//
// - TakeAssignmentChange(): partitions revoked from and assigned to this process since the
//   last call, each assigned one with the state to restore (folded from the changelog). The
//   job takes it after every Poll(), before the records that Poll returned: records are only
//   ever of partitions owned after the change.
// - state_sink(): where the job writes the state of its partitions at checkpoints: workers
//   hand it the changed keys at a barrier (Changed), the committer the partitions' own state
//   once the barrier is aligned (Commit). Writes for partitions not owned are dropped.
//
// Thread-safety: TakeAssignmentChange and PartitionState on the job's input thread; the
// state sink's methods as documented there.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/source/source.h"

namespace vigil::engine {

// One partition's state as restored from outside the process.
struct PartitionRestore {
  int partition = 0;
  // StateKey(operator, key group, key) -> value of every live key of the partition's key
  // groups, for the operators to restore.
  std::vector<std::pair<std::string, std::string>> keyed;
  std::string job_state;  // what the job committed for the partition (Commit), or ""
};

// What a checkpoint records for one partition: the source's part (its position as of the
// barrier, PartitionState) and the job's part (e.g. the events it buffered).
struct PartitionCommit {
  int partition = 0;
  std::string source_state;
  std::string job_state;
};

struct AssignmentChange {
  std::vector<int> revoked;
  std::vector<PartitionRestore> assigned;
};

class PartitionStateSink {
 public:
  virtual ~PartitionStateSink() = default;
  // A worker's snapshot at barrier `checkpoint`: the state of `state_key` (in `key_group`)
  // is `value`, or deleted when null. Thread-safe: called by every worker at once.
  virtual void Changed(uint64_t checkpoint, uint16_t key_group, std::string_view state_key,
                       const std::string* value) = 0;
  // Checkpoint `checkpoint` is aligned: after every Changed() of it, records each partition's
  // state as of the barrier (the partitions owned then; ones revoked since are skipped), and
  // makes all of it durable. Called on the committer's thread, one checkpoint at a time.
  // Errors fail the checkpoint.
  virtual absl::Status Commit(uint64_t checkpoint,
                              const std::vector<PartitionCommit>& partitions) = 0;
};

class SharedSource : public Source {
 public:
  SharedSource* AsShared() override { return this; }
  bool explicit_watermarks_only() const override { return true; }

  virtual std::optional<AssignmentChange> TakeAssignmentChange() = 0;
  // The partitions owned now.
  virtual std::vector<int> owned() const = 0;
  // The source's own part of partition p's state at this moment (its position and what it
  // needs to resume exactly there), taken at a barrier and committed with the job's part; on
  // a restore the source applies it itself before reporting the assignment.
  virtual std::string PartitionState(int partition) const = 0;
  virtual PartitionStateSink* state_sink() = 0;
  // Repartition partition of a key group (the events of a key group come through one).
  virtual int PartitionOfKeyGroup(uint16_t key_group) const = 0;
};

}  // namespace vigil::engine
