// Fuzz target: the generic HTTP gateway's delivery reports (adapters/http_gateway.hpp), read
// from the query string, a form body or a JSON body as its settings say.
//
// Input: one option byte (bit 0: the fields are JSON pointers into the body rather than query
// or form names; bits 1-2: the Content-Type: none, form, JSON, JSON with a charset; bit 3:
// authentic: the right token is put first in the query), then the query string, a '\n', and
// the body.
//
// Invariants: see tests/fuzz/webhook_support.hpp; in addition, a report without the token is
// never an event.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "adapters/form_encoding.hpp"
#include "adapters/http_gateway.hpp"
#include "tests/fuzz/webhook_support.hpp"

using namespace loa::adapters;
using namespace loa::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  const std::string_view query = input.until('\n');
  const std::string_view body = input.rest();
  const bool json_fields = opt & 1, authentic = opt & 8;

  HttpGatewaySettings s;
  s.dlr_token = std::string(kToken);
  s.dlr_token_field = "token";
  s.dlr_status_field = json_fields ? "/status" : "status";
  s.dlr_id_field = json_fields ? "/ref/id" : "id";
  s.dlr_provider_id_field = json_fields ? "/msgid" : "msgid";
  s.dlr_reason_field = json_fields ? "/error/0/detail" : "err";
  s.dlr_statuses = {{"DELIVRD", HttpGatewaySettings::DlrStatus::kDelivered},
                    {"2", HttpGatewaySettings::DlrStatus::kDelivered},
                    {"UNDELIV", HttpGatewaySettings::DlrStatus::kFailed},
                    {"false", HttpGatewaySettings::DlrStatus::kFailed},
                    {"ENROUTE", HttpGatewaySettings::DlrStatus::kPending}};

  static constexpr const char* kTypes[] = {"", "application/x-www-form-urlencoded",
                                           "application/json", "application/json; charset=utf-8"};
  WebhookRequest request;
  request.method = "POST";
  request.content_type = kTypes[(opt >> 1) & 3];
  request.target = "/webhooks/sms/receipt?";
  if (authentic) request.target += "token=" + std::string(kToken) + "&";
  request.target += query;
  request.body = std::string(body);
  check_loggable(body);

  // What the caller sent besides the authentic token: the raw query and body, and the status
  // value decoded (query, form or JSON), which the log reason quotes ("unmapped status '...'").
  std::string supplied = std::string(query) + '\n' + std::string(body);
  for (const FormParams& params : {FormParams::from_target("?" + std::string(query)),
                                   FormParams::from_body(body)}) {
    if (auto status = params.get(s.dlr_status_field)) supplied += '\n' + *status;
  }
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(body, ec);
  const boost::json::value* status = ec ? nullptr : doc.find_pointer(s.dlr_status_field, ec);
  if (status != nullptr && !ec) {
    supplied += '\n' + (status->is_string() ? std::string(status->as_string())
                                             : boost::json::serialize(*status));
  }
  const auto r = HttpGateway::parse_receipt(s, request);
  check_result(r, supplied);
  FUZZ_CHECK(!r.event || authentic || query.find(kToken) != std::string::npos ||
                 body.find(kToken) != std::string::npos,
             "a report without the token was accepted");
  return 0;
}
