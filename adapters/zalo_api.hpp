// What the two Zalo adapters (zalo_zns, zalo_oa) share: sending one JSON POST per message to a
// Zalo OpenAPI endpoint with the OA access token (header `access_token`, reference/
// vietnam-channels.md §1.1–1.2), and classifying Zalo's answer, once, into a SendClass.
//
// Zalo answers {"error": 0, "message": "Success", "data": {...}} on success and a negative
// `error` with a `message` on failure, usually with HTTP 200. Classification, in this order:
//  1. transport: kBusy (our client's push-back) is kThrottled, kInvalidRequest kPermanent,
//     anything else (timeout, connect, reset, ...) kRetryable;
//  2. HTTP 429 kThrottled, 5xx kRetryable;
//  3. a JSON answer: error 0 is kAccepted with the provider id at data.<id_field>; a message
//     that mentions "quota" is kThrottled whatever the code (the reference advises keying on
//     `error` and `message`: -216 is "quota exceeded" to one source and "invalid token" to
//     another, and a "ZNS daily quota exceeded" text comes with no known code); then the
//     adapter's table; a code not in it is kPermanent with the code in the reason;
//  4. no JSON: 401/403 kAuth, other 4xx kPermanent, 2xx kRetryable (we cannot tell what
//     happened, and at-least-once prefers a resend).
// Reasons read "zalo -118: <Zalo's message or the table's meaning>", at most ~200 bytes, with
// the access token masked should Zalo echo it.
//
// ZaloGateway::async_send: every message of the batch goes concurrently (the HttpClient caps
// connections per host); `done` runs once, with one result per message in the batch's order,
// never inline. A message the adapter cannot turn into a request (bad body, no recipient)
// is answered without a request. A kAuth answer invalidates the token it was sent with, waits
// for a fresh one and sends that message once more; a second kAuth is the result.
// close() answers later sends kRetryable "closed"; sends in flight complete normally (bounded
// by the request timeout).
//
// Lifetime: in-flight work shares an internal state (not the gateway), so the gateway may be
// destroyed with sends in flight; whatever `done` captures must outlive them.
//
// Thread-safety: async_send and close are safe from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adapters/gateway.hpp"
#include "adapters/gateway_option.hpp"
#include "adapters/settings_reader.hpp"

namespace loa::adapters {

class HttpClient;
class ZaloTokens;
struct HttpResponse;

// One documented Zalo error code and what it means for a send.
struct ZaloErrorRule {
  int code;
  SendClass outcome;
  std::string_view meaning;  // used in the reason when Zalo sends no message
};
using ZaloErrorTable = std::span<const ZaloErrorRule>;

struct ZaloEndpoint {
  std::string url;
  std::chrono::milliseconds timeout{10000};
  ZaloErrorTable errors;
  std::string_view id_field;  // data.<id_field> is the provider id: "msg_id", "message_id"
};

// The classification above, for one answer. `access_token` is masked in the reason.
SendResult classify_zalo_answer(boost::system::error_code ec, const HttpResponse& response,
                                const ZaloEndpoint& endpoint, std::string_view access_token);

// Every key the two Zalo routes read: the token's (ZaloTokenSettings), the API's
// (ZaloApiSettings) and the webhook's (ZaloWebhookSettings, served when oa_secret_key is set).
// The URL defaults are the gateway's endpoint.
inline constexpr GatewayOption kZaloOptions[] = {
    {"token_file", "",
     "required: the JSON file of the OA access token and its single-use refresh token (0600; "
     "loa rewrites it on every refresh)"},
    {"app_id", "", "required: the Zalo app's id"},
    {"app_secret", "", "required: the App Secret, for token refresh", true},
    {"oauth_url", "https://oauth.zaloapp.com/v4/oa/access_token", "the token refresh endpoint"},
    {"refresh_margin_ms", "3600000", "refresh the access token this long before it expires"},
    {"oauth_timeout_ms", "10000", "time allowed for one refresh request"},
    {"refresh_failure_cooldown_ms", "30000", "wait after a failed refresh before another"},
    {"url", "", "the send endpoint (default: ZNS template or OA message endpoint)"},
    {"timeout_ms", "10000", "time allowed for one send request"},
    {"oa_secret_key", "",
     "the OA Secret Key that signs webhooks; with it loa serves /webhooks/<route>/zalo", true},
    {"webhook_signature", "app_id", "app_id | oa_id: which formula signs the webhook"},
    {"oa_id", "", "the OA's id, required with webhook_signature = oa_id"},
    {"webhook_max_age_ms", "7200000", "a webhook older than this is refused"},
    {"webhook_max_ahead_ms", "300000", "a webhook dated further ahead than this is refused"},
};

// The settings both Zalo gateways read besides those of ZaloTokenSettings.
// Keys: url (default: the gateway's endpoint), timeout_ms (default 10000).
struct ZaloApiSettings {
  std::string url;
  std::chrono::milliseconds timeout{10000};

  static ZaloApiSettings from(const SettingsReader& settings, std::string_view default_url);
};

// The gateway both Zalo adapters are: they differ only in their endpoint, error table and
// request body.
class ZaloGateway : public Gateway {
 public:
  // The JSON body for a message, or the result to answer it with unsent (kPermanent).
  using Build = std::function<std::variant<std::string, SendResult>(const OutboundMessage&)>;

  ~ZaloGateway() override;
  ZaloGateway(const ZaloGateway&) = delete;
  ZaloGateway& operator=(const ZaloGateway&) = delete;

  void async_send(std::vector<OutboundMessage> batch, SendDone done) override;
  void close() override;

 protected:
  ZaloGateway(boost::asio::any_io_executor ex, std::shared_ptr<HttpClient> http,
              std::shared_ptr<ZaloTokens> tokens, ZaloEndpoint endpoint, Build build);

  // The process's ZaloTokens for a route's flat settings (ZaloTokenSettings keys,
  // ZaloTokens::open). Throws as ZaloTokens::create, naming `gateway`.
  static std::shared_ptr<ZaloTokens> open_tokens(boost::asio::any_io_executor ex,
                                                 std::shared_ptr<HttpClient> http,
                                                 const GatewaySettingsMap& settings,
                                                 std::string_view gateway);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace loa::adapters
