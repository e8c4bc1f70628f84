// Tests for templates/sms_text: GSM-7/UCS-2 detection, segment counting (3GPP TS 23.038 /
// 23.040), NFC, UTF-8 validation, Vietnamese transliteration and per-route policies.
#include "templates/sms_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loa::templates {
namespace {

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

// ---- Segment counting --------------------------------------------------------------------------

struct SegmentRow {
  std::string name;
  std::string text;
  SmsEncoding encoding;
  std::size_t units;
  std::size_t segments;
  std::size_t units_per_segment;
};

class SegmentCountTest : public testing::TestWithParam<SegmentRow> {};

TEST_P(SegmentCountTest, Counts) {
  const SegmentRow& row = GetParam();
  const auto count = count_segments(row.text);
  ASSERT_TRUE(count.ok()) << count.error().message;
  EXPECT_EQ(count->encoding, row.encoding);
  EXPECT_EQ(count->units, row.units);
  EXPECT_EQ(count->segments, row.segments);
  EXPECT_EQ(count->units_per_segment, row.units_per_segment);
}

constexpr auto kGsm7 = SmsEncoding::kGsm7;
constexpr auto kUcs2 = SmsEncoding::kUcs2;

INSTANTIATE_TEST_SUITE_P(
    Table, SegmentCountTest,
    testing::Values(
        // Empty text costs one segment (documented in sms_text.hpp).
        SegmentRow{"empty", "", kGsm7, 0, 1, 160},
        // GSM-7: 160 single, 153 per part.
        SegmentRow{"ascii_160", std::string(160, 'a'), kGsm7, 160, 1, 160},
        SegmentRow{"ascii_161", std::string(161, 'a'), kGsm7, 161, 2, 153},
        SegmentRow{"ascii_306", std::string(306, 'a'), kGsm7, 306, 2, 153},
        SegmentRow{"ascii_307", std::string(307, 'a'), kGsm7, 307, 3, 153},
        SegmentRow{"ascii_459", std::string(459, 'a'), kGsm7, 459, 3, 153},
        SegmentRow{"ascii_460", std::string(460, 'a'), kGsm7, 460, 4, 153},
        SegmentRow{"gsm_at_dollar_underscore", "@$_", kGsm7, 3, 1, 160},
        SegmentRow{"crlf", "a\r\nb", kGsm7, 4, 1, 160},
        // Every extension character costs 2 septets (escape 0x1B + char).
        SegmentRow{"extension_all", "^{}\\[~]|\xE2\x82\xAC\f", kGsm7, 20, 1, 160},
        SegmentRow{"euro_80_fits", repeat("€", 80), kGsm7, 160, 1, 160},
        SegmentRow{"euro_81_two_parts", repeat("€", 81), kGsm7, 162, 2, 153},
        SegmentRow{"ascii_159_plus_caret", std::string(159, 'a') + "^", kGsm7, 161, 2, 153},
        // 152 + [escape+char] cannot share part 1 (153): the pair moves to part 2, so 306 septets
        // need 3 parts instead of ceil(306 / 153) = 2.
        SegmentRow{"escape_not_split", std::string(152, 'a') + "{" + std::string(152, 'a'), kGsm7,
                   306, 3, 153},
        SegmentRow{"escape_fits_exactly", std::string(151, 'a') + "}" + std::string(153, 'a'),
                   kGsm7, 306, 2, 153},
        SegmentRow{"gsm_basic_non_ascii", "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", kGsm7, 39, 1,
                   160},
        // Vietnamese letters outside GSM-7 force UCS-2.
        SegmentRow{"ho_ngheo", "Hộ nghèo", kUcs2, 8, 1, 70},
        SegmentRow{"backtick_not_gsm", "`", kUcs2, 1, 1, 70},
        SegmentRow{"ucs2_70", repeat("ộ", 70), kUcs2, 70, 1, 70},
        SegmentRow{"ucs2_71", repeat("ộ", 71), kUcs2, 71, 2, 67},
        SegmentRow{"ucs2_134", repeat("ộ", 134), kUcs2, 134, 2, 67},
        SegmentRow{"ucs2_135", repeat("ộ", 135), kUcs2, 135, 3, 67},
        // UTF-16 code units: an emoji is a surrogate pair; ê̆ has no precomposed form.
        SegmentRow{"emoji_two_units", "😀", kUcs2, 2, 1, 70},
        SegmentRow{"e_circumflex_breve_two_units", "ê\u0306", kUcs2, 2, 1, 70},
        SegmentRow{"decomposed_counted_as_given", "e\u0301", kUcs2, 2, 1, 70},
        // 66 + [pair] cannot share part 1 (67): 134 units need 3 parts.
        SegmentRow{"surrogate_not_split", repeat("ộ", 66) + "😀" + repeat("ộ", 66), kUcs2, 134, 3,
                   67},
        SegmentRow{"surrogate_fits_exactly", repeat("ộ", 65) + "😀" + repeat("ộ", 67), kUcs2, 134, 2,
                   67}),
    row_name<SegmentRow>);

TEST(Gsm7AlphabetTest, TableSizesMatchTs23038) {
  // Basic table: 128 positions minus the escape = 127 characters. Extension table as we map it:
  // ^ { } \ [ ~ ] | € and form feed = 10.
  int basic = 0;
  int extension = 0;
  for (char32_t cp = 0; cp < 0x30000; ++cp) {
    const int septets = gsm7_septets(cp);
    if (septets == 1) ++basic;
    if (septets == 2) ++extension;
  }
  EXPECT_EQ(basic, 127);
  EXPECT_EQ(extension, 10);
}

TEST(Gsm7AlphabetTest, SpotChecks) {
  EXPECT_EQ(gsm7_septets(U'@'), 1);
  EXPECT_EQ(gsm7_septets(U'$'), 1);
  EXPECT_EQ(gsm7_septets(U'_'), 1);
  EXPECT_EQ(gsm7_septets(U'\n'), 1);
  EXPECT_EQ(gsm7_septets(U'\r'), 1);
  EXPECT_EQ(gsm7_septets(U'Ç'), 1);
  EXPECT_EQ(gsm7_septets(U'ç'), 0);  // only the capital is at 0x09
  EXPECT_EQ(gsm7_septets(U'ñ'), 1);  // an Ê Đê letter that GSM-7 has
  EXPECT_EQ(gsm7_septets(U'€'), 2);
  EXPECT_EQ(gsm7_septets(U'\f'), 2);
  EXPECT_EQ(gsm7_septets(U'`'), 0);
  EXPECT_EQ(gsm7_septets(U'\t'), 0);
  EXPECT_EQ(gsm7_septets(0), 0);
  EXPECT_EQ(gsm7_septets(0x1B), 0);  // the escape itself is not a character
  EXPECT_EQ(gsm7_septets(U'đ'), 0);
  EXPECT_EQ(gsm7_septets(U'ộ'), 0);
  EXPECT_EQ(gsm7_septets(0x1F600), 0);
}

// ---- NFC ---------------------------------------------------------------------------------------

struct NfcRow {
  std::string name;
  std::string input;
  std::string expected;
};

class NfcTest : public testing::TestWithParam<NfcRow> {};

TEST_P(NfcTest, Normalizes) {
  const auto result = nfc(GetParam().input);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, NfcTest,
    testing::Values(NfcRow{"decomposed_tieng_viet", "Tie\u0302\u0301ng Vie\u0323\u0302t",
                           "Tiếng Việt"},
                    NfcRow{"precomposed_unchanged", "Tiếng Việt", "Tiếng Việt"},
                    // Canonical reordering: dot below (ccc 220) before circumflex (ccc 230).
                    NfcRow{"mark_order_irrelevant", "Vie\u0302\u0323t", "Việt"},
                    NfcRow{"ascii_unchanged", "Ho ngheo", "Ho ngheo"}, NfcRow{"empty", "", ""},
                    // No precomposed ê̆: NFC keeps ê + U+0306.
                    NfcRow{"e_circumflex_breve_stays_two", "e\u0302\u0306", "\u00EA\u0306"},
                    NfcRow{"b_stroke_untouched", "Ƀuôn", "Ƀuôn"}),
    row_name<NfcRow>);

// ---- UTF-8 validation --------------------------------------------------------------------------

struct InvalidUtf8Row {
  std::string name;
  std::string input;
  std::size_t position;
  std::size_t byte_offset;
};

class InvalidUtf8Test : public testing::TestWithParam<InvalidUtf8Row> {};

TEST_P(InvalidUtf8Test, EveryEntryPointRejects) {
  const InvalidUtf8Row& row = GetParam();
  const auto check = [&](const TextError& error) {
    EXPECT_EQ(error.code, TextErrorCode::kInvalidUtf8);
    EXPECT_EQ(error.position, row.position);
    EXPECT_EQ(error.byte_offset, row.byte_offset);
    EXPECT_FALSE(error.message.empty());
  };
  const auto validated = validate_utf8(row.input);
  ASSERT_TRUE(validated.has_value());
  check(*validated);
  const auto normalized = nfc(row.input);
  ASSERT_FALSE(normalized.ok());
  check(normalized.error());
  const auto count = count_segments(row.input);
  ASSERT_FALSE(count.ok());
  check(count.error());
  const auto transliterated = transliterate_vi(row.input);
  ASSERT_FALSE(transliterated.ok());
  check(transliterated.error());
  for (const SmsPolicy policy :
       {SmsPolicy::kUnicode, SmsPolicy::kGsm7Transliterate, SmsPolicy::kGsm7Strict}) {
    const auto sms = apply_policy(row.input, policy);
    ASSERT_FALSE(sms.ok());
    check(sms.error());
  }
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidUtf8Test,
                         testing::Values(InvalidUtf8Row{"stray_continuation", "\x80", 1, 0},
                                         InvalidUtf8Row{"after_vietnamese", "Hộ\xFF", 3, 4},
                                         InvalidUtf8Row{"truncated_at_end", "ab\xE1\xBB", 3, 2},
                                         InvalidUtf8Row{"truncated_midway", "\xE1\xBB\x61", 1, 0},
                                         InvalidUtf8Row{"overlong_slash", "a\xC0\xAF", 2, 1},
                                         InvalidUtf8Row{"overlong_three_byte", "\xE0\x80\xAF", 1,
                                                        0},
                                         InvalidUtf8Row{"utf16_surrogate", "x\xED\xA0\x80", 2, 1},
                                         InvalidUtf8Row{"above_max", "\xF4\x90\x80\x80", 1, 0},
                                         InvalidUtf8Row{"byte_ff", "\xFF", 1, 0}),
                         row_name<InvalidUtf8Row>);

TEST(Utf8ValidationTest, AcceptsWellFormed) {
  EXPECT_FALSE(validate_utf8("").has_value());
  EXPECT_FALSE(validate_utf8("Đắk Lắk 😀 Ƀuôn ê\u0306").has_value());
  EXPECT_FALSE(validate_utf8(std::string("a\0b", 3)).has_value());
  EXPECT_FALSE(validate_utf8("\xF4\x8F\xBF\xBF").has_value());  // U+10FFFF
}

// ---- Transliteration ---------------------------------------------------------------------------

struct TransliterationRow {
  std::string name;
  std::string input;
  std::string expected;
  std::vector<std::size_t> lost_positions;
  std::vector<std::string> lost_characters;
};

class TransliterationTest : public testing::TestWithParam<TransliterationRow> {};

TEST_P(TransliterationTest, Transliterates) {
  const TransliterationRow& row = GetParam();
  const auto result = transliterate_vi(row.input);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->text, row.expected);
  std::vector<std::size_t> positions;
  std::vector<std::string> characters;
  for (const LostCharacter& lost : result->lost) {
    positions.push_back(lost.position);
    characters.push_back(lost.character);
  }
  EXPECT_EQ(positions, row.lost_positions);
  EXPECT_EQ(characters, row.lost_characters);
  EXPECT_EQ(result->lossless(), row.lost_positions.empty());
  const auto normalized = nfc(row.input);
  ASSERT_TRUE(normalized.ok());
  EXPECT_EQ(result->changed, result->text != *normalized);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TransliterationTest,
    testing::Values(
        TransliterationRow{"sentence",
                           "Đắk Lắk: hộ nghèo được hỗ trợ bảo hiểm y tế",
                           "Dak Lak: ho ngheo duoc ho tro bao hiem y te",
                           {},
                           {}},
        TransliterationRow{"all_lowercase_vowels",
                           "àáảãạ ăằắẳẵặ âầấẩẫậ èéẻẽẹ êềếểễệ ìíỉĩị òóỏõọ ôồốổỗộ ơờớởỡợ ùúủũụ "
                           "ưừứửữự ỳýỷỹỵ đ",
                           "aaaaa aaaaaa aaaaaa eeeee eeeeee iiiii ooooo oooooo oooooo uuuuu "
                           "uuuuuu yyyyy d",
                           {},
                           {}},
        TransliterationRow{"all_uppercase_vowels",
                           "ÀÁẢÃẠ ĂẰẮẲẴẶ ÂẦẤẨẪẬ ÈÉẺẼẸ ÊỀẾỂỄỆ ÌÍỈĨỊ ÒÓỎÕỌ ÔỒỐỔỖỘ ƠỜỚỞỠỢ ÙÚỦŨỤ "
                           "ƯỪỨỬỮỰ ỲÝỶỸỴ Đ",
                           "AAAAA AAAAAA AAAAAA EEEEE EEEEEE IIIII OOOOO OOOOOO OOOOOO UUUUU "
                           "UUUUUU YYYYY D",
                           {},
                           {}},
        TransliterationRow{
            "decomposed_input", "Tie\u0302\u0301ng Vie\u0323\u0302t", "Tieng Viet", {}, {}},
        TransliterationRow{"typographic_punctuation",
                           "“Hộ nghèo” – ‘cận nghèo’…",
                           "\"Ho ngheo\" - 'can ngheo'...",
                           {},
                           {}},
        TransliterationRow{"spaces_and_invisibles", "a\u00A0b\tc\u200Bd\uFEFF", "a b cd", {}, {}},
        // A joiner attaches to the preceding grapheme; it is dropped, not reported.
        TransliterationRow{"zero_width_joiner_dropped", "a\u200Db ẹ\u200D", "ab e", {}, {}},
        TransliterationRow{
            "emoji_zwj_sequence_one_character", "x 👨\u200D👩", "x ?", {3}, {"👨\u200D👩"}},
        TransliterationRow{"gsm_extras_kept", "Ñu ñu Ü € [x] ^ @ £", "Ñu ñu Ü € [x] ^ @ £", {}, {}},
        TransliterationRow{"eth_as_d_stroke", "Ðà Nẵng", "Da Nang", {}, {}},
        TransliterationRow{"small_c_cedilla_not_gsm", "garçon", "garcon", {4}, {"ç"}},
        TransliterationRow{"ascii_unchanged",
                           "Hotline 1900-1234 (mien phi)",
                           "Hotline 1900-1234 (mien phi)",
                           {},
                           {}},
        // Ê Đê letters are reported, with a readable fallback in the text.
        TransliterationRow{"ede_b_stroke_and_i_breve", "Ƀuôn Rĭt", "Buon Rit", {1, 7}, {"Ƀ", "ĭ"}},
        TransliterationRow{"ede_c_caron", "Čư Kuin", "Cu Kuin", {1}, {"Č"}},
        TransliterationRow{"ede_breves", "ĕ ŏ ŭ Ŏ", "e o u O", {1, 3, 5, 7}, {"ĕ", "ŏ", "ŭ", "Ŏ"}},
        TransliterationRow{"ede_e_circumflex_breve", "hê\u0306", "he", {2}, {"ê\u0306"}},
        // Decomposed ê̆ is one character (one grapheme) at the input position of its base.
        TransliterationRow{
            "ede_decomposed_e_circumflex_breve", "ae\u0302\u0306b", "aeb", {2}, {"ê\u0306"}},
        TransliterationRow{"ede_o_horn_breve", "ơ\u0306", "o", {1}, {"ơ\u0306"}},
        TransliterationRow{"emoji", "Chào 😀", "Chao ?", {6}, {"😀"}},
        TransliterationRow{"other_script", "Hi 你", "Hi ?", {4}, {"你"}}),
    row_name<TransliterationRow>);

// ---- Policies ----------------------------------------------------------------------------------

struct PolicyRow {
  std::string name;
  std::string input;
  SmsPolicy policy;
  bool ok;
  // When ok:
  std::string text;
  SmsEncoding encoding;
  std::size_t segments;
  bool transliterated;
  // When not ok:
  TextErrorCode code;
  std::size_t position;
  std::string character;
  std::size_t max_segments = kMaxConcatenatedSegments;
};

PolicyRow accepts(std::string name, std::string input, SmsPolicy policy, std::string text,
                  SmsEncoding encoding, std::size_t segments, bool transliterated = false) {
  return PolicyRow{std::move(name),
                   std::move(input),
                   policy,
                   true,
                   std::move(text),
                   encoding,
                   segments,
                   transliterated,
                   TextErrorCode::kInvalidUtf8,
                   0,
                   ""};
}

PolicyRow refuses(std::string name, std::string input, SmsPolicy policy, TextErrorCode code,
                  std::size_t position, std::string character) {
  return PolicyRow{std::move(name), std::move(input),    policy, false, "", kGsm7, 0, false, code,
                   position,        std::move(character)};
}

PolicyRow with_max(PolicyRow row, std::size_t max_segments) {
  row.max_segments = max_segments;
  return row;
}

class ApplyPolicyTest : public testing::TestWithParam<PolicyRow> {};

TEST_P(ApplyPolicyTest, Applies) {
  const PolicyRow& row = GetParam();
  const auto sms = apply_policy(row.input, row.policy, row.max_segments);
  if (row.ok) {
    ASSERT_TRUE(sms.ok()) << sms.error().message;
    EXPECT_EQ(sms->text, row.text);
    EXPECT_EQ(sms->count.encoding, row.encoding);
    EXPECT_EQ(sms->count.segments, row.segments);
    EXPECT_EQ(sms->transliterated, row.transliterated);
  } else {
    ASSERT_FALSE(sms.ok()) << sms->text;
    EXPECT_EQ(sms.error().code, row.code);
    EXPECT_EQ(sms.error().position, row.position);
    EXPECT_EQ(sms.error().character, row.character);
    if (!row.character.empty()) {
      EXPECT_NE(sms.error().message.find(row.character), std::string::npos) << sms.error().message;
      EXPECT_NE(sms.error().message.find("position " + std::to_string(row.position)),
                std::string::npos)
          << sms.error().message;
    }
  }
}

constexpr auto kUnicode = SmsPolicy::kUnicode;
constexpr auto kTranslit = SmsPolicy::kGsm7Transliterate;
constexpr auto kStrict = SmsPolicy::kGsm7Strict;

INSTANTIATE_TEST_SUITE_P(
    Table, ApplyPolicyTest,
    testing::Values(
        accepts("unicode_vietnamese", "Hộ nghèo", kUnicode, "Hộ nghèo", kUcs2, 1),
        accepts("unicode_normalizes", "Tie\u0302\u0301ng", kUnicode, "Tiếng", kUcs2, 1),
        accepts("unicode_ascii_stays_gsm7", "Ho ngheo", kUnicode, "Ho ngheo", kGsm7, 1),
        accepts("unicode_keeps_ede", "Ƀuôn Rĭt", kUnicode, "Ƀuôn Rĭt", kUcs2, 1),
        accepts("translit_sentence", "Đắk Lắk: hộ nghèo được hỗ trợ bảo hiểm y tế", kTranslit,
                "Dak Lak: ho ngheo duoc ho tro bao hiem y te", kGsm7, 1, true),
        accepts("translit_ascii_untouched", "Ho ngheo", kTranslit, "Ho ngheo", kGsm7, 1, false),
        accepts("translit_keeps_n_tilde", "ñu", kTranslit, "ñu", kGsm7, 1, false),
        // "Buôn Ko Tam, " is 13 characters: ƀ is the 14th (byte offset 14).
        refuses("translit_refuses_b_stroke", "Buôn Ko Tam, ƀuôn Rĭt", kTranslit,
                TextErrorCode::kWouldLoseCharacter, 14, "ƀ"),
        refuses("translit_refuses_c_caron", "Hộ nghèo Čư Mgar", kTranslit,
                TextErrorCode::kWouldLoseCharacter, 10, "Č"),
        // Positions count the caller's code points, before NFC: V i e U+0323 U+0302 t ␠ = 7.
        refuses("translit_position_in_decomposed_input", "Vie\u0323\u0302t e\u0302\u0306",
                kTranslit, TextErrorCode::kWouldLoseCharacter, 8, "ê\u0306"),
        refuses("translit_refuses_emoji", "Chào 😀", kTranslit, TextErrorCode::kWouldLoseCharacter,
                6, "😀"),
        accepts("strict_ascii", "Ho ngheo 100%", kStrict, "Ho ngheo 100%", kGsm7, 1),
        accepts("strict_gsm_accents", "café € {x}", kStrict, "café € {x}", kGsm7, 1),
        accepts("strict_normalizes_first", "cafe\u0301", kStrict, "café", kGsm7, 1),
        refuses("strict_refuses_vietnamese", "Hộ nghèo", kStrict, TextErrorCode::kNotGsm7, 2, "ộ"),
        refuses("strict_refuses_curly_quote", "say “hi”", kStrict, TextErrorCode::kNotGsm7, 5, "“"),
        accepts("three_parts_allowed", std::string(459, 'a'), kStrict, std::string(459, 'a'), kGsm7,
                3),
        with_max(accepts("max_segments_exactly", std::string(459, 'a'), kUnicode,
                         std::string(459, 'a'), kGsm7, 3),
                 3),
        with_max(refuses("too_many_segments", std::string(460, 'a'), kUnicode,
                         TextErrorCode::kTooManySegments, 0, ""),
                 3),
        with_max(refuses("too_many_segments_ucs2", repeat("ộ", 202), kUnicode,
                         TextErrorCode::kTooManySegments, 0, ""),
                 3)),
    row_name<PolicyRow>);

TEST(SmsPolicyNameTest, RoundTrips) {
  for (const SmsPolicy policy :
       {SmsPolicy::kUnicode, SmsPolicy::kGsm7Transliterate, SmsPolicy::kGsm7Strict}) {
    EXPECT_EQ(parse_sms_policy(to_string(policy)), policy);
  }
  EXPECT_EQ(parse_sms_policy("gsm7"), std::nullopt);
  EXPECT_EQ(parse_sms_policy(""), std::nullopt);
}

}  // namespace
}  // namespace loa::templates
