#include "core/time.h"

namespace vigil {

std::string FormatDuration(Duration d) {
  if (d.ms == 0) return "0s";
  std::string out;
  int64_t ms = d.ms;
  if (ms < 0) {
    out += "-";
    ms = -ms;
  }
  struct Unit {
    int64_t ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace vigil
