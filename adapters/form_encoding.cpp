#include "adapters/form_encoding.hpp"

#include <algorithm>

namespace loa::adapters {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Decodes %XX (and '+' as a space when asked); a bad escape is kept as is and clears `ok`.
std::string decode(std::string_view s, bool plus_is_space, bool& ok) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        ok = false;
        out.push_back(c);
        continue;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

FormParams FormParams::from_target(std::string_view target, bool question_mark_separates) {
  FormParams p;
  const auto q = target.find('?');
  if (q != std::string_view::npos) p.parse(target.substr(q + 1), question_mark_separates);
  return p;
}

FormParams FormParams::from_body(std::string_view body) {
  FormParams p;
  p.parse(body, false);
  return p;
}

void FormParams::parse(std::string_view query, bool question_mark_separates) {
  const std::string_view separators = question_mark_separates ? "&?" : "&";
  while (!query.empty()) {
    const auto end = query.find_first_of(separators);
    const std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name = decode(pair.substr(0, eq), true, well_formed_);
    std::string value =
        eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    decode(value, true, well_formed_);  // only to learn whether its escapes are well-formed
    raw_.emplace_back(std::move(name), std::move(value));
  }
}

bool FormParams::has(std::string_view name) const {
  return std::any_of(raw_.begin(), raw_.end(), [&](const auto& p) { return p.first == name; });
}

std::optional<std::string> FormParams::get(std::string_view name) const { return find(name, true); }

std::optional<std::string> FormParams::get_literal_plus(std::string_view name) const {
  return find(name, false);
}

std::optional<std::string> FormParams::find(std::string_view name, bool plus_is_space) const {
  for (const auto& [n, v] : raw_) {
    if (n == name) {
      bool ok = true;
      return decode(v, plus_is_space, ok);
    }
  }
  return std::nullopt;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (const char c : s) {
    if (unreserved(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

bool is_unreserved(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), unreserved);
}

}  // namespace loa::adapters
