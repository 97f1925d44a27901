#pragma once
// A sink that keeps every record in memory: for tests and for `vigil test`, which compare
// what a job emitted with what was expected. State is empty (nothing to restore).
// Thread-compatible: written by the job's output thread, read after Job::Run returned.
#include <string>
#include <vector>

#include "engine/record.h"
#include "engine/sink/sink.h"

namespace vigil::engine {

class CollectingSink final : public Sink {
 public:
  absl::Status Write(const Record& r) override {
    records_.push_back(r);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    ++flushes_;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> SnapshotState(uint64_t) override { return std::string(); }
  absl::Status Restore(std::string_view) override { return absl::OkStatus(); }
  absl::Status Close() override {
    closed_ = true;
    return absl::OkStatus();
  }
  SinkStats stats() const override {
    SinkStats s;
    s.sent = records_.size();
    return s;
  }

  const std::vector<Record>& records() const { return records_; }
  std::vector<Record>& records() { return records_; }
  int flushes() const { return flushes_; }
  bool closed() const { return closed_; }

 private:
  std::vector<Record> records_;
  int flushes_ = 0;
  bool closed_ = false;
};

}  // namespace vigil::engine
