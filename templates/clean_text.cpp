#include "templates/clean_text.hpp"

#include <cstdio>

#include "templates/utf8.hpp"

namespace loa::templates {
namespace {

// Decodes the code point at `i` of valid UTF-8 and returns its length.
std::size_t decode_valid(std::string_view s, std::size_t i, char32_t* out) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const auto cont = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F);
  };
  if (b0 < 0x80) {
    *out = b0;
    return 1;
  }
  if (b0 < 0xE0) {
    *out = (static_cast<char32_t>(b0 & 0x1F) << 6) | cont(1);
    return 2;
  }
  if (b0 < 0xF0) {
    *out = (static_cast<char32_t>(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    return 3;
  }
  *out = (static_cast<char32_t>(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  return 4;
}

bool is_forbidden_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

bool is_invisible(char32_t cp) {
  return cp == 0x200B || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD || cp == 0x200E ||
         cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// True when the rule has nothing to do: no byte that starts a character the rule touches (ASCII
// controls, DEL, and the UTF-8 spellings of C1 controls, U+00AD, U+200B-U+200F, U+2028-U+202E,
// U+2060, U+2066-U+2069 and U+FEFF). Looks at bytes only; validity is checked apart.
bool nothing_to_clean(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char b = p[i];
    if (b >= 0x20 && b < 0x7F) continue;
    if (b == '\n') continue;
    if (b < 0x80) return false;  // a control or DEL
    const unsigned char b1 = i + 1 < n ? p[i + 1] : 0;
    const unsigned char b2 = i + 2 < n ? p[i + 2] : 0;
    if (b == 0xC2 && ((b1 >= 0x80 && b1 <= 0x9F) || b1 == 0xAD)) return false;
    if (b == 0xE2 && b1 == 0x80 && ((b2 >= 0x8B && b2 <= 0x8F) || (b2 >= 0xA8 && b2 <= 0xAE))) {
      return false;
    }
    if (b == 0xE2 && b1 == 0x81 && (b2 == 0xA0 || (b2 >= 0xA6 && b2 <= 0xA9))) return false;
    if (b == 0xEF && b1 == 0xBB && b2 == 0xBF) return false;
  }
  return true;
}

}  // namespace

std::string code_point_name(char32_t code_point) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(code_point));
  return buf;
}

TextResult<CleanedText> clean_text(std::string_view utf8) {
  CleanedText result;
  if (find_invalid_utf8(utf8) != std::string_view::npos) {
    if (auto error = validate_utf8(utf8)) return std::move(*error);  // names the position
  }
  if (nothing_to_clean(utf8)) {
    result.text.assign(utf8);
    return result;
  }
  result.text.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_valid(utf8, i, &cp);
    if (cp == '\r') {
      result.text.push_back('\n');
      ++result.replaced;
      if (i + 1 < utf8.size() && utf8[i + 1] == '\n') ++i;  // CR LF -> LF
    } else if (cp == '\t') {
      result.text.push_back(' ');
      ++result.replaced;
    } else if (cp == 0x2028 || cp == 0x2029) {
      result.text.push_back('\n');
      ++result.replaced;
    } else if (is_forbidden_control(cp) || is_invisible(cp)) {
      ++result.removed;
    } else {
      result.text.append(utf8.substr(i, len));
    }
    i += len;
  }
  return result;
}

std::optional<ControlCharacter> find_control_character(std::string_view utf8) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_valid(utf8, i, &cp);
    if (is_forbidden_control(cp)) return ControlCharacter{cp, line, column, i};
    if (cp == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += len;
  }
  return std::nullopt;
}

}  // namespace loa::templates
