#include "campaigns/phone.hpp"

#include <array>
#include <cstddef>
#include <utility>

namespace loa::campaigns {
namespace {

// Facts below come from the shared reference/vietnam-channels.md, section 4, which cites:
// - google/libphonenumber resources/carrier/en/84.txt (commit 5931383…) for carriers by prefix;
// - libphonenumber's VN metadata (PhoneNumberMetadata_VN.php) for the mobile number pattern
//   (?:5(?:2[238]|59)|89[6-9]|99[013-9])\d{6}|(?:3\d|5[1689]|7[06-9]|8[1-8]|9[0-8])\d{7}
//   over the 9-digit national significant number (NSN, the digits after trunk '0' or +84);
// - KingDarkness/phone11to10 index.js for the 2018 conversion of 11-digit mobile numbers.

constexpr std::size_t kMobileNsnDigits = 9;      // +84 9xx xxx xxx
constexpr std::size_t kOldMobileNsnDigits = 10;  // pre-2018: +84 1xx xxx xxxx
constexpr std::size_t kLandlineNsnDigits = 10;   // +84 2xx xxx xxxx (024/028 + 8 digits)
// The longest spelling we accept is "0084" + 10 digits; anything far longer is rejected without
// being stored, so memory stays bounded whatever the input.
constexpr std::size_t kMaxDigits = 24;

struct CarrierPrefix {
  std::string_view nsn_prefix;
  Carrier carrier;
};

// Checked in order, so the three-digit entries (overrides) come before the two-digit ones.
constexpr CarrierPrefix kCarrierPrefixes[] = {
    // 84.txt: 84993-84997 G-Mobile, 84998/84999 Indochina Telecom (brand Itel).
    {"993", Carrier::kGmobile},
    {"994", Carrier::kGmobile},
    {"995", Carrier::kGmobile},
    {"996", Carrier::kGmobile},
    {"997", Carrier::kGmobile},
    {"998", Carrier::kItelecom},
    {"999", Carrier::kItelecom},
    // 0990/0991 are allocated by the number pattern (99[013-9]) but absent from 84.txt; the
    // reference's "commonly used list" gives all of 099 to Gmobile/Wintel.
    {"990", Carrier::kGmobile},
    {"991", Carrier::kGmobile},
    // 84.txt: "843 Viettel" (032-039), overridden by "8430 MobiFone" (a new range).
    // 031 is allocated by the pattern (3\d) and falls under 843 in 84.txt, hence Viettel.
    {"30", Carrier::kMobiFone},
    {"31", Carrier::kViettel},
    {"32", Carrier::kViettel},
    {"33", Carrier::kViettel},
    {"34", Carrier::kViettel},
    {"35", Carrier::kViettel},
    {"36", Carrier::kViettel},
    {"37", Carrier::kViettel},
    {"38", Carrier::kViettel},
    {"39", Carrier::kViettel},
    // 84.txt: 8451 MobiFone (new range), 8452/8456/8458 Vietnamobile, 8455 Reddi, 8459 G-Mobile.
    {"51", Carrier::kMobiFone},
    {"52", Carrier::kVietnamobile},
    {"55", Carrier::kReddi},
    {"56", Carrier::kVietnamobile},
    {"58", Carrier::kVietnamobile},
    {"59", Carrier::kGmobile},
    // 84.txt: 847 MobiFone; the pattern allocates only 070 and 076-079.
    {"70", Carrier::kMobiFone},
    {"76", Carrier::kMobiFone},
    {"77", Carrier::kMobiFone},
    {"78", Carrier::kMobiFone},
    {"79", Carrier::kMobiFone},
    // 84.txt: 8481-8485/8488/8491/8494 Vinaphone, 8486/8496-8498 Viettel,
    // 8489/8490/8493 MobiFone, 8492 Vietnamobile.
    {"81", Carrier::kVinaphone},
    {"82", Carrier::kVinaphone},
    {"83", Carrier::kVinaphone},
    {"84", Carrier::kVinaphone},
    {"85", Carrier::kVinaphone},
    {"86", Carrier::kViettel},
    // 84.txt lists 8487 as Vinaphone (the hosting network); the reference's commonly used list
    // attributes 087 to Itelecom, the MVNO that sells it ([UNVERIFIED] in the reference).
    {"87", Carrier::kItelecom},
    {"88", Carrier::kVinaphone},
    {"89", Carrier::kMobiFone},
    {"90", Carrier::kMobiFone},
    {"91", Carrier::kVinaphone},
    {"92", Carrier::kVietnamobile},
    {"93", Carrier::kMobiFone},
    {"94", Carrier::kVinaphone},
    {"96", Carrier::kViettel},
    {"97", Carrier::kViettel},
    {"98", Carrier::kViettel},
    // 095 is allocated by the pattern (9[0-8]) but has no carrier in 84.txt: kUnknown.
};

struct OldPrefix {
  std::string_view old_nsn_prefix;  // after the trunk 0: "162" for 0162
  std::string_view new_nsn_prefix;  // "32" for 032
};

// 2018 conversion of 11-digit mobile numbers (reference section 4, KingDarkness/phone11to10).
constexpr OldPrefix kOldPrefixes[] = {
    // Viettel: 0162-0169 -> 032-039
    {"162", "32"},
    {"163", "33"},
    {"164", "34"},
    {"165", "35"},
    {"166", "36"},
    {"167", "37"},
    {"168", "38"},
    {"169", "39"},
    // MobiFone
    {"120", "70"},
    {"121", "79"},
    {"122", "77"},
    {"126", "76"},
    {"128", "78"},
    // Vinaphone
    {"123", "83"},
    {"124", "84"},
    {"125", "85"},
    {"127", "81"},
    {"129", "82"},
    // Vietnamobile
    {"186", "56"},
    {"188", "58"},
    // Gmobile
    {"199", "59"},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == '.' || c == '-' || c == '(' || c == ')';
}

// Is this two-digit NSN prefix one of the mobile prefixes of the number pattern?
bool is_mobile_prefix(std::string_view nsn) {
  const char a = nsn[0];
  const char b = nsn[1];
  switch (a) {
    case '3':
      return true;
    case '5':
      return b == '1' || b == '2' || b == '5' || b == '6' || b == '8' || b == '9';
    case '7':
      return b == '0' || (b >= '6' && b <= '9');
    case '8':
      return b >= '1' && b <= '9';
    case '9':
      return true;
    default:
      return false;
  }
}

// Does the number pattern allocate the block of this NSN (checked after is_mobile_prefix)?
// Only 052x, 055x, 089x and 099x are partly allocated.
bool is_allocated_block(std::string_view nsn) {
  const char c = nsn[2];
  if (nsn[0] == '5' && nsn[1] == '2') return c == '2' || c == '3' || c == '8';
  if (nsn[0] == '5' && nsn[1] == '5') return c == '9';
  if (nsn[0] == '8' && nsn[1] == '9') return c >= '6' && c <= '9';
  if (nsn[0] == '9' && nsn[1] == '9') return c != '2';
  return true;
}

Carrier carrier_for(std::string_view nsn) {
  for (const auto& p : kCarrierPrefixes) {
    if (nsn.starts_with(p.nsn_prefix)) return p.carrier;
  }
  return Carrier::kUnknown;
}

const OldPrefix* find_old_prefix(std::string_view nsn) {
  for (const auto& p : kOldPrefixes) {
    if (nsn.starts_with(p.old_nsn_prefix)) return &p;
  }
  return nullptr;
}

PhoneResult fail(PhoneResult r, PhoneError e) {
  r.error = e;
  r.carrier = Carrier::kUnknown;
  r.converted_from_old_prefix = false;
  r.restored_leading_zero = false;
  r.e164.clear();
  return r;
}

}  // namespace

PhoneResult normalize_phone(std::string_view raw) {
  PhoneResult r;
  r.original.assign(raw.data(), raw.size());

  // 1. Keep the digits; a '+' may only come first.
  std::array<char, kMaxDigits> buf{};
  std::size_t n = 0;
  std::size_t total_digits = 0;
  bool plus = false;
  for (const char c : raw) {
    if (is_digit(c)) {
      if (n < buf.size()) buf[n++] = c;
      ++total_digits;
    } else if (c == '+' && total_digits == 0 && !plus) {
      plus = true;
    } else if (is_separator(c)) {
      // Spaces, dots, dashes and parentheses are how people group digits.
    } else {
      return fail(std::move(r), PhoneError::kInvalidCharacter);
    }
  }
  if (total_digits == 0) {
    // "+" alone or "-" is a placeholder for "no phone", as is an empty cell.
    return fail(std::move(r), PhoneError::kMissing);
  }
  if (total_digits > kMaxDigits) return fail(std::move(r), PhoneError::kTooLong);
  const std::string_view digits(buf.data(), n);
  if (digits.size() < kMobileNsnDigits) return fail(std::move(r), PhoneError::kTooShort);

  // 2. Strip the country code or trunk prefix to get the national significant number.
  std::string_view nsn;
  bool country_code = false;
  if (plus) {
    if (!digits.starts_with("84")) return fail(std::move(r), PhoneError::kForeign);
    nsn = digits.substr(2);
    country_code = true;
  } else if (digits.starts_with("00")) {
    // "00" is Vietnam's international call prefix.
    if (!digits.starts_with("0084")) return fail(std::move(r), PhoneError::kForeign);
    nsn = digits.substr(4);
    country_code = true;
  } else if (digits.starts_with("0")) {
    nsn = digits.substr(1);
  } else if (digits.starts_with("84") &&
             (digits.size() == 2 + kMobileNsnDigits || digits.size() == 2 + kOldMobileNsnDigits)) {
    // 84 + 9 digits, or 84 + an old 10-digit NSN. A 9-digit "84xxxxxxx" is a Vinaphone 084
    // number that lost its zero, handled below.
    nsn = digits.substr(2);
    country_code = true;
  } else {
    nsn = digits;
    r.restored_leading_zero = true;
  }
  if (country_code && nsn.starts_with("0")) nsn.remove_prefix(1);  // "+84 (0) 912 345 678"
  if (nsn.empty()) return fail(std::move(r), PhoneError::kTooShort);

  // 3. Classify the NSN.
  std::string converted;
  if (nsn[0] == '1') {
    const OldPrefix* old = find_old_prefix(nsn);
    if (old == nullptr) {
      return fail(std::move(r), nsn.size() < kMobileNsnDigits ? PhoneError::kTooShort
                                                              : PhoneError::kUnknownPrefix);
    }
    if (nsn.size() < kOldMobileNsnDigits) return fail(std::move(r), PhoneError::kTooShort);
    if (nsn.size() > kOldMobileNsnDigits) return fail(std::move(r), PhoneError::kTooLong);
    converted.reserve(kMobileNsnDigits);
    converted.append(old->new_nsn_prefix);
    converted.append(nsn.substr(old->old_nsn_prefix.size()));
    r.converted_from_old_prefix = true;
    nsn = converted;
  } else if (nsn[0] == '2') {
    if (nsn.size() < kMobileNsnDigits) return fail(std::move(r), PhoneError::kTooShort);
    if (nsn.size() > kLandlineNsnDigits) return fail(std::move(r), PhoneError::kTooLong);
    return fail(std::move(r), PhoneError::kLandline);
  }
  if (nsn.size() < kMobileNsnDigits) return fail(std::move(r), PhoneError::kTooShort);
  if (nsn.size() > kMobileNsnDigits) return fail(std::move(r), PhoneError::kTooLong);
  if (!is_mobile_prefix(nsn)) return fail(std::move(r), PhoneError::kUnknownPrefix);
  if (!is_allocated_block(nsn)) return fail(std::move(r), PhoneError::kUnallocated);

  r.carrier = carrier_for(nsn);
  r.e164.reserve(3 + kMobileNsnDigits);
  r.e164.append("+84");
  r.e164.append(nsn);
  return r;
}

std::string_view carrier_name(Carrier carrier) {
  switch (carrier) {
    case Carrier::kUnknown:
      return "unknown";
    case Carrier::kViettel:
      return "Viettel";
    case Carrier::kVinaphone:
      return "Vinaphone";
    case Carrier::kMobiFone:
      return "MobiFone";
    case Carrier::kVietnamobile:
      return "Vietnamobile";
    case Carrier::kGmobile:
      return "Gmobile";
    case Carrier::kItelecom:
      return "Itelecom";
    case Carrier::kReddi:
      return "Reddi";
  }
  return "unknown";
}

std::string_view carrier_code(Carrier carrier) {
  switch (carrier) {
    case Carrier::kUnknown:
      return "unknown";
    case Carrier::kViettel:
      return "viettel";
    case Carrier::kVinaphone:
      return "vinaphone";
    case Carrier::kMobiFone:
      return "mobifone";
    case Carrier::kVietnamobile:
      return "vietnamobile";
    case Carrier::kGmobile:
      return "gmobile";
    case Carrier::kItelecom:
      return "itelecom";
    case Carrier::kReddi:
      return "reddi";
  }
  return "unknown";
}

std::string_view phone_error_message(PhoneError error) {
  switch (error) {
    case PhoneError::kNone:
      return "valid mobile number";
    case PhoneError::kMissing:
      return "no phone number";
    case PhoneError::kInvalidCharacter:
      return "phone number contains a letter or symbol; only digits, spaces, '.', '-', "
             "parentheses and a leading '+' are allowed";
    case PhoneError::kTooShort:
      return "phone number is too short for a Vietnamese mobile number (10 digits, e.g. "
             "0912 345 678)";
    case PhoneError::kTooLong:
      return "phone number is too long for a Vietnamese mobile number (10 digits, e.g. "
             "0912 345 678)";
    case PhoneError::kForeign:
      return "phone number has a country code other than Vietnam's +84";
    case PhoneError::kLandline:
      return "landline number (area code 02x): cannot receive SMS or Zalo messages";
    case PhoneError::kUnknownPrefix:
      return "not a Vietnamese mobile number: unknown prefix";
    case PhoneError::kUnallocated:
      return "mobile prefix, but this number range is not allocated in the numbering plan";
  }
  return "invalid phone number";
}

std::string mask_phone(std::string_view phone) {
  constexpr std::size_t kHead = 5;  // "+8491"
  constexpr std::size_t kTail = 4;  // "5678"
  if (phone.size() < 10) return "***";
  std::string out;
  out.reserve(kHead + 3 + kTail);
  out.append(phone.substr(0, kHead));
  out.append("***");
  out.append(phone.substr(phone.size() - kTail));
  return out;
}

}  // namespace loa::campaigns
