// The generic HTTP SMS adapter over real loopback sockets, against the mock gateway: the exact
// request each template makes, the class of every kind of answer, batches, configuration
// errors, and (without sockets) the delivery-report parser.
#include "adapters/http_gateway.hpp"

#include <gtest/gtest.h>

#include "tests/support/gateway_harness.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::adapters {
namespace {

using namespace loa::test;  // the harness, the mock gateway, sms(), webhook()
using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kVietnamese = "Kính gửi bà con: \"họp\" lúc 8h\nĐắk Lắk";

class HttpGatewayTest : public ::testing::Test {
 protected:
  ScopedEnv token_{"LOA_TEST_HTTP_TOKEN", "tok-abc"};
  GatewayHarness harness_;
};

// One row per request shape: the settings, and what the mock must see for one message.
TEST_F(HttpGatewayTest, SendsExactlyWhatTheTemplatesSay) {
  struct Row {
    std::string name;
    GatewaySettings::Values settings;  // "url" is a path, completed with the mock's address
    std::string text;
    std::string method, target;
    Headers headers;
    std::string body;
  };
  const std::vector<Row> rows = {
      {"json",
       {{"url", "/v1/sms?ref={{id}}"},
        {"header.Authorization", "Bearer {{secret:token}}"},
        {"header.X-Recipient", "{{phone_local}}"},
        {"token_env", "LOA_TEST_HTTP_TOKEN"},
        {"body",
         R"({"to":"{{phone_84}}","text":"{{text}}","unicode":{{unicode}},"callback":"https://loa.example/dlr?id={{id}}"})"}},
       kVietnamese,
       "POST",
       "/v1/sms?ref=4711",
       {{"Authorization", "Bearer tok-abc"},
        {"X-Recipient", "0912345678"},
        {"Content-Type", "application/json"}},
       "{\"to\":\"84912345678\",\"text\":\"Kính gửi bà con: \\\"họp\\\" lúc 8h\\nĐắk Lắk\","
       "\"unicode\":1,\"callback\":\"https://loa.example/dlr?id=4711\"}"},
      {"form",
       {{"url", "/api/index.php"},
        {"body_encoding", "form"},
        {"token_env", "LOA_TEST_HTTP_TOKEN"},
        {"body", "u=loa&pwd={{secret:token}}&phone={{phone_84}}&sms={{text}}&unicode={{unicode}}"}},
       "Xin chào & cảm ơn = 100%",
       "POST",
       "/api/index.php",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       "u=loa&pwd=tok-abc&phone=84912345678&sms=Xin%20ch%C3%A0o%20%26%20c%E1%BA%A3m%20%C6%A1n%20%"
       "3D%20"
       "100%25&unicode=1"},
      {"get",
       {{"url", "/send?to={{phone}}&msg={{text}}&id={{id}}&unicode={{unicode}}"},
        {"method", "GET"}},
       "Hop dan @ 8h",
       "GET",
       "/send?to=%2B84912345678&msg=Hop%20dan%20%40%208h&id=4711&unicode=0",
       {},
       ""},
      {"own content type",
       {{"url", "/put"},
        {"method", "PUT"},
        {"content_type", "application/vnd.sms+json"},
        {"body", R"({"t":"{{text}}"})"}},
       "a\tb",
       "PUT",
       "/put",
       {{"Content-Type", "application/vnd.sms+json"}},
       R"({"t":"a\tb"})"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    MockGateway mock;
    GatewaySettings::Values values = row.settings;
    values["url"] = mock.url(values["url"]);
    auto gateway = make_gateway("http", GatewaySettings(values), harness_.context());
    const SendResult r = harness_.send_one(*gateway, sms("4711", "+84912345678", row.text));
    EXPECT_EQ(r.outcome, SendClass::kAccepted) << r.reason;
    const auto seen = mock.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, row.method);
    EXPECT_EQ(seen[0].target, row.target);
    for (const auto& [name, value] : row.headers) EXPECT_EQ(seen[0].header(name), value) << name;
    EXPECT_EQ(seen[0].body, row.body);  // byte-exact, Vietnamese included
  }
}

// One row per kind of answer, with an aggregator's JSON conventions configured.
TEST_F(HttpGatewayTest, ClassifiesAnswers) {
  const GatewaySettings::Values rules = {
      {"success_json", "/code"},    {"success_value", "100"},  {"message_id_json", "/data/id"},
      {"error_json", "/code"},      {"error.101", "auth"},     {"error.102", "throttled"},
      {"error.118", "unreachable"}, {"error.124", "accepted"}, {"error.200", "retryable"},
      {"error.300", "permanent"}};
  const std::vector<AnswerRow> rows = {
      {200, R"({"code":"100","data":{"id":"gw-1"}})", SendClass::kAccepted, "gw-1", ""},
      {201, R"({"code":100,"data":{"id":77}})", SendClass::kAccepted, "77", ""},
      {200, R"({"code":"100"})", SendClass::kAccepted, "", ""},
      {200, R"({"code":"101"})", SendClass::kAuth, "", "http 200 code 101"},
      {200, R"({"code":"118"})", SendClass::kUnreachable, "", "http 200 code 118"},
      {200, R"({"code":"124"})", SendClass::kAccepted, "", "http 200 code 124"},
      {200, R"({"code":"999"})", SendClass::kPermanent, "", "http 200 code 999"},
      {200, "OK", SendClass::kPermanent, "", "http 200"},
      {503, R"({"code":"102"})", SendClass::kThrottled, "", "http 503 code 102"},
      {400, R"({"code":200})", SendClass::kRetryable, "", "http 400 code 200"},
      {500, R"({"code":"300"})", SendClass::kPermanent, "", "http 500 code 300"},
      {502, R"({"code":"999"})", SendClass::kRetryable, "", "http 502 code 999"},
      {500, "", SendClass::kRetryable, "", "http 500"},
      {408, "", SendClass::kRetryable, "", "http 408"},
      {429, "", SendClass::kThrottled, "", "http 429"},
      {401, "", SendClass::kAuth, "", "http 401"},
      {403, "", SendClass::kAuth, "", "http 403"},
      {404, "", SendClass::kPermanent, "", "http 404"},
      {422, R"({"code":"84912345678"})", SendClass::kPermanent, "", "http 422 code ***"},
      {302, "", SendClass::kPermanent, "", "http 302"},
  };
  for (const AnswerRow& row : rows) {
    SCOPED_TRACE(std::to_string(row.status) + " " + row.body);
    MockGateway mock([&](const MockRequest&) { return answer(row.status, row.body); });
    GatewaySettings::Values values = rules;
    values["url"] = mock.url("/send");
    values["body"] = R"({"to":"{{phone_84}}"})";
    auto gateway = make_gateway("http", GatewaySettings(values), harness_.context());
    expect_result(harness_.send_one(*gateway, sms("1", "+84912345678", "x")), row.outcome,
                  row.provider_id, row.reason);
  }
}

TEST_F(HttpGatewayTest, SuccessStatusAloneDecides) {
  struct Row {
    unsigned status;
    SendClass outcome;
  };
  const std::vector<Row> rows = {
      {202, SendClass::kAccepted}, {200, SendClass::kPermanent}, {503, SendClass::kRetryable}};
  for (const Row& row : rows) {
    MockGateway mock([&](const MockRequest&) { return answer(row.status, "whatever"); });
    GatewaySettings s{{"url", mock.url("/send?to={{phone_84}}")}, {"success_status", "202"}};
    auto gateway = make_gateway("http", s, harness_.context());
    EXPECT_EQ(harness_.send_one(*gateway, sms("1", "+84912345678", "x")).outcome, row.outcome)
        << row.status;
  }
}

TEST_F(HttpGatewayTest, AnswersABatchInOrder) {
  MockGateway mock([](const MockRequest& req) {
    auto r = answer(req.body.find("84900000002") != std::string::npos ? 500 : 200);
    // Answer the first message last, so completions arrive out of order.
    if (req.body.find("84900000001") != std::string::npos) r.delay = std::chrono::milliseconds(200);
    return r;
  });
  GatewaySettings s{{"url", mock.url("/send")}, {"body", R"({"to":"{{phone_84}}"})"}};
  auto gateway = make_gateway("http", s, harness_.context());
  const auto results =
      harness_.send(*gateway, {sms("1", "+84900000001", "a"), sms("2", "+84900000002", "b"),
                               sms("3", "+4930123456", "c"), sms("4", "+84900000004", "d")});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, SendClass::kAccepted);
  EXPECT_EQ(results[1].outcome, SendClass::kRetryable);
  EXPECT_EQ(results[2].outcome, SendClass::kPermanent);  // no 84… spelling: nothing sent
  EXPECT_EQ(results[2].reason, "phone cannot be spelled as the gateway wants");
  EXPECT_EQ(results[3].outcome, SendClass::kAccepted);
  EXPECT_EQ(mock.requests().size(), 3u);
  EXPECT_TRUE(harness_.send(*gateway, {}).empty());
}

TEST_F(HttpGatewayTest, ConfigurationErrorsNameTheKey) {
  struct Row {
    GatewaySettings::Values settings;
    std::string message;
  };
  const std::vector<Row> rows = {
      {{}, "route 'sms': gateway setting 'url': is required"},
      {{{"url", "http://h/{{phone_e164}}"}},
       "route 'sms': gateway setting 'url': unknown placeholder {{phone_e164}}"},
      {{{"url", "http://h/"}, {"body", "{{text"}},
       "route 'sms': gateway setting 'body': '{{' without '}}' at offset 0"},
      {{{"url", "http://h/"}, {"header.Authorization", "Bearer {{secret:api_token}}"}},
       "route 'sms': gateway setting 'api_token': is required: set api_token_env"},
      {{{"url", "http://h/"}, {"error.101", "fatal"}},
       "route 'sms': gateway setting 'error.101': expected accepted, retryable"},
      {{{"url", "http://h/"}, {"success_status", "2xx"}},
       "route 'sms': gateway setting 'success_status': expected a status or a range"},
      {{{"url", "http://h/"}, {"success_json", "/code"}},
       "route 'sms': gateway setting 'success_value': is required with success_json"},
      {{{"url", "http://h/"}, {"message_id_json", "data.id"}},
       "route 'sms': gateway setting 'message_id_json': a JSON pointer starts with '/'"},
      {{{"url", "http://h/"}, {"body_encoding", "xml"}},
       "route 'sms': gateway setting 'body_encoding': expected one of json, form, got 'xml'"},
      {{{"url", "http://h/"}, {"dlr_status.DELIVRD", "ok"}},
       "route 'sms': gateway setting 'dlr_status.DELIVRD': expected delivered, failed or pending"},
      {{{"url", "http://h/"}, {"method", "post"}},
       "route 'sms': gateway setting 'method': expected an HTTP method like POST, got 'post'"},
      {{{"url", "http://h/"}, {"timeout_ms", "0"}},
       "route 'sms': gateway setting 'timeout_ms': must lie in [1, 600000], got 0"},
  };
  for (const Row& row : rows) {
    try {
      make_gateway("http", GatewaySettings(row.settings), harness_.context());
      ADD_FAILURE() << "no error for " << row.message;
    } catch (const GatewayConfigError& e) {
      EXPECT_EQ(std::string(e.what()).substr(0, row.message.size()), row.message);
    }
  }
}

TEST(HttpGatewayWebhookTest, ParsesDeliveryReportsByTheMapping) {
  ScopedEnv token("LOA_TEST_HTTP_DLR", "T1");
  const GatewaySettings::Values base = {{"url", "http://h/"},
                                        {"dlr_token_env", "LOA_TEST_HTTP_DLR"},
                                        {"dlr_status.DELIVRD", "delivered"},
                                        {"dlr_status.UNDELIV", "failed"},
                                        {"dlr_status.ENROUTE", "pending"}};
  GatewaySettings::Values form = base;
  form.insert({{"dlr_status_field", "status"},
               {"dlr_id_field", "ref"},
               {"dlr_provider_id_field", "msgid"},
               {"dlr_reason_field", "err"}});
  GatewaySettings::Values json = base;
  json.insert({{"dlr_status_field", "/status"},
               {"dlr_id_field", "/ref"},
               {"dlr_provider_id_field", "/id"},
               {"dlr_reason_field", "/error/text"}});
  const auto form_settings = HttpGatewaySettings::read(GatewaySettings(form));
  const auto json_settings = HttpGatewaySettings::read(GatewaySettings(json));
  const std::string kForm = "application/x-www-form-urlencoded";

  struct Row {
    std::string name;
    const HttpGatewaySettings* settings;
    WebhookRequest request;
    WebhookVerdict verdict;
    bool delivered;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"query, delivered", &form_settings,
       webhook("/dlr?token=T1&ref=4711&msgid=g1&status=DELIVRD"), WebhookVerdict::kEvent, true, ""},
      {"form body, failed", &form_settings,
       webhook("/dlr?token=T1", kForm, "ref=4711&msgid=g1&status=UNDELIV&err=Absent+subscriber"),
       WebhookVerdict::kEvent, false, "status UNDELIV: Absent subscriber"},
      {"json body, delivered", &json_settings,
       webhook("/dlr?token=T1", "application/json",
               R"({"ref":"4711","id":"g1","status":"DELIVRD"})"),
       WebhookVerdict::kEvent, true, ""},
      {"json body, failed", &json_settings,
       webhook(
           "/dlr?token=T1", "application/json; charset=utf-8",
           R"({"ref":"4711","id":"g1","status":"UNDELIV","error":{"text":"Thuê bao không liên lạc được"}})"),
       WebhookVerdict::kEvent, false, "status UNDELIV: Thuê bao không liên lạc được"},
      {"pending", &form_settings, webhook("/dlr?token=T1&ref=4711&status=ENROUTE"),
       WebhookVerdict::kIgnored, false, "intermediate status 'ENROUTE'"},
      {"unmapped", &form_settings, webhook("/dlr?token=T1&ref=4711&status=EXPIRED"),
       WebhookVerdict::kIgnored, false, "unmapped status 'EXPIRED'"},
      {"wrong token", &form_settings, webhook("/dlr?token=T9&ref=4711&status=DELIVRD"),
       WebhookVerdict::kForbidden, false, "wrong or missing token"},
      {"no status", &form_settings, webhook("/dlr?token=T1&ref=4711"), WebhookVerdict::kMalformed,
       false, "no status field 'status'"},
      {"no ids", &form_settings, webhook("/dlr?token=T1&status=DELIVRD"),
       WebhookVerdict::kMalformed, false, "neither our id nor the gateway's"},
      {"broken json", &json_settings, webhook("/dlr?token=T1", "application/json", "{\"ref\":"),
       WebhookVerdict::kMalformed, false, "unreadable callback"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    expect_receipt(HttpGateway::parse_receipt(*row.settings, row.request), row.verdict, "4711",
                   "g1", row.delivered, row.reason);
  }

  EXPECT_TRUE(make_webhooks("http", GatewaySettings(form), "sms").receipt);
  EXPECT_FALSE(make_webhooks("http", GatewaySettings{{"url", "http://h/"}}, "sms").receipt);
}

}  // namespace
}  // namespace loa::adapters
