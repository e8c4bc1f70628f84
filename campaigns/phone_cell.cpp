#include "campaigns/phone_cell.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

namespace loa::campaigns {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t count_digits(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), is_digit));
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// U+FF01..U+FF5E, the full-width forms of ASCII, are EF BC 81..EF BD 9E in UTF-8.
bool has_full_width(std::string_view s) {
  for (std::size_t i = 0; i + 2 < s.size(); ++i)
    if (s[i] == '\xEF' && (s[i + 1] == '\xBC' || s[i + 1] == '\xBD')) return true;
  return false;
}

std::string nfkc(std::string_view s) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
  if (n < 0) return std::string(s);  // not UTF-8: normalize_phone() will say what is wrong
  std::string r(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  std::free(out);
  return r;
}

bool has_letter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z');
  });
}

// Removes "(note)" groups that hold a letter; returns the notes joined by "; ".
std::string take_notes(std::string& s) {
  std::string notes;
  std::size_t from = 0;
  while ((from = s.find('(', from)) != std::string::npos) {
    const std::size_t close = s.find(')', from);
    if (close == std::string::npos) break;
    const std::string_view inside = trim(std::string_view(s).substr(from + 1, close - from - 1));
    if (!has_letter(inside)) {
      from = close + 1;
      continue;
    }
    if (!inside.empty()) notes += (notes.empty() ? "" : "; ") + std::string(inside);
    s.erase(from, close - from + 1);
  }
  return notes;
}

// "0912345687.0", "912345687,00": digits, then a decimal separator and zeros only.
bool strip_decimal_suffix(std::string& s) {
  const std::size_t dot = s.find_last_of(".,");
  if (dot == std::string::npos || dot == 0 || dot + 1 == s.size()) return false;
  const std::string_view head(s.data(), dot);
  const std::string_view tail = std::string_view(s).substr(dot + 1);
  if (!std::all_of(head.begin(), head.end(), is_digit)) return false;
  if (!std::all_of(tail.begin(), tail.end(), [](char c) { return c == '0'; })) return false;
  s.resize(dot);
  return true;
}

enum class Scientific { kNo, kExpanded, kRounded };

// d[.ddd]E[+]nn (Excel also writes a decimal comma in a Vietnamese locale).
Scientific expand_scientific(std::string& s) {
  const std::size_t e = s.find_first_of("eE");
  if (e == std::string::npos || e == 0) return Scientific::kNo;
  const std::string_view mantissa(s.data(), e);
  std::string_view exponent = std::string_view(s).substr(e + 1);
  if (!exponent.empty() && exponent.front() == '+') exponent.remove_prefix(1);
  if (exponent.empty() || exponent.size() > 2 ||
      !std::all_of(exponent.begin(), exponent.end(), is_digit))
    return Scientific::kNo;
  std::string digits;
  std::size_t decimals = 0;
  bool point = false;
  for (char c : mantissa) {
    if (is_digit(c)) {
      digits += c;
      decimals += point ? 1 : 0;
    } else if ((c == '.' || c == ',') && !point && !digits.empty()) {
      point = true;
    } else {
      return Scientific::kNo;
    }
  }
  if (digits.empty()) return Scientific::kNo;
  const auto power = static_cast<std::size_t>(std::stoi(std::string(exponent)));
  if (power < decimals) return Scientific::kNo;  // not a whole number: not a phone either
  if (power > decimals) return Scientific::kRounded;
  s = digits;
  return Scientific::kExpanded;
}

void repair(std::string& s, PhoneCell& cell) {
  while (!s.empty() && (s.front() == '\'' || s.front() == '`')) {
    s.erase(0, 1);
    if (std::find(cell.repairs.begin(), cell.repairs.end(), PhoneCellRepair::kApostrophe) ==
        cell.repairs.end())
      cell.repairs.push_back(PhoneCellRepair::kApostrophe);
  }
  s = std::string(trim(s));
  switch (expand_scientific(s)) {
    case Scientific::kExpanded:
      cell.repairs.push_back(PhoneCellRepair::kScientific);
      return;
    case Scientific::kRounded:
      cell.excel_rounded = true;
      s.clear();
      return;
    case Scientific::kNo:
      break;
  }
  if (strip_decimal_suffix(s)) cell.repairs.push_back(PhoneCellRepair::kDecimalSuffix);
}

}  // namespace

PhoneCell read_phone_cell(std::string_view raw) {
  PhoneCell cell;
  std::string s;
  if (has_full_width(raw)) {
    s = nfkc(raw);
    cell.repairs.push_back(PhoneCellRepair::kFullWidth);
  } else {
    s = std::string(raw);
  }
  // Typographic apostrophes, as Word and phones type them, are apostrophes too.
  for (std::string_view quote : {"\xE2\x80\x98", "\xE2\x80\x99"})
    for (std::size_t at; (at = s.find(quote)) != std::string::npos;) s.replace(at, 3, "'");

  cell.note = take_notes(s);
  if (!cell.note.empty()) cell.repairs.push_back(PhoneCellRepair::kNote);

  // Two numbers: split at the first separator whose both sides hold a whole number.
  const std::size_t split = [&s] {
    for (std::size_t i = s.find_first_of("/;,|\n"); i != std::string::npos;
         i = s.find_first_of("/;,|\n", i + 1)) {
      if (count_digits(std::string_view(s).substr(0, i)) >= 9 &&
          count_digits(std::string_view(s).substr(i + 1)) >= 9)
        return i;
    }
    return std::string::npos;
  }();
  if (split != std::string::npos) {
    cell.secondary = std::string(trim(std::string_view(s).substr(split + 1)));
    s.resize(split);
    cell.repairs.push_back(PhoneCellRepair::kSecondNumber);
  }
  repair(s, cell);
  cell.number = std::move(s);
  if (!cell.secondary.empty()) {
    PhoneCell second;
    repair(cell.secondary, second);
  }
  return cell;
}

}  // namespace loa::campaigns
