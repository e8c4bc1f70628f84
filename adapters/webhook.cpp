#include "adapters/webhook.hpp"

#include <algorithm>

#include "adapters/sms_charset.hpp"

namespace loa::adapters {

std::string_view to_string(WebhookVerdict v) {
  switch (v) {
    case WebhookVerdict::kEvent:
      return "event";
    case WebhookVerdict::kIgnored:
      return "ignored";
    case WebhookVerdict::kForbidden:
      return "forbidden";
    case WebhookVerdict::kMalformed:
      return "malformed";
  }
  return "unknown";
}

bool secret_equals(std::string_view received, std::string_view expected) {
  // Every byte of the longer one is visited whatever the contents; the length difference
  // alone makes the answer false.
  const std::size_t n = std::max(received.size(), expected.size());
  volatile unsigned char diff = received.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = static_cast<unsigned char>(i < received.size() ? received[i] : 0);
    const auto b = static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
    diff = diff | (a ^ b);
  }
  return diff == 0 && !expected.empty();
}

std::string token_mismatch(const std::optional<std::string>& received, std::string_view expected,
                           std::string_view setting) {
  if (expected.empty()) return "no " + std::string(setting) + " configured";
  if (!secret_equals(received.value_or(""), expected)) return "wrong or missing token";
  return {};
}

std::string loggable(std::string_view text, std::size_t limit) {
  // Phone numbers have 9 to 12 digits; 7 also catches local numbers without their prefix.
  constexpr std::size_t kPhoneDigits = 7;
  const bool utf8 = is_utf8(text);  // then letters beyond ASCII (Vietnamese) are kept
  std::string out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < limit) {
    std::size_t run = 0;
    while (i + run < text.size() && text[i + run] >= '0' && text[i + run] <= '9') ++run;
    if (run >= kPhoneDigits) {
      out += "***";
    } else if (run > 0) {
      out.append(text.substr(i, run));
    } else {
      const auto c = static_cast<unsigned char>(text[i]);
      out.push_back((c >= 0x20 && c < 0x7f) || (c >= 0x80 && utf8) ? static_cast<char>(c) : '?');
      run = 1;
    }
    i += run;
  }
  if (out.size() > limit) out.resize(limit);
  // Never end inside a UTF-8 sequence.
  std::size_t lead = out.size();
  while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
  if (lead > 0 && static_cast<unsigned char>(out[lead - 1]) >= 0xC0) {
    const auto b = static_cast<unsigned char>(out[lead - 1]);
    const std::size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    if (out.size() - (lead - 1) < need) out.resize(lead - 1);
  }
  return out;
}

namespace {
template <class Unit>
std::optional<std::chrono::system_clock::time_point> from_unix(long long count) {
  using Clock = std::chrono::system_clock;
  constexpr long long kMax = std::chrono::duration_cast<Unit>(Clock::duration::max()).count();
  if (count < 0 || count > kMax) return std::nullopt;
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(Unit(count)));
}
}  // namespace

std::optional<std::chrono::system_clock::time_point> from_unix_seconds(long long seconds) {
  return from_unix<std::chrono::seconds>(seconds);
}

std::optional<std::chrono::system_clock::time_point> from_unix_milliseconds(long long millis) {
  return from_unix<std::chrono::milliseconds>(millis);
}

}  // namespace loa::adapters
