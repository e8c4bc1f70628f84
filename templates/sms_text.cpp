#include "templates/sms_text.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace loa::templates {
namespace {

// ---- GSM 7-bit default alphabet ---------------------------------------------------------------

// 3GPP TS 23.038 §6.2.1, the basic table in code order 0x00..0x7F, as Unicode. Position 0x1B is
// the escape to the extension table (0 here). Position 0x09 is the capital Ç (U+00C7), as in the
// Unicode consortium's GSM0338 mapping; some printed tables show a small ç there, so a small ç
// (U+00E7) is treated as not GSM-7, the conservative reading.
// clang-format off
constexpr char16_t kGsm7Basic[128] = {
  u'@', u'£', u'$', u'¥', u'è', u'é', u'ù', u'ì', u'ò', u'Ç', u'\n', u'Ø', u'ø', u'\r', u'Å', u'å',
  u'Δ', u'_', u'Φ', u'Γ', u'Λ', u'Ω', u'Π', u'Ψ', u'Σ', u'Θ', u'Ξ', 0,     u'Æ', u'æ', u'ß', u'É',
  u' ', u'!', u'"', u'#', u'¤', u'%', u'&', u'\'', u'(', u')', u'*', u'+', u',', u'-', u'.', u'/',
  u'0', u'1', u'2', u'3', u'4', u'5', u'6', u'7', u'8', u'9', u':', u';', u'<', u'=', u'>', u'?',
  u'¡', u'A', u'B', u'C', u'D', u'E', u'F', u'G', u'H', u'I', u'J', u'K', u'L', u'M', u'N', u'O',
  u'P', u'Q', u'R', u'S', u'T', u'U', u'V', u'W', u'X', u'Y', u'Z', u'Ä', u'Ö', u'Ñ', u'Ü', u'§',
  u'¿', u'a', u'b', u'c', u'd', u'e', u'f', u'g', u'h', u'i', u'j', u'k', u'l', u'm', u'n', u'o',
  u'p', u'q', u'r', u's', u't', u'u', u'v', u'w', u'x', u'y', u'z', u'ä', u'ö', u'ñ', u'ü', u'à',
};
// clang-format on

// 3GPP TS 23.038 §6.2.1.1, the extension table: each is sent as escape 0x1B + code, 2 septets
// (codes 0x0A form feed, 0x14 ^, 0x28 {, 0x29 }, 0x2F \, 0x3C [, 0x3D ~, 0x3E ], 0x40 |, 0x65 €).
constexpr char16_t kGsm7Extension[] = {u'\f', u'^', u'{', u'}', u'\\',
                                       u'[',  u'~', u']', u'|', u'€'};

constexpr std::array<std::uint8_t, 128> ascii_septets() {
  std::array<std::uint8_t, 128> septets{};
  for (const char16_t c : kGsm7Basic) {
    if (c != 0 && c < 0x80) septets[c] = 1;
  }
  for (const char16_t c : kGsm7Extension) {
    if (c < 0x80) septets[c] = 2;
  }
  return septets;
}

constexpr std::array<std::uint8_t, 128> kGsm7AsciiSeptets = ascii_septets();

// ---- UTF-8 decoding ----------------------------------------------------------------------------

struct CodePoint {
  char32_t value;
  std::size_t byte_offset;  // in the caller's input
};

// Decodes one scalar value at `i` (RFC 3629 §4 table of well-formed byte sequences). Returns the
// sequence length, or 0 when the bytes at `i` are not well-formed.
int decode_one(std::string_view s, std::size_t i, char32_t* out) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *out = b0;
    return 1;
  }
  int len = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80;  // bounds of the second byte
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // stray continuation byte, C0/C1 overlong lead, or F5..FF
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return 0;
  for (int k = 1; k < len; ++k) {
    const unsigned char b = byte(i + static_cast<std::size_t>(k));
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  *out = cp;
  return len;
}

std::string code_point_label(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

TextError invalid_utf8_error(std::string_view s, std::size_t byte_offset, std::size_t position) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X",
                static_cast<unsigned>(static_cast<unsigned char>(s[byte_offset])));
  TextError error;
  error.code = TextErrorCode::kInvalidUtf8;
  error.position = position;
  error.byte_offset = byte_offset;
  error.message = "invalid UTF-8 at character " + std::to_string(position) + " (byte offset " +
                  std::to_string(byte_offset) + ", byte " + buf + ")";
  return error;
}

TextResult<std::vector<CodePoint>> decode(std::string_view s) {
  std::vector<CodePoint> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const int len = decode_one(s, i, &cp);
    if (len == 0) return invalid_utf8_error(s, i, out.size() + 1);
    out.push_back({cp, i});
    i += static_cast<std::size_t>(len);
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// ---- utf8proc wrappers (input already validated) -----------------------------------------------

// Canonical decomposition (NFD, with canonical reordering) of valid UTF-8 into `out`. `buffer`
// is scratch space reused across calls, so a message costs no allocation per character.
void decompose(std::string_view utf8, std::vector<utf8proc_int32_t>& buffer,
               std::vector<char32_t>& out) {
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  if (buffer.size() < utf8.size() + 4) buffer.resize(utf8.size() + 4);
  for (;;) {
    const utf8proc_ssize_t n =
        utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                           static_cast<utf8proc_ssize_t>(utf8.size()), buffer.data(),
                           static_cast<utf8proc_ssize_t>(buffer.size()), options);
    if (n < 0) {  // unreachable: input is validated
      out.clear();
      return;
    }
    if (static_cast<std::size_t>(n) <= buffer.size()) {
      out.assign(buffer.begin(), buffer.begin() + n);
      return;
    }
    buffer.resize(static_cast<std::size_t>(n));
  }
}

// NFC of a decomposed sequence into `out`.
void compose(const std::vector<char32_t>& nfd, std::vector<utf8proc_int32_t>& buffer,
             std::vector<char32_t>& out) {
  buffer.assign(nfd.begin(), nfd.end());
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  const utf8proc_ssize_t n = utf8proc_normalize_utf32(
      buffer.data(), static_cast<utf8proc_ssize_t>(buffer.size()), options);
  if (n < 0) {  // unreachable
    out = nfd;
    return;
  }
  out.assign(buffer.begin(), buffer.begin() + n);
}

// ---- Grapheme clusters -------------------------------------------------------------------------

// One user-perceived character (UAX #29 extended grapheme cluster) of the input, with its NFC and
// NFD forms. Decisions are taken per cluster so that "ê" + U+0306 is judged as the Ê Đê letter ê̆
// and not as a Vietnamese ê followed by a stray mark.
struct Cluster {
  std::size_t position;     // 1-based code point index of its first code point in the input
  std::size_t byte_offset;  // 0-based
  std::string_view bytes;   // input bytes
  std::vector<char32_t> nfd;
  std::vector<char32_t> nfc;
};

template <typename Visit>
void for_each_cluster(std::string_view input, const std::vector<CodePoint>& cps, Visit&& visit) {
  utf8proc_int32_t state = 0;
  std::size_t begin = 0;
  Cluster cluster;
  std::vector<utf8proc_int32_t> scratch;
  for (std::size_t i = 1; i <= cps.size(); ++i) {
    const bool at_end = i == cps.size();
    if (!at_end) {
      const char32_t prev = cps[i - 1].value;
      const char32_t next = cps[i].value;
      if (prev < 0x80 && next < 0x80 && !(prev == '\r' && next == '\n')) {
        state = 0;  // two ASCII characters always break (UAX #29), except CR LF (GB3)
      } else if (!utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev),
                                                   static_cast<utf8proc_int32_t>(next), &state)) {
        continue;
      }
    }
    const std::size_t end_byte = at_end ? input.size() : cps[i].byte_offset;
    cluster.position = begin + 1;
    cluster.byte_offset = cps[begin].byte_offset;
    cluster.bytes = input.substr(cluster.byte_offset, end_byte - cluster.byte_offset);
    if (i - begin == 1 && cps[begin].value < 0x80) {
      // ASCII is its own NFD and NFC; skip utf8proc on the common path.
      cluster.nfd.assign(1, cps[begin].value);
      cluster.nfc = cluster.nfd;
    } else {
      decompose(cluster.bytes, scratch, cluster.nfd);
      compose(cluster.nfd, scratch, cluster.nfc);
    }
    visit(cluster);
    begin = i;
  }
}

std::string to_utf8(const std::vector<char32_t>& cps) {
  std::string out;
  for (const char32_t cp : cps) append_utf8(out, cp);
  return out;
}

bool all_gsm7(const std::vector<char32_t>& cps) {
  for (const char32_t cp : cps) {
    if (gsm7_septets(cp) == 0) return false;
  }
  return true;
}

// ---- Vietnamese letters ------------------------------------------------------------------------

constexpr char32_t kCombiningGrave = 0x0300;
constexpr char32_t kCombiningAcute = 0x0301;
constexpr char32_t kCombiningCircumflex = 0x0302;
constexpr char32_t kCombiningTilde = 0x0303;
constexpr char32_t kCombiningBreve = 0x0306;
constexpr char32_t kCombiningHookAbove = 0x0309;
constexpr char32_t kCombiningHorn = 0x031B;
constexpr char32_t kCombiningDotBelow = 0x0323;

bool is_ascii_letter(char32_t cp) { return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'); }

char32_t ascii_lower(char32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp; }

// If `nfd` spells a letter of the Vietnamese alphabet (29 letters x 6 tones, both cases), returns
// its unaccented ASCII letter. Marks outside Vietnamese usage (breve on e/i/o/u, caron, ...) make
// it a different letter, which must not be stripped.
std::optional<char> vietnamese_base(const std::vector<char32_t>& nfd) {
  if (nfd.empty()) return std::nullopt;
  const char32_t base = nfd[0];
  if (nfd.size() == 1) {
    if (base == 0x0111) return 'd';  // đ: no Unicode decomposition
    if (base == 0x0110) return 'D';  // Đ
    if (base == 0x00D0) return 'D';  // Ð (eth), a common stand-in for Đ in converted legacy text
  }
  if (!is_ascii_letter(base)) return std::nullopt;
  const char32_t lower = ascii_lower(base);
  const bool vowel =
      lower == 'a' || lower == 'e' || lower == 'i' || lower == 'o' || lower == 'u' || lower == 'y';
  int tones = 0;
  int vowel_marks = 0;
  for (std::size_t k = 1; k < nfd.size(); ++k) {
    switch (nfd[k]) {
      case kCombiningGrave:
      case kCombiningAcute:
      case kCombiningTilde:
      case kCombiningHookAbove:
      case kCombiningDotBelow:
        if (!vowel) return std::nullopt;
        ++tones;
        break;
      case kCombiningCircumflex:  // â ê ô
        if (lower != 'a' && lower != 'e' && lower != 'o') return std::nullopt;
        ++vowel_marks;
        break;
      case kCombiningBreve:  // ă only; ĕ ĭ ŏ ŭ and ê̆ ô̆ ơ̆ ư̆ are Ê Đê / M'nông letters
        if (lower != 'a') return std::nullopt;
        ++vowel_marks;
        break;
      case kCombiningHorn:  // ơ ư
        if (lower != 'o' && lower != 'u') return std::nullopt;
        ++vowel_marks;
        break;
      default:
        return std::nullopt;
    }
  }
  if (tones > 1 || vowel_marks > 1) return std::nullopt;
  return static_cast<char>(base);
}

// Typographic characters that have a plain GSM-7 spelling (vietnam-channels.md §5: replace
// “ ” ‘ ’ – … in unaccented mode).
struct Replacement {
  char32_t from;
  std::string_view to;
};
constexpr Replacement kPunctuation[] = {
    {0x201C, "\""},  {0x201D, "\""}, {0x201E, "\""}, {0x201F, "\""},  // “ ” „ ‟
    {0x00AB, "\""},  {0x00BB, "\""}, {0x2033, "\""},                  // « » ″
    {0x2018, "'"},   {0x2019, "'"},  {0x201A, "'"},  {0x201B, "'"},   // ‘ ’ ‚ ‛
    {0x2032, "'"},   {0x0060, "'"},  {0x00B4, "'"},                   // ′ ` ´
    {0x2010, "-"},   {0x2011, "-"},  {0x2012, "-"},  {0x2013, "-"},   // hyphens, figure dash, –
    {0x2014, "-"},   {0x2015, "-"},  {0x2212, "-"},  {0x2022, "-"},   // — ― − •
    {0x2026, "..."},                                                  // …
    {0x0009, " "},   {0x00A0, " "},  {0x2002, " "},  {0x2003, " "},   // tab, no-break, en, em
    {0x2004, " "},   {0x2005, " "},  {0x2006, " "},  {0x2007, " "},   // other fixed-width
    {0x2008, " "},   {0x2009, " "},  {0x200A, " "},  {0x202F, " "},   // spaces
    {0x205F, " "},   {0x3000, " "},
};

std::optional<std::string_view> punctuation_replacement(char32_t cp) {
  for (const Replacement& replacement : kPunctuation) {
    if (replacement.from == cp) return replacement.to;
  }
  return std::nullopt;
}

// Zero-width characters that carry no meaning in an SMS (dropped in unaccented mode).
bool is_invisible(char32_t cp) {
  return cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF ||
         cp == 0x00AD;
}

char fallback_letter(const std::vector<char32_t>& nfd) {
  if (nfd.empty()) return '?';
  if (is_ascii_letter(nfd[0])) return static_cast<char>(nfd[0]);
  if (nfd[0] == 0x0180) return 'b';  // ƀ: no decomposition
  if (nfd[0] == 0x0243) return 'B';  // Ƀ
  return '?';
}

TextError character_error(TextErrorCode code, std::size_t position, std::size_t byte_offset,
                          std::string character, std::string_view why) {
  TextError error;
  error.code = code;
  error.position = position;
  error.byte_offset = byte_offset;
  error.character = std::move(character);
  std::string code_points;
  for (std::size_t i = 0; i < error.character.size();) {
    char32_t cp = 0;
    const int len = decode_one(error.character, i, &cp);
    if (len == 0) break;
    if (!code_points.empty()) code_points += ' ';
    code_points += code_point_label(cp);
    i += static_cast<std::size_t>(len);
  }
  error.message = "character '" + error.character + "' (" + code_points + ") at position " +
                  std::to_string(position) + " " + std::string(why);
  return error;
}

TextError too_many_segments_error(std::size_t segments, std::size_t max_segments) {
  TextError error;
  error.code = TextErrorCode::kTooManySegments;
  error.message = "text needs " + std::to_string(segments) + " SMS parts; the route allows " +
                  std::to_string(max_segments);
  return error;
}

// Greedy packing into parts of `per_part` units where an item of cost 2 (escape + extension
// char, or a surrogate pair) must stay within one part.
class PartPacker {
 public:
  explicit PartPacker(std::size_t per_part) : per_part_(per_part) {}
  void add(std::size_t cost) {
    if (fill_ + cost > per_part_) {
      ++parts_;
      fill_ = cost;
    } else {
      fill_ += cost;
    }
  }
  std::size_t parts() const { return parts_; }

 private:
  std::size_t per_part_;
  std::size_t parts_ = 1;
  std::size_t fill_ = 0;
};

SegmentCount count_code_points(const std::vector<CodePoint>& cps) {
  bool gsm7 = true;
  std::size_t septets = 0;
  std::size_t utf16_units = 0;
  PartPacker gsm7_parts(kGsm7MultipartSeptets);
  PartPacker ucs2_parts(kUcs2MultipartUnits);
  for (const CodePoint& cp : cps) {
    const std::size_t units = cp.value >= 0x10000 ? 2 : 1;
    utf16_units += units;
    ucs2_parts.add(units);
    if (gsm7) {
      const int cost = gsm7_septets(cp.value);
      if (cost == 0) {
        gsm7 = false;
      } else {
        septets += static_cast<std::size_t>(cost);
        gsm7_parts.add(static_cast<std::size_t>(cost));
      }
    }
  }
  SegmentCount count;
  count.characters = cps.size();
  if (gsm7) {
    count.encoding = SmsEncoding::kGsm7;
    count.units = septets;
    const bool single = septets <= kGsm7SingleSegmentSeptets;
    count.segments = single ? 1 : gsm7_parts.parts();
    count.units_per_segment = single ? kGsm7SingleSegmentSeptets : kGsm7MultipartSeptets;
  } else {
    count.encoding = SmsEncoding::kUcs2;
    count.units = utf16_units;
    const bool single = utf16_units <= kUcs2SingleSegmentUnits;
    count.segments = single ? 1 : ucs2_parts.parts();
    count.units_per_segment = single ? kUcs2SingleSegmentUnits : kUcs2MultipartUnits;
  }
  return count;
}

}  // namespace

// ---- Public API --------------------------------------------------------------------------------

std::optional<TextError> validate_utf8(std::string_view utf8) {
  std::size_t position = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    const int len = decode_one(utf8, i, &cp);
    ++position;
    if (len == 0) return invalid_utf8_error(utf8, i, position);
    i += static_cast<std::size_t>(len);
  }
  return std::nullopt;
}

TextResult<std::string> nfc(std::string_view utf8) {
  if (is_ascii(utf8)) return std::string(utf8);
  if (auto error = validate_utf8(utf8)) return std::move(*error);
  utf8proc_uint8_t* out = nullptr;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                   static_cast<utf8proc_ssize_t>(utf8.size()), &out, options);
  if (n < 0) {
    // Not expected after validation (utf8proc fails only on invalid input or out of memory).
    std::free(out);
    TextError error;
    error.code = TextErrorCode::kInvalidUtf8;
    error.message = std::string("NFC normalisation failed: ") + utf8proc_errmsg(n);
    return error;
  }
  std::string result(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  std::free(out);
  return result;
}

int gsm7_septets(char32_t cp) {
  if (cp < 0x80) return kGsm7AsciiSeptets[cp];
  if (cp > 0xFFFF) return 0;
  // Non-ASCII: about 40 entries in all; a scan is cheap and keeps the tables as in the standard.
  for (const char16_t c : kGsm7Basic) {
    if (c == cp) return 1;
  }
  for (const char16_t c : kGsm7Extension) {
    if (c == cp) return 2;
  }
  return 0;
}

TextResult<SegmentCount> count_segments(std::string_view utf8) {
  auto cps = decode(utf8);
  if (!cps) return cps.error();
  return count_code_points(*cps);
}

TextResult<TransliterationResult> transliterate_vi(std::string_view utf8) {
  auto cps = decode(utf8);
  if (!cps) return cps.error();
  TransliterationResult result;
  result.text.reserve(utf8.size());
  Cluster visible;
  for_each_cluster(utf8, *cps, [&](const Cluster& raw) {
    // A zero-width joiner or similar attaches to the previous grapheme (UAX #29 GB9); drop it so
    // that "a" + U+200D is judged as "a". The character reported as lost stays the raw cluster.
    const Cluster* judged = &raw;
    if (std::any_of(raw.nfc.begin(), raw.nfc.end(), is_invisible)) {
      visible = raw;
      std::erase_if(visible.nfd, is_invisible);
      std::erase_if(visible.nfc, is_invisible);
      judged = &visible;
    }
    const Cluster& cluster = *judged;
    if (judged != &raw) result.changed = true;
    if (cluster.nfc.empty()) return;
    if (const auto letter = vietnamese_base(cluster.nfd)) {
      result.text.push_back(*letter);
      if (cluster.nfc.size() != 1 || cluster.nfc[0] != static_cast<char32_t>(*letter)) {
        result.changed = true;
      }
      return;
    }
    if (all_gsm7(cluster.nfc)) {
      for (const char32_t cp : cluster.nfc) append_utf8(result.text, cp);
      return;
    }
    result.changed = true;
    if (cluster.nfc.size() == 1) {
      if (const auto replacement = punctuation_replacement(cluster.nfc[0])) {
        result.text += *replacement;
        return;
      }
    }
    result.lost.push_back({raw.position, raw.byte_offset, to_utf8(raw.nfc)});
    result.text.push_back(fallback_letter(cluster.nfd));
  });
  return result;
}

std::string_view to_string(SmsPolicy policy) {
  switch (policy) {
    case SmsPolicy::kUnicode:
      return "unicode";
    case SmsPolicy::kGsm7Transliterate:
      return "gsm7_transliterate";
    case SmsPolicy::kGsm7Strict:
      return "gsm7_strict";
  }
  return "unknown";
}

std::optional<SmsPolicy> parse_sms_policy(std::string_view name) {
  if (name == "unicode") return SmsPolicy::kUnicode;
  if (name == "gsm7_transliterate") return SmsPolicy::kGsm7Transliterate;
  if (name == "gsm7_strict") return SmsPolicy::kGsm7Strict;
  return std::nullopt;
}

TextResult<EncodedSms> apply_policy(std::string_view utf8, SmsPolicy policy,
                                    std::size_t max_segments) {
  auto cps = decode(utf8);
  if (!cps) return cps.error();

  EncodedSms sms;
  switch (policy) {
    case SmsPolicy::kUnicode: {
      auto normalized = nfc(utf8);
      if (!normalized) return normalized.error();
      sms.text = std::move(normalized).value();
      break;
    }
    case SmsPolicy::kGsm7Strict: {
      std::optional<TextError> error;
      sms.text.reserve(utf8.size());
      for_each_cluster(utf8, *cps, [&](const Cluster& cluster) {
        if (error) return;
        if (!all_gsm7(cluster.nfc)) {
          error = character_error(TextErrorCode::kNotGsm7, cluster.position, cluster.byte_offset,
                                  to_utf8(cluster.nfc),
                                  "is not in the GSM 7-bit alphabet (3GPP TS 23.038) and the "
                                  "route is gsm7_strict");
          return;
        }
        for (const char32_t cp : cluster.nfc) append_utf8(sms.text, cp);
      });
      if (error) return std::move(*error);
      break;
    }
    case SmsPolicy::kGsm7Transliterate: {
      auto transliterated = transliterate_vi(utf8);
      if (!transliterated) return transliterated.error();
      const std::vector<LostCharacter>& lost = transliterated->lost;
      if (!lost.empty()) {
        std::string why =
            "has no GSM-7 spelling without loss of meaning and the route is gsm7_transliterate "
            "(send it on a unicode route instead)";
        if (lost.size() > 1) {
          why += "; " + std::to_string(lost.size()) + " characters would be lost in total";
        }
        return character_error(TextErrorCode::kWouldLoseCharacter, lost.front().position,
                               lost.front().byte_offset, lost.front().character, why);
      }
      sms.transliterated = transliterated->changed;
      sms.text = std::move(transliterated->text);
      break;
    }
  }

  auto count = count_segments(sms.text);
  if (!count) return count.error();  // unreachable: our own output is valid UTF-8
  sms.count = *count;
  if (sms.count.segments > max_segments) {
    return too_many_segments_error(sms.count.segments, max_segments);
  }
  return sms;
}

}  // namespace loa::templates
