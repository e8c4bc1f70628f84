// Fuzz target: eSMS's callbacks (adapters/esms_gateway.hpp): the delivery callback (GET on our
// CallbackUrl) and the MO reply to a short code (GET with an MD5 signature).
//
// Input: one option byte (bit 0: reply rather than receipt; bit 1: authentic: the right token
// is put first, or for a reply the right signature is appended when the query has the signed
// fields, so the fuzzer gets past authentication; bit 2: no CPID configured), then the query
// string as eSMS would send it.
//
// Invariants: see tests/fuzz/webhook_support.hpp; in addition, an unauthenticated receipt is
// never an event, and a reply that is an event answers eSMS with XML.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/esms_gateway.hpp"
#include "adapters/form_encoding.hpp"
#include "tests/fuzz/webhook_support.hpp"

using namespace loa::adapters;
using namespace loa::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  const std::string_view query = input.rest();
  const bool reply = opt & 1, authentic = opt & 2;

  EsmsSettings s;
  s.callback_token = std::string(kToken);
  s.mo_private_key = std::string(kPrivateKey);
  s.mo_cpid = (opt & 4) ? "" : "8079";
  s.mo_reply = "Cảm ơn bà con đã trả lời";

  WebhookRequest request;
  check_loggable(query);
  if (!reply) {
    request.target = "/webhooks/sms/receipt?";
    if (authentic) request.target += "token=" + std::string(kToken) + "&";
    request.target += query;
    const auto r = EsmsGateway::parse_receipt(s, request);
    check_result(r);
    if (!authentic) {
      FUZZ_CHECK(r.verdict != WebhookVerdict::kEvent || query.find(kToken) != std::string::npos,
                 "a receipt without the token was accepted");
    }
    return 0;
  }
  request.target = "/webhooks/sms/reply?" + std::string(query);
  if (authentic) {
    const FormParams p = FormParams::from_target(request.target);
    const auto cpid = p.get("cpid"), smsid = p.get("smsid"), content = p.get("content"),
               time = p.get("receiverTime");
    if (cpid && smsid && content && time) {
      request.target += "&sign=" + percent_encode(EsmsGateway::mo_signature(
                                       *cpid, *smsid, *content, *time, kPrivateKey));
    }
  }
  const auto r = EsmsGateway::parse_reply(s, request);
  // The XML answer quotes the caller's own smsid, so a secret the caller put there may come
  // back: the caller's query, raw and with its values decoded, counts as supplied.
  std::string supplied(query);
  {
    const FormParams p = FormParams::from_target(request.target);
    for (const char* field : {"smsid", "cpid", "sender", "content", "receiverTime"})
      if (auto v = p.get(field)) supplied += '\n' + *v;
  }
  check_result(r, supplied);
  if (r.event) {
    FUZZ_CHECK(r.response_body.rfind("<ClientResponse>", 0) == 0, "no XML answer");
  }
  return 0;
}
