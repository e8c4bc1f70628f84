// Tests for templates/clean_text: the rule for control and invisible characters, and that
// zero-width and surrogate edge cases never crash the counter.
#include "templates/clean_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "templates/sms_route.hpp"
#include "templates/sms_text.hpp"

namespace loa::templates {
namespace {

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

struct CleanRow {
  std::string name;
  std::string input;
  std::string expected;
  std::size_t removed;
  std::size_t replaced;
};

class CleanTextTest : public testing::TestWithParam<CleanRow> {};

TEST_P(CleanTextTest, AppliesTheRule) {
  const CleanRow& row = GetParam();
  const auto cleaned = clean_text(row.input);
  ASSERT_TRUE(cleaned.ok()) << cleaned.error().message;
  EXPECT_EQ(cleaned->text, row.expected);
  EXPECT_EQ(cleaned->removed, row.removed);
  EXPECT_EQ(cleaned->replaced, row.replaced);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CleanTextTest,
    testing::Values(
        CleanRow{"ascii_untouched", "Ho ngheo 100%", "Ho ngheo 100%", 0, 0},
        CleanRow{"vietnamese_untouched", "Hộ nghèo\nĐắk Lắk", "Hộ nghèo\nĐắk Lắk", 0, 0},
        CleanRow{"crlf_to_lf", "a\r\nb", "a\nb", 0, 1},
        CleanRow{"lone_cr_to_lf", "a\rb", "a\nb", 0, 1},
        CleanRow{"tab_to_space", "a\tb", "a b", 0, 1},
        CleanRow{"line_separators", "a\u2028b\u2029c", "a\nb\nc", 0, 2},
        CleanRow{"nul_removed", std::string("a\0b", 3), "ab", 1, 0},
        CleanRow{"bell_escape_del_removed", "a\x07x\x1B y\x7F", "ax y", 3, 0},
        CleanRow{"c1_removed",
                 "a\xC2\x85"
                 "b\xC2\x9F"
                 "c",
                 "abc", 2, 0},
        CleanRow{"form_feed_removed", "a\fb", "ab", 1, 0},
        CleanRow{"zero_width_space_removed", "Hộ\u200Bnghèo", "Hộnghèo", 1, 0},
        CleanRow{"bom_removed", "\uFEFFXin chào", "Xin chào", 1, 0},
        CleanRow{"word_joiner_soft_hyphen_removed", "a\u2060b\u00ADc", "abc", 2, 0},
        CleanRow{"bidi_controls_removed", "\u202Eabc\u202C\u200E\u2066d\u2069", "abcd", 5, 0},
        CleanRow{"zwj_kept_in_emoji", "👨\u200D👩", "👨\u200D👩", 0, 0},
        CleanRow{"zwnj_kept", "a\u200Cb", "a\u200Cb", 0, 0},
        CleanRow{"ede_combining_breve_kept", "ê\u0306 Ƀ", "ê\u0306 Ƀ", 0, 0},
        CleanRow{"only_invisibles", "\u200B\uFEFF", "", 2, 0}, CleanRow{"empty", "", "", 0, 0}),
    row_name<CleanRow>);

TEST(CleanTextTest, InvalidUtf8IsAnErrorNotAMangle) {
  for (const std::string& bad : {std::string("ab\xFF"), std::string("\xC0\xAF"),
                                 std::string("x\xED\xA0\x80"),  // CESU-8 surrogate
                                 std::string("\xF4\x90\x80\x80"), std::string("\xE1\xBB")}) {
    const auto cleaned = clean_text(bad);
    ASSERT_FALSE(cleaned.ok()) << cleaned->text;
    EXPECT_EQ(cleaned.error().code, TextErrorCode::kInvalidUtf8);
    EXPECT_NE(cleaned.error().message.find("invalid UTF-8"), std::string::npos);
  }
}

// The rule, code point by code point over the whole BMP, between two letters.
TEST(CleanTextTest, EveryCodePointFollowsTheRule) {
  const auto encode = [](char32_t cp) {
    std::string out;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
  };
  for (char32_t cp = 0; cp < 0x10000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string c = encode(cp);
    const auto cleaned = clean_text("a" + c + "b");
    ASSERT_TRUE(cleaned.ok());
    const bool line_break = cp == '\r' || cp == 0x2028 || cp == 0x2029;
    const bool removed = (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
                         (cp >= 0x80 && cp <= 0x9F) || cp == 0x200B || cp == 0x2060 ||
                         cp == 0xFEFF || cp == 0x00AD || cp == 0x200E || cp == 0x200F ||
                         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    const std::string expected = line_break   ? "a\nb"
                                 : cp == '\t' ? "a b"
                                 : removed    ? "ab"
                                              : "a" + c + "b";
    ASSERT_EQ(cleaned->text, expected) << "U+" << std::hex << static_cast<unsigned>(cp);
    ASSERT_EQ(cleaned->removed, removed ? 1u : 0u);
  }
}

struct ControlRow {
  std::string name;
  std::string input;
  bool found;
  char32_t code_point;
  std::size_t line;
  std::size_t column;
};

class FindControlTest : public testing::TestWithParam<ControlRow> {};

TEST_P(FindControlTest, ReportsPosition) {
  const ControlRow& row = GetParam();
  const auto control = find_control_character(row.input);
  ASSERT_EQ(control.has_value(), row.found);
  if (!row.found) return;
  EXPECT_EQ(control->code_point, row.code_point);
  EXPECT_EQ(control->line, row.line);
  EXPECT_EQ(control->column, row.column);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FindControlTest,
    testing::Values(ControlRow{"none", "Hộ nghèo\r\n\tok", false, 0, 0, 0},
                    ControlRow{"bell", "ab\x07", true, 0x07, 1, 3},
                    ControlRow{"after_vietnamese_line_two", "xã\nHộ \x1B", true, 0x1B, 2, 4},
                    ControlRow{"del", "\x7F", true, 0x7F, 1, 1},
                    ControlRow{"c1", "Đ\xC2\x85", true, 0x85, 1, 2},
                    ControlRow{"zero_width_is_not_a_control", "a\u200Bb", false, 0, 0, 0}),
    row_name<ControlRow>);

// Edge cases that must never crash or mis-count: every function on each input.
TEST(EdgeCaseTest, ZeroWidthAndSurrogateCasesNeverCrash) {
  const std::vector<std::string> inputs = {"\u200B",
                                           "\u200D",
                                           "\u200D\u200D\u200D",
                                           "a\u0306",
                                           "\u0306",
                                           "\u0306\u0306\u0306",  // marks with no base
                                           "\uFEFF",
                                           "😀\u200D",
                                           "\u200D😀",
                                           "\xF0\x9F\x98",
                                           "\xED\xB0\x80",
                                           "\xED\xA0\xBD\xED\xB8\x80",  // CESU-8 pair
                                           "\xEF\xBF\xBF",
                                           "\xF4\x8F\xBF\xBF",
                                           std::string(1, '\0'),
                                           "e\u0302\u0306\u0301",
                                           "🇻",
                                           "\u0301\u0300a"};
  const Route auto_route{"sms", Channel::kSms, SmsMode::kAuto, false, 255, 1};
  const Route ascii_route{"sms", Channel::kSms, SmsMode::kAscii, true, 255, 1};
  for (const std::string& input : inputs) {
    SCOPED_TRACE(testing::PrintToString(input));
    const auto count = count_segments(input);
    const bool valid = !validate_utf8(input).has_value();
    EXPECT_EQ(count.ok(), valid);
    if (count.ok()) {
      EXPECT_GE(count->segments, 1u);
    }
    (void)nfc(input);
    (void)transliterate_vi(input);
    (void)clean_text(input);
    (void)sms_forms(input);
    (void)encode_sms(input, auto_route);
    (void)encode_sms(input, ascii_route);
    for (const SmsPolicy policy :
         {SmsPolicy::kUnicode, SmsPolicy::kGsm7Transliterate, SmsPolicy::kGsm7Strict}) {
      (void)apply_policy(input, policy);
    }
  }
}

TEST(EdgeCaseTest, ZeroWidthCountsAreExact) {
  // Counted as given: a zero-width space is one UTF-16 unit and not GSM-7...
  const auto raw = count_segments("a\u200Bb");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(raw->units, 3u);
  // ...which is why the rule removes it: the cleaned text is GSM-7 again.
  const auto cleaned = clean_text("a\u200Bb");
  ASSERT_TRUE(cleaned.ok());
  const auto count = count_segments(cleaned->text);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(count->units, 2u);
}

}  // namespace
}  // namespace loa::templates
