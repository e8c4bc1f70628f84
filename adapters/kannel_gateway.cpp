#include "adapters/kannel_gateway.hpp"

#include <charconv>
#include <utility>

#include "adapters/form_encoding.hpp"
#include "adapters/sms_charset.hpp"

namespace loa::adapters {

namespace {

// Kannel's DLR types (%d), from its user guide's dlr-mask table (kannel-facts.md (a)).
constexpr int kDelivered = 1;
constexpr int kFailed = 2;
constexpr int kBuffered = 4;
constexpr int kSmscSubmit = 8;
constexpr int kSmscReject = 16;
constexpr int kAllDlrTypes = 31;

std::optional<long long> to_number(std::string_view s) {
  long long n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

std::string with_query(const std::string& url) {
  return url + (url.find('?') == std::string::npos ? "?" : "&");
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

}  // namespace

KannelSettings KannelSettings::read(const GatewaySettings& s) {
  KannelSettings k;
  k.url = s.require("url");
  k.username = s.require("username");
  k.password = s.secret("password");
  k.from = s.get("from");
  k.smsc = s.get("smsc");
  k.phone_format = *parse_phone_format(s.choice("phone_format", "84", {"84", "local", "e164"}));
  const std::string coding = s.choice("coding", "auto", {"auto", "gsm7", "ucs2"});
  k.coding = coding == "auto" ? Coding::kAuto : coding == "gsm7" ? Coding::kGsm7 : Coding::kUcs2;
  k.timeout = std::chrono::milliseconds(s.integer("timeout_ms", 10000, 1, 600000));
  k.connections = static_cast<std::size_t>(s.integer("connections", 8, 1, 64));
  k.dlr_url = s.get("dlr_url");
  k.dlr_mask = static_cast<int>(s.integer("dlr_mask", 27, 1, kAllDlrTypes));
  if (!k.dlr_url.empty()) {
    if (k.dlr_url.find('%') != std::string::npos) {
      throw GatewayConfigError("dlr_url", "must not hold '%': Kannel would expand it");
    }
    k.dlr_token = s.secret("dlr_token");
    if (!is_unreserved(k.dlr_token)) {
      throw GatewayConfigError("dlr_token",
                               "may hold only letters, digits and - . _ ~ (it travels in a URL)");
    }
  }
  k.mo_token = s.optional_secret("mo_token").value_or("");
  return k;
}

KannelGateway::KannelGateway(KannelSettings settings, const GatewayContext& context)
    : settings_(std::make_shared<const KannelSettings>(std::move(settings))),
      fanout_(context.executor, context.http) {}

std::shared_ptr<Gateway> KannelGateway::create(const GatewaySettings& settings,
                                               const GatewayContext& context) {
  return std::make_shared<KannelGateway>(KannelSettings::read(settings), context);
}

WebhookHooks KannelGateway::webhooks(const GatewaySettings& settings) {
  auto s = std::make_shared<const KannelSettings>(KannelSettings::read(settings));
  WebhookHooks hooks;
  if (!s->dlr_token.empty()) {
    hooks.receipt = [s](const WebhookRequest& r) { return parse_receipt(*s, r); };
  }
  if (!s->mo_token.empty()) {
    hooks.reply = [s](const WebhookRequest& r) { return parse_reply(*s, r); };
  }
  return hooks;
}

void KannelGateway::async_send(std::vector<OutboundMessage> batch, SendDone done) {
  fanout_.send(
      std::move(batch), [s = settings_](const OutboundMessage& m) { return build_request(*s, m); },
      [](const OutboundMessage&, const HttpResponse& r) { return classify(r); }, std::move(done));
}

RequestFanout::Prepared KannelGateway::build_request(const KannelSettings& s,
                                                     const OutboundMessage& m) {
  const auto to = format_phone(m.phone, s.phone_format);
  if (!to) return SendResult{SendClass::kPermanent, "", "phone cannot be spelled as configured"};
  std::string url = with_query(s.url);
  auto add = [&url](std::string_view name, std::string_view value) {
    if (url.back() != '?') url += '&';
    url += name;
    url += '=';
    url += percent_encode(value);
  };
  add("username", s.username);
  add("password", s.password);
  if (!s.from.empty()) add("from", s.from);
  add("to", *to);
  add("text", m.body);
  const bool ucs2 = s.coding == KannelSettings::Coding::kUcs2 ||
                    (s.coding == KannelSettings::Coding::kAuto && !fits_gsm7(m.body));
  if (ucs2) {
    add("coding", "2");
    add("charset", "UTF-8");
  }
  if (!s.smsc.empty()) add("smsc", s.smsc);
  if (!s.dlr_url.empty()) {
    // Our id goes into a URL that Kannel expands %-escapes in: it must need no escaping.
    if (!is_unreserved(m.id)) {
      return SendResult{SendClass::kPermanent, "", "message id unfit for Kannel's dlr-url"};
    }
    add("dlr-mask", std::to_string(s.dlr_mask));
    add("dlr-url", with_query(s.dlr_url) + "id=" + m.id + "&token=" + s.dlr_token +
                       "&status=%d&answer=%A&msgid=%F");
  }
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  request.timeout = s.timeout;
  request.max_connections = s.connections;
  request.at_most_once = true;
  return request;
}

SendResult KannelGateway::classify(const HttpResponse& response) {
  const std::string body = trimmed(response.body);
  const std::string reason = "kannel http " + std::to_string(response.status) +
                             (body.empty() ? "" : ": " + loggable(body, 80));
  if (body.find("Authorization failed") != std::string::npos) {
    return {SendClass::kAuth, "", reason};
  }
  if (response.status >= 200 && response.status < 300) return {SendClass::kAccepted, "", ""};
  // Kannel answers 403 for denied numbers and unroutable messages too; only the text above
  // means bad credentials.
  if (response.status == 403) return {SendClass::kPermanent, "", reason};
  return {class_of_status(response.status), "", reason};
}

WebhookResult<DeliveryReceipt> KannelGateway::parse_receipt(const KannelSettings& s,
                                                            const WebhookRequest& request) {
  using Result = WebhookResult<DeliveryReceipt>;
  const FormParams p = FormParams::from_target(request.target);
  if (auto why = token_mismatch(p.get("token"), s.dlr_token, "dlr_token"); !why.empty()) {
    return Result::without_event(WebhookVerdict::kForbidden, std::move(why));
  }
  if (!p.well_formed()) return Result::without_event(WebhookVerdict::kMalformed, "bad escape");
  const auto status = to_number(p.get("status").value_or(""));
  if (!status) return Result::without_event(WebhookVerdict::kMalformed, "no status");
  DeliveryReceipt r;
  r.message_id = p.get("id").value_or("");
  if (r.message_id.empty()) return Result::without_event(WebhookVerdict::kMalformed, "no id");
  r.provider_id = p.get("msgid").value_or("");
  const std::string answer = p.get("answer").value_or("");
  const std::string detail = answer.empty() ? "" : " (" + loggable(answer, 80) + ")";
  switch (*status) {
    case kDelivered:
      r.delivered = true;
      break;
    case kFailed:
      r.reason = "kannel dlr 2: delivery failed" + detail;
      break;
    case kSmscReject:
      r.reason = "kannel dlr 16: SMSC rejected" + detail;
      break;
    case kBuffered:
    case kSmscSubmit:
      return Result::without_event(WebhookVerdict::kIgnored,
                                   "intermediate dlr status " + std::to_string(*status));
    default:
      return Result::without_event(WebhookVerdict::kIgnored,
                                   "unknown dlr status " + std::to_string(*status));
  }
  r.at = std::chrono::system_clock::now();
  return Result::of(std::move(r));
}

WebhookResult<Reply> KannelGateway::parse_reply(const KannelSettings& s,
                                                const WebhookRequest& request) {
  using Result = WebhookResult<Reply>;
  const FormParams p = FormParams::from_target(request.target);
  if (auto why = token_mismatch(p.get("token"), s.mo_token, "mo_token"); !why.empty()) {
    return Result::without_event(WebhookVerdict::kForbidden, std::move(why));
  }
  if (!p.well_formed()) return Result::without_event(WebhookVerdict::kMalformed, "bad escape");
  const auto from = p.get("from");
  const auto text = p.get("text");
  if (!from || from->empty()) return Result::without_event(WebhookVerdict::kMalformed, "no from");
  if (!text) return Result::without_event(WebhookVerdict::kMalformed, "no text");
  const std::string charset = p.get("charset").value_or("UTF-8");
  auto utf8 = to_utf8(*text, charset);
  if (!utf8) {
    return Result::without_event(WebhookVerdict::kMalformed,
                                 "unsupported charset '" + loggable(charset, 40) + "'");
  }
  Reply reply;
  reply.from_phone = sender_to_e164(*from);
  reply.text = std::move(*utf8);
  reply.provider_id = p.get("id").value_or("");
  // A missing, malformed or out-of-range ts falls back to the time of receipt.
  const auto ts = to_number(p.get("ts").value_or(""));
  const auto at = ts ? from_unix_seconds(*ts) : std::nullopt;
  reply.at = at.value_or(std::chrono::system_clock::now());
  return Result::of(std::move(reply));
}

}  // namespace loa::adapters
