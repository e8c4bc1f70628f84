// GSM-7 membership and the conversions of MO payloads to UTF-8, one row per case.
#include "adapters/sms_charset.hpp"

#include <gtest/gtest.h>

namespace loa::adapters {
namespace {

TEST(SmsCharsetTest, FitsGsm7) {
  struct Row {
    std::string text;
    bool fits;
  };
  const std::vector<Row> rows = {
      {"", true},
      {"Hop dan luc 8h, thon Ea Tan!", true},
      {"@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà", true},
      {"^{}\\[~]|€ and\r\n\f", true},
      {"Xin chào", true},  // à is in the default alphabet
      {"Đắk Lắk", false},
      {"giảm nghèo", false},
      {"a`b", false},  // the backtick is not
      {"tab\there", false},
      {"\xC3", false},      // truncated UTF-8
      {"\xC0\xAF", false},  // overlong
  };
  for (const Row& row : rows) EXPECT_EQ(fits_gsm7(row.text), row.fits) << row.text;
}

TEST(SmsCharsetTest, ConvertsToUtf8) {
  struct Row {
    std::string bytes, charset;
    std::optional<std::string> utf8;
  };
  const std::vector<Row> rows = {
      {"Đắk Lắk", "UTF-8", "Đắk Lắk"},
      {"Đắk Lắk", "", "Đắk Lắk"},
      {"a\xC3"
       "b\xFF",
       "utf-8",
       "a\xEF\xBF\xBD"
       "b\xEF\xBF\xBD"},  // only the bad bytes are lost
      {std::string("\x00X\x01\x10\x1E\xAF", 6), "UTF-16BE", "XĐắ"},
      {std::string("\xD8\x3D\xDE\x00", 4), "ucs-2", "\xF0\x9F\x98\x80"},  // a surrogate pair
      {std::string("\xD8\x3D\x00X", 4), "UTF-16BE", "\xEF\xBF\xBDX"},     // a lone surrogate
      {std::string("\x00X\x00", 3), "UTF-16BE", "X\xEF\xBF\xBD"},         // an odd byte
      {"Caf\xE9", "ISO-8859-1", "Café"},
      {"x", "EBCDIC", std::nullopt},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(to_utf8(row.bytes, row.charset), row.utf8) << row.charset << " " << row.bytes;
  }
}

}  // namespace
}  // namespace loa::adapters
