#include "admin/record_tap.h"

#include <algorithm>

#include "core/value.h"

namespace vigil::admin {
namespace {

constexpr size_t kPlaceholderPrefixBytes = 1024;

// Cuts at most `n` bytes without splitting a UTF-8 sequence (the prefix is shown as text).
std::string_view Utf8Prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string Placeholder(std::string_view record_json) {
  std::string out = "{\"tap_truncated\": true, \"bytes\": ";
  out += std::to_string(record_json.size());
  out += ", \"prefix\": ";
  AppendJsonString(Utf8Prefix(record_json, kPlaceholderPrefixBytes), &out);
  out += "}";
  return out;
}

}  // namespace

RecordTap::RecordTap(Options options) : options_(options) {
  options_.capacity = std::max<size_t>(options_.capacity, 1);
  options_.max_per_second = std::max<uint32_t>(options_.max_per_second, 1);
  options_.max_record_bytes = std::max<size_t>(options_.max_record_bytes, 1);
  ring_.reserve(std::min<size_t>(options_.capacity, 1024));
}

bool RecordTap::Offer(std::string_view record_json, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.offered;
  if (!window_open_ || now - window_start_ >= std::chrono::seconds(1) || now < window_start_) {
    window_open_ = true;
    window_start_ = now;
    window_count_ = 0;
  }
  if (window_count_ >= options_.max_per_second) {
    ++stats_.sampled_out;
    return false;
  }
  ++window_count_;
  std::string stored;
  if (record_json.size() > options_.max_record_bytes) {
    ++stats_.oversized;
    stored = Placeholder(record_json);
  } else {
    stored.assign(record_json);
  }
  ++stats_.kept;
  if (ring_.size() < options_.capacity) {
    ring_.push_back(std::move(stored));
  } else {
    ring_[next_] = std::move(stored);
    next_ = (next_ + 1) % options_.capacity;
    ++stats_.evicted;
  }
  return true;
}

std::vector<std::string> RecordTap::Recent(size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t n = std::min(limit, ring_.size());
  std::vector<std::string> out;
  out.reserve(n);
  // Oldest record: slot next_ once the ring is full (0 before); take the newest n of them.
  const size_t size = ring_.size();
  const size_t oldest = size < options_.capacity ? 0 : next_;
  for (size_t i = size - n; i < size; ++i) out.push_back(ring_[(oldest + i) % size]);
  return out;
}

RecordTap::Stats RecordTap::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace vigil::admin
