// Fuzz target: the SMS segment counter and text policies (templates/sms_text.hpp,
// templates/sms_route.hpp, adapters/sms_charset.hpp): what decides the encoding of a message,
// how many parts a gateway bills and the rate limiter charges (DESIGN.md invariant 3).
//
// Input: one option byte (bits 0-2: the route's segment cap, 1-8; bits 3-4: the route mode),
// then the text.
//
// Invariants checked, beyond "no crash, no leak, no UB":
//  - count_segments accepts exactly the well-formed UTF-8 (validate_utf8, find_invalid_utf8 and
//    adapters' is_utf8 agree), and its count agrees with a plain decode of the text: the code
//    points; GSM-7 exactly when every code point has GSM-7 septets (and adapters' fits_gsm7
//    says so too); units = septets (extension characters 2) or UTF-16 units; 160/70 per single
//    part, 153/67 per part beyond, and a part count between ceil(units / per part) and the count
//    when every part loses one unit to an escape or surrogate pair that cannot be split;
//  - nfc is idempotent; to_nfc equals nfc; sms_forms equals nfc + transliterate_vi exactly
//    (its fast path must not change a byte), with counts equal to count_segments of each form;
//  - transliterate_vi always yields GSM-7 text, and reports lost characters with positions;
//  - apply_policy and encode_sms: a result is counted like its text, is within the segment cap,
//    and is GSM-7 when the policy promises it; an error names a position inside the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "adapters/sms_charset.hpp"
#include "templates/sms_route.hpp"
#include "templates/sms_text.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace loa::templates;

// Decodes well-formed UTF-8 (validated before).
std::vector<char32_t> decode(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += static_cast<std::size_t>(n);
  }
  return out;
}

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

std::string show(const SegmentCount& c) {
  return std::string(c.encoding == SmsEncoding::kGsm7 ? "gsm7" : "ucs2") +
         " chars=" + std::to_string(c.characters) + " units=" + std::to_string(c.units) +
         " segments=" + std::to_string(c.segments) +
         " per=" + std::to_string(c.units_per_segment);
}

void check_count(std::string_view text, const SegmentCount& c) {
  const auto cps = decode(text);
  FUZZ_CHECK(c.characters == cps.size(), "character count: " + show(c));
  bool gsm7 = true;
  std::size_t septets = 0, utf16 = 0;
  for (const char32_t cp : cps) {
    const int s = gsm7_septets(cp);
    if (s == 0) gsm7 = false;
    septets += static_cast<std::size_t>(s);
    utf16 += cp > 0xFFFF ? 2 : 1;
  }
  FUZZ_CHECK((c.encoding == SmsEncoding::kGsm7) == gsm7, "encoding: " + show(c));
  FUZZ_CHECK(loa::adapters::fits_gsm7(text) == gsm7, "fits_gsm7 disagrees: " + show(c));
  const std::size_t units = gsm7 ? septets : utf16;
  const std::size_t single = gsm7 ? kGsm7SingleSegmentSeptets : kUcs2SingleSegmentUnits;
  const std::size_t multi = gsm7 ? kGsm7MultipartSeptets : kUcs2MultipartUnits;
  FUZZ_CHECK(c.units == units, "units: " + show(c));
  if (units <= single) {
    FUZZ_CHECK(c.segments == 1 && c.units_per_segment == single, "single part: " + show(c));
  } else {
    FUZZ_CHECK(c.units_per_segment == multi, "per part: " + show(c));
    FUZZ_CHECK(c.segments >= ceil_div(units, multi) && c.segments <= ceil_div(units, multi - 1),
               "part count: " + show(c));
  }
}

void check_error(std::string_view text, const TextError& e) {
  FUZZ_CHECK(!e.message.empty(), "an error without a message");
  if (e.code == TextErrorCode::kTooManySegments) return;
  FUZZ_CHECK(e.position >= 1 && e.byte_offset < text.size(),
             "an error position outside the input: " + e.message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  loa::fuzz::FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  const std::string_view text = input.rest();
  const std::size_t max_segments = 1 + (opt & 7);

  const bool valid = find_invalid_utf8(text) == std::string_view::npos;
  FUZZ_CHECK(validate_utf8(text).has_value() == !valid, "validate_utf8 disagrees");
  FUZZ_CHECK(loa::adapters::is_utf8(text) == valid, "adapters::is_utf8 disagrees");
  const auto count = count_segments(text);
  FUZZ_CHECK(count.ok() == valid, "count_segments accepts other text than validate_utf8");
  if (!valid) {
    check_error(text, count.error());
    FUZZ_CHECK(count.error().code == TextErrorCode::kInvalidUtf8, count.error().message);
    FUZZ_CHECK(!nfc(text) && !transliterate_vi(text) && !sms_forms(text) && !to_nfc(text),
               "invalid UTF-8 accepted");
    for (const auto policy :
         {SmsPolicy::kUnicode, SmsPolicy::kGsm7Transliterate, SmsPolicy::kGsm7Strict}) {
      const auto r = apply_policy(text, policy, max_segments);
      FUZZ_CHECK(!r && r.error().code == TextErrorCode::kInvalidUtf8, "apply_policy accepted");
    }
    return 0;
  }
  check_count(text, *count);

  const auto normal = nfc(text);
  FUZZ_CHECK(normal.ok(), "nfc refused valid UTF-8");
  FUZZ_CHECK(nfc(*normal).ok() && *nfc(*normal) == *normal, "nfc is not idempotent");
  const auto fast = to_nfc(text);
  FUZZ_CHECK(fast.ok() && *fast == *normal, "to_nfc differs from nfc");

  const auto translit = transliterate_vi(text);
  FUZZ_CHECK(translit.ok(), "transliterate_vi refused valid UTF-8");
  const auto tcount = count_segments(translit->text);
  FUZZ_CHECK(tcount.ok() && tcount->encoding == SmsEncoding::kGsm7,
             "transliteration is not GSM-7: " + translit->text);
  std::size_t last = 0;
  for (const auto& lost : translit->lost) {
    FUZZ_CHECK(lost.position > last && lost.byte_offset < text.size() && !lost.character.empty(),
               "a lost character without its position");
    last = lost.position;
  }

  const auto forms = sms_forms(text);
  FUZZ_CHECK(forms.ok(), "sms_forms refused valid UTF-8");
  FUZZ_CHECK(forms->accented == *normal, "sms_forms accented differs from nfc");
  FUZZ_CHECK(forms->unaccented == translit->text,
             "sms_forms unaccented differs from transliterate_vi: '" + forms->unaccented +
                 "' vs '" + translit->text + "'");
  FUZZ_CHECK(forms->lost.size() == translit->lost.size(), "sms_forms lost differs");
  for (std::size_t i = 0; i < forms->lost.size(); ++i) {
    FUZZ_CHECK(forms->lost[i].position == translit->lost[i].position &&
                   forms->lost[i].character == translit->lost[i].character,
               "sms_forms lost differs");
  }
  FUZZ_CHECK(forms->accented_count == *count_segments(forms->accented), "accented count");
  FUZZ_CHECK(forms->unaccented_count == *tcount, "unaccented count");

  for (const auto policy :
       {SmsPolicy::kUnicode, SmsPolicy::kGsm7Transliterate, SmsPolicy::kGsm7Strict}) {
    const auto r = apply_policy(text, policy, max_segments);
    if (!r) {
      check_error(text, r.error());
      continue;
    }
    const auto again = count_segments(r->text);
    FUZZ_CHECK(again.ok() && *again == r->count, "apply_policy count differs from its text");
    FUZZ_CHECK(r->count.segments <= max_segments, "apply_policy exceeded the segment cap");
    if (policy != SmsPolicy::kUnicode) {
      FUZZ_CHECK(r->count.encoding == SmsEncoding::kGsm7, "a GSM-7 policy produced UCS-2");
    } else {
      FUZZ_CHECK(r->text == *normal, "the unicode policy changed the text");
    }
  }

  static constexpr SmsMode kModes[] = {SmsMode::kUnicode, SmsMode::kAscii, SmsMode::kAuto,
                                       SmsMode::kGsm7Strict};
  Route route;
  route.sms_mode = kModes[(opt >> 3) & 3];
  route.strip_minority_letters = (opt & 0x20) != 0;
  route.max_segments = max_segments;
  const auto decision = encode_sms(text, route);
  if (!decision) {
    check_error(text, decision.error());
  } else {
    const auto again = count_segments(decision->text);
    FUZZ_CHECK(again.ok() && *again == decision->count, "encode_sms count differs from its text");
    FUZZ_CHECK(decision->count.segments <= max_segments, "encode_sms exceeded the segment cap");
    FUZZ_CHECK(decision->text == (decision->unaccented ? forms->unaccented : forms->accented),
               "encode_sms sent neither form");
  }
  return 0;
}
