#include "adapters/http_gateway.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "adapters/form_encoding.hpp"
#include "adapters/phone_format.hpp"
#include "adapters/sms_charset.hpp"

namespace loa::adapters {

namespace {

namespace json = boost::json;
using Slot = TextTemplate::Slot;

// Where a template's placeholders land, which decides how they are escaped.
enum class Context { kUrl, kHeader, kJsonBody, kFormBody };

std::string escape(std::string_view value, Context where) {
  switch (where) {
    case Context::kUrl:
    case Context::kFormBody:
      return percent_encode(value);
    case Context::kJsonBody: {
      const std::string quoted = json::serialize(json::string_view(value.data(), value.size()));
      return quoted.substr(1, quoted.size() - 2);
    }
    case Context::kHeader:
      return std::string(value);
  }
  return std::string(value);
}

std::optional<Slot> slot_named(std::string_view name) {
  if (name == "id") return Slot::kId;
  if (name == "phone") return Slot::kPhone;
  if (name == "phone_84") return Slot::kPhone84;
  if (name == "phone_local") return Slot::kPhoneLocal;
  if (name == "text") return Slot::kText;
  if (name == "unicode") return Slot::kUnicode;
  return std::nullopt;
}

void add_literal(TextTemplate& t, std::string text) {
  if (text.empty()) return;
  if (!t.parts.empty() && t.parts.back().slot == Slot::kLiteral) {
    t.parts.back().literal += text;
  } else {
    t.parts.push_back({Slot::kLiteral, std::move(text)});
  }
}

TextTemplate compile(const GatewaySettings& s, const std::string& key, std::string_view text,
                     Context where) {
  TextTemplate t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw GatewayConfigError(key, "'{{' without '}}' at offset " + std::to_string(open));
    }
    add_literal(t, std::string(text.substr(pos, open - pos)));
    const std::string_view name = text.substr(open + 2, close - open - 2);
    if (name.starts_with("secret:")) {
      const std::string secret = s.secret(name.substr(7));
      if (where == Context::kHeader && secret.find_first_of("\r\n") != std::string::npos) {
        throw GatewayConfigError(std::string(name.substr(7)), "a secret in a header has a newline");
      }
      add_literal(t, escape(secret, where));
    } else if (const auto slot = slot_named(name)) {
      t.parts.push_back({*slot, {}});
    } else {
      throw GatewayConfigError(key, "unknown placeholder {{" + std::string(name) + "}}");
    }
    pos = close + 2;
  }
  add_literal(t, std::string(text.substr(pos)));
  return t;
}

// A message's values for the placeholders, escaped for one context.
struct Values {
  const OutboundMessage& message;
  std::optional<std::string> phone_84 = format_phone(message.phone, PhoneFormat::kInternational);
  std::optional<std::string> phone_local = format_phone(message.phone, PhoneFormat::kNational);
  std::optional<std::string> phone = format_phone(message.phone, PhoneFormat::kE164);

  // nullopt: a phone spelling the message does not have.
  std::optional<std::string> render(const TextTemplate& t, Context where) const {
    std::string out;
    for (const auto& part : t.parts) {
      const std::optional<std::string>* phone_value = nullptr;
      switch (part.slot) {
        case Slot::kLiteral:
          out += part.literal;
          continue;
        case Slot::kId:
          out += escape(message.id, where);
          continue;
        case Slot::kText:
          out += escape(message.body, where);
          continue;
        case Slot::kUnicode:
          out += fits_gsm7(message.body) ? "0" : "1";
          continue;
        case Slot::kPhone:
          phone_value = &phone;
          break;
        case Slot::kPhone84:
          phone_value = &phone_84;
          break;
        case Slot::kPhoneLocal:
          phone_value = &phone_local;
          break;
      }
      if (!*phone_value) return std::nullopt;
      out += escape(**phone_value, where);
    }
    return out;
  }
};

std::optional<SendClass> class_named(std::string_view name) {
  if (name == "accepted") return SendClass::kAccepted;
  if (name == "retryable") return SendClass::kRetryable;
  if (name == "permanent") return SendClass::kPermanent;
  if (name == "unreachable") return SendClass::kUnreachable;
  if (name == "throttled") return SendClass::kThrottled;
  if (name == "auth") return SendClass::kAuth;
  return std::nullopt;
}

// "200-299" or "202".
std::pair<long, long> status_range(const GatewaySettings& s) {
  const std::string text = s.get("success_status", "200-299");
  const auto dash = text.find('-');
  auto number = [&](std::string_view part) {
    long n = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (ec != std::errc() || end != part.data() + part.size() || n < 100 || n > 599) {
      throw GatewayConfigError("success_status",
                               "expected a status or a range like 200-299, got '" + text + "'");
    }
    return n;
  };
  const std::string_view v(text);
  const long lo = number(v.substr(0, dash));
  const long hi = dash == std::string::npos ? lo : number(v.substr(dash + 1));
  if (hi < lo) throw GatewayConfigError("success_status", "the range is empty: '" + text + "'");
  return {lo, hi};
}

void check_pointer(const std::string& key, const std::string& pointer) {
  if (!pointer.empty() && pointer.front() != '/') {
    throw GatewayConfigError(key, "a JSON pointer starts with '/', got '" + pointer + "'");
  }
}

// The value at a JSON pointer as text: a string as is, a number or boolean as its JSON.
std::optional<std::string> text_at(const json::value& doc, std::string_view pointer) {
  if (pointer.empty() || doc.is_null()) return std::nullopt;
  boost::system::error_code ec;
  const json::value* v = doc.find_pointer(json::string_view(pointer.data(), pointer.size()), ec);
  if (v == nullptr || ec || v->is_null() || v->is_object() || v->is_array()) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

bool same_header(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

json::value parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  return ec ? json::value() : v;
}

}  // namespace

HttpGatewaySettings HttpGatewaySettings::read(const GatewaySettings& s) {
  HttpGatewaySettings h;
  h.method = s.get("method", "POST");
  if (h.method.empty() ||
      !std::all_of(h.method.begin(), h.method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    throw GatewayConfigError("method", "expected an HTTP method like POST, got '" + h.method + "'");
  }
  const std::string encoding = s.choice("body_encoding", "json", {"json", "form"});
  h.body_encoding = encoding == "json" ? BodyEncoding::kJson : BodyEncoding::kForm;
  h.url = compile(s, "url", s.require("url"), Context::kUrl);
  bool has_content_type = false;
  for (const auto& [name, value] : s.with_prefix("header.")) {
    if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos) {
      throw GatewayConfigError("header." + name, "not a header name");
    }
    has_content_type = has_content_type || same_header(name, "Content-Type");
    h.headers.emplace_back(name, compile(s, "header." + name, value, Context::kHeader));
  }
  if (s.has("body")) {
    h.has_body = true;
    h.body =
        compile(s, "body", s.get("body"),
                h.body_encoding == BodyEncoding::kJson ? Context::kJsonBody : Context::kFormBody);
    const std::string type = s.get("content_type", h.body_encoding == BodyEncoding::kJson
                                                       ? "application/json"
                                                       : "application/x-www-form-urlencoded");
    if (!has_content_type) {
      TextTemplate literal;
      add_literal(literal, type);
      h.headers.emplace_back("Content-Type", std::move(literal));
    }
  }
  h.timeout = std::chrono::milliseconds(s.integer("timeout_ms", 10000, 1, 600000));
  h.connections = static_cast<std::size_t>(s.integer("connections", 8, 1, 64));
  std::tie(h.success_min, h.success_max) = status_range(s);
  h.success_json = s.get("success_json");
  h.success_value = s.get("success_value");
  check_pointer("success_json", h.success_json);
  if (!h.success_json.empty() && !s.has("success_value")) {
    throw GatewayConfigError("success_value", "is required with success_json");
  }
  h.message_id_json = s.get("message_id_json");
  check_pointer("message_id_json", h.message_id_json);
  h.error_json = s.get("error_json");
  check_pointer("error_json", h.error_json);
  for (const auto& [code, name] : s.with_prefix("error.")) {
    const auto c = class_named(name);
    if (!c) {
      throw GatewayConfigError("error." + code,
                               "expected accepted, retryable, permanent, unreachable, throttled "
                               "or auth, got '" +
                                   name + "'");
    }
    h.error_classes.emplace(code, *c);
  }

  h.dlr_status_field = s.get("dlr_status_field");
  for (const auto& [value, name] : s.with_prefix("dlr_status.")) {
    DlrStatus d;
    if (name == "delivered") {
      d = DlrStatus::kDelivered;
    } else if (name == "failed") {
      d = DlrStatus::kFailed;
    } else if (name == "pending") {
      d = DlrStatus::kPending;
    } else {
      throw GatewayConfigError("dlr_status." + value,
                               "expected delivered, failed or pending, got '" + name + "'");
    }
    h.dlr_statuses.emplace(value, d);
  }
  h.dlr_id_field = s.get("dlr_id_field", "id");
  h.dlr_provider_id_field = s.get("dlr_provider_id_field");
  h.dlr_reason_field = s.get("dlr_reason_field");
  h.dlr_token_field = s.get("dlr_token_field", "token");
  h.dlr_token = s.optional_secret("dlr_token").value_or("");
  return h;
}

HttpGateway::HttpGateway(HttpGatewaySettings settings, const GatewayContext& context)
    : settings_(std::make_shared<const HttpGatewaySettings>(std::move(settings))),
      fanout_(context.executor, context.http) {}

std::shared_ptr<Gateway> HttpGateway::create(const GatewaySettings& settings,
                                             const GatewayContext& context) {
  return std::make_shared<HttpGateway>(HttpGatewaySettings::read(settings), context);
}

WebhookHooks HttpGateway::webhooks(const GatewaySettings& settings) {
  auto s = std::make_shared<const HttpGatewaySettings>(HttpGatewaySettings::read(settings));
  WebhookHooks hooks;
  if (!s->dlr_status_field.empty()) {
    hooks.receipt = [s](const WebhookRequest& r) { return parse_receipt(*s, r); };
  }
  return hooks;
}

void HttpGateway::async_send(std::vector<OutboundMessage> batch, SendDone done) {
  fanout_.send(
      std::move(batch), [s = settings_](const OutboundMessage& m) { return build_request(*s, m); },
      [s = settings_](const OutboundMessage&, const HttpResponse& r) { return classify(*s, r); },
      std::move(done));
}

RequestFanout::Prepared HttpGateway::build_request(const HttpGatewaySettings& s,
                                                   const OutboundMessage& m) {
  const Values values{m};
  const SendResult no_phone{SendClass::kPermanent, "",
                            "phone cannot be spelled as the gateway wants"};
  HttpRequest request;
  request.method = s.method;
  request.timeout = s.timeout;
  request.max_connections = s.connections;
  auto url = values.render(s.url, Context::kUrl);
  if (!url) return no_phone;
  request.url = std::move(*url);
  for (const auto& [name, value] : s.headers) {
    auto v = values.render(value, Context::kHeader);
    if (!v) return no_phone;
    if (v->find_first_of("\r\n") != std::string::npos) {
      return SendResult{SendClass::kPermanent, "", "header " + name + " would hold a newline"};
    }
    request.headers.emplace_back(name, std::move(*v));
  }
  if (s.has_body) {
    auto body = values.render(s.body, s.body_encoding == HttpGatewaySettings::BodyEncoding::kJson
                                          ? Context::kJsonBody
                                          : Context::kFormBody);
    if (!body) return no_phone;
    request.body = std::move(*body);
  }
  return request;
}

SendResult HttpGateway::classify(const HttpGatewaySettings& s, const HttpResponse& response) {
  const bool json_rules =
      !s.success_json.empty() || !s.message_id_json.empty() || !s.error_json.empty();
  const json::value doc = json_rules ? parse_json(response.body) : json::value();
  const bool status_ok = response.status >= s.success_min && response.status <= s.success_max;
  const bool value_ok = s.success_json.empty() || text_at(doc, s.success_json) == s.success_value;
  if (status_ok && value_ok) {
    return {SendClass::kAccepted, text_at(doc, s.message_id_json).value_or(""), ""};
  }
  const auto code = text_at(doc, s.error_json);
  std::string reason = "http " + std::to_string(response.status);
  if (code) reason += " code " + loggable(*code, 40);
  if (code) {
    if (const auto it = s.error_classes.find(*code); it != s.error_classes.end()) {
      return {it->second, "", reason};
    }
  }
  SendClass c = class_of_status(response.status);
  // A success status that the rules did not accept: the gateway said no.
  if (status_ok || c == SendClass::kAccepted) c = SendClass::kPermanent;
  return {c, "", reason};
}

WebhookResult<DeliveryReceipt> HttpGateway::parse_receipt(const HttpGatewaySettings& s,
                                                          const WebhookRequest& request) {
  using Result = WebhookResult<DeliveryReceipt>;
  const FormParams query = FormParams::from_target(request.target);
  const bool json_body = request.content_type.find("json") != std::string::npos;
  const FormParams form =
      !json_body && request.content_type.find("x-www-form-urlencoded") != std::string::npos
          ? FormParams::from_body(request.body)
          : FormParams();
  const json::value doc = json_body ? parse_json(request.body) : json::value();
  if (!query.well_formed() || !form.well_formed() || (json_body && doc.is_null())) {
    return Result::without_event(WebhookVerdict::kMalformed, "unreadable callback");
  }
  auto field = [&](const std::string& name) -> std::optional<std::string> {
    if (name.empty()) return std::nullopt;
    if (name.front() == '/') return text_at(doc, name);
    if (auto v = query.get(name)) return v;
    return form.get(name);
  };

  if (auto why = token_mismatch(field(s.dlr_token_field), s.dlr_token, "dlr_token"); !why.empty()) {
    return Result::without_event(WebhookVerdict::kForbidden, std::move(why));
  }
  const auto status = field(s.dlr_status_field);
  if (!status) {
    return Result::without_event(WebhookVerdict::kMalformed,
                                 "no status field '" + s.dlr_status_field + "'");
  }
  const auto mapped = s.dlr_statuses.find(*status);
  if (mapped == s.dlr_statuses.end()) {
    return Result::without_event(WebhookVerdict::kIgnored,
                                 "unmapped status '" + loggable(*status, 40) + "'");
  }
  if (mapped->second == HttpGatewaySettings::DlrStatus::kPending) {
    return Result::without_event(WebhookVerdict::kIgnored,
                                 "intermediate status '" + loggable(*status, 40) + "'");
  }
  DeliveryReceipt r;
  r.message_id = field(s.dlr_id_field).value_or("");
  r.provider_id = field(s.dlr_provider_id_field).value_or("");
  if (r.message_id.empty() && r.provider_id.empty()) {
    return Result::without_event(WebhookVerdict::kMalformed, "neither our id nor the gateway's");
  }
  r.delivered = mapped->second == HttpGatewaySettings::DlrStatus::kDelivered;
  if (!r.delivered) {
    const auto detail = field(s.dlr_reason_field);
    r.reason = "status " + loggable(*status, 40) + (detail ? ": " + loggable(*detail) : "");
  }
  r.at = std::chrono::system_clock::now();
  return Result::of(std::move(r));
}

}  // namespace loa::adapters
