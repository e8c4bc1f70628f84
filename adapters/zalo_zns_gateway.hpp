// The `zalo_zns` gateway: Zalo Notification Service template messages to a phone number
// (reference/vietnam-channels.md §1.1), sent on behalf of the province's Official Account.
//
// Request, one per message:
//   POST https://business.openapi.zalo.me/message/template
//   Content-Type: application/json
//   access_token: <OA access token>            (not Authorization: Bearer)
//   {"phone":"84912345678","template_id":"...","template_data":{...},"tracking_id":"<our id>"}
//  - phone: OutboundMessage::phone is E.164 "+84…"; Zalo wants "84…" with no '+' and no
//    leading 0 (§1.1). Any other number is answered kPermanent unsent.
//  - template_id, template_data: from OutboundMessage::body, the planner's JSON
//    {"template_id": "...", "template_data": {...}}; template_data is passed through as is
//    (its keys must match the approved template's parameters). A body that is not such an
//    object is answered kPermanent unsent, naming the JSON path.
//  - tracking_id: OutboundMessage::id, so that delivery webhooks (`user_received_message`,
//    see adapters/zalo_webhook.hpp) name our message (DESIGN.md §3.2).
// The provider id is data.msg_id of the answer.
//
// Error codes, one class each (§1.1 table unless said otherwise; see zalo_zns_gateway.cpp):
//   -108 phone invalid, -109 template id invalid, -111/-112/-1121/-1122/-1124 template data
//   errors, -131/-132 template not approved / not existing: kPermanent;
//   -110 Zalo version unsupported (returned for non-Zalo numbers too), -114 user inactive or
//   refusing, -118 no Zalo account: kUnreachable (the campaign falls back to SMS);
//   -124 access token invalid, -216 invalid token (OA meaning, §1.2), -220 token expired
//   (§1.2): kAuth (refresh, resend once); -216 whose message speaks of a quota: kThrottled;
//   -133 night-time sending refused: kRetryable (later, in the day);
//   -32 rate limit, -211 out of quota, -321 Zalo Cloud Account out of money (§1.2), and any
//   message mentioning "quota": kThrottled;
//   -100 unknown error, "try again later" (zalo.cloud ZNS error page, not in the reference):
//   kRetryable; any other code: kPermanent with the code in the reason.
//
// Settings keys: those of ZaloTokenSettings (token_file, app_id, app_secret, ...), and
//   url         default https://business.openapi.zalo.me/message/template
//   timeout_ms  default 10000
//
// Thread-safety and lifetime: as ZaloGateway (adapters/zalo_api.hpp). GatewayEvents is not
// used: Zalo pushes receipts and replies to a webhook (adapters/zalo_webhook.hpp).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

#include "adapters/gateway.hpp"
#include "adapters/settings_reader.hpp"
#include "adapters/zalo_api.hpp"

namespace loa::adapters {

class ZaloZnsGateway final : public ZaloGateway {
 public:
  static constexpr std::string_view kDefaultUrl =
      "https://business.openapi.zalo.me/message/template";

  // From a route's flat settings, sharing the process's ZaloTokens for its token file.
  // Throws std::invalid_argument / std::runtime_error naming what is wrong.
  ZaloZnsGateway(boost::asio::any_io_executor ex, const GatewaySettingsMap& settings,
                 std::shared_ptr<HttpClient> http, GatewayEvents* events = nullptr);
  ZaloZnsGateway(boost::asio::any_io_executor ex, ZaloApiSettings settings,
                 std::shared_ptr<HttpClient> http, std::shared_ptr<ZaloTokens> tokens);

  std::string_view type() const override { return "zalo_zns"; }
};

}  // namespace loa::adapters
