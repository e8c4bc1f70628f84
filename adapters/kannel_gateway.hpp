// The Kannel gateway ("kannel"): SMS through a Kannel smsbox's sendsms interface, with delivery
// reports on a dlr-url that carries our message id, and replies (MO) through the smsbox's
// get-url. The facts behind it were checked against Kannel 1.4.5 on Debian 12
// (reference/kannel-facts.md).
//
// Sending: GET <url>?username=&password=&from=&to=&text=[&coding=2&charset=UTF-8][&smsc=]
// [&dlr-mask=&dlr-url=], every value percent-encoded. A text outside the GSM 7-bit alphabet
// (accented Vietnamese) goes with coding=2 and charset=UTF-8: without them Kannel turns the
// letters it cannot map into '?', and coding=2 alone sends the UTF-8 bytes as if they were
// UCS-2 (kannel-facts.md "MT charset"). Answers: 202 "0: Accepted for delivery" and
// "3: Queued for later delivery" are accepted (Kannel answers no message id); "Authorization
// failed" is auth; 503 "Temporal failure" and other 5xx retryable; other 4xx (denied numbers,
// "Not routable", missing sender) permanent.
//
// Delivery reports: the dlr-url we send is `dlr_url` plus
// "id=<our id>&token=<secret>&status=%d&answer=%A&msgid=%F". Kannel replaces the %-escapes
// when it calls back, so our id and the token must hold no '%' (they are checked to be URL-safe,
// and a message whose id is not is answered permanent), and the whole URL travels
// percent-encoded as the dlr-url parameter: sent raw, "&status=%d" would be read as a sendsms
// parameter (kannel-facts.md (a)). Statuses (%d): 1 delivered, 2 failed and 16 SMSC reject are
// final; 4 buffered and 8 SMSC submit are intermediate and ignored. Only 8 and 1 were ever seen
// with the fake SMSC; 2, 4 and 16 could not be produced there.
//
// Replies (MO): the smsbox's sms-service must call
//   get-url = "<base>?token=<mo_token>&from=%p&to=%P&text=%b&charset=%C&coding=%c&id=%I&ts=%T"
// %b is the exact payload (%a squeezes spaces). With mo-recode = yes the text arrives as UTF-8;
// otherwise a UCS-2 MO arrives as UTF-16BE bytes with charset=UTF-16BE, and is converted here.
//
// Settings: kKannelOptions below (`loa config reference` lists them).
//
// sendsms has no idempotency key, so every request is at most once (HttpRequest::at_most_once):
// an smsbox stopped after it handed a message to bearerbox (which delivers it) and before it
// answered is not sent the message again by libcurl, and the cut is not mistaken for a refused
// connection ("certainly not sent"): ops/faults/kannel found both.
//
// Thread-safety: as adapters/gateway.hpp; the static functions are pure.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/gateway.hpp"
#include "adapters/gateway_option.hpp"
#include "adapters/http_client.hpp"
#include "adapters/phone_format.hpp"
#include "adapters/registry.hpp"
#include "adapters/request_fanout.hpp"
#include "adapters/webhook.hpp"

namespace loa::adapters {

inline constexpr GatewayOption kKannelOptions[] = {
    {"url", "", "required: the sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms"},
    {"username", "", "required: the sendsms-user's username"},
    {"password", "", "required: the sendsms-user's password", true},
    {"from", "", "the sender (short code or name); none: Kannel's default"},
    {"smsc", "", "route to this smsc-id"},
    {"phone_format", "84", "84 | local | e164: how the number is written to Kannel"},
    {"coding", "auto", "auto | gsm7 | ucs2 (auto: ucs2 when the text does not fit GSM-7)"},
    {"timeout_ms", "10000", "time allowed for one sendsms request"},
    {"connections", "8",
     "sendsms requests at once, each on a kept-alive connection of its own (1..64); smsbox "
     "answers only once bearerbox has taken the message, so throughput grows with this"},
    {"dlr_url", "",
     "loa's receipt URL, http(s)://<loa>/webhooks/<route>/receipt, sent as Kannel's dlr-url "
     "with id, token and status added; none: no delivery reports"},
    {"dlr_mask", "27", "1 delivered + 2 failed + 8 SMSC submit + 16 SMSC reject (1..31)"},
    {"dlr_token", "",
     "required with dlr_url: carried in the dlr-url and checked on the callback; letters, "
     "digits and - . _ ~ only",
     true},
    {"mo_token", "",
     "the token the sms-service get-url must carry (token=...); without it replies are refused",
     true},
};

struct KannelSettings {
  enum class Coding { kAuto, kGsm7, kUcs2 };

  std::string url;
  std::string username;
  std::string password;
  std::string from;
  std::string smsc;
  PhoneFormat phone_format = PhoneFormat::kInternational;
  Coding coding = Coding::kAuto;
  std::chrono::milliseconds timeout{10000};
  std::size_t connections = 8;
  std::string dlr_url;
  int dlr_mask = 27;
  std::string dlr_token;
  std::string mo_token;

  // Reads and checks every key; throws GatewayConfigError naming the key.
  static KannelSettings read(const GatewaySettings& settings);
};

class KannelGateway final : public Gateway {
 public:
  KannelGateway(KannelSettings settings, const GatewayContext& context);

  static std::shared_ptr<Gateway> create(const GatewaySettings& settings,
                                         const GatewayContext& context);
  static WebhookHooks webhooks(const GatewaySettings& settings);

  std::string_view type() const override { return "kannel"; }
  void async_send(std::vector<OutboundMessage> batch, SendDone done) override;
  void close() override { fanout_.close(); }

  static RequestFanout::Prepared build_request(const KannelSettings& s, const OutboundMessage& m);
  static SendResult classify(const HttpResponse& response);
  static WebhookResult<DeliveryReceipt> parse_receipt(const KannelSettings& s,
                                                      const WebhookRequest& request);
  static WebhookResult<Reply> parse_reply(const KannelSettings& s, const WebhookRequest& request);

 private:
  std::shared_ptr<const KannelSettings> settings_;
  RequestFanout fanout_;
};

}  // namespace loa::adapters
