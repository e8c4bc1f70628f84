#include "adapters/sms_charset.hpp"

#include <boost/locale/utf.hpp>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace loa::adapters {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

// The GSM 03.38 characters outside ASCII: the default alphabet's, then the extension table's
// euro sign (3GPP TS 23.038 §6.2.1 and §6.2.1.1).
constexpr std::u32string_view kGsmNonAscii = U"£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà€";

bool gsm_ascii(char32_t c) {
  // Every printable ASCII character but the backtick is in the default alphabet or (^ { } \ [
  // ~ ] |) the extension table; of the controls, LF and CR are in the alphabet and FF in the
  // extension table.
  if (c >= 0x20 && c < 0x7f) return c != U'`';
  return c == U'\n' || c == U'\r' || c == U'\f';
}

using Utf8 = boost::locale::utf::utf_traits<char>;

// Decodes one code point at s[i], advancing i; nullopt when malformed, with i past the bad
// lead byte only, so that what follows is decoded afresh. Boost.Locale follows RFC 3629: no
// overlong forms, surrogates or values above U+10FFFF.
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& i) {
  const char* p = s.data() + i;
  const auto cp = Utf8::decode(p, s.data() + s.size());
  if (cp == boost::locale::utf::illegal || cp == boost::locale::utf::incomplete) {
    ++i;
    return std::nullopt;
  }
  i = static_cast<std::size_t>(p - s.data());
  return static_cast<char32_t>(cp);
}

void append_utf8(std::string& out, char32_t cp) { Utf8::encode(cp, std::back_inserter(out)); }

std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    append_utf8(out, next_code_point(s, i).value_or(kReplacement));
  }
  return out;
}

// UTF-16BE (UCS-2 is its subset) with surrogate pairs; an odd trailing byte or a lone
// surrogate becomes U+FFFD.
std::string utf16be_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3 / 2);
  auto unit = [&](std::size_t i) {
    return static_cast<char16_t>((static_cast<unsigned char>(s[i]) << 8) |
                                 static_cast<unsigned char>(s[i + 1]));
  };
  std::size_t i = 0;
  for (; i + 1 < s.size(); i += 2) {
    const char16_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 3 < s.size()) {
      const char16_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((char32_t{u} - 0xD800) << 10) + (char32_t{low} - 0xDC00));
        i += 2;
        continue;
      }
    }
    append_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? kReplacement : char32_t{u});
  }
  if (i < s.size()) append_utf8(out, kReplacement);
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (const char c : s) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool fits_gsm7(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size();) {
    const auto cp = next_code_point(utf8, i);
    if (!cp) return false;
    if (!gsm_ascii(*cp) && kGsmNonAscii.find(*cp) == std::u32string_view::npos) return false;
  }
  return true;
}

bool is_utf8(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size();) {
    if (!next_code_point(utf8, i)) return false;
  }
  return true;
}

std::optional<std::string> to_utf8(std::string_view bytes, std::string_view charset) {
  if (charset.empty() || same_name(charset, "UTF-8") || same_name(charset, "UTF8")) {
    return repair_utf8(bytes);
  }
  if (same_name(charset, "UTF-16BE") || same_name(charset, "UCS-2") || same_name(charset, "UCS2") ||
      same_name(charset, "UTF-16")) {
    return utf16be_to_utf8(bytes);
  }
  if (same_name(charset, "ISO-8859-1") || same_name(charset, "Latin1") ||
      same_name(charset, "ISO_8859-1")) {
    return latin1_to_utf8(bytes);
  }
  return std::nullopt;
}

}  // namespace loa::adapters
