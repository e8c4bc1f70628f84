// Hand-worked SMS text vectors (issue [3/10] "Tests"): expected encoding, units and segments,
// worked out from the standard as vietnam-channels.md §5 states it, not from our code:
//   - GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1): of the Vietnamese letters only the
//     ASCII ones and à è é ì ò ù É are in it; extension characters ^ { } \ [ ~ ] | € and form
//     feed cost 2 septets (escape + char);
//   - one SMS carries 160 septets or 70 UCS-2 units; a part of a concatenated SMS 153 or 67
//     (6-octet UDH, TS 23.040 §9.2.3.24.1); UCS-2 counts UTF-16 code units, so an emoji costs 2
//     and Ê Đê ê̆ (ê + U+0306 COMBINING BREVE, no precomposed form, §6.1) costs 2.
// Segments for n units in UCS-2: 1 if n <= 70, else ceil(n / 67); in GSM-7: 1 if n <= 160, else
// ceil(n / 153) (when no escape pair or surrogate pair falls on a part boundary).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "templates/sms_text.hpp"

namespace loa::templates {
namespace {

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

constexpr auto kGsm7 = SmsEncoding::kGsm7;
constexpr auto kUcs2 = SmsEncoding::kUcs2;

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The first `n` code points of `text` repeated as often as needed.
std::string code_points(std::string_view text, std::size_t n) {
  std::string out;
  std::size_t taken = 0;
  while (taken < n) {
    for (std::size_t i = 0; i < text.size() && taken < n;) {
      std::size_t len = 1;
      const auto b = static_cast<unsigned char>(text[i]);
      if (b >= 0xF0) {
        len = 4;
      } else if (b >= 0xE0) {
        len = 3;
      } else if (b >= 0xC0) {
        len = 2;
      }
      out.append(text.substr(i, len));
      i += len;
      ++taken;
    }
  }
  return out;
}

// ---- Every Vietnamese vowel with every tone ----------------------------------------------------

// One vowel with its six tones: none, huyền (grave), sắc (acute), hỏi (hook), ngã (tilde),
// nặng (dot below). `gsm` marks, by hand from the GSM table, which forms are GSM-7 ('G') and
// which force UCS-2 ('U').
struct VowelRow {
  std::string name;
  std::vector<std::string> forms;  // 6 precomposed (NFC) forms
  std::string gsm;                 // 6 of 'G' / 'U'
  char ascii;                      // the unaccented letter
};

const std::vector<VowelRow>& vowel_rows() {
  static const std::vector<VowelRow> rows = {
      {"a", {"a", "à", "á", "ả", "ã", "ạ"}, "GGUUUU", 'a'},
      {"a_breve", {"ă", "ằ", "ắ", "ẳ", "ẵ", "ặ"}, "UUUUUU", 'a'},
      {"a_circumflex", {"â", "ầ", "ấ", "ẩ", "ẫ", "ậ"}, "UUUUUU", 'a'},
      {"e", {"e", "è", "é", "ẻ", "ẽ", "ẹ"}, "GGGUUU", 'e'},
      {"e_circumflex", {"ê", "ề", "ế", "ể", "ễ", "ệ"}, "UUUUUU", 'e'},
      {"i", {"i", "ì", "í", "ỉ", "ĩ", "ị"}, "GGUUUU", 'i'},
      {"o", {"o", "ò", "ó", "ỏ", "õ", "ọ"}, "GGUUUU", 'o'},
      {"o_circumflex", {"ô", "ồ", "ố", "ổ", "ỗ", "ộ"}, "UUUUUU", 'o'},
      {"o_horn", {"ơ", "ờ", "ớ", "ở", "ỡ", "ợ"}, "UUUUUU", 'o'},
      {"u", {"u", "ù", "ú", "ủ", "ũ", "ụ"}, "GGUUUU", 'u'},
      {"u_horn", {"ư", "ừ", "ứ", "ử", "ữ", "ự"}, "UUUUUU", 'u'},
      {"y", {"y", "ỳ", "ý", "ỷ", "ỹ", "ỵ"}, "GUUUUU", 'y'},
      {"A", {"A", "À", "Á", "Ả", "Ã", "Ạ"}, "GUUUUU", 'A'},
      {"A_breve", {"Ă", "Ằ", "Ắ", "Ẳ", "Ẵ", "Ặ"}, "UUUUUU", 'A'},
      {"A_circumflex", {"Â", "Ầ", "Ấ", "Ẩ", "Ẫ", "Ậ"}, "UUUUUU", 'A'},
      {"E", {"E", "È", "É", "Ẻ", "Ẽ", "Ẹ"}, "GUGUUU", 'E'},
      {"E_circumflex", {"Ê", "Ề", "Ế", "Ể", "Ễ", "Ệ"}, "UUUUUU", 'E'},
      {"I", {"I", "Ì", "Í", "Ỉ", "Ĩ", "Ị"}, "GUUUUU", 'I'},
      {"O", {"O", "Ò", "Ó", "Ỏ", "Õ", "Ọ"}, "GUUUUU", 'O'},
      {"O_circumflex", {"Ô", "Ồ", "Ố", "Ổ", "Ỗ", "Ộ"}, "UUUUUU", 'O'},
      {"O_horn", {"Ơ", "Ờ", "Ớ", "Ở", "Ỡ", "Ợ"}, "UUUUUU", 'O'},
      {"U", {"U", "Ù", "Ú", "Ủ", "Ũ", "Ụ"}, "GUUUUU", 'U'},
      {"U_horn", {"Ư", "Ừ", "Ứ", "Ử", "Ữ", "Ự"}, "UUUUUU", 'U'},
      {"Y", {"Y", "Ỳ", "Ý", "Ỷ", "Ỹ", "Ỵ"}, "GUUUUU", 'Y'},
  };
  return rows;
}

class VowelToneTest : public testing::TestWithParam<VowelRow> {};

TEST_P(VowelToneTest, EncodingAndSegments) {
  const VowelRow& row = GetParam();
  ASSERT_EQ(row.forms.size(), 6u);
  ASSERT_EQ(row.gsm.size(), 6u);
  for (std::size_t tone = 0; tone < 6; ++tone) {
    const std::string& form = row.forms[tone];
    const bool gsm = row.gsm[tone] == 'G';
    SCOPED_TRACE("form '" + form + "'");
    // Alone: one character, one unit, one segment, in either alphabet.
    const auto alone = count_segments(form);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ(alone->encoding, gsm ? kGsm7 : kUcs2);
    EXPECT_EQ(alone->units, 1u);
    EXPECT_EQ(alone->segments, 1u);
    // After 159 ASCII letters: 160 septets fit one GSM-7 SMS; in UCS-2 the same 160 units need
    // ceil(160 / 67) = 3 parts. One accent triples the price.
    const auto padded = count_segments(std::string(159, 'a') + form);
    ASSERT_TRUE(padded.ok());
    EXPECT_EQ(padded->units, 160u);
    EXPECT_EQ(padded->segments, gsm ? 1u : 3u);
    EXPECT_EQ(padded->units_per_segment, gsm ? 160u : 67u);
    // Transliteration: the ASCII base letter, losing nothing.
    const auto ascii = transliterate_vi(form);
    ASSERT_TRUE(ascii.ok());
    EXPECT_EQ(ascii->text, std::string(1, row.ascii));
    EXPECT_TRUE(ascii->lossless());
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVowel, VowelToneTest, testing::ValuesIn(vowel_rows()),
                         row_name<VowelRow>);

// The 17 consonants, both cases: all GSM-7 except đ/Đ (no decomposition; transliterated by an
// explicit map, vietnam-channels.md §5).
TEST(VietnameseLetterTest, ConsonantsIncludingDStroke) {
  const std::string lower = "bcdđghklmnpqrstvx";
  const std::vector<std::pair<std::string, std::string>> letters = {
      {"b", "b"}, {"c", "c"}, {"d", "d"}, {"đ", "d"}, {"g", "g"}, {"h", "h"}, {"k", "k"},
      {"l", "l"}, {"m", "m"}, {"n", "n"}, {"p", "p"}, {"q", "q"}, {"r", "r"}, {"s", "s"},
      {"t", "t"}, {"v", "v"}, {"x", "x"}, {"B", "B"}, {"C", "C"}, {"D", "D"}, {"Đ", "D"},
      {"G", "G"}, {"H", "H"}, {"K", "K"}, {"L", "L"}, {"M", "M"}, {"N", "N"}, {"P", "P"},
      {"Q", "Q"}, {"R", "R"}, {"S", "S"}, {"T", "T"}, {"V", "V"}, {"X", "X"}};
  ASSERT_EQ(letters.size(), 34u);
  for (const auto& [letter, ascii] : letters) {
    SCOPED_TRACE(letter);
    const bool d_stroke = letter == "đ" || letter == "Đ";
    const auto count = count_segments(letter);
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(count->encoding, d_stroke ? kUcs2 : kGsm7);
    const auto result = transliterate_vi(letter);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->text, ascii);
    EXPECT_TRUE(result->lossless());
  }
}

// vietnam-channels.md §5: of the 178 Vietnamese letters (29 letters x tones, both cases), 127 are
// not GSM-7. Counted over the tables above.
TEST(VietnameseLetterTest, OneHundredTwentySevenOfOneHundredSeventyEightAreNotGsm7) {
  std::size_t letters = 34;  // consonants
  std::size_t not_gsm = 2;   // đ Đ
  for (const VowelRow& row : vowel_rows()) {
    for (const std::string& form : row.forms) {
      ++letters;
      const auto count = count_segments(form);
      ASSERT_TRUE(count.ok());
      if (count->encoding == kUcs2) ++not_gsm;
    }
  }
  EXPECT_EQ(letters, 178u);
  EXPECT_EQ(not_gsm, 127u);
}

TEST(VietnameseLetterTest, AlphabetSentenceTransliterates) {
  const auto result = transliterate_vi(
      "Đắk Lắk, Buôn Ma Thuột: Hộ nghèo, hộ cận nghèo được hỗ trợ thẻ bảo hiểm y tế. ĐỨC ỨNG Ỷ");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->text,
            "Dak Lak, Buon Ma Thuot: Ho ngheo, ho can ngheo duoc ho tro the bao hiem y te. DUC "
            "UNG Y");
}

// ---- A table of text vectors -------------------------------------------------------------------

struct VectorRow {
  std::string name;
  std::string text;
  SmsEncoding encoding;
  std::size_t units;
  std::size_t segments;
};

class TextVectorTest : public testing::TestWithParam<VectorRow> {};

TEST_P(TextVectorTest, MatchesTheStandard) {
  const VectorRow& row = GetParam();
  const auto count = count_segments(row.text);
  ASSERT_TRUE(count.ok()) << count.error().message;
  EXPECT_EQ(count->encoding, row.encoding);
  EXPECT_EQ(count->units, row.units);
  EXPECT_EQ(count->segments, row.segments);
  // What `loa sms inspect` and every route do first: NFC leaves these unchanged.
  const auto normalized = nfc(row.text);
  ASSERT_TRUE(normalized.ok());
  EXPECT_EQ(*normalized, row.text);
}

const std::string kViet = "Hộ nghèo được hỗ trợ bảo hiểm y tế. ";   // UCS-2, BMP only
const std::string kAscii = "Ho ngheo duoc ho tro bao hiem y te. ";  // GSM-7, 1 septet each

INSTANTIATE_TEST_SUITE_P(
    Table, TextVectorTest,
    testing::Values(
        // `loa sms inspect "Xin chào bà con"`: à is in the GSM-7 basic table (0x7F), so the
        // greeting stays GSM-7: 15 septets, 1 segment.
        VectorRow{"xin_chao_ba_con", "Xin chào bà con", kGsm7, 15, 1},
        VectorRow{"xin_chao_with_hook_is_ucs2", "Xin chào bà con ở xã", kUcs2, 20, 1},
        // Boundary lengths, GSM-7: 160 | 161, 306 | 307 (153 per part after the first).
        VectorRow{"gsm_70", code_points(kAscii, 70), kGsm7, 70, 1},
        VectorRow{"gsm_71", code_points(kAscii, 71), kGsm7, 71, 1},
        VectorRow{"gsm_134", code_points(kAscii, 134), kGsm7, 134, 1},
        VectorRow{"gsm_135", code_points(kAscii, 135), kGsm7, 135, 1},
        VectorRow{"gsm_160", code_points(kAscii, 160), kGsm7, 160, 1},
        VectorRow{"gsm_161", code_points(kAscii, 161), kGsm7, 161, 2},
        VectorRow{"gsm_306", code_points(kAscii, 306), kGsm7, 306, 2},
        VectorRow{"gsm_307", code_points(kAscii, 307), kGsm7, 307, 3},
        // Boundary lengths, UCS-2: 70 | 71, 134 | 135 (67 per part after the first), and the
        // GSM-7 boundaries in UCS-2: 160 and 161 -> ceil(/67) = 3; 306 and 307 -> 5.
        VectorRow{"ucs2_70", code_points(kViet, 70), kUcs2, 70, 1},
        VectorRow{"ucs2_71", code_points(kViet, 71), kUcs2, 71, 2},
        VectorRow{"ucs2_134", code_points(kViet, 134), kUcs2, 134, 2},
        VectorRow{"ucs2_135", code_points(kViet, 135), kUcs2, 135, 3},
        VectorRow{"ucs2_160", code_points(kViet, 160), kUcs2, 160, 3},
        VectorRow{"ucs2_161", code_points(kViet, 161), kUcs2, 161, 3},
        VectorRow{"ucs2_306", code_points(kViet, 306), kUcs2, 306, 5},
        VectorRow{"ucs2_307", code_points(kViet, 307), kUcs2, 307, 5},
        // GSM extension characters: 2 septets each (escape 0x1B + code).
        VectorRow{"ext_caret", "^", kGsm7, 2, 1}, VectorRow{"ext_braces", "{}", kGsm7, 4, 1},
        VectorRow{"ext_backslash", "\\", kGsm7, 2, 1}, VectorRow{"ext_brackets", "[]", kGsm7, 4, 1},
        VectorRow{"ext_tilde", "~", kGsm7, 2, 1}, VectorRow{"ext_pipe", "|", kGsm7, 2, 1},
        VectorRow{"ext_euro", "€", kGsm7, 2, 1}, VectorRow{"ext_form_feed", "\f", kGsm7, 2, 1},
        VectorRow{"ext_80_euros_fill_one_sms", repeat("€", 80), kGsm7, 160, 1},
        VectorRow{"ext_81_euros_need_two", repeat("€", 81), kGsm7, 162, 2},
        VectorRow{"ext_159_plus_pipe", std::string(159, 'a') + "|", kGsm7, 161, 2},
        VectorRow{"ext_price_in_text", "Gia 10.000d [mien phi] {HOI}", kGsm7, 32, 1},
        // Emoji: a surrogate pair, 2 UTF-16 units; never split across parts.
        VectorRow{"emoji_one", "😀", kUcs2, 2, 1},
        VectorRow{"emoji_35_fill_one_sms", repeat("😀", 35), kUcs2, 70, 1},
        VectorRow{"emoji_36_need_two", repeat("😀", 36), kUcs2, 72, 2},
        VectorRow{"emoji_after_68", repeat("ộ", 68) + "😀", kUcs2, 70, 1},
        VectorRow{"emoji_after_69", repeat("ộ", 69) + "😀", kUcs2, 71, 2},
        VectorRow{"emoji_bmp_telephone", "☎", kUcs2, 1, 1},
        VectorRow{"emoji_with_variation_selector", "❤️", kUcs2, 2, 1},
        VectorRow{"emoji_flag_vietnam", "🇻🇳", kUcs2, 4, 1},
        VectorRow{"emoji_family_zwj", "👨‍👩‍👧", kUcs2, 8, 1},
        VectorRow{"emoji_in_gsm_text", "Chuc mung 😀", kUcs2, 12, 1},
        // Ê Đê: ê̆ ô̆ ơ̆ ư̆ are a base letter + U+0306, 2 units each even after NFC (§6.1); the
        // precomposed breve letters ĕ ĭ ŏ ŭ and ƀ are 1 unit.
        VectorRow{"ede_e_circumflex_breve", "ê\u0306", kUcs2, 2, 1},
        VectorRow{"ede_capital_e_circumflex_breve", "Ê\u0306", kUcs2, 2, 1},
        VectorRow{"ede_o_circumflex_breve", "ô\u0306", kUcs2, 2, 1},
        VectorRow{"ede_o_horn_breve", "ơ\u0306", kUcs2, 2, 1},
        VectorRow{"ede_u_horn_breve", "ư\u0306", kUcs2, 2, 1},
        VectorRow{"ede_precomposed_breves", "ĕĭŏŭĔĬŎŬ", kUcs2, 8, 1},
        VectorRow{"ede_b_stroke", "Ƀuôn ƀ", kUcs2, 6, 1},
        VectorRow{"ede_35_e_circumflex_breve", repeat("ê\u0306", 35), kUcs2, 70, 1},
        VectorRow{"ede_36_e_circumflex_breve", repeat("ê\u0306", 36), kUcs2, 72, 2},
        VectorRow{"ede_n_tilde_is_gsm", "ñu Ñu", kGsm7, 5, 1},
        VectorRow{"ede_place_name", "Ƀuôn Rĭt", kUcs2, 8, 1}),
    row_name<VectorRow>);

}  // namespace
}  // namespace loa::templates
