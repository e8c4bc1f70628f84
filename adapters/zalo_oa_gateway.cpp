#include "adapters/zalo_oa_gateway.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <utility>

namespace loa::adapters {

namespace {

namespace json = boost::json;

// reference/vietnam-channels.md §1.2 ("Useful OA error codes", from the hoangnd25 table).
constexpr ZaloErrorRule kOaErrors[] = {
    {-32, SendClass::kThrottled, "rate limit reached"},
    {-201, SendClass::kPermanent, "invalid parameter"},
    {-211, SendClass::kThrottled, "out of quota"},
    {-213, SendClass::kUnreachable, "user is not following the OA"},
    {-216, SendClass::kAuth, "access token invalid"},
    {-220, SendClass::kAuth, "access token expired"},
    // The OA itself cannot send this until its owner buys the package.
    {-224, SendClass::kPermanent, "OA tier package needed"},
    {-227, SendClass::kUnreachable, "user banned or inactive for more than 45 days"},
    {-230, SendClass::kUnreachable, "user has not interacted with the OA in the window"},
    {-232, SendClass::kUnreachable, "user has not interacted with the OA in the window"},
    // Broadcast refused at night (22:00–06:00): the same message goes through in the day.
    {-234, SendClass::kRetryable, "sending at night refused"},
    {-240, SendClass::kPermanent, "MessageV2 API shut down"},
    {-244, SendClass::kUnreachable, "user restricted this message type"},
    // Money, like quota, comes back once the account is topped up: hold the route, keep the
    // messages.
    {-321, SendClass::kThrottled, "Zalo Cloud Account out of money"},
};

std::variant<std::string, SendResult> request_body(const OutboundMessage& m) {
  if (m.zalo_user.empty()) {
    return SendResult{SendClass::kPermanent, "", "zalo_oa: message has no zalo user id"};
  }
  if (m.body.empty()) return SendResult{SendClass::kPermanent, "", "zalo_oa: empty text"};
  json::object out;
  out["recipient"] = json::object{{"user_id", m.zalo_user}};
  out["message"] = json::object{{"text", m.body}};
  return json::serialize(out);
}

}  // namespace

ZaloOaGateway::ZaloOaGateway(boost::asio::any_io_executor ex, ZaloApiSettings settings,
                             std::shared_ptr<HttpClient> http, std::shared_ptr<ZaloTokens> tokens)
    : ZaloGateway(std::move(ex), std::move(http), std::move(tokens),
                  ZaloEndpoint{std::move(settings.url), settings.timeout, kOaErrors, "message_id"},
                  &request_body) {}

ZaloOaGateway::ZaloOaGateway(boost::asio::any_io_executor ex, const GatewaySettingsMap& settings,
                             std::shared_ptr<HttpClient> http, GatewayEvents* /*events*/)
    : ZaloOaGateway(ex, ZaloApiSettings::from(SettingsReader(settings, "zalo_oa"), kDefaultUrl),
                    http, open_tokens(ex, http, settings, "zalo_oa")) {}

}  // namespace loa::adapters
