// The eSMS.vn (VIHAT) gateway ("esms"): Brandname SMS (CSKH) through eSMS's JSON API,
// SendMultipleMessage_V4_post_json, one request per message, with its delivery callbacks and
// the replies households send to a short code (reference/vietnam-channels.md §2.1, from eSMS's
// developer docs, github.com/devesms/gitbook_esms_for_develop_v2).
//
// Sending: POST {"ApiKey","Content","Phone","SecretKey","Brandname","SmsType","IsUnicode",
// "campaignid","RequestId","CallbackUrl","Sandbox"} (esms-api/ham-gui-tin/
// tin-nhan-sms-otp-cskh.md). RequestId is our message id, which eSMS deduplicates within the day
// (DESIGN.md 3.2): a resend answered 124 "duplicate RequestId" counts as accepted. The answer's
// CodeResult is classified by the table in esms_gateway.cpp; SMSID is the provider id.
//
// Delivery callbacks: eSMS GETs CallbackUrl with SMSID, SendStatus, SendSuccess, SendFailed,
// RequestId, ... (esms-api/callback-url.md). They are unsigned, so the CallbackUrl we send is
// `callback_url` plus "token=<secret>&id=<our id>", and parse_receipt refuses a callback
// without the token.
//
// Replies (MO) to a short code: eSMS GETs receive_mo?sender=&content=&serviceNumber=&keyword=
// &sign=&cpid=&smsid=&receiverTime= and expects <ClientResponse> XML back (esms-api/
// ket-noi-ma-svoucher/ket-noi-dau-so-ngan.md). parse_reply checks sign = Base64(MD5(cpid + smsid
// + content + receiverTime + PrivateKey)), the order that page gives ("Cpid, smsid, content,
// receiveTime và PrivateKey"), over the decoded UTF-8 values. The page does not say whether
// content is hashed decoded or as sent, nor receiverTime's time zone (we read Asia/Ho_Chi_Minh,
// UTC+7): both unverified against a live eSMS.
//
// Settings: kEsmsOptions below (`loa config reference` lists them).
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

inline constexpr GatewayOption kEsmsOptions[] = {
    {"api_key", "", "required: the eSMS ApiKey", true},
    {"secret_key", "", "required: the eSMS SecretKey", true},
    {"brandname", "", "required: the registered sender name"},
    {"sms_type", "2", "eSMS SmsType (2: CSKH, customer care)"},
    {"is_unicode", "auto", "auto | 0 | 1: auto sends 1 when the text has any non-ASCII letter"},
    {"phone_format", "84", "84 | local | e164 (vietnam-channels.md §4)"},
    {"campaign_id", "", "eSMS's campaignid"},
    {"sandbox", "false", "true sends Sandbox \"1\" (eSMS test mode: nothing is delivered)"},
    {"url", "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/",
     "the send endpoint"},
    {"timeout_ms", "10000", "time allowed for one send request"},
    {"callback_url", "",
     "loa's receipt URL, http(s)://<loa>/webhooks/<route>/receipt, sent as CallbackUrl with "
     "token and id added; none: no delivery callbacks"},
    {"callback_token", "", "required with callback_url; unreserved characters only", true},
    {"mo_private_key", "",
     "the short code's PrivateKey, which signs replies; without it replies are refused", true},
    {"mo_cpid", "", "the CPID eSMS gave us; when set, a reply for another CPID is refused"},
    {"mo_reply", "", "the text of <Message> in our answer to a reply (empty: no reply SMS)"},
};

struct EsmsSettings {
  enum class Unicode { kAuto, kNever, kAlways };

  std::string url = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/";
  std::string api_key;
  std::string secret_key;
  std::string brandname;
  std::string sms_type = "2";
  Unicode unicode = Unicode::kAuto;
  PhoneFormat phone_format = PhoneFormat::kInternational;
  std::string campaign_id;
  bool sandbox = false;
  std::chrono::milliseconds timeout{10000};
  std::string callback_url;
  std::string callback_token;
  std::string mo_private_key;
  std::string mo_cpid;
  std::string mo_reply;

  // Reads and checks every key; throws GatewayConfigError naming the key.
  static EsmsSettings read(const GatewaySettings& settings);
};

class EsmsGateway final : public Gateway {
 public:
  // eSMS: "RequestId ... Độ dài tối đa 50 ký tự" (tin-nhan-sms-otp-cskh.md).
  static constexpr std::size_t kMaxRequestId = 50;

  EsmsGateway(EsmsSettings settings, const GatewayContext& context);

  static std::shared_ptr<Gateway> create(const GatewaySettings& settings,
                                         const GatewayContext& context);
  static WebhookHooks webhooks(const GatewaySettings& settings);

  std::string_view type() const override { return "esms"; }
  void async_send(std::vector<OutboundMessage> batch, SendDone done) override;
  void close() override { fanout_.close(); }

  static RequestFanout::Prepared build_request(const EsmsSettings& s, const OutboundMessage& m);
  static SendResult classify(const HttpResponse& response);
  static WebhookResult<DeliveryReceipt> parse_receipt(const EsmsSettings& s,
                                                      const WebhookRequest& request);
  static WebhookResult<Reply> parse_reply(const EsmsSettings& s, const WebhookRequest& request);
  // Base64(MD5(cpid + smsid + content + receiver_time + private_key)).
  static std::string mo_signature(std::string_view cpid, std::string_view smsid,
                                  std::string_view content, std::string_view receiver_time,
                                  std::string_view private_key);

 private:
  std::shared_ptr<const EsmsSettings> settings_;
  RequestFanout fanout_;
};

}  // namespace loa::adapters
