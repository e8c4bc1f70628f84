// Tests for templates/sms_route: the per-route SMS modes (unicode, ascii, auto, gsm7_strict),
// stripping of minority letters only when allowed, and the maximum segments per route.
#include "templates/sms_route.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loa::templates {
namespace {

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// 158 characters, 158 UTF-16 units: 3 UCS-2 segments; unaccented, 158 septets: 1 segment.
const std::string kBhyt =
    "Người thuộc hộ nghèo được cấp thẻ BHYT miễn phí; hộ cận nghèo, hộ mới thoát nghèo được hỗ "
    "trợ tiền đóng BHYT theo quy định. Liên hệ UBND xã để được hướng dẫn.";
const std::string kBhytAscii =
    "Nguoi thuoc ho ngheo duoc cap the BHYT mien phi; ho can ngheo, ho moi thoat ngheo duoc ho "
    "tro tien dong BHYT theo quy dinh. Lien he UBND xa de duoc huong dan.";

const std::string kEdeName =
    "Kính gửi H'Ƀlơi Mlô: bà con có câu hỏi về chính sách giảm nghèo, xin nhắn đến số 8000.";

struct RouteRow {
  std::string name;
  std::string input;
  SmsMode mode;
  bool strip = false;
  std::size_t max_segments = 3;
  bool ok = true;
  std::string text;  // when ok
  SmsEncoding encoding = SmsEncoding::kGsm7;
  std::size_t segments = 1;
  bool unaccented = false;
  std::size_t stripped = 0;
  TextErrorCode code = TextErrorCode::kInvalidUtf8;  // when not ok
  std::string reason_part;  // when ok: a phrase of the reason; when not: of the message
};

class EncodeSmsTest : public testing::TestWithParam<RouteRow> {};

TEST_P(EncodeSmsTest, AppliesTheRoute) {
  const RouteRow& row = GetParam();
  Route route{"sms", Channel::kSms, row.mode, row.strip, row.max_segments, 800};
  const auto decision = encode_sms(row.input, route);
  if (!row.ok) {
    ASSERT_FALSE(decision.ok()) << decision->text;
    EXPECT_EQ(decision.error().code, row.code);
    EXPECT_NE(decision.error().message.find(row.reason_part), std::string::npos)
        << decision.error().message;
    return;
  }
  ASSERT_TRUE(decision.ok()) << decision.error().message;
  EXPECT_EQ(decision->text, row.text);
  EXPECT_EQ(decision->count.encoding, row.encoding);
  EXPECT_EQ(decision->count.segments, row.segments);
  EXPECT_EQ(decision->unaccented, row.unaccented);
  EXPECT_EQ(decision->stripped.size(), row.stripped);
  EXPECT_NE(decision->reason.find(row.reason_part), std::string::npos) << decision->reason;
  EXPECT_EQ(route.cost_vnd(decision->count.segments),
            800 * static_cast<std::int64_t>(row.segments));
}

constexpr auto kGsm7 = SmsEncoding::kGsm7;
constexpr auto kUcs2 = SmsEncoding::kUcs2;

RouteRow accepts(std::string name, std::string input, SmsMode mode, std::string text,
                 SmsEncoding encoding, std::size_t segments, bool unaccented,
                 std::string reason_part) {
  RouteRow row;
  row.name = std::move(name);
  row.input = std::move(input);
  row.mode = mode;
  row.text = std::move(text);
  row.encoding = encoding;
  row.segments = segments;
  row.unaccented = unaccented;
  row.reason_part = std::move(reason_part);
  return row;
}

RouteRow refuses(std::string name, std::string input, SmsMode mode, TextErrorCode code,
                 std::string message_part) {
  RouteRow row;
  row.name = std::move(name);
  row.input = std::move(input);
  row.mode = mode;
  row.ok = false;
  row.code = code;
  row.reason_part = std::move(message_part);
  return row;
}

RouteRow stripping(RouteRow row, std::size_t stripped) {
  row.strip = true;
  row.stripped = stripped;
  return row;
}

RouteRow at_most(RouteRow row, std::size_t max_segments) {
  row.max_segments = max_segments;
  return row;
}

INSTANTIATE_TEST_SUITE_P(
    Table, EncodeSmsTest,
    testing::Values(
        // auto: without diacritics only when that saves segments and loses nothing.
        accepts("auto_saves_two_segments", kBhyt, SmsMode::kAuto, kBhytAscii, kGsm7, 1, true,
                "saves 2 segments"),
        accepts("auto_short_text_keeps_diacritics", "Hộ nghèo", SmsMode::kAuto, "Hộ nghèo", kUcs2,
                1, false, "saves nothing"),
        accepts("auto_gsm7_accents_kept", "Xin chào bà con", SmsMode::kAuto, "Xin chào bà con",
                kGsm7, 1, false, "already GSM-7"),
        // 86 UTF-16 units: 2 UCS-2 segments; without diacritics it would be 1, but Ƀ is lost.
        accepts("auto_ede_name_keeps_diacritics", kEdeName, SmsMode::kAuto, kEdeName, kUcs2, 2,
                false, "'Ƀ' (position 12) would be lost"),
        accepts("auto_normalizes_decomposed", "Tie\u0302\u0301ng Vie\u0323\u0302t", SmsMode::kAuto,
                "Tiếng Việt", kUcs2, 1, false, "saves nothing"),
        // 251 UTF-16 units = 4 UCS-2 segments, over the limit of 3; unaccented 251 septets = 2.
        accepts("auto_fits_only_unaccented", repeat("Hộ nghèo ", 27) + "Hộ nghèo", SmsMode::kAuto,
                repeat("Ho ngheo ", 27) + "Ho ngheo", kGsm7, 2, true, "saves 2 segments"),
        refuses("auto_too_long_even_unaccented", std::string(460, 'a'), SmsMode::kAuto,
                TextErrorCode::kTooManySegments,
                "needs 4 SMS segments (GSM-7, 460 units); "
                "route 'sms' allows 3"),
        refuses("auto_ede_too_long", "Ƀ" + repeat("ộ", 201), SmsMode::kAuto,
                TextErrorCode::kTooManySegments, "needs 4 SMS segments (UCS-2, 202 units)"),
        // unicode: as written (NFC).
        accepts("unicode_keeps", kBhyt, SmsMode::kUnicode, kBhyt, kUcs2, 3, false, "unicode"),
        refuses("unicode_too_long", repeat("ộ", 202), SmsMode::kUnicode,
                TextErrorCode::kTooManySegments, "allows 3"),
        at_most(accepts("unicode_limit_one", "Hộ nghèo", SmsMode::kUnicode, "Hộ nghèo", kUcs2, 1,
                        false, "unicode"),
                1),
        at_most(refuses("unicode_limit_one_exceeded", repeat("ộ", 71), SmsMode::kUnicode,
                        TextErrorCode::kTooManySegments, "needs 2 SMS segments"),
                1),
        // ascii: "không dấu"; minority letters refused unless the route strips them.
        accepts("ascii_transliterates", kBhyt, SmsMode::kAscii, kBhytAscii, kGsm7, 1, true,
                "without diacritics"),
        accepts("ascii_plain_text_unchanged", "Ho ngheo", SmsMode::kAscii, "Ho ngheo", kGsm7, 1,
                false, "without diacritics"),
        refuses("ascii_refuses_b_stroke", "Ƀuôn Rĭt", SmsMode::kAscii,
                TextErrorCode::kWouldLoseCharacter, "'Ƀ' (U+0243) at position 1"),
        stripping(accepts("ascii_strips_when_allowed", "Ƀuôn Rĭt, ê\u0306", SmsMode::kAscii,
                          "Buon Rit, e", kGsm7, 1, true, "minority letters stripped"),
                  3),
        stripping(refuses("ascii_strip_still_refuses_emoji", "Ƀuôn 😀", SmsMode::kAscii,
                          TextErrorCode::kWouldLoseCharacter, "'😀' (position 6)"),
                  0),
        // gsm7_strict: nothing but GSM-7.
        accepts("strict_gsm", "Ho ngheo {HOI}", SmsMode::kGsm7Strict, "Ho ngheo {HOI}", kGsm7, 1,
                false, "gsm7_strict"),
        refuses("strict_refuses_vietnamese", "Hộ nghèo", SmsMode::kGsm7Strict,
                TextErrorCode::kNotGsm7, "'ộ'"),
        refuses("invalid_utf8", "ab\xFF", SmsMode::kAuto, TextErrorCode::kInvalidUtf8,
                "invalid UTF-8 at character 3")),
    row_name<RouteRow>);

TEST(SmsFormsTest, BothSpellings) {
  const auto forms = sms_forms("Hộ nghèo Ƀuôn");
  ASSERT_TRUE(forms.ok());
  EXPECT_EQ(forms->accented, "Hộ nghèo Ƀuôn");
  EXPECT_EQ(forms->accented_count.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(forms->unaccented, "Ho ngheo Buon");
  EXPECT_EQ(forms->unaccented_count.encoding, SmsEncoding::kGsm7);
  ASSERT_EQ(forms->lost.size(), 1u);
  EXPECT_EQ(forms->lost[0].character, "Ƀ");
  EXPECT_EQ(forms->lost[0].position, 10u);
}

// The one-pass path of sms_forms() and to_nfc() must agree with nfc() and transliterate_vi()
// on every input: each code point below U+3001 alone and between letters, and mixed texts.
TEST(SmsFormsTest, FastPathAgreesWithTheGeneralFunctions) {
  std::vector<std::string> inputs = {
      kBhyt,
      kEdeName,
      "Xin chào bà con",
      "“Hộ nghèo” – ‘cận nghèo’… € {x} ^ Ñu ñu",
      "a\r\nb\tc`d",
      "Tie\u0302\u0301ng Vie\u0323\u0302t",
      "Ƀuôn Rĭt ê\u0306 😀",
      "a\u200Bb\u00A0c\u2002d\u2000e\u2126",
      "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐđ",
  };
  for (char32_t cp = 0x80; cp < 0x3001; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string c;
    if (cp < 0x800) {
      c += static_cast<char>(0xC0 | (cp >> 6));
      c += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      c += static_cast<char>(0xE0 | (cp >> 12));
      c += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      c += static_cast<char>(0x80 | (cp & 0x3F));
    }
    inputs.push_back(c);
    inputs.push_back("a" + c + "e");
  }
  for (const std::string& input : inputs) {
    SCOPED_TRACE(testing::PrintToString(input));
    const auto forms = sms_forms(input);
    const auto normalized = nfc(input);
    const auto transliterated = transliterate_vi(input);
    ASSERT_TRUE(forms.ok() && normalized.ok() && transliterated.ok());
    ASSERT_EQ(forms->accented, *normalized);
    ASSERT_EQ(forms->unaccented, transliterated->text);
    ASSERT_EQ(forms->lost.size(), transliterated->lost.size());
    for (std::size_t k = 0; k < forms->lost.size(); ++k) {
      ASSERT_EQ(forms->lost[k].position, transliterated->lost[k].position);
      ASSERT_EQ(forms->lost[k].character, transliterated->lost[k].character);
    }
    ASSERT_EQ(forms->accented_count, *count_segments(*normalized));
    ASSERT_EQ(forms->unaccented_count, *count_segments(transliterated->text));
    const auto quick = to_nfc(input);
    ASSERT_TRUE(quick.ok());
    ASSERT_EQ(*quick, *normalized);
  }
  EXPECT_FALSE(sms_forms("ab\xFF").ok());
  EXPECT_FALSE(to_nfc("ab\xFF").ok());
}

TEST(SmsModeNameTest, RoundTrips) {
  for (const SmsMode mode :
       {SmsMode::kUnicode, SmsMode::kAscii, SmsMode::kAuto, SmsMode::kGsm7Strict}) {
    EXPECT_EQ(parse_sms_mode(to_string(mode)), mode);
  }
  EXPECT_EQ(parse_sms_mode("gsm7_transliterate"), std::nullopt);
  EXPECT_EQ(parse_sms_mode(""), std::nullopt);
}

TEST(RouteTableTest, OneRoutePerChannel) {
  RouteTable routes;
  EXPECT_EQ(routes.for_channel(Channel::kSms).name, "sms");
  EXPECT_EQ(routes.for_channel(Channel::kZaloZns).name, "zalo_zns");
  EXPECT_EQ(routes.for_channel(Channel::kZaloOa).name, "zalo_oa");
  routes.zalo_zns.price_vnd = 200;
  EXPECT_EQ(routes.for_channel(Channel::kZaloZns).cost_vnd(3), 600);
}

}  // namespace
}  // namespace loa::templates
