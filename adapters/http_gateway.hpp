// The generic SMS-over-HTTP gateway ("http"): for an aggregator that has no adapter of its own,
// described entirely by settings: a request template, how success and the message id are read
// from the answer, how the gateway's error codes map to send classes, and how its delivery
// reports read.
//
// Settings: kHttpOptions below (`loa config reference` lists them); only `url` is required.
// Unmapped failures: a transport failure, a 5xx or 408 is retryable, 429 throttled, 401 and 403
// auth, any other status (and a success status whose success_json does not match) permanent.
//
// Placeholders: {{id}} (our message id), {{phone}} (E.164, "+8491…"), {{phone_84}} ("8491…"),
// {{phone_local}} ("091…"), {{text}}, {{unicode}} ("1" when the text does not fit GSM-7, else
// "0"), and {{secret:NAME}}, the secret NAME read once at start-up from NAME_env or NAME_file
// (e.g. header.Authorization = "Bearer {{secret:token}}", with token_env = "SMS_TOKEN"). A
// message whose phone a template cannot spell (phone_84 of a non-Vietnamese number) is answered
// permanent without a request.
//
// Delivery reports (parse_receipt) read the dlr_* options' fields from the query string, a form
// body, or (for names that start with '/') a JSON body.
//
// Thread-safety: as adapters/gateway.hpp; the static functions are pure.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/gateway.hpp"
#include "adapters/gateway_option.hpp"
#include "adapters/http_client.hpp"
#include "adapters/registry.hpp"
#include "adapters/request_fanout.hpp"
#include "adapters/webhook.hpp"

namespace loa::adapters {

inline constexpr GatewayOption kHttpOptions[] = {
    {"url", "", "required: template of the request URL; placeholders are percent-encoded"},
    {"method", "POST", "the HTTP method"},
    {"header.", "",
     "header.<Name>: template of a header value, sent verbatim (headers go in name order)"},
    {"body", "", "template of the body; none: no body"},
    {"body_encoding", "json",
     "json | form: placeholders in the body are escaped as the inside of a JSON string, or "
     "percent-encoded as a form value"},
    {"content_type", "",
     "default application/json or application/x-www-form-urlencoded, per body_encoding (a "
     "header.Content-Type wins)"},
    {"timeout_ms", "10000", "time allowed for the whole request"},
    {"connections", "8",
     "requests to the gateway at once, each on a kept-alive connection of its own (1..64)"},
    {"success_status", "200-299", "one status or a range that means \"accepted\"..."},
    {"success_json", "",
     "...and, when set, the JSON pointer (RFC 6901) whose value in the answer must equal "
     "success_value"},
    {"success_value", "", "see success_json (numbers compare by their JSON text)"},
    {"message_id_json", "", "JSON pointer of the gateway's message id in the answer"},
    {"error_json", "", "JSON pointer of the gateway's error code in the answer"},
    {"error.", "",
     "error.<code>: accepted | retryable | permanent | unreachable | throttled | auth, the class "
     "of that error code; it wins over the HTTP status"},
    {"dlr_status_field", "", "the receipt field holding the status; without it, no receipts"},
    {"dlr_status.", "",
     "dlr_status.<value>: delivered | failed | pending; an unmapped value is ignored"},
    {"dlr_id_field", "id",
     "the receipt field holding our message id (put …?id={{id}} in the "
     "callback URL you send)"},
    {"dlr_provider_id_field", "", "the receipt field holding the gateway's message id"},
    {"dlr_reason_field", "", "the receipt field holding a failure's detail"},
    {"dlr_token", "", "the token a receipt must carry; without it receipts are refused", true},
    {"dlr_token_field", "token", "the receipt field holding dlr_token"},
};

// A URL, header or body with placeholders, parsed once. Secrets are already in the literals.
struct TextTemplate {
  enum class Slot { kLiteral, kId, kPhone, kPhone84, kPhoneLocal, kText, kUnicode };
  struct Part {
    Slot slot = Slot::kLiteral;
    std::string literal;
  };
  std::vector<Part> parts;
};

struct HttpGatewaySettings {
  enum class BodyEncoding { kJson, kForm };

  std::string method = "POST";
  TextTemplate url;
  std::vector<std::pair<std::string, TextTemplate>> headers;
  bool has_body = false;
  TextTemplate body;
  BodyEncoding body_encoding = BodyEncoding::kJson;
  std::chrono::milliseconds timeout{10000};
  std::size_t connections = 8;
  long success_min = 200;
  long success_max = 299;
  std::string success_json;
  std::string success_value;
  std::string message_id_json;
  std::string error_json;
  std::map<std::string, SendClass, std::less<>> error_classes;

  enum class DlrStatus { kDelivered, kFailed, kPending };
  std::string dlr_status_field;
  std::map<std::string, DlrStatus, std::less<>> dlr_statuses;
  std::string dlr_id_field = "id";
  std::string dlr_provider_id_field;
  std::string dlr_reason_field;
  std::string dlr_token;  // empty: receipts are refused
  std::string dlr_token_field = "token";

  // Reads and checks every key above; throws GatewayConfigError naming the key.
  static HttpGatewaySettings read(const GatewaySettings& settings);
};

class HttpGateway final : public Gateway {
 public:
  HttpGateway(HttpGatewaySettings settings, const GatewayContext& context);

  // The registry's entries.
  static std::shared_ptr<Gateway> create(const GatewaySettings& settings,
                                         const GatewayContext& context);
  static WebhookHooks webhooks(const GatewaySettings& settings);

  std::string_view type() const override { return "http"; }
  void async_send(std::vector<OutboundMessage> batch, SendDone done) override;
  void close() override { fanout_.close(); }

  // The request for one message, or its result when it cannot be sent.
  static RequestFanout::Prepared build_request(const HttpGatewaySettings& s,
                                               const OutboundMessage& m);
  // The class of a gateway's answer (a response that arrived).
  static SendResult classify(const HttpGatewaySettings& s, const HttpResponse& response);
  static WebhookResult<DeliveryReceipt> parse_receipt(const HttpGatewaySettings& s,
                                                      const WebhookRequest& request);

 private:
  std::shared_ptr<const HttpGatewaySettings> settings_;
  RequestFanout fanout_;
};

}  // namespace loa::adapters
