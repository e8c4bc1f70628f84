// The `zalo_oa` gateway: consultation ("tư vấn", customer-service) text messages from the
// province's Official Account to a follower, by the follower's OA-scoped user id
// (reference/vietnam-channels.md §1.2). Zalo allows them only within the interaction window
// after the household last wrote to the OA (7 days to the reference's main source, 48 h or
// 24 h to others [CONFLICT]); outside it the send is answered -230, which is kUnreachable so
// that the household is reached another way. This is the channel for answering replies.
//
// Request, one per message:
//   POST https://openapi.zalo.me/v3.0/oa/message/cs
//   Content-Type: application/json
//   access_token: <OA access token>
//   {"recipient":{"user_id":"<OutboundMessage::zalo_user>"},"message":{"text":"<body>"}}
// A message without zalo_user or with an empty body is answered kPermanent unsent. Zalo takes
// no tracking id here, so a resend after a crash may reach the follower twice. The provider id
// is data.message_id of the answer.
//
// Error codes, one class each (§1.2, "Useful OA error codes"; see zalo_oa_gateway.cpp):
//   -230/-232 outside the interaction window, -213 not following the OA, -227 user banned or
//   inactive > 45 days, -244 user restricted this message type: kUnreachable;
//   -216 invalid token, -220 token expired: kAuth (refresh, resend once);
//   -32 rate limit, -211 out of quota, -321 Zalo Cloud Account out of money, and any message
//   mentioning "quota": kThrottled;
//   -234 not allowed at night 22:00–06:00: kRetryable (in the day);
//   -201 invalid parameter, -224 OA tier package needed, -240 MessageV2 API shut down:
//   kPermanent; any other code: kPermanent with the code in the reason.
//
// Settings keys: those of ZaloTokenSettings (token_file, app_id, app_secret, ...), and
//   url         default https://openapi.zalo.me/v3.0/oa/message/cs
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

class ZaloOaGateway final : public ZaloGateway {
 public:
  static constexpr std::string_view kDefaultUrl = "https://openapi.zalo.me/v3.0/oa/message/cs";

  // From a route's flat settings, sharing the process's ZaloTokens for its token file.
  // Throws std::invalid_argument / std::runtime_error naming what is wrong.
  ZaloOaGateway(boost::asio::any_io_executor ex, const GatewaySettingsMap& settings,
                std::shared_ptr<HttpClient> http, GatewayEvents* events = nullptr);
  ZaloOaGateway(boost::asio::any_io_executor ex, ZaloApiSettings settings,
                std::shared_ptr<HttpClient> http, std::shared_ptr<ZaloTokens> tokens);

  std::string_view type() const override { return "zalo_oa"; }
};

}  // namespace loa::adapters
