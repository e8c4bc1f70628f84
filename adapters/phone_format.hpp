// How an SMS gateway wants a Vietnamese mobile number spelled, and how we read the numbers it
// sends back. loa stores E.164 ("+84912345678"); gateways want "84912345678" (eSMS, ZNS,
// Kannel towards most SMSCs) or the national "0912345678" (reference/vietnam-channels.md §4).
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loa::adapters {

enum class PhoneFormat {
  kE164,           // +84912345678
  kInternational,  // 84912345678
  kNational,       // 0912345678
};

// Config spelling: "e164", "84", "local". nullopt for anything else.
std::optional<PhoneFormat> parse_phone_format(std::string_view s);

// `e164` must be "+" and 8 to 15 digits; kInternational and kNational also need "+84". nullopt
// when the number cannot be spelled that way.
std::optional<std::string> format_phone(std::string_view e164, PhoneFormat format);

// A sender as a gateway reports it ("84912345678", "0912345678", "+84912345678") in E.164. A
// short code, an alphanumeric sender or anything else unrecognised is returned unchanged.
std::string sender_to_e164(std::string_view sender);

}  // namespace loa::adapters
