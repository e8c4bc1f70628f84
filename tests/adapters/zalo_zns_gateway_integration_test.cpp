// The zalo_zns gateway against a mock Zalo on loopback: the exact request per message, the
// provider id, one SendClass per documented error code (reference/vietnam-channels.md §1.1,
// and the OA-wide codes of §1.2), transport and HTTP failures, and the one refresh and one
// resend that an auth error triggers.
#include "adapters/zalo_zns_gateway.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "tests/support/zalo_fixture.hpp"

namespace loa::adapters {
namespace {

using loa::test::json_response;
using loa::test::MockRequest;
using loa::test::MockResponse;
using namespace std::chrono_literals;

constexpr std::string_view kPath = "/message/template";

OutboundMessage zns(std::string id, std::string phone, std::string body) {
  return {std::move(id), "zalo_zns", std::move(phone), "", std::move(body), 1};
}

const std::string kBody =
    R"({"template_id":"7788","template_data":{"ho_ten":"Y Bih Niê","noi_dung":"Họp dân thôn Ea Tân lúc 8 giờ"}})";

MockResponse accepted(const std::string& msg_id) {
  return json_response(
      R"({"error":0,"message":"Success","data":{"msg_id":")" + msg_id +
      R"(","sent_time":"1759983921893","quota":{"dailyQuota":"20000","remainingQuota":"19999"}}})");
}

std::string tracking_id(const MockRequest& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("tracking_id")) return {};
  return std::string(v.at("tracking_id").as_string());
}

class ZaloZnsTest : public loa::test::ZaloFixture {
 protected:
  void SetUp() override {
    tokens_ = rotating_tokens();
    settings_.url = mock_.url(kPath);
    gateway_ = std::make_unique<ZaloZnsGateway>(io_.io().get_executor(), settings_, http_, tokens_);
  }

  ZaloApiSettings settings_;
  std::shared_ptr<ZaloTokens> tokens_;
  std::unique_ptr<ZaloZnsGateway> gateway_;
};

TEST_F(ZaloZnsTest, SendsTheExactRequestPerMessageAndParsesMsgIds) {
  on_send([](const MockRequest& r) { return accepted("zmsg-" + tracking_id(r)); });
  const auto results =
      send(*gateway_, {zns("1001", "+84912345678", kBody), zns("1002", "+84387654321", kBody)});

  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].outcome, SendClass::kAccepted) << results[0].reason;
  EXPECT_EQ(results[0].provider_id, "zmsg-1001");
  EXPECT_EQ(results[1].outcome, SendClass::kAccepted) << results[1].reason;
  EXPECT_EQ(results[1].provider_id, "zmsg-1002");

  auto seen = requests_to(kPath);
  ASSERT_EQ(seen.size(), 2u);  // one request per message, sent concurrently
  std::sort(seen.begin(), seen.end(), [](const MockRequest& a, const MockRequest& b) {
    return tracking_id(a) < tracking_id(b);
  });
  const std::pair<const char*, const char*> expected[] = {
      {"1001", "84912345678"},
      {"1002", "84387654321"},
  };
  for (std::size_t i = 0; i < 2; ++i) {
    const MockRequest& r = seen[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/message/template");
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.header("access_token"), "AT-1");
    EXPECT_EQ(r.header("Authorization"), "");
    EXPECT_EQ(
        r.body,
        std::string(R"({"phone":")") + expected[i].second +
            R"(","template_id":"7788","template_data":{"ho_ten":"Y Bih Niê","noi_dung":"Họp dân thôn Ea Tân lúc 8 giờ"},"tracking_id":")" +
            expected[i].first + R"("})");
  }
  EXPECT_TRUE(refreshes().empty());
}

// One row per documented code: §1.1's ZNS table, the OA-wide codes of §1.2 that concern the
// same token and account, and the rules for messages and unknown codes.
TEST_F(ZaloZnsTest, ClassifiesEveryDocumentedErrorCode) {
  const std::vector<ErrorRow> rows = {
      {-100, "Unknown error", SendClass::kRetryable},
      {-108, "Phone number invalid", SendClass::kPermanent},
      {-109, "Template ID invalid", SendClass::kPermanent},
      {-110, "Zalo version unsupported", SendClass::kUnreachable},
      {-111, "Template data empty", SendClass::kPermanent},
      {-112, "Template data type not defined", SendClass::kPermanent},
      {-1121, "Param too long", SendClass::kPermanent},
      {-1122, "Missing param", SendClass::kPermanent},
      {-1124, "Bad format", SendClass::kPermanent},
      {-114,
       "User is inactive, or reject the message, or using an outdated Zalo version, or other "
       "internal errors",
       SendClass::kUnreachable},
      {-118, "Zalo account not existed", SendClass::kUnreachable},
      {-124, "Access token invalid", SendClass::kAuth},
      {-131, "Template not approved", SendClass::kPermanent},
      {-132, "Template not existed", SendClass::kPermanent},
      {-133, "Cannot send tag 1 message at night", SendClass::kRetryable},
      {-216, "Access token is invalid", SendClass::kAuth},
      {-216, "ZNS quota exceeded", SendClass::kThrottled},
      {-220, "access_token is expired or removed", SendClass::kAuth},
      {-32, "Your application reached limit call api", SendClass::kThrottled},
      {-211, "Out of quota", SendClass::kThrottled},
      {-321, "Zalo Cloud Account out of money", SendClass::kThrottled},
      {-150, "ZNS daily quota exceeded", SendClass::kThrottled},
      {-9999, "Something new", SendClass::kPermanent},
      {-118, "", SendClass::kUnreachable},  // no message: the table's meaning is the reason
  };
  expect_error_rows(
      *gateway_, kPath, [](int i) { return zns(std::to_string(i + 1), "+84912345678", kBody); },
      rows);
}

TEST_F(ZaloZnsTest, ClassifiesTransportAndHttpFailures) {
  MockResponse slow = accepted("late");
  slow.delay = 1500ms;
  const AnswerRow rows[] = {
      {"500", json_response("oops", 500), SendClass::kRetryable, "http 500"},
      {"503 json", json_response(R"({"error":-118})", 503), SendClass::kRetryable, "http 503"},
      {"429", json_response("slow down", 429), SendClass::kThrottled, "http 429"},
      {"404 text", json_response("not found", 404), SendClass::kPermanent, "http 404"},
      {"401 text", json_response("unauthorised", 401), SendClass::kAuth, "http 401"},
      {"200 not json", json_response("<html>", 200), SendClass::kRetryable, "unexpected answer"},
      {"timeout", slow, SendClass::kRetryable, "timed out"},
  };
  settings_.timeout = 300ms;
  gateway_ = std::make_unique<ZaloZnsGateway>(io_.io().get_executor(), settings_, http_, tokens_);
  for (const AnswerRow& row : rows) {
    SCOPED_TRACE(row.name);
    on_send([&](const MockRequest&) { return row.answer; });
    const auto results = send(*gateway_, {zns("7", "+84912345678", kBody)});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].outcome, row.expected) << results[0].reason;
    EXPECT_NE(results[0].reason.find(row.reason_part), std::string::npos) << results[0].reason;
  }
}

// One row per message the gateway must answer without a request.
TEST_F(ZaloZnsTest, AnswersUnsendableMessagesPermanentWithoutARequest) {
  struct Row {
    OutboundMessage message;
    const char* reason_part;
  };
  const Row rows[] = {
      {zns("1", "0912345678", kBody), "+84"},
      {zns("2", "+15551234567", kBody), "+84"},
      {zns("3", "+8491234", kBody), "+84"},
      {zns("4", "+84912345678", "Kính gửi bà con"), "not a JSON object"},
      {zns("5", "+84912345678", R"({"template_data":{}})"), "$.template_id"},
      {zns("6", "+84912345678", R"({"template_id":7788,"template_data":{}})"), "$.template_id"},
      {zns("7", "+84912345678", R"({"template_id":"7788","template_data":[]})"), "$.template_data"},
  };
  on_send([](const MockRequest&) { return accepted("x"); });
  for (const Row& row : rows) {
    SCOPED_TRACE(row.message.id);
    const auto results = send(*gateway_, {row.message});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].outcome, SendClass::kPermanent);
    EXPECT_NE(results[0].reason.find(row.reason_part), std::string::npos) << results[0].reason;
  }
  EXPECT_TRUE(requests_to(kPath).empty());
}

TEST_F(ZaloZnsTest, AnswersTheBatchOnceInItsOrder) {
  // Later messages answer sooner, and the outcomes differ per number.
  on_send([](const MockRequest& r) {
    const std::string id = tracking_id(r);
    MockResponse out = id == "3"
                           ? json_response(R"({"error":-118,"message":"Zalo account not existed"})")
                           : accepted("z" + id);
    out.delay = std::chrono::milliseconds(50 * (5 - std::stoi(id)));
    return out;
  });
  std::vector<OutboundMessage> batch;
  for (int i = 1; i <= 4; ++i)
    batch.push_back(zns(std::to_string(i), "+8491234567" + std::to_string(i), kBody));
  batch.push_back(zns("5", "not a number", kBody));
  const auto results = send(*gateway_, batch);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].provider_id, "z1");
  EXPECT_EQ(results[1].provider_id, "z2");
  EXPECT_EQ(results[2].outcome, SendClass::kUnreachable);
  EXPECT_EQ(results[3].provider_id, "z4");
  EXPECT_EQ(results[4].outcome, SendClass::kPermanent);
  EXPECT_EQ(requests_to(kPath).size(), 4u);
}

TEST_F(ZaloZnsTest, AnAuthErrorRefreshesOnceAndResendsOnce) {
  on_send([](const MockRequest& r) {
    return r.header("access_token") == "AT-1"
               ? json_response(R"({"error":-124,"message":"Access token invalid"})")
               : accepted("z-" + tracking_id(r));
  });
  const auto results =
      send(*gateway_, {zns("11", "+84912345678", kBody), zns("12", "+84912345679", kBody),
                       zns("13", "+84912345670", kBody)});
  ASSERT_EQ(results.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i].outcome, SendClass::kAccepted) << results[i].reason;
    EXPECT_EQ(results[i].provider_id, "z-1" + std::to_string(i + 1));
  }
  EXPECT_EQ(refreshes().size(), 1u);  // three auth errors, one refresh
  const auto all = mock_.requests();
  ASSERT_EQ(all.size(), 7u);
  std::map<std::string, std::vector<std::string>> tokens_by_message;
  for (const MockRequest& r : all) {
    if (r.target == kPath) tokens_by_message[tracking_id(r)].push_back(r.header("access_token"));
  }
  for (const auto& [id, used] : tokens_by_message) {
    EXPECT_EQ(used, (std::vector<std::string>{"AT-1", "AT-2"})) << id;
  }
}

TEST_F(ZaloZnsTest, ASecondAuthErrorIsTheAnswer) {
  on_send([](const MockRequest&) {
    return json_response(R"({"error":-216,"message":"Access token is invalid"})");
  });
  const auto results = send(*gateway_, {zns("21", "+84912345678", kBody)});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, SendClass::kAuth);
  EXPECT_EQ(requests_to(kPath).size(), 2u);
  EXPECT_EQ(refreshes().size(), 1u);
}

TEST_F(ZaloZnsTest, ATokenThatCannotBeHadIsTheAnswerWithoutASend) {
  on_oauth([](const MockRequest&) {
    return json_response(R"({"error":-14014,"error_name":"Invalid refresh token"})");
  });
  tokens_->invalidate("AT-1");
  const auto results = send(*gateway_, {zns("31", "+84912345678", kBody)});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, SendClass::kAuth);
  EXPECT_NE(results[0].reason.find(token_file().string()), std::string::npos) << results[0].reason;
  EXPECT_TRUE(requests_to(kPath).empty());
}

TEST_F(ZaloZnsTest, CloseRefusesLaterSends) {
  gateway_->close();
  const auto results =
      send(*gateway_, {zns("41", "+84912345678", kBody), zns("42", "+84912345679", kBody)});
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.outcome, SendClass::kRetryable);
    EXPECT_EQ(r.reason, "closed");
  }
  EXPECT_TRUE(mock_.requests().empty());
  EXPECT_TRUE(send(*gateway_, {}).empty());
}

TEST_F(ZaloZnsTest, BuildsFromARoutesFlatSettings) {
  tokens_.reset();
  gateway_.reset();
  GatewaySettingsMap settings = {{"token_file", token_file().string()},
                                 {"app_id", std::string(loa::test::kAppId)},
                                 {"app_secret", std::string(loa::test::kAppSecret)},
                                 {"url", mock_.url(kPath)},
                                 {"oauth_url", mock_.url(loa::test::kOAuthPath)},
                                 {"timeout_ms", "5000"}};
  on_send([](const MockRequest&) { return accepted("flat"); });
  {
    ZaloZnsGateway gateway(io_.io().get_executor(), settings, http_, nullptr);
    EXPECT_EQ(gateway.type(), "zalo_zns");
    const auto results = send(gateway, {zns("51", "+84912345678", kBody)});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].provider_id, "flat") << results[0].reason;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"app_secret", ""}, {"timeout_ms", "soon"}, {"url", "ftp://zalo"}};
  for (const auto& [key, value] : bad) {
    GatewaySettingsMap broken = settings;
    broken[key] = value;
    try {
      ZaloZnsGateway gateway(io_.io().get_executor(), broken, http_, nullptr);
      ADD_FAILURE() << key << ": no exception";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("`") + key + "`"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace loa::adapters
