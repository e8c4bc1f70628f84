// Time as the department lives it: Asia/Ho_Chi_Minh, which is UTC+07:00 all year (Vietnam has
// kept no daylight saving time since 1975), so a fixed offset is exact. libstdc++ 12 has no
// time-zone database (std::chrono::zoned_time), and none is needed for this zone.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace loa::campaigns {

using TimePoint = std::chrono::sys_seconds;
inline constexpr std::chrono::seconds kVietnamOffset{7 * 3600};

// Parses "2026-12-01T08:00:00+07:00", "2026-12-01T01:00:00Z", "2026-12-01 08:00" and
// "2026-12-01" (the last two in Vietnam time). nullopt when malformed or impossible.
std::optional<TimePoint> parse_time(std::string_view text);
// "2026-12-01T08:00:00+07:00"
std::string format_time(TimePoint t);

// Minutes after local midnight.
int local_minute_of_day(TimePoint t);

// A daily window in which nothing is sent, e.g. 21:00-07:00 (it may cross midnight). Empty
// when start == end.
struct QuietHours {
  int start_minute = 21 * 60;
  int end_minute = 7 * 60;

  static std::optional<QuietHours> parse(std::string_view text);  // "21:00-07:00"
  std::string describe() const;
  bool contains(TimePoint t) const;
  // `t` if it is outside the window, else the window's end.
  TimePoint next_allowed(TimePoint t) const;
  // Sending minutes per day outside the window.
  int open_minutes_per_day() const;
};

}  // namespace loa::campaigns
