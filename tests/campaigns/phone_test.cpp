#include "campaigns/phone.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {
namespace {

// ---------------------------------------------------------------------------------------------
// Every mobile prefix and the carrier it belongs to (reference/vietnam-channels.md section 4).

struct CarrierCase {
  std::string_view local;  // 10-digit national number
  Carrier carrier;
};

const std::vector<CarrierCase> carrier_cases = {
    // Viettel: 843 (032-039), 086, 096-098.
    {"0312345678", Carrier::kViettel},
    {"0321234567", Carrier::kViettel},
    {"0331234567", Carrier::kViettel},
    {"0341234567", Carrier::kViettel},
    {"0351234567", Carrier::kViettel},
    {"0361234567", Carrier::kViettel},
    {"0371234567", Carrier::kViettel},
    {"0381234567", Carrier::kViettel},
    {"0391234567", Carrier::kViettel},
    {"0861234567", Carrier::kViettel},
    {"0961234567", Carrier::kViettel},
    {"0971234567", Carrier::kViettel},
    {"0981234567", Carrier::kViettel},
    // MobiFone: 030, 051 (new ranges), 070, 076-079, 089 (0896-0899 only), 090, 093.
    {"0301234567", Carrier::kMobiFone},
    {"0511234567", Carrier::kMobiFone},
    {"0701234567", Carrier::kMobiFone},
    {"0761234567", Carrier::kMobiFone},
    {"0771234567", Carrier::kMobiFone},
    {"0781234567", Carrier::kMobiFone},
    {"0791234567", Carrier::kMobiFone},
    {"0896123456", Carrier::kMobiFone},
    {"0897123456", Carrier::kMobiFone},
    {"0898123456", Carrier::kMobiFone},
    {"0899123456", Carrier::kMobiFone},
    {"0901234567", Carrier::kMobiFone},
    {"0931234567", Carrier::kMobiFone},
    // Vinaphone: 081-085, 088, 091, 094.
    {"0811234567", Carrier::kVinaphone},
    {"0821234567", Carrier::kVinaphone},
    {"0831234567", Carrier::kVinaphone},
    {"0841234567", Carrier::kVinaphone},
    {"0851234567", Carrier::kVinaphone},
    {"0881234567", Carrier::kVinaphone},
    {"0911234567", Carrier::kVinaphone},
    {"0941234567", Carrier::kVinaphone},
    // Vietnamobile: 052 (0522/0523/0528 only), 056, 058, 092.
    {"0522123456", Carrier::kVietnamobile},
    {"0523123456", Carrier::kVietnamobile},
    {"0528123456", Carrier::kVietnamobile},
    {"0561234567", Carrier::kVietnamobile},
    {"0581234567", Carrier::kVietnamobile},
    {"0921234567", Carrier::kVietnamobile},
    // Reddi: 055 (the pattern allocates 0559 only).
    {"0559123456", Carrier::kReddi},
    // Gmobile: 059, 0993-0997 (84.txt), 0990/0991 (commonly used list: 099).
    {"0591234567", Carrier::kGmobile},
    {"0990123456", Carrier::kGmobile},
    {"0991123456", Carrier::kGmobile},
    {"0993123456", Carrier::kGmobile},
    {"0994123456", Carrier::kGmobile},
    {"0995123456", Carrier::kGmobile},
    {"0996123456", Carrier::kGmobile},
    {"0997123456", Carrier::kGmobile},
    // Itelecom: 087 (commonly used list), 0998/0999 (Indochina Telecom in 84.txt).
    {"0871234567", Carrier::kItelecom},
    {"0998123456", Carrier::kItelecom},
    {"0999123456", Carrier::kItelecom},
    // Allocated by the numbering plan, but no carrier in the data.
    {"0951234567", Carrier::kUnknown},
};

TEST(NormalizePhone, EveryCarrierPrefix) {
  for (const auto& c : carrier_cases) {
    SCOPED_TRACE(c.local);
    const PhoneResult r = normalize_phone(c.local);
    ASSERT_EQ(r.error, PhoneError::kNone) << phone_error_message(r.error);
    EXPECT_EQ(r.e164, "+84" + std::string(c.local.substr(1)));
    EXPECT_EQ(r.carrier, c.carrier) << carrier_name(r.carrier);
    EXPECT_FALSE(r.converted_from_old_prefix);
    EXPECT_FALSE(r.restored_leading_zero);
    EXPECT_EQ(r.original, c.local);
  }
}

// ---------------------------------------------------------------------------------------------
// Every 2018 conversion of an 11-digit number (KingDarkness/phone11to10, reference section 4).

struct OldPrefixCase {
  std::string_view old_prefix;
  std::string_view new_prefix;
  Carrier carrier;
};

const std::vector<OldPrefixCase> old_prefix_cases = {
    {"0162", "032", Carrier::kViettel},      {"0163", "033", Carrier::kViettel},
    {"0164", "034", Carrier::kViettel},      {"0165", "035", Carrier::kViettel},
    {"0166", "036", Carrier::kViettel},      {"0167", "037", Carrier::kViettel},
    {"0168", "038", Carrier::kViettel},      {"0169", "039", Carrier::kViettel},
    {"0120", "070", Carrier::kMobiFone},     {"0121", "079", Carrier::kMobiFone},
    {"0122", "077", Carrier::kMobiFone},     {"0126", "076", Carrier::kMobiFone},
    {"0128", "078", Carrier::kMobiFone},     {"0123", "083", Carrier::kVinaphone},
    {"0124", "084", Carrier::kVinaphone},    {"0125", "085", Carrier::kVinaphone},
    {"0127", "081", Carrier::kVinaphone},    {"0129", "082", Carrier::kVinaphone},
    {"0186", "056", Carrier::kVietnamobile}, {"0188", "058", Carrier::kVietnamobile},
    {"0199", "059", Carrier::kGmobile},
};

TEST(NormalizePhone, EveryOldPrefixConversion) {
  for (const auto& c : old_prefix_cases) {
    const std::string subscriber = "3602037";
    const std::string expected = "+84" + std::string(c.new_prefix.substr(1)) + subscriber;
    // The same old number in every spelling we accept.
    const std::vector<std::string> spellings = {
        std::string(c.old_prefix) + subscriber,
        std::string(c.old_prefix) + " " + subscriber.substr(0, 3) + " " + subscriber.substr(3),
        "+84" + std::string(c.old_prefix.substr(1)) + subscriber,
        "84" + std::string(c.old_prefix.substr(1)) + subscriber,
        "0084" + std::string(c.old_prefix.substr(1)) + subscriber,
    };
    for (const auto& s : spellings) {
      SCOPED_TRACE(s);
      const PhoneResult r = normalize_phone(s);
      ASSERT_EQ(r.error, PhoneError::kNone) << phone_error_message(r.error);
      EXPECT_EQ(r.e164, expected);
      EXPECT_EQ(r.carrier, c.carrier);
      EXPECT_TRUE(r.converted_from_old_prefix);
      EXPECT_FALSE(r.restored_leading_zero);
    }
    // Leading zero lost as well ("1623602037").
    const std::string lost = std::string(c.old_prefix.substr(1)) + subscriber;
    SCOPED_TRACE(lost);
    const PhoneResult r = normalize_phone(lost);
    ASSERT_EQ(r.error, PhoneError::kNone);
    EXPECT_EQ(r.e164, expected);
    EXPECT_TRUE(r.converted_from_old_prefix);
    EXPECT_TRUE(r.restored_leading_zero);
  }
}

// ---------------------------------------------------------------------------------------------
// Spellings, refusals and edge cases: one row per case.

struct Case {
  std::string_view name;
  std::string input;
  PhoneError error;
  std::string_view e164 = "";  // expected when error == kNone
  Carrier carrier = Carrier::kUnknown;
  bool converted = false;
  bool restored_zero = false;
};

const std::vector<Case> phone_cases = {
    // Spellings of 0912 345 678.
    {"plain", "0912345678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"spaces", "0912 345 678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"dots", "0912.345.678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"dashes", "0912-345-678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"parentheses", "(091) 234-5678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"surrounding blanks", "  0912345678\t", PhoneError::kNone, "+84912345678",
     Carrier::kVinaphone},
    {"plus 84", "+84912345678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"plus 84 spaced", "+84 91 234 5678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"84 without plus", "84912345678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"0084", "0084912345678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"0084 spaced", "00 84 912 345 678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    {"plus 84 with trunk zero", "+84 (0) 912 345 678", PhoneError::kNone, "+84912345678",
     Carrier::kVinaphone},
    {"plus 84 dotted", "+84.912.345.678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone},
    // Lost leading zero: a column formatted as a number.
    {"lost zero", "912345678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone, false, true},
    {"lost zero viettel", "363709137", PhoneError::kNone, "+84363709137", Carrier::kViettel, false,
     true},
    {"lost zero 084 looks like 84", "841234567", PhoneError::kNone, "+84841234567",
     Carrier::kVinaphone, false, true},
    {"lost zero spaced", "912 345 678", PhoneError::kNone, "+84912345678", Carrier::kVinaphone,
     false, true},
    // Old 11-digit numbers (spot check; every prefix is covered above).
    {"old vinaphone", "01233602037", PhoneError::kNone, "+84833602037", Carrier::kVinaphone, true},
    {"old spaced", "0162 360 2037", PhoneError::kNone, "+84323602037", Carrier::kViettel, true},
    // Missing.
    {"empty", "", PhoneError::kMissing},
    {"blank", "   ", PhoneError::kMissing},
    {"dash placeholder", "-", PhoneError::kMissing},
    {"plus alone", "+", PhoneError::kMissing},
    // Landlines (02x area codes).
    {"dak lak landline", "0262 3812345", PhoneError::kLandline},
    {"dak lak landline fixture style", "0262 3801234", PhoneError::kLandline},
    {"hanoi landline", "024 3825 1234", PhoneError::kLandline},
    {"hcmc landline +84", "+84 28 3829 1234", PhoneError::kLandline},
    {"landline lost zero", "2623812345", PhoneError::kLandline},
    {"landline too long", "0262 3812 34567", PhoneError::kTooLong},
    // Letters and symbols.
    {"letter inside", "091234x5678", PhoneError::kInvalidCharacter},
    {"fixture typo", "363709x137", PhoneError::kInvalidCharacter},
    {"letter O for zero", "O912345678", PhoneError::kInvalidCharacter},
    {"word", "không có", PhoneError::kInvalidCharacter},
    {"plus in middle", "0912+345678", PhoneError::kInvalidCharacter},
    {"two plus", "++84912345678", PhoneError::kInvalidCharacter},
    {"slash", "0912/345678", PhoneError::kInvalidCharacter},
    {"excel scientific", "9.12345678E+08", PhoneError::kInvalidCharacter},
    {"nul byte", std::string("0912") + '\0' + "345678", PhoneError::kInvalidCharacter},
    {"high bytes", "\xff\xfe\x80", PhoneError::kInvalidCharacter},
    {"fullwidth digits", "\xef\xbc\x90\xef\xbc\x99", PhoneError::kInvalidCharacter},
    // Too short / too long.
    {"too short", "091234567", PhoneError::kTooShort},
    {"very short", "12", PhoneError::kTooShort},
    {"too short +84", "+8491234567", PhoneError::kTooShort},
    {"just 84", "+84", PhoneError::kTooShort},
    {"too long", "09123456789", PhoneError::kTooLong},
    {"too long +84", "+849123456789", PhoneError::kTooLong},
    {"old prefix too short", "0162360203", PhoneError::kTooShort},
    {"old prefix too long", "016236020377", PhoneError::kTooLong},
    {"absurdly long", std::string(200, '9'), PhoneError::kTooLong},
    // Foreign.
    {"us number", "+1 212 555 0100", PhoneError::kForeign},
    {"00 then other country", "0044 20 7946 0958", PhoneError::kForeign},
    {"international prefix india", "00912345678", PhoneError::kForeign},
    // Impossible prefixes.
    {"old prefix without successor", "01301234567", PhoneError::kUnknownPrefix},
    {"04x", "0412345678", PhoneError::kUnknownPrefix},
    {"06x", "0612345678", PhoneError::kUnknownPrefix},
    {"080", "0801234567", PhoneError::kUnknownPrefix},
    {"071", "0711234567", PhoneError::kUnknownPrefix},
    {"050", "0501234567", PhoneError::kUnknownPrefix},
    {"1800 hotline", "1800 123456", PhoneError::kUnknownPrefix},
    {"1900 lost zero", "1900123456", PhoneError::kUnknownPrefix},
    {"lost zero 1xx", "133456789", PhoneError::kUnknownPrefix},
    {"lost zero old prefix, short", "123456789", PhoneError::kTooShort},
    // Mobile prefix, unallocated block (libphonenumber VN pattern).
    {"0891", "0891234567", PhoneError::kUnallocated},
    {"0895", "0895234567", PhoneError::kUnallocated},
    {"0992", "0992123456", PhoneError::kUnallocated},
    {"0520", "0520123456", PhoneError::kUnallocated},
    {"0550", "0550123456", PhoneError::kUnallocated},
};

TEST(NormalizePhone, Cases) {
  for (const auto& c : phone_cases) {
    SCOPED_TRACE(std::string(c.name) + ": '" + c.input + "'");
    const PhoneResult r = normalize_phone(c.input);
    EXPECT_EQ(r.error, c.error) << "got: " << phone_error_message(r.error);
    EXPECT_EQ(r.e164, c.e164);
    EXPECT_EQ(r.carrier, c.carrier);
    EXPECT_EQ(r.converted_from_old_prefix, c.converted);
    EXPECT_EQ(r.restored_leading_zero, c.restored_zero);
    EXPECT_EQ(r.original, c.input);
    EXPECT_EQ(r.ok(), c.error == PhoneError::kNone);
  }
}

TEST(NormalizePhone, EveryErrorHasADistinctMessage) {
  const std::vector<PhoneError> errors = {
      PhoneError::kNone,     PhoneError::kMissing,       PhoneError::kInvalidCharacter,
      PhoneError::kTooShort, PhoneError::kTooLong,       PhoneError::kForeign,
      PhoneError::kLandline, PhoneError::kUnknownPrefix, PhoneError::kUnallocated,
  };
  for (std::size_t i = 0; i < errors.size(); ++i) {
    EXPECT_FALSE(phone_error_message(errors[i]).empty());
    for (std::size_t j = i + 1; j < errors.size(); ++j) {
      EXPECT_NE(phone_error_message(errors[i]), phone_error_message(errors[j]));
    }
  }
  EXPECT_NE(phone_error_message(PhoneError::kLandline).find("landline"), std::string_view::npos);
}

TEST(NormalizePhone, CarrierNamesAndCodes) {
  struct Row {
    Carrier carrier;
    std::string_view name;
    std::string_view code;
  };
  const std::vector<Row> rows = {
      {Carrier::kUnknown, "unknown", "unknown"},
      {Carrier::kViettel, "Viettel", "viettel"},
      {Carrier::kVinaphone, "Vinaphone", "vinaphone"},
      {Carrier::kMobiFone, "MobiFone", "mobifone"},
      {Carrier::kVietnamobile, "Vietnamobile", "vietnamobile"},
      {Carrier::kGmobile, "Gmobile", "gmobile"},
      {Carrier::kItelecom, "Itelecom", "itelecom"},
      {Carrier::kReddi, "Reddi", "reddi"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(carrier_name(row.carrier), row.name);
    EXPECT_EQ(carrier_code(row.carrier), row.code);
  }
}

TEST(NormalizePhone, NeverCrashesOnArbitraryBytes) {
  // A cheap deterministic fuzz: every 1- and 2-byte input, and pseudo-random longer ones.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char bytes[2] = {static_cast<char>(a), static_cast<char>(b)};
      const PhoneResult r = normalize_phone(std::string_view(bytes, 2));
      EXPECT_NE(r.error, PhoneError::kNone);
    }
  }
  std::uint32_t state = 12345;
  const std::string_view alphabet = "0123456789+ .-()84x\xc3\xa0\r\n";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int len = static_cast<int>(state % 30);
    for (int k = 0; k < len; ++k) {
      state = state * 1664525u + 1013904223u;
      s.push_back(alphabet[(state >> 16) % alphabet.size()]);
    }
    state = state * 1664525u + 1013904223u;
    const PhoneResult r = normalize_phone(s);
    if (r.ok()) {
      ASSERT_EQ(r.e164.size(), 12u) << s;
      ASSERT_TRUE(r.e164.starts_with("+84")) << s;
    } else {
      ASSERT_TRUE(r.e164.empty()) << s;
    }
  }
}

TEST(MaskPhone, Cases) {
  struct Row {
    std::string_view input;
    std::string_view masked;
  };
  const std::vector<Row> rows = {
      {"+84912345678", "+8491***5678"},  // DESIGN.md invariant 10
      {"84912345678", "84912***5678"},
      {"", "***"},
      {"091234", "***"},
  };
  for (const auto& row : rows) EXPECT_EQ(mask_phone(row.input), row.masked) << row.input;
}

}  // namespace
}  // namespace loa::campaigns
