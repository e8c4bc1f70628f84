// Zalo webhooks: the X-ZEvent-Signature MAC (reference/vietnam-channels.md §1.3) in both of the
// conflicting formulas, the constant-time comparison, the freshness window, and events parsed
// into replies and receipts with Vietnamese text byte for byte. The expected MACs were computed
// outside loa (Python hashlib.sha256), so they check the formula, not our own code against itself.
#include "adapters/zalo_webhook.hpp"

#include <gtest/gtest.h>

#include <cctype>

namespace loa::adapters {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

constexpr std::string_view kSecret = "oa-secret-Zx81";
constexpr std::string_view kAppId = "4291763606161179100";
constexpr std::string_view kOaId = "579745863508352884";
const Clock::time_point kEventTime(std::chrono::milliseconds(1740787200000LL));

const std::string kBody =
    R"({"app_id":"4291763606161179100","sender":{"id":"5741982365432178"},"user_id_by_app":"552177279717587881","recipient":{"id":"579745863508352884"},"event_name":"user_send_text","message":{"text":"Cho tôi hỏi thủ tục làm thẻ BHYT cho hộ cận nghèo ạ?","msg_id":"96d3cdf3af150460909"},"timestamp":"1740787200000"})";
// sha256(app_id + body + timestamp + secret) and sha256(oa_id + body + timestamp + secret).
constexpr std::string_view kAppIdMac =
    "0b372c7a33cee0aa5b49f428685e2e08ff7d92e4daef8d3f03f405f40a07f047";
constexpr std::string_view kOaIdMac =
    "4ec53ae128954f0df8f545718cb27af92a3be7e1eb6caea87f775b99e353fdce";
// The kOaId formula with a `timestamp` header of 1740787260000 instead of the body's.
constexpr std::string_view kOaIdHeaderMac =
    "6ec8221786c7e41d066e1ecb5f205b88dc1dc7cc93f68da27e3b6640ae012f75";

// "Cho tôi hỏi thủ tục làm thẻ BHYT cho hộ cận nghèo ạ?" as UTF-8 bytes (NFC).
const std::string kQuestionBytes =
    "Cho t\xc3\xb4i h\xe1\xbb\x8fi th\xe1\xbb\xa7 t\xe1\xbb\xa5"
    "c l\xc3\xa0m th\xe1\xba\xbb BHYT cho h\xe1\xbb\x99 c\xe1\xba\xadn ngh\xc3\xa8o \xe1\xba\xa1?";

ZaloWebhookSettings settings(ZaloSignatureFormula formula = ZaloSignatureFormula::kAppId) {
  ZaloWebhookSettings s;
  s.oa_secret_key = std::string(kSecret);
  s.app_id = std::string(kAppId);
  s.oa_id = std::string(kOaId);
  s.formula = formula;
  return s;
}

std::string mac(std::string_view hex) { return "mac=" + std::string(hex); }

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(ZaloWebhookTest, VerifiesTheSignatureAndTheTimestamp) {
  std::string tampered = kBody;
  tampered.replace(tampered.find("BHYT"), 4, "BHXH");
  std::string other_app = kBody;
  other_app.replace(other_app.find(kAppId), kAppId.size(), "4291763606161179101");
  struct Row {
    const char* name;
    ZaloSignatureFormula formula;
    std::string body;
    std::string signature;
    std::string timestamp_header;
    Clock::time_point now;
    bool ok;
    const char* reason;
  };
  const Row rows[] = {
      {"valid", ZaloSignatureFormula::kAppId, kBody, mac(kAppIdMac), "", kEventTime + 3s, true, ""},
      {"valid, upper-case hex", ZaloSignatureFormula::kAppId, kBody,
       "mac=" + upper(std::string(kAppIdMac)), "", kEventTime, true, ""},
      {"valid, no mac= prefix", ZaloSignatureFormula::kAppId, kBody, std::string(kAppIdMac), "",
       kEventTime, true, ""},
      {"a Zalo retry 100 min later", ZaloSignatureFormula::kAppId, kBody, mac(kAppIdMac), "",
       kEventTime + 100min, true, ""},
      {"tampered body", ZaloSignatureFormula::kAppId, tampered, mac(kAppIdMac), "", kEventTime,
       false, "signature mismatch"},
      {"the other formula's mac", ZaloSignatureFormula::kAppId, kBody, mac(kOaIdMac), "",
       kEventTime, false, "signature mismatch"},
      {"another app", ZaloSignatureFormula::kAppId, other_app, mac(kAppIdMac), "", kEventTime,
       false, "$.app_id is not ours"},
      {"stale", ZaloSignatureFormula::kAppId, kBody, mac(kAppIdMac), "", kEventTime + 2h + 1s,
       false, "stale timestamp"},
      {"from the future", ZaloSignatureFormula::kAppId, kBody, mac(kAppIdMac), "",
       kEventTime - 6min, false, "timestamp in the future"},
      {"no header", ZaloSignatureFormula::kAppId, kBody, "", "", kEventTime, false,
       "X-ZEvent-Signature"},
      {"short mac", ZaloSignatureFormula::kAppId, kBody, mac(kAppIdMac.substr(1)), "", kEventTime,
       false, "X-ZEvent-Signature"},
      {"not hex", ZaloSignatureFormula::kAppId, kBody, "mac=" + std::string(64, 'g'), "",
       kEventTime, false, "X-ZEvent-Signature"},
      {"not json", ZaloSignatureFormula::kAppId, "app_id=1", mac(kAppIdMac), "", kEventTime, false,
       "not a JSON object"},
      {"oa_id formula", ZaloSignatureFormula::kOaId, kBody, mac(kOaIdMac), "", kEventTime, true,
       ""},
      {"oa_id formula, header timestamp", ZaloSignatureFormula::kOaId, kBody, mac(kOaIdHeaderMac),
       "1740787260000", kEventTime, true, ""},
      {"oa_id formula, app_id mac", ZaloSignatureFormula::kOaId, kBody, mac(kAppIdMac), "",
       kEventTime, false, "signature mismatch"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const ZaloWebhook webhook(settings(row.formula));
    const ZaloWebhookVerdict v =
        webhook.verify({row.body, row.signature, row.timestamp_header}, row.now);
    EXPECT_EQ(v.ok, row.ok) << v.reason;
    EXPECT_NE(v.reason.find(row.reason), std::string::npos) << v.reason;
  }
}

// Every MAC of the right shape goes through CRYPTO_memcmp (it cannot be timed reliably in a
// test, so count it); a header of the wrong shape is refused before any comparison.
TEST(ZaloWebhookTest, ComparesMacsInConstantTime) {
  const ZaloWebhook webhook(settings());
  std::string wrong_last(kAppIdMac);
  wrong_last.back() = wrong_last.back() == '0' ? '1' : '0';
  std::string wrong_first(kAppIdMac);
  wrong_first.front() = wrong_first.front() == '0' ? '1' : '0';

  const auto before = ZaloWebhook::constant_time_compares();
  EXPECT_TRUE(webhook.verify({kBody, mac(kAppIdMac), ""}, kEventTime).ok);
  EXPECT_FALSE(webhook.verify({kBody, mac(wrong_first), ""}, kEventTime).ok);
  EXPECT_FALSE(webhook.verify({kBody, mac(wrong_last), ""}, kEventTime).ok);
  EXPECT_EQ(ZaloWebhook::constant_time_compares() - before, 3u);
  EXPECT_FALSE(webhook.verify({kBody, "mac=abc", ""}, kEventTime).ok);
  EXPECT_EQ(ZaloWebhook::constant_time_compares() - before, 3u);
}

TEST(ZaloWebhookTest, ParsesAFollowersTextIntoAReplyByteForByte) {
  const ZaloWebhookEvent e = ZaloWebhook::parse(kBody);
  EXPECT_EQ(e.name, "user_send_text");
  ASSERT_TRUE(e.reply.has_value()) << e.error;
  EXPECT_FALSE(e.receipt.has_value());
  EXPECT_EQ(e.reply->from_zalo_user, "5741982365432178");
  EXPECT_EQ(e.reply->from_phone, "");
  EXPECT_EQ(e.reply->text, kQuestionBytes);
  EXPECT_EQ(e.reply->provider_id, "96d3cdf3af150460909");
  EXPECT_EQ(e.reply->at, kEventTime);

  // The same text sent with \u escapes decodes to the same bytes.
  const ZaloWebhookEvent escaped = ZaloWebhook::parse(
      R"({"app_id":"1","sender":{"id":"5741982365432178"},"event_name":"user_send_text","message":{"text":"Cho t\u00f4i h\u1ecfi th\u1ee7 t\u1ee5c l\u00e0m th\u1ebb BHYT cho h\u1ed9 c\u1eadn ngh\u00e8o \u1ea1?","msg_id":"m2"},"timestamp":1740787200000})");
  ASSERT_TRUE(escaped.reply.has_value()) << escaped.error;
  EXPECT_EQ(escaped.reply->text, kQuestionBytes);
  EXPECT_EQ(escaped.reply->at, kEventTime);
}

// The delivery event in both shapes seen (§1.1 [CONFLICT]): flat for ZNS, nested for OA.
TEST(ZaloWebhookTest, ParsesDeliveryEventsIntoReceipts) {
  struct Row {
    const char* name;
    std::string body;
    std::string message_id;
    std::string provider_id;
    Clock::time_point at;
  };
  const Row rows[] = {
      {"zns, flat",
       R"({"sender":"579745863508352884","recipient":"84912345678","event_name":"user_received_message","delivery_time":"1740787205000","msg_id":"a4d0243feee163bd3af2","tracking_id":"1001","app_id":"4291763606161179100","timestamp":"1740787206000"})",
       "1001", "a4d0243feee163bd3af2", kEventTime + 5s},
      {"nested",
       R"({"app_id":"4291763606161179100","sender":{"id":"579745863508352884"},"recipient":{"id":"5741982365432178"},"event_name":"user_received_message","message":{"msg_id":"oa-msg-77","tracking_id":"2001"},"timestamp":"1740787207000"})",
       "2001", "oa-msg-77", kEventTime + 7s},
      {"oa, no tracking id",
       R"({"sender":{"id":"579745863508352884"},"event_name":"user_received_message","message":{"msg_id":"oa-msg-78"},"timestamp":"1740787208000"})",
       "", "oa-msg-78", kEventTime + 8s},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const ZaloWebhookEvent e = ZaloWebhook::parse(row.body);
    EXPECT_EQ(e.name, "user_received_message");
    ASSERT_TRUE(e.receipt.has_value()) << e.error;
    EXPECT_FALSE(e.reply.has_value());
    EXPECT_EQ(e.receipt->message_id, row.message_id);
    EXPECT_EQ(e.receipt->provider_id, row.provider_id);
    EXPECT_TRUE(e.receipt->delivered);
    EXPECT_EQ(e.receipt->at, row.at);
  }
}

TEST(ZaloWebhookTest, IgnoresOtherEventsAndNamesThem) {
  const std::pair<const char*, const char*> rows[] = {
      {"follow",
       R"({"app_id":"1","follower":{"id":"57"},"oa_id":"5797","event_name":"follow","timestamp":"1"})"},
      {"user_seen_message",
       R"({"event_name":"user_seen_message","message":{"msg_ids":["a","b"]}})"},
      {"user_send_image",
       R"({"event_name":"user_send_image","sender":{"id":"57"},"message":{"attachments":[]}})"},
      {"anonymous_send_text",
       R"({"event_name":"anonymous_send_text","sender":{"id":"anon"},"message":{"text":"hi"}})"},
  };
  for (const auto& [name, body] : rows) {
    const ZaloWebhookEvent e = ZaloWebhook::parse(body);
    EXPECT_TRUE(e.ignored()) << name << ": " << e.error;
    EXPECT_EQ(e.name, name);
  }
}

TEST(ZaloWebhookTest, MalformedEventsNameWhatIsMissing) {
  const std::pair<const char*, const char*> rows[] = {
      {"[1,2]", "not a JSON object"},
      {R"({"sender":{"id":"57"}})", "$.event_name"},
      {R"({"event_name":"user_send_text","message":{"text":"hi"}})", "$.sender.id"},
      {R"({"event_name":"user_send_text","sender":{"id":"57"},"message":{}})", "$.message.text"},
      {R"({"event_name":"user_received_message","timestamp":"1"})", "$.msg_id"},
  };
  for (const auto& [body, path] : rows) {
    const ZaloWebhookEvent e = ZaloWebhook::parse(body);
    EXPECT_FALSE(e.reply || e.receipt) << body;
    EXPECT_NE(e.error.find(path), std::string::npos) << body << ": " << e.error;
  }
}

TEST(ZaloWebhookTest, SettingsChooseTheFormula) {
  GatewaySettingsMap map = {
      {"oa_secret_key", "s"}, {"webhook_signature", "oa_id"}, {"oa_id", "5797"}};
  const auto s = ZaloWebhookSettings::from(SettingsReader(map, "zalo_oa"));
  EXPECT_EQ(s.formula, ZaloSignatureFormula::kOaId);
  EXPECT_EQ(s.max_age, 2h);
  EXPECT_EQ(ZaloWebhookSettings::from(
                SettingsReader(GatewaySettingsMap{{"oa_secret_key", "s"}}, "zalo_oa"))
                .formula,
            ZaloSignatureFormula::kAppId);
  map.erase("oa_id");
  EXPECT_THROW(ZaloWebhookSettings::from(SettingsReader(map, "zalo_oa")), std::invalid_argument);
  map["webhook_signature"] = "hmac";
  EXPECT_THROW(ZaloWebhookSettings::from(SettingsReader(map, "zalo_oa")), std::invalid_argument);
  EXPECT_THROW(ZaloWebhook(ZaloWebhookSettings{}), std::invalid_argument);
}

}  // namespace
}  // namespace loa::adapters
