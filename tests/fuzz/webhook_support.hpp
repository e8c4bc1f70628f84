// Checks shared by the webhook fuzz targets (tests/fuzz/webhook_*_fuzz.cpp): what every
// adapter's webhook parser promises (adapters/webhook.hpp), whatever a gateway or an attacker
// sends.
//
// Thread-safety: none needed; a fuzz target runs on one thread.
#pragma once

#include <string>
#include <string_view>

#include "adapters/gateway.hpp"
#include "adapters/webhook.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace loa::fuzz {

// The secrets the fuzz targets configure; no answer may repeat them.
inline constexpr std::string_view kToken = "fUzZ-T0ken_secret.42";
inline constexpr std::string_view kPrivateKey = "fuzz-private-key-8079";

inline void check_event(const adapters::DeliveryReceipt& r) {
  FUZZ_CHECK(!r.message_id.empty() || !r.provider_id.empty(), "a receipt without any id");
}
inline void check_event(const adapters::Reply& r) {
  FUZZ_CHECK(!r.from_phone.empty() || !r.from_zalo_user.empty(), "a reply without a sender");
  FUZZ_CHECK(is_utf8(r.text), "reply text that is not UTF-8");
}

// A parser's answer: an event exactly when the verdict says so, a reason otherwise, and no
// secret in anything that is logged or sent back, unless the caller itself put the secret in
// a value (`supplied`: the caller's own text, raw and decoded), which the answer may quote.
template <class Event>
void check_result(const adapters::WebhookResult<Event>& r, std::string_view supplied = {}) {
  FUZZ_CHECK((r.verdict == adapters::WebhookVerdict::kEvent) == r.event.has_value(),
             "verdict and event disagree: " + r.reason);
  if (r.event) {
    check_event(*r.event);
  } else {
    FUZZ_CHECK(!r.reason.empty(), "no event and no reason");
  }
  for (const std::string* text : {&r.reason, &r.response_body}) {
    for (const std::string_view secret : {kToken, kPrivateKey}) {
      FUZZ_CHECK(text->find(secret) == std::string::npos ||
                     supplied.find(secret) != std::string_view::npos,
                 "a secret in the answer: " + *text);
    }
  }
  FUZZ_CHECK(r.response_body.empty() == r.response_type.empty(), "a body without its type");
}

// adapters::loggable on raw gateway text: bounded, no control characters, no phone-like run.
inline void check_loggable(std::string_view raw) {
  for (const std::size_t limit : {std::size_t{8}, std::size_t{120}}) {
    const std::string s = adapters::loggable(raw, limit);
    FUZZ_CHECK(s.size() <= limit, "loggable() beyond its limit");
    FUZZ_CHECK(is_utf8(s), "loggable() cut a character: " + s);
    FUZZ_CHECK(!has_digit_run(s, 7), "loggable() kept a phone number: " + s);
    for (const char c : s) {
      FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F, "loggable() control char");
    }
  }
}

}  // namespace loa::fuzz
