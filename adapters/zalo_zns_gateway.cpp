#include "adapters/zalo_zns_gateway.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <utility>

namespace loa::adapters {

namespace {

namespace json = boost::json;

// reference/vietnam-channels.md §1.1 ("ZNS error codes"), unless marked otherwise.
constexpr ZaloErrorRule kZnsErrors[] = {
    // From the zalo.cloud ZNS error-code page ("Unknown error ... vui lòng thử lại sau"), seen
    // in a search excerpt only; not in the reference.
    {-100, SendClass::kRetryable, "unknown error"},
    // [CONFLICT] an Odoo module reads -108 as "template data empty": permanent either way.
    {-108, SendClass::kPermanent, "phone number invalid"},
    {-109, SendClass::kPermanent, "template ID invalid"},
    // One integrator reports -110 for numbers that are not Zalo users: the household cannot be
    // reached on Zalo, so it falls back to SMS.
    {-110, SendClass::kUnreachable, "Zalo version unsupported"},
    {-111, SendClass::kPermanent, "template data empty"},
    {-112, SendClass::kPermanent, "template data type not defined"},
    {-1121, SendClass::kPermanent, "template parameter too long"},
    {-1122, SendClass::kPermanent, "template parameter missing"},
    {-1124, SendClass::kPermanent, "template parameter badly formatted"},
    {-114, SendClass::kUnreachable, "user inactive, refusing, or on an outdated Zalo version"},
    {-118, SendClass::kUnreachable, "Zalo account not existed"},
    {-124, SendClass::kAuth, "access token invalid"},
    {-131, SendClass::kPermanent, "template not approved"},
    {-132, SendClass::kPermanent, "template not existed"},
    // Night-time sending refused: the same message goes through in the day.
    {-133, SendClass::kRetryable, "sending at night refused"},
    // [CONFLICT] "ZNS quota exceeded" to one source (a message saying "quota" is kThrottled
    // before this table is read), "access token is invalid" on the OA APIs (§1.2).
    {-216, SendClass::kAuth, "access token invalid"},
    // §1.2: OA-wide codes for the same access token and account.
    {-220, SendClass::kAuth, "access token expired"},
    {-32, SendClass::kThrottled, "rate limit reached"},
    {-211, SendClass::kThrottled, "out of quota"},
    {-321, SendClass::kThrottled, "Zalo Cloud Account out of money"},
};

SendResult unsent(std::string reason) { return {SendClass::kPermanent, "", std::move(reason)}; }

// "+84912345678" -> "84912345678"; empty when `e164` is not a Vietnamese number.
std::string zns_phone(std::string_view e164) {
  if (e164.size() < 3 || e164.substr(0, 3) != "+84") return {};
  std::string_view digits = e164.substr(1);
  const bool all_digits =
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  // 84 + a 9-digit national number (§4); 10 digits for the few longer fixed-line numbers.
  if (!all_digits || digits.size() < 11 || digits.size() > 12) return {};
  return std::string(digits);
}

// The request body for `m`, or the kPermanent result to answer it with unsent.
std::variant<std::string, SendResult> request_body(const OutboundMessage& m) {
  const std::string phone = zns_phone(m.phone);
  if (phone.empty()) return unsent("zalo_zns: phone is not a +84 number");
  boost::system::error_code ec;
  json::value body = json::parse(m.body, ec);
  if (ec || !body.is_object()) return unsent("zalo_zns: body is not a JSON object");
  const json::value* id = body.as_object().if_contains("template_id");
  if (id == nullptr || !id->is_string() || id->as_string().empty()) {
    return unsent("zalo_zns: body $.template_id must be a non-empty string");
  }
  json::value* data = body.as_object().if_contains("template_data");
  if (data == nullptr || !data->is_object()) {
    return unsent("zalo_zns: body $.template_data must be an object");
  }
  json::object out;
  out["phone"] = phone;
  out["template_id"] = *id;
  out["template_data"] = std::move(*data);
  out["tracking_id"] = m.id;
  return json::serialize(out);
}

}  // namespace

ZaloZnsGateway::ZaloZnsGateway(boost::asio::any_io_executor ex, ZaloApiSettings settings,
                               std::shared_ptr<HttpClient> http, std::shared_ptr<ZaloTokens> tokens)
    : ZaloGateway(std::move(ex), std::move(http), std::move(tokens),
                  ZaloEndpoint{std::move(settings.url), settings.timeout, kZnsErrors, "msg_id"},
                  &request_body) {}

ZaloZnsGateway::ZaloZnsGateway(boost::asio::any_io_executor ex, const GatewaySettingsMap& settings,
                               std::shared_ptr<HttpClient> http, GatewayEvents* /*events*/)
    : ZaloZnsGateway(ex, ZaloApiSettings::from(SettingsReader(settings, "zalo_zns"), kDefaultUrl),
                     http, open_tokens(ex, http, settings, "zalo_zns")) {}

}  // namespace loa::adapters
