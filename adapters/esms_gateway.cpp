#include "adapters/esms_gateway.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <memory>
#include <utility>

#include "adapters/form_encoding.hpp"
#include "adapters/sms_charset.hpp"

namespace loa::adapters {

namespace {

namespace json = boost::json;

// CodeResult -> class. The codes and their meanings are eSMS's table (reference/
// vietnam-channels.md §2.1 "Error codes", in full in esms-api/bang-ma-loi.md); the classes are
// ours. Problems of the account rather than the message (no price list, no balance, brandname
// not active) are kRetryable, so that the route's circuit breaker pauses instead of failing the
// whole audience at once; bad credentials and an IP that is not whitelisted are kAuth. Codes of
// APIs we do not call (voice, Zalo, advertising lists) fall to "unknown": kPermanent.
struct CodeRule {
  std::string_view code;
  SendClass outcome;
  std::string_view meaning;
};
constexpr CodeRule kCodes[] = {
    {"99", SendClass::kPermanent, "phone number blocked by eSMS"},
    {"100", SendClass::kAccepted, "accepted"},
    {"101", SendClass::kAuth, "wrong ApiKey or SecretKey"},
    {"102", SendClass::kRetryable, "no price list on the account"},
    {"103", SendClass::kRetryable, "insufficient balance"},
    {"104", SendClass::kRetryable, "brandname does not exist or is not active"},
    {"108", SendClass::kPermanent, "phone number malformed"},
    {"124", SendClass::kAccepted, "duplicate RequestId: sent before"},
    {"140", SendClass::kAuth, "IP not whitelisted"},
    {"146", SendClass::kPermanent, "content does not match a registered CSKH template"},
    {"177", SendClass::kPermanent, "carrier not registered for the brandname"},
};

// Callback SendStatus values (esms-api/callback-url.md): 1 awaiting approval, 2 awaiting
// sending, 4 rejected, 5 done (SendSuccess / SendFailed tell which), 7 sent, awaiting report.
constexpr int kRejected = 4;
constexpr int kDone = 5;
constexpr int kIntermediate[] = {1, 2, 7};

// Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975.
constexpr std::chrono::hours kVietnamOffset{7};

std::string base64(const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const unsigned v = (unsigned{data[i]} << 16) | (i + 1 < n ? unsigned{data[i + 1]} << 8 : 0) |
                       (i + 2 < n ? unsigned{data[i + 2]} : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? kAlphabet[v & 63] : '=');
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::optional<int> to_int(std::string_view s) {
  int n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// "yyyyMMddhhmmss" in Vietnam's time; nullopt when malformed or outside system_clock's range
// (before 1970, after 2262).
std::optional<std::chrono::system_clock::time_point> vietnam_time(std::string_view s) {
  if (s.size() != 14) return std::nullopt;
  const auto y = to_int(s.substr(0, 4)), mo = to_int(s.substr(4, 2)), d = to_int(s.substr(6, 2)),
             h = to_int(s.substr(8, 2)), mi = to_int(s.substr(10, 2)),
             sec = to_int(s.substr(12, 2));
  if (!y || !mo || !d || !h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*y),
                                         std::chrono::month(static_cast<unsigned>(*mo)),
                                         std::chrono::day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  // In seconds first: a year beyond 2262 does not fit system_clock (nanoseconds).
  const std::chrono::sys_seconds t = std::chrono::sys_days(date) + std::chrono::hours(*h) +
                                     std::chrono::minutes(*mi) + std::chrono::seconds(*sec) -
                                     kVietnamOffset;
  return from_unix_seconds(t.time_since_epoch().count());
}

// A JSON member as text ("100" and 100 alike); "" when absent.
std::string member_text(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(json::string_view(name.data(), name.size()));
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

}  // namespace

EsmsSettings EsmsSettings::read(const GatewaySettings& s) {
  EsmsSettings e;
  e.url = s.get("url", e.url);
  e.api_key = s.secret("api_key");
  e.secret_key = s.secret("secret_key");
  e.brandname = s.require("brandname");
  e.sms_type = s.get("sms_type", "2");
  const std::string unicode = s.choice("is_unicode", "auto", {"auto", "0", "1"});
  e.unicode = unicode == "auto" ? Unicode::kAuto
              : unicode == "1"  ? Unicode::kAlways
                                : Unicode::kNever;
  const std::string format = s.choice("phone_format", "84", {"84", "local", "e164"});
  e.phone_format = *parse_phone_format(format);
  e.campaign_id = s.get("campaign_id");
  e.sandbox = s.boolean("sandbox", false);
  e.timeout = std::chrono::milliseconds(s.integer("timeout_ms", 10000, 1, 600000));
  e.callback_url = s.get("callback_url");
  if (!e.callback_url.empty()) {
    e.callback_token = s.secret("callback_token");
    if (!is_unreserved(e.callback_token)) {
      throw GatewayConfigError("callback_token",
                               "may hold only letters, digits and - . _ ~ (it travels in a URL)");
    }
  }
  e.mo_private_key = s.optional_secret("mo_private_key").value_or("");
  e.mo_cpid = s.get("mo_cpid");
  e.mo_reply = s.get("mo_reply");
  return e;
}

EsmsGateway::EsmsGateway(EsmsSettings settings, const GatewayContext& context)
    : settings_(std::make_shared<const EsmsSettings>(std::move(settings))),
      fanout_(context.executor, context.http) {}

std::shared_ptr<Gateway> EsmsGateway::create(const GatewaySettings& settings,
                                             const GatewayContext& context) {
  return std::make_shared<EsmsGateway>(EsmsSettings::read(settings), context);
}

WebhookHooks EsmsGateway::webhooks(const GatewaySettings& settings) {
  auto s = std::make_shared<const EsmsSettings>(EsmsSettings::read(settings));
  WebhookHooks hooks;
  if (!s->callback_token.empty()) {
    hooks.receipt = [s](const WebhookRequest& r) { return parse_receipt(*s, r); };
  }
  if (!s->mo_private_key.empty()) {
    hooks.reply = [s](const WebhookRequest& r) { return parse_reply(*s, r); };
  }
  return hooks;
}

void EsmsGateway::async_send(std::vector<OutboundMessage> batch, SendDone done) {
  fanout_.send(
      std::move(batch), [s = settings_](const OutboundMessage& m) { return build_request(*s, m); },
      [](const OutboundMessage&, const HttpResponse& r) { return classify(r); }, std::move(done));
}

RequestFanout::Prepared EsmsGateway::build_request(const EsmsSettings& s,
                                                   const OutboundMessage& m) {
  const auto phone = format_phone(m.phone, s.phone_format);
  if (!phone) return SendResult{SendClass::kPermanent, "", "not a Vietnamese E.164 number"};
  if (m.id.empty() || m.id.size() > kMaxRequestId) {
    return SendResult{SendClass::kPermanent, "", "message id unfit for RequestId (1-50 chars)"};
  }
  bool unicode = s.unicode == EsmsSettings::Unicode::kAlways;
  if (s.unicode == EsmsSettings::Unicode::kAuto) {
    for (const char c : m.body) unicode = unicode || static_cast<unsigned char>(c) >= 0x80;
  }
  json::object body;
  body["ApiKey"] = s.api_key;
  body["Content"] = m.body;
  body["Phone"] = *phone;
  body["SecretKey"] = s.secret_key;
  body["Brandname"] = s.brandname;
  body["SmsType"] = s.sms_type;
  body["IsUnicode"] = unicode ? "1" : "0";
  if (!s.campaign_id.empty()) body["campaignid"] = s.campaign_id;
  body["RequestId"] = m.id;
  if (!s.callback_url.empty()) {
    body["CallbackUrl"] = s.callback_url +
                          (s.callback_url.find('?') == std::string::npos ? "?" : "&") +
                          "token=" + s.callback_token + "&id=" + percent_encode(m.id);
  }
  if (s.sandbox) body["Sandbox"] = "1";

  HttpRequest request;
  request.method = "POST";
  request.url = s.url;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = json::serialize(body);
  request.timeout = s.timeout;
  return request;
}

SendResult EsmsGateway::classify(const HttpResponse& response) {
  boost::system::error_code ec;
  const json::value doc = json::parse(response.body, ec);
  const json::object* o = !ec ? doc.if_object() : nullptr;
  const std::string code = o != nullptr ? member_text(*o, "CodeResult") : std::string();
  if (code.empty()) {
    if (response.status < 200 || response.status >= 300) {
      return {class_of_status(response.status), "", "esms http " + std::to_string(response.status)};
    }
    // The send page shows {"error": "Invalid request"} for a request eSMS cannot read.
    if (o != nullptr && o->contains("error"))
      return {SendClass::kPermanent, "", "esms: invalid request"};
    // eSMS deduplicates by RequestId, so asking again is safe.
    return {SendClass::kRetryable, "", "esms: answer without CodeResult"};
  }
  for (const CodeRule& rule : kCodes) {
    if (rule.code != code) continue;
    if (rule.outcome == SendClass::kAccepted) return {rule.outcome, member_text(*o, "SMSID"), ""};
    return {rule.outcome, "", "esms " + std::string(rule.code) + ": " + std::string(rule.meaning)};
  }
  return {SendClass::kPermanent, "", "esms " + loggable(code, 20) + ": unknown code"};
}

WebhookResult<DeliveryReceipt> EsmsGateway::parse_receipt(const EsmsSettings& s,
                                                          const WebhookRequest& request) {
  using Result = WebhookResult<DeliveryReceipt>;
  // eSMS may append "?SMSID=…" to a CallbackUrl that already has our query.
  const FormParams p = FormParams::from_target(request.target, true);
  if (auto why = token_mismatch(p.get("token"), s.callback_token, "callback_token"); !why.empty()) {
    return Result::without_event(WebhookVerdict::kForbidden, std::move(why));
  }
  if (!p.well_formed()) return Result::without_event(WebhookVerdict::kMalformed, "bad escape");
  const auto status = to_int(p.get("SendStatus").value_or(""));
  if (!status) return Result::without_event(WebhookVerdict::kMalformed, "no SendStatus");
  DeliveryReceipt r;
  r.message_id = p.get("id").value_or("");
  if (r.message_id.empty()) r.message_id = p.get("RequestId").value_or("");
  r.provider_id = p.get("SMSID").value_or("");
  if (r.message_id.empty() && r.provider_id.empty()) {
    return Result::without_event(WebhookVerdict::kMalformed, "neither id, RequestId nor SMSID");
  }
  if (std::find(std::begin(kIntermediate), std::end(kIntermediate), *status) !=
      std::end(kIntermediate)) {
    return Result::without_event(WebhookVerdict::kIgnored,
                                 "intermediate SendStatus " + std::to_string(*status));
  }
  if (*status == kRejected) {
    r.reason = "esms SendStatus 4: rejected";
  } else if (*status == kDone) {
    r.delivered = to_int(p.get("SendSuccess").value_or("")).value_or(0) > 0;
    if (!r.delivered) r.reason = "esms SendStatus 5: not delivered";
  } else {
    return Result::without_event(WebhookVerdict::kIgnored,
                                 "unknown SendStatus " + std::to_string(*status));
  }
  r.at = std::chrono::system_clock::now();
  return Result::of(std::move(r));
}

WebhookResult<Reply> EsmsGateway::parse_reply(const EsmsSettings& s,
                                              const WebhookRequest& request) {
  using Result = WebhookResult<Reply>;
  const FormParams p = FormParams::from_target(request.target);
  if (s.mo_private_key.empty()) {
    return Result::without_event(WebhookVerdict::kForbidden, "no mo_private_key configured");
  }
  if (!p.well_formed()) return Result::without_event(WebhookVerdict::kMalformed, "bad escape");
  for (const char* field : {"sender", "content", "sign", "cpid", "smsid", "receiverTime"}) {
    if (!p.has(field)) {
      return Result::without_event(WebhookVerdict::kMalformed, std::string("no ") + field);
    }
  }
  const std::string cpid = *p.get("cpid");
  const std::string smsid = *p.get("smsid");
  const std::string content = *p.get("content");
  const std::string time = *p.get("receiverTime");
  if (!s.mo_cpid.empty() && cpid != s.mo_cpid) {
    return Result::without_event(WebhookVerdict::kForbidden, "cpid is not ours");
  }
  // A base64 '+' that the sender did not percent-encode must not turn into a space.
  const std::string sign = *p.get_literal_plus("sign");
  if (!secret_equals(sign, mo_signature(cpid, smsid, content, time, s.mo_private_key))) {
    return Result::without_event(WebhookVerdict::kForbidden, "bad signature");
  }
  const std::string sender = *p.get("sender");
  // Authentic but unattributable: a reply with no sender cannot reach any household.
  if (sender.empty()) return Result::without_event(WebhookVerdict::kMalformed, "empty sender");
  Reply reply;
  reply.from_phone = sender_to_e164(sender);
  reply.text = *to_utf8(content, "UTF-8");  // a bad byte becomes U+FFFD, the rest survives
  reply.provider_id = smsid;
  reply.at = vietnam_time(time).value_or(std::chrono::system_clock::now());
  Result result = Result::of(std::move(reply));
  result.response_type = "text/xml; charset=utf-8";
  result.response_body = "<ClientResponse><Message>" + xml_escape(s.mo_reply) +
                         "</Message><Smsid>" + xml_escape(smsid) + "</Smsid><Receiver>" +
                         xml_escape(sender) + "</Receiver></ClientResponse>";
  return result;
}

std::string EsmsGateway::mo_signature(std::string_view cpid, std::string_view smsid,
                                      std::string_view content, std::string_view receiver_time,
                                      std::string_view private_key) {
  // OpenSSL's MD5, not Boost's uuid detail one: that reads the input as misaligned 32-bit
  // words, undefined behaviour that UBSan reports on a fuzzed reply. "" (never equal to a
  // received signature) if OpenSSL fails.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1) return {};
  for (const std::string_view part : {cpid, smsid, content, receiver_time, private_key}) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return {};
  }
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), bytes, &length) != 1 || length != 16) return {};
  return base64(bytes, length);
}

}  // namespace loa::adapters
