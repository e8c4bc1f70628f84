#include "campaigns/local_time.hpp"

#include <charconv>
#include <cstdio>

namespace loa::campaigns {
namespace {

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return ec == std::errc() && end == s.data() + pos + len;
}

}  // namespace

std::optional<TimePoint> parse_time(std::string_view s) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !read_int(s, 0, 4, y) ||
      !read_int(s, 5, 2, mo) || !read_int(s, 8, 2, d))
    return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::size_t pos = 10;
  seconds offset = kVietnamOffset;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') return std::nullopt;
    if (!read_int(s, pos + 1, 2, h) || s.size() < pos + 6 || s[pos + 3] != ':' ||
        !read_int(s, pos + 4, 2, mi))
      return std::nullopt;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!read_int(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
    }
    if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
    if (pos < s.size()) {
      if (s[pos] == 'Z' && pos + 1 == s.size()) {
        offset = seconds(0);
      } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
        int oh = 0, om = 0;
        if (!read_int(s, pos + 1, 2, oh) || !read_int(s, pos + 4, 2, om)) return std::nullopt;
        offset = hours(oh) + minutes(om);
        if (s[pos] == '-') offset = -offset;
      } else {
        return std::nullopt;
      }
    }
  }
  return TimePoint(sys_days(ymd).time_since_epoch() + hours(h) + minutes(mi) + seconds(sec) -
                   offset);
}

std::string format_time(TimePoint t) {
  using namespace std::chrono;
  const auto local = t + kVietnamOffset;
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss hms{local - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d+07:00", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

int local_minute_of_day(TimePoint t) {
  using namespace std::chrono;
  const auto local = t + kVietnamOffset;
  return static_cast<int>(duration_cast<minutes>(local - floor<days>(local)).count());
}

std::optional<QuietHours> QuietHours::parse(std::string_view text) {
  int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
  if (text.size() != 11 || text[2] != ':' || text[5] != '-' || text[8] != ':' ||
      !read_int(text, 0, 2, h1) || !read_int(text, 3, 2, m1) || !read_int(text, 6, 2, h2) ||
      !read_int(text, 9, 2, m2) || h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59)
    return std::nullopt;
  return QuietHours{h1 * 60 + m1, h2 * 60 + m2};
}

std::string QuietHours::describe() const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", start_minute / 60, start_minute % 60,
                end_minute / 60, end_minute % 60);
  return buf;
}

bool QuietHours::contains(TimePoint t) const {
  if (start_minute == end_minute) return false;
  const int m = local_minute_of_day(t);
  return start_minute < end_minute ? (m >= start_minute && m < end_minute)
                                   : (m >= start_minute || m < end_minute);
}

TimePoint QuietHours::next_allowed(TimePoint t) const {
  using namespace std::chrono;
  if (!contains(t)) return t;
  const int m = local_minute_of_day(t);
  int wait = end_minute - m;
  if (wait <= 0) wait += 24 * 60;
  const auto start_of_minute = floor<minutes>(t);
  return TimePoint(start_of_minute + minutes(wait));
}

int QuietHours::open_minutes_per_day() const {
  if (start_minute == end_minute) return 24 * 60;
  const int quiet = start_minute < end_minute ? end_minute - start_minute
                                              : 24 * 60 - start_minute + end_minute;
  return 24 * 60 - quiet;
}

}  // namespace loa::campaigns
