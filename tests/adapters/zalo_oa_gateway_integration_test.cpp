// The zalo_oa gateway against a mock Zalo on loopback: the exact consultation request, the
// provider id, one SendClass per documented OA error code (reference/vietnam-channels.md §1.2),
// and the one refresh and one resend that an auth error triggers.
#include "adapters/zalo_oa_gateway.hpp"

#include <gtest/gtest.h>

#include "tests/support/zalo_fixture.hpp"

namespace loa::adapters {
namespace {

using loa::test::json_response;
using loa::test::MockRequest;
using namespace std::chrono_literals;

constexpr std::string_view kPath = "/v3.0/oa/message/cs";

OutboundMessage oa(std::string id, std::string user, std::string text) {
  return {std::move(id), "zalo_oa", "+84912345678", std::move(user), std::move(text), 1};
}

loa::test::MockResponse accepted(const std::string& message_id) {
  return json_response(R"({"error":0,"message":"Success","data":{"message_id":")" + message_id +
                       R"("}})");
}

class ZaloOaTest : public loa::test::ZaloFixture {
 protected:
  void SetUp() override {
    tokens_ = rotating_tokens();
    gateway_ = std::make_unique<ZaloOaGateway>(io_.io().get_executor(),
                                               ZaloApiSettings{mock_.url(kPath)}, http_, tokens_);
  }

  std::shared_ptr<ZaloTokens> tokens_;
  std::unique_ptr<ZaloOaGateway> gateway_;
};

TEST_F(ZaloOaTest, SendsTheExactConsultationRequestAndParsesTheMessageId) {
  on_send([](const MockRequest&) { return accepted("oa-msg-77"); });
  const std::string text = "Dạ, hồ sơ hộ cận nghèo nộp tại UBND xã trước ngày 15/3 ạ. \"Cảm ơn\"";
  const auto results = send(*gateway_, {oa("2001", "5741982365432178", text)});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, SendClass::kAccepted) << results[0].reason;
  EXPECT_EQ(results[0].provider_id, "oa-msg-77");

  const auto seen = requests_to(kPath);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/v3.0/oa/message/cs");
  EXPECT_EQ(seen[0].header("Content-Type"), "application/json");
  EXPECT_EQ(seen[0].header("access_token"), "AT-1");
  EXPECT_EQ(
      seen[0].body,
      R"({"recipient":{"user_id":"5741982365432178"},"message":{"text":"Dạ, hồ sơ hộ cận nghèo nộp tại UBND xã trước ngày 15/3 ạ. \"Cảm ơn\""}})");
}

// One row per code of §1.2 ("Useful OA error codes"), and the rules for messages and unknown
// codes.
TEST_F(ZaloOaTest, ClassifiesEveryDocumentedErrorCode) {
  const std::vector<ErrorRow> rows = {
      {-32, "Your application reached limit call api", SendClass::kThrottled},
      {-201, "user_id is invalid!", SendClass::kPermanent},
      {-211, "Out of quota", SendClass::kThrottled},
      {-213, "User has not followed OA", SendClass::kUnreachable},
      {-216, "Access token is invalid", SendClass::kAuth},
      {-220, "access_token is expired or removed", SendClass::kAuth},
      {-224, "The OA needs to upgrade OA Tier Package", SendClass::kPermanent},
      {-227, "User is banned or inactive for more than 45 days", SendClass::kUnreachable},
      {-230, "User has not interacted with OA in past 7 days", SendClass::kUnreachable},
      {-232, "User has not interacted, or last interaction expired", SendClass::kUnreachable},
      {-234, "Message cannot be sent at night", SendClass::kRetryable},
      {-240, "MessageV2 API has been shut down", SendClass::kPermanent},
      {-244, "User has restricted this message type from your OA", SendClass::kUnreachable},
      {-321, "Zalo Cloud Account out of money", SendClass::kThrottled},
      {-118, "Zalo account not existed", SendClass::kPermanent},  // a ZNS code: not documented here
      {-9999, "Something new", SendClass::kPermanent},
  };
  expect_error_rows(
      *gateway_, kPath,
      [](int i) { return oa(std::to_string(i + 1), "5741982365432178", "Chào bà con"); }, rows);
}

TEST_F(ZaloOaTest, AnswersMessagesWithoutUserOrTextPermanentWithoutARequest) {
  on_send([](const MockRequest&) { return accepted("x"); });
  const auto results =
      send(*gateway_, {oa("1", "", "Chào bà con"), oa("2", "5741982365432178", "")});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].outcome, SendClass::kPermanent);
  EXPECT_NE(results[0].reason.find("zalo user id"), std::string::npos) << results[0].reason;
  EXPECT_EQ(results[1].outcome, SendClass::kPermanent);
  EXPECT_NE(results[1].reason.find("empty text"), std::string::npos) << results[1].reason;
  EXPECT_TRUE(requests_to(kPath).empty());
}

TEST_F(ZaloOaTest, AnAuthErrorRefreshesOnceAndResendsOnce) {
  on_send([](const MockRequest& r) {
    return r.header("access_token") == "AT-1"
               ? json_response(R"({"error":-220,"message":"access_token is expired or removed"})")
               : accepted("oa-after-refresh");
  });
  const auto results = send(*gateway_, {oa("3001", "5741982365432178", "Xin chào")});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, SendClass::kAccepted) << results[0].reason;
  EXPECT_EQ(results[0].provider_id, "oa-after-refresh");
  const auto all = mock_.requests();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].header("access_token"), "AT-1");
  EXPECT_EQ(all[1].target, loa::test::kOAuthPath);
  EXPECT_EQ(loa::test::form_field(all[1].body, "refresh_token"), "RT-1");
  EXPECT_EQ(all[2].header("access_token"), "AT-2");
  EXPECT_EQ(all[2].body, all[0].body);
}

}  // namespace
}  // namespace loa::adapters
