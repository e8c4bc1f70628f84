// Fuzz target: Kannel's callbacks (adapters/kannel_gateway.hpp): the delivery report on our
// dlr-url and the reply (MO) on the smsbox's get-url, UTF-8 or UTF-16BE.
//
// Input: one option byte (bit 0: reply rather than receipt; bit 1: authentic: the right token
// is put first, so the fuzzer gets past authentication), then the query string as Kannel
// would send it.
//
// Invariants: see tests/fuzz/webhook_support.hpp; in addition, a callback without the token is
// never an event.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/form_encoding.hpp"
#include "adapters/kannel_gateway.hpp"
#include "tests/fuzz/webhook_support.hpp"

using namespace loa::adapters;
using namespace loa::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  const std::string_view query = input.rest();
  const bool reply = opt & 1, authentic = opt & 2;

  KannelSettings s;
  s.dlr_token = std::string(kToken);
  s.mo_token = std::string(kToken);

  WebhookRequest request;
  request.target = reply ? "/webhooks/sms/reply?" : "/webhooks/sms/receipt?";
  if (authentic) request.target += "token=" + std::string(kToken) + "&";
  request.target += query;
  check_loggable(query);
  // What the caller sent besides the authentic token, raw and as the decoded charset that the
  // log reason quotes ("unsupported charset '...'"); the answer may repeat it.
  std::string supplied(query);
  const auto charset = FormParams::from_target("?" + std::string(query)).get("charset");
  if (charset) supplied += '\n' + *charset;
  bool event = false;
  if (reply) {
    const auto r = KannelGateway::parse_reply(s, request);
    check_result(r, supplied);
    event = r.event.has_value();
  } else {
    const auto r = KannelGateway::parse_receipt(s, request);
    check_result(r);
    event = r.event.has_value();
  }
  FUZZ_CHECK(!event || authentic || query.find(kToken) != std::string::npos,
             "a callback without the token was accepted");
  return 0;
}
