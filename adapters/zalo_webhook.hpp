// Zalo webhooks: checking that a POST really comes from Zalo for our Official Account, and
// turning it into a Reply (a household wrote to the OA) or a DeliveryReceipt (a ZNS or OA
// message reached the handset). Parsing and verification only; the engine's HTTP route reads the
// request, calls verify() then parse(), answers 200 fast (Zalo wants it within ~2 s and retries
// at 30 s, 5 min, 15 min, 30 min, 1 h, §1.3 [UNVERIFIED]) and hands the result to GatewayEvents.
// Events are deduplicated downstream on the provider id (msg_id), since retries resend them.
//
// Signature (reference/vietnam-channels.md §1.3): header `X-ZEvent-Signature: mac=<hex>` with
//   hex = lowercase hex SHA-256 (plain, not HMAC) of  id + raw_body + timestamp + OA_secret_key
// over the body's raw bytes. The sources disagree about id and timestamp [CONFLICT]:
//   kAppId (default): id = the body's `app_id`, timestamp = the body's `timestamp`. This is
//     what Chatwoot's zalo_events_job.rb verifies in production and what several other
//     integrations match, and it needs nothing but the body; the reference cites it as the
//     verified [V] form, hence the default.
//   kOaId: id = our OA id (setting oa_id), timestamp = the `timestamp` header when the request
//     has one, else the body's. This is the hoangnd25 integration guide's form [3P].
// If live traffic fails kAppId, switch the setting to oa_id; each reason says which check
// failed. The comparison is constant-time (OpenSSL CRYPTO_memcmp) over the 64 hex digits; a
// header that is not 64 hex digits (after an optional "mac=") is refused without comparing.
// With app_id set, a body naming another app is refused before any hashing.
//
// Freshness: the timestamp used in the MAC (epoch milliseconds; a value below 10^11 is read as
// seconds) must lie within max_age before now and max_ahead after it. max_age defaults to
// 2 hours so that Zalo's retries (up to ~1.8 h after the event, §1.3), which repeat the signed
// body, are still accepted; dedupe on msg_id makes a replay inside the window harmless.
//
// Events (§1.1, §1.3):
//   user_send_text: Reply{from_zalo_user = sender.id, text = message.text (UTF-8 bytes exactly
//     as Zalo sent them, \u escapes decoded), provider_id = message.msg_id, at = timestamp}.
//   user_received_message: DeliveryReceipt{message_id = tracking_id (our id, for ZNS),
//     provider_id = msg_id, delivered = true, at = delivery_time, else timestamp}; the ids are
//     read at the top level (flat shape) or under `message` (nested shape) [CONFLICT: both
//     seen]. One of the two ids is required.
//   Anything else (follow, user_seen_message, user_send_image, anonymous_send_text, ...):
//     ignored, with its event_name returned for the log.
//
// Settings keys (SettingsReader): oa_secret_key (required), app_id (checked against the body
// when set), webhook_signature = app_id | oa_id (default app_id), oa_id (required for oa_id),
// webhook_max_age_ms (default 7200000), webhook_max_ahead_ms (default 300000).
//
// Thread-safety: const members are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/gateway.hpp"
#include "adapters/settings_reader.hpp"

namespace loa::adapters {

enum class ZaloSignatureFormula { kAppId, kOaId };

struct ZaloWebhookSettings {
  std::string oa_secret_key;  // the OA Secret Key (not the App Secret of token calls)
  std::string app_id;         // when set, the body's app_id must equal it
  std::string oa_id;          // for kOaId
  ZaloSignatureFormula formula = ZaloSignatureFormula::kAppId;
  std::chrono::milliseconds max_age{std::chrono::hours(2)};
  std::chrono::milliseconds max_ahead{std::chrono::minutes(5)};

  static ZaloWebhookSettings from(const SettingsReader& settings);
};

// What the route read from the request.
struct ZaloWebhookRequest {
  std::string_view body;       // raw bytes, exactly as received
  std::string_view signature;  // X-ZEvent-Signature
  std::string_view timestamp;  // the `timestamp` header, "" when absent (kOaId only)
};

struct ZaloWebhookVerdict {
  bool ok = false;
  std::string reason;  // when not ok: "signature mismatch", "stale timestamp", ...
};

struct ZaloWebhookEvent {
  std::string name;  // event_name, for the log ("" when the body has none)
  std::optional<Reply> reply;
  std::optional<DeliveryReceipt> receipt;
  std::string error;  // malformed: names the JSON path; then no reply and no receipt
  bool ignored() const { return error.empty() && !reply && !receipt; }
};

class ZaloWebhook {
 public:
  // Throws std::invalid_argument without an OA secret key, or kOaId without an OA id.
  explicit ZaloWebhook(ZaloWebhookSettings settings);

  ZaloWebhookVerdict verify(const ZaloWebhookRequest& request,
                            std::chrono::system_clock::time_point now) const;
  static ZaloWebhookEvent parse(std::string_view body);

  // How many MACs were compared with CRYPTO_memcmp in this process (for tests and metrics).
  static std::uint64_t constant_time_compares();

 private:
  ZaloWebhookSettings settings_;
};

}  // namespace loa::adapters
