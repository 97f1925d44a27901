#pragma once
// Strong time types (Redpanda's named_type habit): an event time, a duration and a watermark
// are never interchangeable bare integers in an interface. All are milliseconds.
#include <cstdint>
#include <limits>
#include <string>

namespace vigil {

// A span of time in milliseconds.
struct Duration {
  int64_t ms = 0;
  constexpr Duration() = default;
  constexpr explicit Duration(int64_t m) : ms(m) {}
  static constexpr Duration Millis(int64_t m) { return Duration(m); }
  static constexpr Duration Seconds(int64_t s) { return Duration(s * 1000); }
  friend constexpr auto operator<=>(Duration, Duration) = default;
  constexpr Duration operator+(Duration o) const { return Duration(ms + o.ms); }
  constexpr Duration operator-(Duration o) const { return Duration(ms - o.ms); }
};

// A point in event time: milliseconds since the Unix epoch.
struct EventTime {
  int64_t ms = 0;
  constexpr EventTime() = default;
  constexpr explicit EventTime(int64_t m) : ms(m) {}
  static constexpr EventTime Min() { return EventTime(std::numeric_limits<int64_t>::min()); }
  static constexpr EventTime Max() { return EventTime(std::numeric_limits<int64_t>::max()); }
  friend constexpr auto operator<=>(EventTime, EventTime) = default;
  // Saturating arithmetic: Min/Max stay put.
  constexpr EventTime operator+(Duration d) const {
    if (ms == Max().ms || ms == Min().ms) return *this;
    if (d.ms > 0 && ms > Max().ms - d.ms) return Max();
    if (d.ms < 0 && ms < Min().ms - d.ms) return Min();
    return EventTime(ms + d.ms);
  }
  constexpr EventTime operator-(Duration d) const { return *this + Duration(-d.ms); }
  constexpr Duration operator-(EventTime o) const { return Duration(ms - o.ms); }
};

// A stream's progress in event time: no event with time <= the watermark is expected any more
// (language.md §7). Min() means "nothing yet"; Max() means "all inputs ended".
struct Watermark {
  int64_t ms = std::numeric_limits<int64_t>::min();
  constexpr Watermark() = default;
  constexpr explicit Watermark(int64_t m) : ms(m) {}
  static constexpr Watermark Min() { return Watermark(std::numeric_limits<int64_t>::min()); }
  static constexpr Watermark Max() { return Watermark(std::numeric_limits<int64_t>::max()); }
  friend constexpr auto operator<=>(Watermark, Watermark) = default;
  constexpr EventTime AsEventTime() const { return EventTime(ms); }
  // True when an event at `t` is late: t <= watermark.
  constexpr bool Covers(EventTime t) const { return t.ms <= ms; }
};

// "1h30m", "250ms", "0s"; the shortest exact sum of units.
std::string FormatDuration(Duration d);

}  // namespace vigil
