// Vietnamese phone numbers: normalise what people type into household lists to E.164.
//
// Contract:
// - normalize_phone() accepts any bytes. It never throws, never allocates more than the size of
//   its input plus a constant, and always returns a PhoneResult. On success `e164` is
//   "+84" followed by the 9-digit national significant number of a mobile number, and `error` is
//   PhoneError::kNone. On failure `e164` is empty and `error` says why (one reason per failure
//   class, with a human message from phone_error_message()).
// - Accepted spellings: "0912 345 678", "0912.345.678", "(091) 234-5678", "+84 91 234 5678",
//   "84912345678", "0084912345678", "+84 (0) 912345678", a leading zero lost when a spreadsheet
//   stored the number as a number ("912345678"), and the pre-2018 11-digit mobile numbers
//   ("01623456789"), which are converted to their 10-digit successors.
// - Only mobile numbers are accepted: landlines (area codes 02x) cannot receive SMS or Zalo ZNS.
// - The carrier is derived from the prefix. Mobile number portability means the prefix is not
//   necessarily the current carrier; use the gateway's reported telco for per-carrier statistics.
//
// Thread-safety: all functions are pure and safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loa::campaigns {

// Carriers that own Vietnamese mobile prefixes (reference/vietnam-channels.md section 4).
enum class Carrier : std::uint8_t {
  kUnknown,  // a prefix the numbering plan allocates but the carrier data does not name (e.g. 095)
  kViettel,
  kVinaphone,
  kMobiFone,
  kVietnamobile,
  kGmobile,   // G-Mobile, now Wintel
  kItelecom,  // Indochina Telecom (brand Itel), an MVNO
  kReddi,
};

// Why a number was refused. Each value has a distinct human message (phone_error_message()).
enum class PhoneError : std::uint8_t {
  kNone,
  kMissing,           // empty, or nothing but spaces and separators
  kInvalidCharacter,  // a letter or symbol other than the separators " .-()" and a leading '+'
  kTooShort,
  kTooLong,
  kForeign,        // a country code other than +84
  kLandline,       // a fixed line (area code 02x): cannot receive SMS
  kUnknownPrefix,  // not a Vietnamese mobile prefix (e.g. 04x, 1800/1900, an unknown 01xx)
  kUnallocated,    // a mobile prefix, but a block the numbering plan does not allocate (0891…)
};

struct PhoneResult {
  std::string e164;  // "+84912345678" on success, empty otherwise
  Carrier carrier = Carrier::kUnknown;
  bool converted_from_old_prefix = false;  // an 11-digit 01xx number was mapped to 03x/05x/07x/08x
  bool restored_leading_zero = false;      // written without trunk 0 or country code (912345678)
  PhoneError error = PhoneError::kNone;
  std::string original;  // the input, verbatim

  bool ok() const { return error == PhoneError::kNone; }
};

// Normalises one phone number as typed in a household list. Never throws.
PhoneResult normalize_phone(std::string_view raw);

// Display name of a carrier, e.g. "Viettel", "MobiFone"; "unknown" for Carrier::kUnknown.
std::string_view carrier_name(Carrier carrier);

// Stable lower-case identifier for storage and audience filters ("viettel", "mobifone", …).
std::string_view carrier_code(Carrier carrier);

// Human message for an error, e.g. "landline number (area code 02x): cannot receive SMS".
std::string_view phone_error_message(PhoneError error);

// Masks a phone number for logs (DESIGN.md invariant 10): "+84912345678" -> "+8491***5678".
// Anything shorter than 10 characters is masked entirely ("***").
std::string mask_phone(std::string_view phone);

}  // namespace loa::campaigns
