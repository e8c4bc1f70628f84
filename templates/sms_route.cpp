#include "templates/sms_route.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdint>

#include "templates/utf8.hpp"

namespace loa::templates {
namespace {

std::string_view encoding_name(SmsEncoding encoding) {
  return encoding == SmsEncoding::kGsm7 ? "GSM-7" : "UCS-2";
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// The first code point of a UTF-8 character, canonically decomposed: the base letter of "č" is
// 'c'. 0 for an empty string.
char32_t base_code_point(std::string_view character) {
  utf8proc_int32_t cp = 0;
  const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(character.data()),
                                  static_cast<utf8proc_ssize_t>(character.size()), &cp);
  if (n <= 0) return 0;
  utf8proc_int32_t decomposed[8];
  int boundclass = 0;
  const auto len = utf8proc_decompose_char(cp, decomposed, 8, UTF8PROC_DECOMPOSE, &boundclass);
  if (len <= 0) return static_cast<char32_t>(cp);
  return static_cast<char32_t>(decomposed[0]);
}

// A letter whose mark the ascii mode may strip: a Latin letter with marks (č ĕ ê̆ ŏ ...), or ƀ/Ƀ
// (U+0180/U+0243, which have no decomposition; vietnam-channels.md §5).
bool is_strippable_letter(std::string_view character) {
  const char32_t base = base_code_point(character);
  return (base >= 'a' && base <= 'z') || (base >= 'A' && base <= 'Z') || base == 0x0180 ||
         base == 0x0243;
}

TextError too_many_segments(const SegmentCount& count, const Route& route) {
  TextError error;
  error.code = TextErrorCode::kTooManySegments;
  error.message = "text needs " + plural(count.segments, "SMS segment", "SMS segments") + " (" +
                  std::string(encoding_name(count.encoding)) + ", " + std::to_string(count.units) +
                  " units); route '" + route.name + "' allows " +
                  std::to_string(route.max_segments);
  return error;
}

// ---- Fast path ---------------------------------------------------------------------------------

// The characters Vietnamese SMS text is made of, with their unaccented spelling: precomposed
// Vietnamese letters, the GSM-7 non-ASCII characters, and typographic punctuation. The table is
// derived once from nfc() and transliterate_vi() themselves, so the fast path cannot disagree with
// them: a character is in it when it is its own NFC, forms a grapheme cluster on its own
// (boundclass Other: no mark, joiner, control or Hangul jamo), and transliterates without loss.
// A text made only of ASCII GSM-7 characters and such characters is already NFC (a composition
// needs a mark or a jamo after a starter), and is transliterated character by character.
class FastTable {
 public:
  static constexpr char32_t kLimit = 0x3001;  // up to the ideographic space

  FastTable() : index_(kLimit, 0) {
    for (char32_t cp = 0x80; cp < kLimit; ++cp) {
      const utf8proc_property_t* property =
          utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
      if (property->boundclass != UTF8PROC_BOUNDCLASS_OTHER) continue;
      std::string text;
      utf8proc_uint8_t buf[4];
      const auto len = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
      text.assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
      const auto normalized = nfc(text);
      if (!normalized || *normalized != text) continue;
      const auto transliterated = transliterate_vi(text);
      if (!transliterated || !transliterated->lossless()) continue;
      spellings_.push_back(transliterated->text);
      index_[cp] = static_cast<std::uint16_t>(spellings_.size());
    }
  }

  // The unaccented spelling of a non-ASCII character, or nullptr when it needs the full path.
  const std::string* unaccented(char32_t cp) const {
    if (cp >= kLimit || index_[cp] == 0) return nullptr;
    return &spellings_[index_[cp] - 1];
  }

 private:
  std::vector<std::uint16_t> index_;  // 1-based into spellings_; 0: not in the table
  std::vector<std::string> spellings_;
};

const FastTable& fast_table() {
  static const FastTable table;
  return table;
}

// Decodes the code point at `i` of valid UTF-8 and returns its length.
std::size_t decode_valid(std::string_view s, std::size_t i, char32_t* out) {
  utf8proc_int32_t cp = 0;
  const auto len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                    static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  *out = static_cast<char32_t>(cp);
  return len > 0 ? static_cast<std::size_t>(len) : 1;
}

// Fills the two spellings when `utf8` takes the fast path; false when it needs the full one
// (invalid UTF-8, marks, joiners, controls, minority letters, emoji, other scripts).
bool fast_spellings(std::string_view utf8, std::string* accented, std::string* unaccented) {
  if (find_invalid_utf8(utf8) != std::string_view::npos) return false;
  const FastTable& table = fast_table();
  if (unaccented != nullptr) {
    unaccented->clear();
    unaccented->reserve(utf8.size());
  }
  for (std::size_t i = 0; i < utf8.size();) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte < 0x80) {
      if (gsm7_septets(byte) == 0) return false;  // controls, TAB, backtick
      if (unaccented != nullptr) unaccented->push_back(static_cast<char>(byte));
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = decode_valid(utf8, i, &cp);
    const std::string* spelling = table.unaccented(cp);
    if (spelling == nullptr) return false;
    if (unaccented != nullptr) unaccented->append(*spelling);
    i += len;
  }
  if (accented != nullptr) accented->assign(utf8);
  return true;
}

// Both spellings by the general functions (NFC, grapheme clusters): any text.
TextResult<SmsForms> full_forms(std::string_view utf8) {
  auto accented = nfc(utf8);
  if (!accented) return accented.error();
  SmsForms forms;
  forms.accented = std::move(accented).value();
  auto count = count_segments(forms.accented);
  if (!count) return count.error();
  forms.accented_count = *count;
  auto transliterated = transliterate_vi(utf8);
  if (!transliterated) return transliterated.error();
  forms.unaccented = std::move(transliterated->text);
  forms.lost = std::move(transliterated->lost);
  auto unaccented_count = count_segments(forms.unaccented);
  if (!unaccented_count) return unaccented_count.error();
  forms.unaccented_count = *unaccented_count;
  return forms;
}

}  // namespace

std::string_view to_string(SmsMode mode) {
  switch (mode) {
    case SmsMode::kUnicode:
      return "unicode";
    case SmsMode::kAscii:
      return "ascii";
    case SmsMode::kAuto:
      return "auto";
    case SmsMode::kGsm7Strict:
      return "gsm7_strict";
  }
  return "unknown";
}

std::optional<SmsMode> parse_sms_mode(std::string_view name) {
  for (const SmsMode mode :
       {SmsMode::kUnicode, SmsMode::kAscii, SmsMode::kAuto, SmsMode::kGsm7Strict}) {
    if (to_string(mode) == name) return mode;
  }
  return std::nullopt;
}

const Route& RouteTable::for_channel(Channel channel) const {
  switch (channel) {
    case Channel::kSms:
      return sms;
    case Channel::kZaloZns:
      return zalo_zns;
    case Channel::kZaloOa:
      return zalo_oa;
  }
  return sms;
}

TextResult<std::string> to_nfc(std::string_view utf8) {
  std::string out;
  if (fast_spellings(utf8, &out, nullptr)) return out;
  return nfc(utf8);
}

TextResult<SmsForms> sms_forms(std::string_view utf8) {
  SmsForms forms;
  if (fast_spellings(utf8, &forms.accented, &forms.unaccented)) {
    auto accented_count = count_segments(forms.accented);
    auto unaccented_count = count_segments(forms.unaccented);
    if (accented_count && unaccented_count) {
      forms.accented_count = *accented_count;
      forms.unaccented_count = *unaccented_count;
      return forms;
    }
  }
  return full_forms(utf8);
}

TextResult<SmsDecision> encode_sms(std::string_view utf8, const Route& route) {
  SmsDecision decision;
  switch (route.sms_mode) {
    case SmsMode::kUnicode: {
      auto text = to_nfc(utf8);
      if (!text) return text.error();
      auto count = count_segments(*text);
      if (!count) return count.error();
      decision.text = std::move(text).value();
      decision.count = *count;
      decision.reason = "unicode: text sent as written";
      break;
    }
    case SmsMode::kGsm7Strict: {
      auto sms = apply_policy(utf8, SmsPolicy::kGsm7Strict, kMaxConcatenatedSegments);
      if (!sms) return sms.error();
      decision.text = std::move(sms->text);
      decision.count = sms->count;
      decision.reason = "gsm7_strict: text sent as written";
      break;
    }
    case SmsMode::kAscii: {
      auto forms = sms_forms(utf8);
      if (!forms) return forms.error();
      if (!forms->lost.empty()) {
        if (!route.strip_minority_letters) {
          // apply_policy words the error: the first character, its position and the count.
          auto refused = apply_policy(utf8, SmsPolicy::kGsm7Transliterate);
          if (!refused) return refused.error();
        }
        for (const LostCharacter& lost : forms->lost) {
          if (is_strippable_letter(lost.character)) continue;
          TextError error;
          error.code = TextErrorCode::kWouldLoseCharacter;
          error.position = lost.position;
          error.byte_offset = lost.byte_offset;
          error.character = lost.character;
          error.message = "character '" + lost.character + "' (position " +
                          std::to_string(lost.position) +
                          ") has no GSM-7 spelling; the route strips minority letters, but this "
                          "is not one (send it on a unicode route instead)";
          return error;
        }
        decision.stripped = forms->lost;
      }
      decision.unaccented = forms->unaccented != forms->accented;
      decision.text = std::move(forms->unaccented);
      decision.count = forms->unaccented_count;
      decision.reason = decision.stripped.empty()
                            ? "ascii: sent without diacritics"
                            : "ascii: sent without diacritics; minority letters stripped";
      break;
    }
    case SmsMode::kAuto: {
      auto forms = sms_forms(utf8);
      if (!forms) return forms.error();
      const SegmentCount& accented = forms->accented_count;
      const SegmentCount& unaccented = forms->unaccented_count;
      bool use_unaccented = false;
      if (accented.encoding == SmsEncoding::kGsm7) {
        decision.reason = "auto: already GSM-7";
      } else if (!forms->lost.empty()) {
        decision.reason = "auto: keeps diacritics, because without them '" +
                          forms->lost.front().character + "' (position " +
                          std::to_string(forms->lost.front().position) + ") would be lost";
      } else if (unaccented.segments < accented.segments) {
        use_unaccented = true;
        decision.reason = "auto: without diacritics, saves " +
                          plural(accented.segments - unaccented.segments, "segment", "segments");
      } else {
        decision.reason = "auto: keeps diacritics, because without them it saves nothing";
      }
      decision.unaccented = use_unaccented;
      decision.text = use_unaccented ? std::move(forms->unaccented) : std::move(forms->accented);
      decision.count = use_unaccented ? unaccented : accented;
      break;
    }
  }
  if (decision.count.segments > route.max_segments) {
    return too_many_segments(decision.count, route);
  }
  return decision;
}

}  // namespace loa::templates
