#pragma once
// RecordTap: a bounded, sampled window onto the job's most recent output records, for the
// dashboard's "recent records" section (JobView::RecentRecords). The output stage offers every
// record it writes; the tap keeps at most `max_per_second` of them per wall-clock second (the
// first ones of each second; the rest are counted and dropped before any copy), in a ring of
// `capacity` records (the oldest is evicted). A record longer than `max_record_bytes` is kept
// as a small placeholder object instead (see Offer), so memory stays below roughly
// capacity * max_record_bytes.
//
// Thread-safety: every method may be called concurrently from any thread. Offer takes one
// mutex; when the second's budget is spent it returns after that check without copying.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::admin {

class RecordTap {
 public:
  struct Options {
    size_t capacity = 200;                // records held; >= 1
    uint32_t max_per_second = 20;         // records kept per wall-clock second; >= 1
    size_t max_record_bytes = 64 * 1024;  // larger records are kept as a placeholder
  };
  struct Stats {
    uint64_t offered = 0;      // Offer calls
    uint64_t kept = 0;         // records stored (placeholders included)
    uint64_t sampled_out = 0;  // over the per-second budget, not stored
    uint64_t oversized = 0;    // stored as a placeholder
    uint64_t evicted = 0;      // pushed out of the ring by newer records
  };
  using Clock = std::chrono::steady_clock;

  // Options out of range are clamped to their minimum (1).
  explicit RecordTap(Options options);
  RecordTap() : RecordTap(Options{}) {}

  // Offers one rendered record (a JSON object, language.md §8). Returns true when it was kept.
  // A record over max_record_bytes is kept as
  //   {"tap_truncated": true, "bytes": N, "prefix": "<its first 1024 bytes, as a string>"}
  // so readers always get valid JSON objects. `now` is for tests; the budget window is the
  // second that starts at the first offer after the previous window ended.
  bool Offer(std::string_view record_json, Clock::time_point now = Clock::now());

  // At most `limit` of the stored records, oldest first, newest last.
  std::vector<std::string> Recent(size_t limit) const;
  Stats stats() const;
  const Options& options() const { return options_; }

 private:
  Options options_;
  mutable std::mutex mu_;
  std::vector<std::string> ring_;  // grows to capacity, then reused
  size_t next_ = 0;                // slot the next record goes to once the ring is full
  Clock::time_point window_start_{};
  uint32_t window_count_ = 0;
  bool window_open_ = false;
  Stats stats_;
};

}  // namespace vigil::admin
