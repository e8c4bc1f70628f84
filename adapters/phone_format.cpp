#include "adapters/phone_format.hpp"

#include <algorithm>

namespace loa::adapters {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ITU-T E.164 §6: at most 15 digits; 8 is shorter than any mobile number anyone sends to.
constexpr std::size_t kMinDigits = 8;
constexpr std::size_t kMaxDigits = 15;

}  // namespace

std::optional<PhoneFormat> parse_phone_format(std::string_view s) {
  if (s == "e164") return PhoneFormat::kE164;
  if (s == "84") return PhoneFormat::kInternational;
  if (s == "local") return PhoneFormat::kNational;
  return std::nullopt;
}

std::optional<std::string> format_phone(std::string_view e164, PhoneFormat format) {
  if (e164.size() < 1 + kMinDigits || e164.size() > 1 + kMaxDigits || e164[0] != '+' ||
      !all_digits(e164.substr(1))) {
    return std::nullopt;
  }
  if (format == PhoneFormat::kE164) return std::string(e164);
  if (!e164.starts_with("+84")) return std::nullopt;
  if (format == PhoneFormat::kInternational) return std::string(e164.substr(1));
  return "0" + std::string(e164.substr(3));
}

std::string sender_to_e164(std::string_view sender) {
  const std::string_view digits = sender.starts_with('+') ? sender.substr(1) : sender;
  if (!all_digits(digits) || digits.size() < kMinDigits || digits.size() > kMaxDigits) {
    return std::string(sender);
  }
  if (digits.starts_with("84")) return "+" + std::string(digits);
  if (digits.starts_with('0') && !digits.starts_with("00"))
    return "+84" + std::string(digits.substr(1));
  return std::string(sender);  // already "+…" in another country, or a number we cannot place
}

}  // namespace loa::adapters
