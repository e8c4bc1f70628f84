// What a gateway pushes back to us over HTTP (delivery reports, household replies), as the
// engine's webhook server hands it to an adapter's parser, and what the parser makes of it.
// Parsing only: no server here. Each adapter provides its parsers as static members, and the
// registry (adapters/registry.hpp) binds them to a route's settings as WebhookHooks.
//
// Contract:
//  - A parser never throws on what a gateway (or an attacker) sends: every input yields a
//    WebhookResult. kForbidden means the secret token or signature did not match (answer 401);
//    kMalformed means a required field is missing or unreadable (answer 400); kIgnored means an
//    authentic callback that carries nothing to record, such as an intermediate status (answer
//    2xx). Only kEvent carries an event.
//  - `reason` is for logs: it names the field or the status, never a phone number or a secret.
//  - `response_body` / `response_type`: what the gateway expects in the answer body (eSMS
//    wants XML for replies); empty means an empty 200.
//
// Thread-safety: everything here is pure; safe from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace loa::adapters {

// A gateway's callback as received.
struct WebhookRequest {
  std::string method = "GET";
  std::string target;  // path and query as received, still percent-encoded
  std::string content_type;
  std::string body;
};

enum class WebhookVerdict {
  kEvent,      // an event for the engine
  kIgnored,    // authentic, but nothing to record (an intermediate status)
  kForbidden,  // the token or signature did not match
  kMalformed,  // a required field is missing or unreadable
};
std::string_view to_string(WebhookVerdict v);

template <class Event>
struct WebhookResult {
  WebhookVerdict verdict = WebhookVerdict::kMalformed;
  std::optional<Event> event;  // present exactly when verdict is kEvent
  std::string reason;          // for logs; never a phone number or a secret
  std::string response_body;   // what the gateway expects back; "" for an empty answer
  std::string response_type;   // its Content-Type, when response_body is not empty

  static WebhookResult of(Event e) {
    WebhookResult r;
    r.verdict = WebhookVerdict::kEvent;
    r.event = std::move(e);
    return r;
  }
  // kIgnored, kForbidden or kMalformed, with the reason.
  static WebhookResult without_event(WebhookVerdict v, std::string why) {
    WebhookResult r;
    r.verdict = v;
    r.reason = std::move(why);
    return r;
  }
};

// Compares a received token or signature with the expected one in time that does not depend
// on where they differ.
bool secret_equals(std::string_view received, std::string_view expected);

// Why a callback fails its shared-secret check, for WebhookVerdict::kForbidden: "no <setting>
// configured" when `expected` is empty, "wrong or missing token" when `received` differs, and
// "" when it matches.
std::string token_mismatch(const std::optional<std::string>& received, std::string_view expected,
                           std::string_view setting);

// A Unix time a gateway sent (seconds or milliseconds since 1970) as a system_clock time, or
// nullopt when it is negative or beyond what system_clock can hold (nanoseconds: the year
// 2262), so a hostile huge number is bad input instead of a signed overflow.
std::optional<std::chrono::system_clock::time_point> from_unix_seconds(long long seconds);
std::optional<std::chrono::system_clock::time_point> from_unix_milliseconds(long long millis);

// A gateway's free text made safe for logs and last_error: control characters (and, in text
// that is not UTF-8, every byte beyond ASCII) become '?', runs of 7 or more digits (phone
// numbers) become "***", and it is cut to at most `limit` bytes, never inside a character.
std::string loggable(std::string_view text, std::size_t limit = 120);

}  // namespace loa::adapters
