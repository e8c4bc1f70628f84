// Fuzz target: Zalo OA webhooks (adapters/zalo_webhook.hpp): the X-ZEvent-Signature check and
// the event body (replies and delivery receipts, flat or nested).
//
// Input: one option byte (bit 0: the oa_id signature formula), then the signature header, a
// '\n', the timestamp header, a '\n', and the raw body.
//
// Invariants, beyond "no crash, no leak, no UB":
//  - verify() refuses with a reason (nobody can forge the SHA-256 MAC by chance; the fuzzer
//    does not know the key), and never names the key;
//  - parse(): an event is a reply, a receipt, ignored, or an error naming the JSON path, never
//    two of these; a reply has a sender and UTF-8 text; a receipt has one of its ids.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/zalo_webhook.hpp"
#include "tests/fuzz/webhook_support.hpp"

using namespace loa::adapters;
using namespace loa::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  ZaloWebhookRequest request;
  request.signature = input.until('\n');
  request.timestamp = input.until('\n');
  request.body = input.rest();

  ZaloWebhookSettings settings;
  settings.oa_secret_key = std::string(kPrivateKey);
  settings.app_id = "4321012345678901234";
  settings.oa_id = "579745863508352884";
  settings.formula = (opt & 1) ? ZaloSignatureFormula::kOaId : ZaloSignatureFormula::kAppId;
  static const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764164400000));
  const ZaloWebhook webhook(settings);
  const ZaloWebhookVerdict verdict = webhook.verify(request, now);
  FUZZ_CHECK(!verdict.ok, "a forged Zalo signature was accepted");
  FUZZ_CHECK(!verdict.reason.empty() && verdict.reason.find(kPrivateKey) == std::string::npos,
             "a refusal without a reason, or naming the key: " + verdict.reason);

  const ZaloWebhookEvent event = ZaloWebhook::parse(request.body);
  const int kinds = (event.reply ? 1 : 0) + (event.receipt ? 1 : 0) + (event.error.empty() ? 0 : 1);
  FUZZ_CHECK(kinds <= 1, "a Zalo event that is two things at once: " + event.error);
  if (event.reply) {
    FUZZ_CHECK(!event.reply->from_zalo_user.empty(), "a Zalo reply without a sender");
    FUZZ_CHECK(is_utf8(event.reply->text), "a Zalo reply that is not UTF-8");
  }
  if (event.receipt) check_event(*event.receipt);
  check_loggable(request.body);
  return 0;
}
