// Webhook authentication vectors, valid and invalid (issue [7/10]): eSMS's MO signature
// (Base64(MD5(cpid + smsid + content + receiverTime + PrivateKey))), the secret URL token of
// Kannel's dlr-url and eSMS's callback, and the constant-time comparison they share. The
// expected eSMS signature was computed outside loa (Python hashlib.md5 + base64), so it checks
// the formula, not our code against itself. Zalo's X-ZEvent-Signature vectors are in
// zalo_webhook_test.cpp.
#include <gtest/gtest.h>

#include "adapters/esms_gateway.hpp"
#include "adapters/kannel_gateway.hpp"
#include "adapters/webhook.hpp"

namespace loa::adapters {
namespace {

// "Từ chối" percent-encoded as UTF-8.
constexpr const char* kContent = "T%E1%BB%AB%20ch%E1%BB%91i";
constexpr const char* kSign = "s%2FLxA%2FwlqLWJcQppNnOhJQ%3D%3D";  // s/LxA/wlqLWJcQppNnOhJQ==

EsmsSettings esms() {
  EsmsSettings s;
  s.mo_private_key = "pk-123";
  s.mo_cpid = "8079";
  s.callback_token = "cb-T0ken";
  return s;
}

WebhookRequest get(std::string target) {
  WebhookRequest r;
  r.target = std::move(target);
  return r;
}

std::string mo(const std::string& sign, const std::string& cpid = "8079",
               const std::string& content = kContent) {
  return "/webhooks/sms/reply?sender=84912345678&content=" + content +
         "&serviceNumber=8079&keyword=TU&sign=" + sign + "&cpid=" + cpid +
         "&smsid=sms-1&receiverTime=20261126213000";
}

TEST(WebhookSignature, EsmsMoSignatureMatchesAnIndependentVector) {
  EXPECT_EQ(EsmsGateway::mo_signature("8079", "sms-1", "Từ chối", "20261126213000", "pk-123"),
            "s/LxA/wlqLWJcQppNnOhJQ==");
  EXPECT_NE(EsmsGateway::mo_signature("8079", "sms-1", "Tu choi", "20261126213000", "pk-123"),
            "s/LxA/wlqLWJcQppNnOhJQ==");
}

TEST(WebhookSignature, EsmsRepliesWithAGoodSignatureOnly) {
  auto ok = EsmsGateway::parse_reply(esms(), get(mo(kSign)));
  ASSERT_EQ(ok.verdict, WebhookVerdict::kEvent) << ok.reason;
  EXPECT_EQ(ok.event->text, "Từ chối");
  EXPECT_EQ(ok.event->provider_id, "sms-1");
  EXPECT_EQ(ok.event->from_phone, "+84912345678");

  struct Row {
    const char* name;
    std::string target;
    WebhookVerdict verdict;
  };
  const Row rows[] = {
      {"one character of the signature changed", mo("t%2FLxA%2FwlqLWJcQppNnOhJQ%3D%3D"),
       WebhookVerdict::kForbidden},
      {"signature cut short", mo("s%2FLxA%2FwlqLWJcQppNnOhJQ"), WebhookVerdict::kForbidden},
      {"empty signature", mo(""), WebhookVerdict::kForbidden},
      {"content changed after signing", mo(kSign, "8079", "Tu%20choi"),
       WebhookVerdict::kForbidden},
      {"another short code's cpid", mo(kSign, "6088"), WebhookVerdict::kForbidden},
      {"no sign field", "/webhooks/sms/reply?sender=84912345678&content=x&cpid=8079&smsid=1"
                        "&receiverTime=20261126213000",
       WebhookVerdict::kMalformed},
      {"a broken escape", mo(kSign, "8079", "T%E1%BB%Z"), WebhookVerdict::kMalformed},
  };
  for (const auto& row : rows) {
    auto r = EsmsGateway::parse_reply(esms(), get(row.target));
    EXPECT_EQ(r.verdict, row.verdict) << row.name << ": " << r.reason;
    EXPECT_FALSE(r.event) << row.name;
  }
  EsmsSettings keyless = esms();
  keyless.mo_private_key.clear();
  EXPECT_EQ(EsmsGateway::parse_reply(keyless, get(mo(kSign))).verdict, WebhookVerdict::kForbidden);
}

// Fuzz finding: an authentic reply with "sender=" cannot be attributed to any household; like
// Kannel's "no from", it is bad input (400) naming the field.
TEST(WebhookSignature, EsmsReplyWithAnEmptySenderIsMalformed) {
  std::string target = mo(kSign);
  target.replace(target.find("sender=84912345678"), 18, "sender=");
  const auto r = EsmsGateway::parse_reply(esms(), get(target));
  EXPECT_EQ(r.verdict, WebhookVerdict::kMalformed);
  EXPECT_EQ(r.reason, "empty sender");
  EXPECT_FALSE(r.event);
}

TEST(WebhookSignature, UrlTokensOfEsmsAndKannelReceipts) {
  const std::string esms_receipt = "/webhooks/sms/receipt?token=cb-T0ken&id=42&SendStatus=5"
                                   "&SendSuccess=1&SMSID=abc";
  EXPECT_EQ(EsmsGateway::parse_receipt(esms(), get(esms_receipt)).verdict, WebhookVerdict::kEvent);
  for (const char* bad : {"cb-T0keN", "cb-T0ke", "cb-T0ken1", ""}) {
    std::string target = esms_receipt;
    target.replace(target.find("cb-T0ken"), 8, bad);
    EXPECT_EQ(EsmsGateway::parse_receipt(esms(), get(target)).verdict, WebhookVerdict::kForbidden)
        << bad;
  }
  EXPECT_EQ(EsmsGateway::parse_receipt(esms(), get("/webhooks/sms/receipt?id=42&SendStatus=5"))
                .verdict,
            WebhookVerdict::kForbidden);

  KannelSettings k;
  k.dlr_token = "dlr-S3cret";
  EXPECT_EQ(KannelGateway::parse_receipt(k, get("/x?id=7&token=dlr-S3cret&status=1")).verdict,
            WebhookVerdict::kEvent);
  EXPECT_EQ(KannelGateway::parse_receipt(k, get("/x?id=7&token=dlr-S3creT&status=1")).verdict,
            WebhookVerdict::kForbidden);
  EXPECT_EQ(KannelGateway::parse_receipt(k, get("/x?id=7&status=1")).verdict,
            WebhookVerdict::kForbidden);
  // Authentic but unreadable: a 400, not a 401.
  EXPECT_EQ(KannelGateway::parse_receipt(k, get("/x?id=7&token=dlr-S3cret")).verdict,
            WebhookVerdict::kMalformed);
}

TEST(WebhookSignature, SecretEqualsIsExactAndRefusesAnEmptySecret) {
  EXPECT_TRUE(secret_equals("abc", "abc"));
  EXPECT_FALSE(secret_equals("abd", "abc"));
  EXPECT_FALSE(secret_equals("ab", "abc"));
  EXPECT_FALSE(secret_equals("abcd", "abc"));
  EXPECT_FALSE(secret_equals("", ""));  // no secret configured never matches
  EXPECT_FALSE(secret_equals(std::string_view("a\0c", 3), "abc"));
  EXPECT_EQ(token_mismatch(std::nullopt, "abc", "dlr_token"), "wrong or missing token");
  EXPECT_EQ(token_mismatch(std::string("abc"), "", "dlr_token"), "no dlr_token configured");
  EXPECT_EQ(token_mismatch(std::string("abc"), "abc", "dlr_token"), "");
}

}  // namespace
}  // namespace loa::adapters
