#include "campaigns/cell_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace loa::campaigns {

std::string number_text(double value) {
  char buf[64];
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

std::string date_text(double serial, bool date1904) {
  if (!std::isfinite(serial) || serial < 0 || serial > 2958466) return number_text(serial);
  auto days = static_cast<long long>(std::floor(serial));
  int minutes = static_cast<int>(std::lround((serial - static_cast<double>(days)) * 1440.0));
  if (minutes == 1440) {
    ++days;
    minutes = 0;
  }
  // Days since 1970-01-01: the 1900 system's day 25569 is 1970-01-01 (day 60 is the phantom
  // 29/02/1900); the 1904 system's day 0 is 1904-01-01.
  long long z = date1904 ? days - 24107 : days - 25569;
  if (!date1904 && days < 61) ++z;
  // civil_from_days (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long y = static_cast<long long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  char buf[48];
  if (minutes == 0)
    std::snprintf(buf, sizeof buf, "%02u/%02u/%04lld", d, m, y + (m <= 2));
  else
    std::snprintf(buf, sizeof buf, "%02u/%02u/%04lld %02d:%02d", d, m, y + (m <= 2), minutes / 60,
                  minutes % 60);
  return buf;
}

}  // namespace loa::campaigns
