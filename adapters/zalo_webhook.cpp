#include "adapters/zalo_webhook.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <initializer_list>
#include <memory>
#include <stdexcept>

#include "adapters/webhook.hpp"
#include "adapters/zalo_json.hpp"

namespace loa::adapters {

namespace {

namespace json = boost::json;
using Clock = std::chrono::system_clock;

constexpr std::size_t kMacHexDigits = 64;  // SHA-256
// Below this a timestamp is taken as seconds: 10^11 ms is 1973, 10^11 s is the year 5138.
constexpr long long kSecondsBelow = 100'000'000'000LL;

std::atomic<std::uint64_t> g_constant_time_compares{0};

// Lowercase hex SHA-256 of the parts, in order; "" if OpenSSL fails.
std::string sha256_hex(std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return {};
  for (std::string_view p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return {};
  }
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

// The 64 hex digits of "mac=<hex>" (or of a bare <hex>), lowercased; "" when malformed.
std::string received_mac(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t'))
    header.remove_suffix(1);
  if (header.substr(0, 4) == "mac=") header.remove_prefix(4);
  if (header.size() != kMacHexDigits) return {};
  std::string out(header);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c + 32);
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  }
  return out;
}

std::optional<Clock::time_point> epoch_time(long long value) {
  return value < kSecondsBelow ? from_unix_seconds(value) : from_unix_milliseconds(value);
}

std::optional<Clock::time_point> epoch_time(const json::value* v) {
  auto n = zalo_json::integer(v);
  return n ? epoch_time(*n) : std::nullopt;
}

ZaloWebhookVerdict refuse(std::string reason) { return {false, std::move(reason)}; }

// The member at `key`, at the top level or else under "message".
const json::value* top_or_message(const json::value& doc, std::string_view key) {
  if (const json::value* v = zalo_json::member(&doc, key)) return v;
  return zalo_json::member(zalo_json::member(&doc, "message"), key);
}

void parse_text(const json::value& doc, ZaloWebhookEvent& event, Clock::time_point at) {
  auto from = zalo_json::text(zalo_json::member(zalo_json::member(&doc, "sender"), "id"));
  if (!from || from->empty()) {
    event.error = "$.sender.id missing";
    return;
  }
  const json::value* text = zalo_json::member(zalo_json::member(&doc, "message"), "text");
  if (text == nullptr || !text->is_string()) {
    event.error = "$.message.text missing";
    return;
  }
  Reply r;
  r.from_zalo_user = *from;
  r.text = std::string(text->as_string());
  r.provider_id =
      zalo_json::text(zalo_json::member(zalo_json::member(&doc, "message"), "msg_id")).value_or("");
  r.at = at;
  event.reply = std::move(r);
}

void parse_received(const json::value& doc, ZaloWebhookEvent& event, Clock::time_point at) {
  DeliveryReceipt r;
  r.message_id = zalo_json::text(top_or_message(doc, "tracking_id")).value_or("");
  r.provider_id = zalo_json::text(top_or_message(doc, "msg_id")).value_or("");
  if (r.message_id.empty() && r.provider_id.empty()) {
    event.error = "$.msg_id and $.tracking_id missing (also under $.message)";
    return;
  }
  r.delivered = true;
  r.at = epoch_time(top_or_message(doc, "delivery_time")).value_or(at);
  event.receipt = std::move(r);
}

}  // namespace

ZaloWebhookSettings ZaloWebhookSettings::from(const SettingsReader& s) {
  ZaloWebhookSettings out;
  out.oa_secret_key = s.required("oa_secret_key");
  out.app_id = s.get("app_id", "");
  out.formula = s.choice("webhook_signature", "app_id", {"app_id", "oa_id"}) == "oa_id"
                    ? ZaloSignatureFormula::kOaId
                    : ZaloSignatureFormula::kAppId;
  if (out.formula == ZaloSignatureFormula::kOaId) out.oa_id = s.required("oa_id");
  out.max_age = s.milliseconds("webhook_max_age_ms", out.max_age);
  out.max_ahead = s.milliseconds("webhook_max_ahead_ms", out.max_ahead);
  return out;
}

ZaloWebhook::ZaloWebhook(ZaloWebhookSettings settings) : settings_(std::move(settings)) {
  if (settings_.oa_secret_key.empty()) {
    throw std::invalid_argument("zalo webhook: the OA secret key is required");
  }
  if (settings_.formula == ZaloSignatureFormula::kOaId && settings_.oa_id.empty()) {
    throw std::invalid_argument("zalo webhook: the oa_id signature needs the OA id");
  }
}

ZaloWebhookVerdict ZaloWebhook::verify(const ZaloWebhookRequest& request,
                                       Clock::time_point now) const {
  const std::string mac = received_mac(request.signature);
  if (mac.empty()) return refuse("X-ZEvent-Signature missing or not mac=<64 hex digits>");
  boost::system::error_code ec;
  const json::value doc = json::parse(request.body, ec);
  if (ec || !doc.is_object()) return refuse("body is not a JSON object");

  std::string id;
  std::string timestamp;
  if (settings_.formula == ZaloSignatureFormula::kAppId) {
    id = zalo_json::text(zalo_json::member(&doc, "app_id")).value_or("");
    if (id.empty()) return refuse("$.app_id missing");
    if (!settings_.app_id.empty() && id != settings_.app_id) return refuse("$.app_id is not ours");
    timestamp = zalo_json::text(zalo_json::member(&doc, "timestamp")).value_or("");
  } else {
    id = settings_.oa_id;
    timestamp = request.timestamp.empty()
                    ? zalo_json::text(zalo_json::member(&doc, "timestamp")).value_or("")
                    : std::string(request.timestamp);
  }
  if (timestamp.empty()) return refuse("timestamp missing");

  const std::string expected = sha256_hex({id, request.body, timestamp, settings_.oa_secret_key});
  if (expected.size() != kMacHexDigits) return refuse("sha-256 unavailable");
  ++g_constant_time_compares;
  if (CRYPTO_memcmp(expected.data(), mac.data(), kMacHexDigits) != 0) {
    return refuse("signature mismatch");
  }

  json::value ts_value(timestamp);
  const auto at = epoch_time(&ts_value);
  if (!at) return refuse("timestamp is not epoch milliseconds");
  if (*at < now - settings_.max_age) return refuse("stale timestamp");
  if (*at > now + settings_.max_ahead) return refuse("timestamp in the future");
  return {true, ""};
}

ZaloWebhookEvent ZaloWebhook::parse(std::string_view body) {
  ZaloWebhookEvent event;
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) {
    event.error = "body is not a JSON object";
    return event;
  }
  event.name = zalo_json::text(zalo_json::member(&doc, "event_name")).value_or("");
  if (event.name.empty()) {
    event.error = "$.event_name missing";
    return event;
  }
  const Clock::time_point at =
      epoch_time(zalo_json::member(&doc, "timestamp")).value_or(Clock::time_point{});
  if (event.name == "user_send_text") {
    parse_text(doc, event, at);
  } else if (event.name == "user_received_message") {
    parse_received(doc, event, at);
  }
  return event;
}

std::uint64_t ZaloWebhook::constant_time_compares() { return g_constant_time_compares.load(); }

}  // namespace loa::adapters
