#pragma once
// Clocks the runtime reads: steady time for intervals and ticks, wall time for processing-time
// streams and checkpoint metadata.
#include <chrono>
#include <cstdint>

namespace vigil::engine::runtime {

inline int64_t SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline int64_t SteadyMs() { return SteadyUs() / 1000; }
inline int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace vigil::engine::runtime
