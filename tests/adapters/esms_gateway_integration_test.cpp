// The eSMS adapter over real loopback sockets, against the mock gateway: the exact request,
// the class of every documented CodeResult, and (without sockets) the delivery-callback and
// short-code reply parsers, the reply signature included.
#include "adapters/esms_gateway.hpp"

#include <gtest/gtest.h>

#include "tests/support/gateway_harness.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::adapters {
namespace {

using namespace loa::test;  // the harness, the mock gateway, sms(), webhook()

constexpr char kPath[] = "/MainService.svc/json/SendMultipleMessage_V4_post_json/";
const std::string kVietnamese = "Kính gửi bà con: \"họp\" lúc 8h\nĐắk Lắk";

class EsmsTest : public ::testing::Test {
 protected:
  GatewaySettings settings(const MockGateway& mock) {
    loa::test::write_file(dir_ / "secret_key", "SK-456\n");
    return GatewaySettings{{"url", mock.url(kPath)},
                           {"api_key_env", "LOA_TEST_ESMS_API_KEY"},
                           {"secret_key_file", (dir_ / "secret_key").string()},
                           {"brandname", "SoLDTBXH"},
                           {"callback_url", "https://loa.example/hooks/esms/dlr"},
                           {"callback_token_env", "LOA_TEST_ESMS_CALLBACK"}};
  }

  loa::test::TempDir dir_;
  ScopedEnv api_key_{"LOA_TEST_ESMS_API_KEY", "AK-123"};
  ScopedEnv callback_{"LOA_TEST_ESMS_CALLBACK", "cbTok-1"};
  GatewayHarness harness_;
};

TEST_F(EsmsTest, SendsTheDocumentedJsonWithOurIdAsRequestId) {
  MockGateway mock([](const MockRequest&) {
    return answer(200, R"({"CodeResult":"100","CountRegenerate":0,"SMSID":"d533459ee42b"})");
  });
  auto gateway = make_gateway("esms", settings(mock), harness_.context());
  const SendResult r = harness_.send_one(*gateway, sms("4711", "+84912345678", kVietnamese));

  EXPECT_EQ(r.outcome, SendClass::kAccepted) << r.reason;
  EXPECT_EQ(r.provider_id, "d533459ee42b");
  const auto seen = mock.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, kPath);
  EXPECT_EQ(seen[0].header("Content-Type"), "application/json");
  // Byte-exact, Vietnamese included: Boost.JSON writes UTF-8 as is and escapes only " \ and
  // controls.
  EXPECT_EQ(seen[0].body,
            "{\"ApiKey\":\"AK-123\",\"Content\":\"Kính gửi bà con: \\\"họp\\\" lúc 8h\\nĐắk "
            "Lắk\",\"Phone\":\"84912345678\",\"SecretKey\":\"SK-456\",\"Brandname\":\"SoLDTBXH\","
            "\"SmsType\":\"2\",\"IsUnicode\":\"1\",\"RequestId\":\"4711\",\"CallbackUrl\":"
            "\"https://loa.example/hooks/esms/dlr?token=cbTok-1&id=4711\"}");
}

TEST_F(EsmsTest, OptionalFieldsAndPhoneFormats) {
  MockGateway mock([](const MockRequest&) { return answer(200, R"({"CodeResult":"100"})"); });
  GatewaySettings s = settings(mock);
  s.set("phone_format", "local");
  s.set("is_unicode", "auto");
  s.set("campaign_id", "Tuyên truyền 2026");
  s.set("sandbox", "true");
  s.set("sms_type", "8");
  auto gateway = make_gateway("esms", s, harness_.context());
  harness_.send_one(*gateway, sms("9", "+84351234567", "Hop dan luc 8h"));
  const auto seen = mock.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body,
            "{\"ApiKey\":\"AK-123\",\"Content\":\"Hop dan luc 8h\",\"Phone\":\"0351234567\","
            "\"SecretKey\":\"SK-456\",\"Brandname\":\"SoLDTBXH\",\"SmsType\":\"8\","
            "\"IsUnicode\":\"0\",\"campaignid\":\"Tuyên truyền 2026\",\"RequestId\":\"9\","
            "\"CallbackUrl\":\"https://loa.example/hooks/esms/dlr?token=cbTok-1&id=9\","
            "\"Sandbox\":\"1\"}");
}

// One row per documented CodeResult (esms-api/bang-ma-loi.md) and per kind of broken answer.
TEST_F(EsmsTest, ClassifiesEveryDocumentedCode) {
  const std::vector<AnswerRow> rows = {
      {200, R"({"CodeResult":"100","SMSID":"s-1"})", SendClass::kAccepted, "s-1", ""},
      {200, R"({"CodeResult":100,"SMSID":"s-2"})", SendClass::kAccepted, "s-2", ""},
      {200, R"({"CodeResult":"124","ErrorMessage":"Request exist 1","SendStatus":"5"})",
       SendClass::kAccepted, "", ""},
      {200, R"({"CodeResult":"99"})", SendClass::kPermanent, "",
       "esms 99: phone number blocked by eSMS"},
      {200, R"({"CodeResult":"101","ErrorMessage":"Authorize Failed"})", SendClass::kAuth, "",
       "esms 101: wrong ApiKey or SecretKey"},
      {200, R"({"CodeResult":"102"})", SendClass::kRetryable, "",
       "esms 102: no price list on the account"},
      {200, R"({"CodeResult":"103"})", SendClass::kRetryable, "", "esms 103: insufficient balance"},
      {200, R"({"CodeResult":"104","ErrorMessage":"Brand name code is not exist"})",
       SendClass::kRetryable, "", "esms 104: brandname does not exist or is not active"},
      {200, R"({"CodeResult":"108"})", SendClass::kPermanent, "",
       "esms 108: phone number malformed"},
      {200, R"({"CodeResult":"140"})", SendClass::kAuth, "", "esms 140: IP not whitelisted"},
      {200, R"({"CodeResult":"146","SMSID":"3f5e"})", SendClass::kPermanent, "",
       "esms 146: content does not match a registered CSKH template"},
      {200, R"({"CodeResult":"177"})", SendClass::kPermanent, "",
       "esms 177: carrier not registered for the brandname"},
      {200, R"({"CodeResult":"789"})", SendClass::kPermanent, "", "esms 789: unknown code"},
      {200, R"({"error":"Invalid request"})", SendClass::kPermanent, "", "esms: invalid request"},
      {200, "<html>gateway busy</html>", SendClass::kRetryable, "",
       "esms: answer without CodeResult"},
      {502, "Bad Gateway", SendClass::kRetryable, "", "esms http 502"},
      {429, "", SendClass::kThrottled, "", "esms http 429"},
      {401, "", SendClass::kAuth, "", "esms http 401"},
      {500, R"({"CodeResult":"101"})", SendClass::kAuth, "", "esms 101: wrong ApiKey or SecretKey"},
  };
  for (const AnswerRow& row : rows) {
    SCOPED_TRACE(row.body);
    MockGateway mock([&](const MockRequest&) { return answer(row.status, row.body); });
    auto gateway = make_gateway("esms", settings(mock), harness_.context());
    expect_result(harness_.send_one(*gateway, sms("1", "+84912345678", "x")), row.outcome,
                  row.provider_id, row.reason);
  }
}

TEST_F(EsmsTest, RefusesWhatCannotBeSentWithoutARequest) {
  MockGateway mock([](const MockRequest&) { return answer(200, R"({"CodeResult":"100"})"); });
  auto gateway = make_gateway("esms", settings(mock), harness_.context());
  const auto results = harness_.send(
      *gateway, {sms("1", "+4930123456", "x"), sms(std::string(51, '7'), "+84912345678", "x"),
                 sms("3", "+84912345678", "ok")});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].outcome, SendClass::kPermanent);
  EXPECT_EQ(results[0].reason, "not a Vietnamese E.164 number");
  EXPECT_EQ(results[1].outcome, SendClass::kPermanent);
  EXPECT_EQ(results[2].outcome, SendClass::kAccepted);
  EXPECT_EQ(mock.requests().size(), 1u);
}

TEST_F(EsmsTest, MissingSecretsNameTheirKeyAndTheRoute) {
  MockGateway mock;
  struct Row {
    std::string remove;
    std::string add_key, add_value;
    std::string message;
  };
  const std::vector<Row> rows = {
      {"api_key_env", "", "", "route 'sms': gateway setting 'api_key': is required"},
      {"secret_key_file", "", "", "route 'sms': gateway setting 'secret_key': is required"},
      {"callback_token_env", "", "", "route 'sms': gateway setting 'callback_token': is required"},
      {"", "api_key", "AK-123",
       "route 'sms': gateway setting 'api_key': secrets are never read from the configuration"},
      {"", "secret_key_env", "LOA_TEST_UNSET_VARIABLE",
       "route 'sms': gateway setting 'secret_key': set either secret_key_env or secret_key_file"},
      {"brandname", "", "", "route 'sms': gateway setting 'brandname': is required"},
  };
  for (const Row& row : rows) {
    GatewaySettings::Values values = settings(mock).values();
    values.erase(row.remove);
    if (!row.add_key.empty()) values[row.add_key] = row.add_value;
    try {
      make_gateway("esms", GatewaySettings(values), harness_.context());
      ADD_FAILURE() << "no error for " << row.message;
    } catch (const GatewayConfigError& e) {
      EXPECT_EQ(std::string(e.what()).substr(0, row.message.size()), row.message);
      EXPECT_EQ(e.route(), "sms");
    }
  }
}

EsmsSettings webhook_settings() {
  EsmsSettings s;
  s.callback_token = "cbTok-1";
  s.mo_private_key = "pk-9Zq";
  s.mo_cpid = "CP8041";
  s.mo_reply = "Cảm ơn <bà con>";
  return s;
}

// Callbacks as esms-api/callback-url.md shows them, behind our CallbackUrl.
TEST(EsmsWebhookTest, ParsesDeliveryCallbacks) {
  struct Row {
    std::string name;
    std::string target;
    WebhookVerdict verdict;
    std::string message_id, provider_id;
    bool delivered;
    std::string reason;
  };
  const std::string base = "/hooks/esms/dlr?token=cbTok-1&id=4711";
  const std::vector<Row> rows = {
      {"delivered",
       base + "&SMSID=dc71&SendFailed=0&SendStatus=5&SendSuccess=1&TotalPrice=0&RequestId=4711&"
              "TypeId=2&telcoid=1&phonenumber=0901888484",
       WebhookVerdict::kEvent, "4711", "dc71", true, ""},
      {"failed", base + "&SMSID=dc72&SendFailed=2&SendStatus=5&SendSuccess=0&RequestId=&TypeId=2",
       WebhookVerdict::kEvent, "4711", "dc72", false, "esms SendStatus 5: not delivered"},
      {"rejected", base + "&SMSID=dc73&SendStatus=4", WebhookVerdict::kEvent, "4711", "dc73", false,
       "esms SendStatus 4: rejected"},
      {"appended with a second '?'", base + "?SMSID=dc74&SendStatus=5&SendSuccess=1",
       WebhookVerdict::kEvent, "4711", "dc74", true, ""},
      {"only RequestId",
       "/hooks/esms/dlr?token=cbTok-1&SMSID=dc75&SendStatus=5&SendSuccess=1&RequestId=4712",
       WebhookVerdict::kEvent, "4712", "dc75", true, ""},
      {"awaiting approval", base + "&SMSID=a&SendStatus=1", WebhookVerdict::kIgnored, "", "", false,
       "intermediate SendStatus 1"},
      {"awaiting sending", base + "&SMSID=a&SendStatus=2", WebhookVerdict::kIgnored, "", "", false,
       "intermediate SendStatus 2"},
      {"awaiting report", base + "&SMSID=a&SendStatus=7", WebhookVerdict::kIgnored, "", "", false,
       "intermediate SendStatus 7"},
      {"unknown status", base + "&SMSID=a&SendStatus=9", WebhookVerdict::kIgnored, "", "", false,
       "unknown SendStatus 9"},
      {"wrong token", "/hooks/esms/dlr?token=cbTok-2&id=1&SendStatus=5", WebhookVerdict::kForbidden,
       "", "", false, "wrong or missing token"},
      {"no token", "/hooks/esms/dlr?id=1&SendStatus=5", WebhookVerdict::kForbidden, "", "", false,
       "wrong or missing token"},
      {"no status", base + "&SMSID=a", WebhookVerdict::kMalformed, "", "", false, "no SendStatus"},
      {"no ids", "/hooks/esms/dlr?token=cbTok-1&SendStatus=5", WebhookVerdict::kMalformed, "", "",
       false, "neither id, RequestId nor SMSID"},
  };
  const EsmsSettings s = webhook_settings();
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    expect_receipt(EsmsGateway::parse_receipt(s, webhook(row.target)), row.verdict, row.message_id,
                   row.provider_id, row.delivered, row.reason);
  }
}

// Signatures computed independently: base64(md5(cpid + smsid + content + receiverTime + key)).
TEST(EsmsWebhookTest, ChecksTheSignatureOfReplies) {
  EXPECT_EQ(
      EsmsGateway::mo_signature("abcdef", "1234", "xyz", "", "17417a0d20114d36a902e49cad0e97f3"),
      "O85nc2XByOhTm8a8t2rYKA==");  // the example in ket-noi-dau-so-ngan.md
  EXPECT_EQ(EsmsGateway::mo_signature("", "", "", "", ""), "1B2M2Y8AsgTpgAmY7PhCfg==");  // RFC 1321

  const std::string text = "HOI Cho tôi hỏi thủ tục làm thẻ BHYT ạ?";
  const std::string content =
      "HOI+Cho+t%C3%B4i+h%E1%BB%8Fi+th%E1%BB%A7+t%E1%BB%A5c+l%C3%A0m+th%E1%BA%BB+BHYT+%E1%BA%A1%3F";
  auto target = [&](std::string sign, std::string cpid = "CP8041", std::string c = "") {
    return "/hooks/esms/mo?sender=84912345678&content=" + (c.empty() ? content : c) +
           "&serviceNumber=8041&keyword=HOI&sign=" + sign + "&cpid=" + cpid +
           "&smsid=MO-000781&receiverTime=20261126093005";
  };
  struct Row {
    std::string name;
    std::string target;
    WebhookVerdict verdict;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"signed, encoded", target("xjwd584%2BSUmB0%2F0ETjYRfA%3D%3D"), WebhookVerdict::kEvent, ""},
      {"signed, '+' and '/' left raw", target("xjwd584+SUmB0/0ETjYRfA=="), WebhookVerdict::kEvent,
       ""},
      {"content changed", target("xjwd584%2BSUmB0%2F0ETjYRfA%3D%3D", "CP8041", "HOI+Cho+toi"),
       WebhookVerdict::kForbidden, "bad signature"},
      {"signature of another key", target("yghnyR7cZyWCIT%2BEXjqdog%3D%3D"),
       WebhookVerdict::kForbidden, "bad signature"},
      {"another CPID", target("xjwd584%2BSUmB0%2F0ETjYRfA%3D%3D", "CP9999"),
       WebhookVerdict::kForbidden, "cpid is not ours"},
      {"no sign", "/hooks/esms/mo?sender=84912345678&content=x&cpid=CP8041&smsid=1&receiverTime=1",
       WebhookVerdict::kMalformed, "no sign"},
  };
  const EsmsSettings s = webhook_settings();
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const auto r = EsmsGateway::parse_reply(s, webhook(row.target));
    EXPECT_EQ(r.verdict, row.verdict) << to_string(r.verdict) << ": " << r.reason;
    EXPECT_EQ(r.reason, row.reason);
    if (row.verdict != WebhookVerdict::kEvent) continue;
    ASSERT_TRUE(r.event);
    EXPECT_EQ(r.event->from_phone, "+84912345678");
    EXPECT_EQ(r.event->text, text);  // byte-exact
    EXPECT_EQ(r.event->provider_id, "MO-000781");
    // 2026-11-26 09:30:05 in Vietnam is 02:30:05 UTC.
    EXPECT_EQ(
        std::chrono::duration_cast<std::chrono::seconds>(r.event->at.time_since_epoch()).count(),
        1795660205);
    EXPECT_EQ(r.response_type, "text/xml; charset=utf-8");
    EXPECT_EQ(r.response_body,
              "<ClientResponse><Message>Cảm ơn &lt;bà con&gt;</Message><Smsid>MO-000781</Smsid>"
              "<Receiver>84912345678</Receiver></ClientResponse>");
  }

  EsmsSettings unkeyed = s;
  unkeyed.mo_private_key.clear();
  EXPECT_EQ(EsmsGateway::parse_reply(unkeyed, webhook(target("x"))).verdict,
            WebhookVerdict::kForbidden);
}

TEST(EsmsWebhookTest, HooksExistOnlyWhenTheirSecretIsConfigured) {
  ScopedEnv key("LOA_TEST_ESMS_KEY", "k");
  GatewaySettings s{{"api_key_env", "LOA_TEST_ESMS_KEY"},
                    {"secret_key_env", "LOA_TEST_ESMS_KEY"},
                    {"brandname", "B"}};
  WebhookHooks none = make_webhooks("esms", s, "sms");
  EXPECT_FALSE(none.receipt);
  EXPECT_FALSE(none.reply);
  s.set("callback_url", "https://loa.example/dlr");
  s.set("callback_token_env", "LOA_TEST_ESMS_KEY");
  s.set("mo_private_key_env", "LOA_TEST_ESMS_KEY");
  WebhookHooks both = make_webhooks("esms", s, "sms");
  ASSERT_TRUE(both.receipt);
  ASSERT_TRUE(both.reply);
  EXPECT_EQ(both.receipt(webhook("/dlr?token=k&id=5&SendStatus=5&SendSuccess=1")).verdict,
            WebhookVerdict::kEvent);
}

}  // namespace
}  // namespace loa::adapters
