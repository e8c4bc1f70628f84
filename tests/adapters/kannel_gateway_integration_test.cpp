// The Kannel adapter over real loopback sockets, against the mock gateway standing in for
// smsbox's sendsms: the exact request (charset, dlr-mask, the encoded dlr-url), the class of
// each sendsms answer, and (without sockets) the dlr-url and get-url parsers, with the shapes
// reference/kannel-facts.md observed from Kannel 1.4.5.
#include "adapters/kannel_gateway.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "adapters/form_encoding.hpp"
#include "tests/support/gateway_harness.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::adapters {
namespace {

using namespace loa::test;  // the harness, the mock gateway, sms(), webhook()

constexpr char kAccepted[] = "0: Accepted for delivery";

class KannelTest : public ::testing::Test {
 protected:
  GatewaySettings settings(const MockGateway& mock) {
    return GatewaySettings{{"url", mock.url("/cgi-bin/sendsms")},
                           {"username", "loa"},
                           {"password_env", "LOA_TEST_KANNEL_PASSWORD"},
                           {"from", "8088"},
                           {"dlr_url", "http://127.0.0.1:8080/hooks/kannel/dlr"},
                           {"dlr_token_env", "LOA_TEST_KANNEL_DLR"}};
  }

  ScopedEnv password_{"LOA_TEST_KANNEL_PASSWORD", "loa secret&1"};
  ScopedEnv dlr_token_{"LOA_TEST_KANNEL_DLR", "dlrTok-7"};
  GatewayHarness harness_;
};

// What Kannel does with a dlr-url: replaces %d, %A and %F, then calls the path and query.
std::string kannel_calls_back(const MockRequest& sendsms, std::string_view status,
                              std::string_view answer_text, std::string_view smsc_id) {
  std::string url = FormParams::from_target(sendsms.target).get("dlr-url").value_or("");
  auto replace = [&url](std::string_view code, std::string_view value) {
    const auto at = url.find(code);
    if (at != std::string::npos) url.replace(at, code.size(), value);
  };
  replace("%d", status);
  replace("%A", percent_encode(answer_text));
  replace("%F", smsc_id);
  return url.substr(url.find("/hooks/"));
}

TEST_F(KannelTest, SendsSendsmsWithUcs2ForVietnameseAndAnEncodedDlrUrl) {
  MockGateway mock([](const MockRequest&) { return answer(202, kAccepted); });
  auto gateway = make_gateway("kannel", settings(mock), harness_.context());
  struct Row {
    std::string text;
    std::string query;  // after the fixed username/password/from/to
  };
  const std::string dlr =
      "&dlr-mask=27&dlr-url=http%3A%2F%2F127.0.0.1%3A8080%2Fhooks%2Fkannel%2Fdlr%3Fid%3D4711%26"
      "token%3DdlrTok-7%26status%3D%25d%26answer%3D%25A%26msgid%3D%25F";
  const std::vector<Row> rows = {
      // Accented Vietnamese is not GSM-7: coding=2 with charset=UTF-8 (kannel-facts.md, MT
      // charset).
      {"Xin chào Đắk Lắk",
       "&text=Xin%20ch%C3%A0o%20%C4%90%E1%BA%AFk%20L%E1%BA%AFk&coding=2&charset=UTF-8" + dlr},
      // GSM-7, extension table and à included: Kannel's default coding.
      {"Hello @ 100% {ok} à", "&text=Hello%20%40%20100%25%20%7Bok%7D%20%C3%A0" + dlr},
      // The backtick is the one printable ASCII character outside GSM-7.
      {"a`b", "&text=a%60b&coding=2&charset=UTF-8" + dlr},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    const std::size_t before = mock.requests().size();
    const SendResult r = harness_.send_one(*gateway, sms("4711", "+84901234567", row.text));
    EXPECT_EQ(r.outcome, SendClass::kAccepted) << r.reason;
    EXPECT_EQ(r.provider_id, "");  // sendsms answers no id
    const auto seen = mock.requests();
    ASSERT_EQ(seen.size(), before + 1);
    EXPECT_EQ(seen.back().method, "GET");
    EXPECT_EQ(seen.back().target,
              "/cgi-bin/sendsms?username=loa&password=loa%20secret%261&from=8088&to=84901234567" +
                  row.query);
    EXPECT_EQ(seen.back().body, "");
    // The text Kannel decodes is the text we sent, byte for byte.
    EXPECT_EQ(FormParams::from_target(seen.back().target).get("text"), row.text);
  }
}

TEST_F(KannelTest, DlrUrlComesBackWithOurIdAfterKannelExpandsIt) {
  MockGateway mock([](const MockRequest&) { return answer(202, kAccepted); });
  auto gateway = make_gateway("kannel", settings(mock), harness_.context());
  harness_.send_one(*gateway, sms("4711", "+84901234567", "Xin chào"));
  const auto seen = mock.requests();
  ASSERT_EQ(seen.size(), 1u);
  KannelSettings s;
  s.dlr_token = "dlrTok-7";
  WebhookRequest callback;
  callback.target = kannel_calls_back(seen[0], "1", "", "7a1c-uuid");
  EXPECT_EQ(callback.target,
            "/hooks/kannel/dlr?id=4711&token=dlrTok-7&status=1&answer=&msgid=7a1c-uuid");
  const auto r = KannelGateway::parse_receipt(s, callback);
  ASSERT_EQ(r.verdict, WebhookVerdict::kEvent) << r.reason;
  EXPECT_EQ(r.event->message_id, "4711");
  EXPECT_EQ(r.event->provider_id, "7a1c-uuid");
  EXPECT_TRUE(r.event->delivered);
}

TEST_F(KannelTest, OptionalParameters) {
  MockGateway mock([](const MockRequest&) { return answer(202, kAccepted); });
  GatewaySettings::Values values = settings(mock).values();
  values.erase("dlr_url");
  values.erase("dlr_token_env");
  values.erase("from");
  values["smsc"] = "viettel";
  values["phone_format"] = "local";
  values["coding"] = "ucs2";
  auto gateway = make_gateway("kannel", GatewaySettings(values), harness_.context());
  harness_.send_one(*gateway, sms("12", "+84351234567", "Hop dan"));
  const auto seen = mock.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target,
            "/cgi-bin/sendsms?username=loa&password=loa%20secret%261&to=0351234567&text=Hop%20dan"
            "&coding=2&charset=UTF-8&smsc=viettel");
}

// One row per answer of smsbox's sendsms (Kannel user guide, "Kannel HTTP return codes").
TEST_F(KannelTest, ClassifiesSendsmsAnswers) {
  // sendsms answers no message id.
  const std::vector<AnswerRow> rows = {
      {202, "0: Accepted for delivery", SendClass::kAccepted, "", ""},
      {202, "3: Queued for later delivery", SendClass::kAccepted, "", ""},
      {403, "Authorization failed for sendsms", SendClass::kAuth, "",
       "kannel http 403: Authorization failed for sendsms"},
      {403, "Number(s) has/have been denied by white- and/or black-lists.", SendClass::kPermanent,
       "", "kannel http 403: Number(s) has/have been denied by white- and/or black-lists."},
      {403, "Not routable. Do not try again.", SendClass::kPermanent, "",
       "kannel http 403: Not routable. Do not try again."},
      {400, "Sender missing and no global set, rejected", SendClass::kPermanent, "",
       "kannel http 400: Sender missing and no global set, rejected"},
      {503, "Temporal failure, try again later.\n", SendClass::kRetryable, "",
       "kannel http 503: Temporal failure, try again later."},
      {500, "", SendClass::kRetryable, "", "kannel http 500"},
      {429, "", SendClass::kThrottled, "", "kannel http 429"},
      {404, "Unknown request", SendClass::kPermanent, "", "kannel http 404: Unknown request"},
  };
  for (const AnswerRow& row : rows) {
    SCOPED_TRACE(row.body);
    MockGateway mock([&](const MockRequest&) { return answer(row.status, row.body); });
    auto gateway = make_gateway("kannel", settings(mock), harness_.context());
    expect_result(harness_.send_one(*gateway, sms("1", "+84901234567", "x")), row.outcome,
                  row.provider_id, row.reason);
  }
}

TEST_F(KannelTest, TransportFailuresAreRetryable) {
  GatewaySettings::Values values;
  {
    MockGateway gone;
    values = settings(gone).values();
  }  // nothing listens on that port any more
  values["timeout_ms"] = "2000";
  auto refused = make_gateway("kannel", GatewaySettings(values), harness_.context());
  EXPECT_EQ(harness_.send_one(*refused, sms("1", "+84901234567", "x")).outcome,
            SendClass::kRetryable);

  MockGateway slow([](const MockRequest&) {
    auto r = answer(202, kAccepted);
    r.delay = std::chrono::milliseconds(1500);
    return r;
  });
  values = settings(slow).values();
  values["timeout_ms"] = "200";
  auto timing_out = make_gateway("kannel", GatewaySettings(values), harness_.context());
  const SendResult r = harness_.send_one(*timing_out, sms("1", "+84901234567", "x"));
  EXPECT_EQ(r.outcome, SendClass::kRetryable);
  EXPECT_EQ(r.reason, "http request timed out");
}

// smsbox stopped after it read a sendsms request (bearerbox has the message and will deliver it)
// and before it answered: ops/faults/kannel found such a message on the handset twice. One row
// per connection the cut request went out on; each is read once and not sent again, and the
// cut is maybe-sent, never "connection refused".
TEST_F(KannelTest, ASendsmsCutUnansweredIsSentOnce) {
  struct Row {
    const char* what;
    int cut;  // which request smsbox reads and leaves unanswered (1: on a new connection)
  };
  const std::vector<Row> rows = {{"on a new connection", 1}, {"on a kept-alive connection", 2}};
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    std::atomic<int> n{0};
    MockGateway mock([&n, &row](const MockRequest&) {
      MockResponse r = answer(202, kAccepted);
      r.cut = ++n == row.cut;
      return r;
    });
    auto gateway = make_gateway("kannel", settings(mock), harness_.context());
    for (int i = 1; i <= row.cut; ++i) {
      const std::string id = std::to_string(i);
      const SendResult r = harness_.send_one(*gateway, sms(id, "+8490123456" + id, "a"));
      EXPECT_EQ(r.outcome, i == row.cut ? SendClass::kMaybeSent : SendClass::kAccepted) << i;
      if (i == row.cut) {
        // never "http connection failed", which says the message certainly did not leave
        EXPECT_EQ(r.reason.find("connection failed"), std::string::npos) << r.reason;
      }
    }
    EXPECT_EQ(mock.requests().size(), static_cast<std::size_t>(row.cut));  // none twice
    EXPECT_EQ(
        std::get<HttpRequest>(KannelGateway::build_request(KannelSettings::read(settings(mock)),
                                                           sms("1", "+84901234561", "a")))
            .at_most_once,
        true);
  }
}

// smsbox stopped (SIGTERM) after it queued the message in bearerbox and before it answered:
// the request went out whole and the connection closed unanswered. Kannel may still deliver
// the message and report it, so this is kMaybeSent, not kRetryable: the dispatcher waits for
// the receipt before it tries again (engine/dispatcher.hpp).
TEST_F(KannelTest, AConnectionCutAfterSendsmsWentOutIsMaybeSent) {
  MockGateway mock([](const MockRequest&) {
    MockResponse r;
    r.cut = true;
    return r;
  });
  auto gateway = make_gateway("kannel", settings(mock), harness_.context());
  const SendResult r = harness_.send_one(*gateway, sms("2295", "+84901234567", "Xin chào"));
  EXPECT_EQ(r.outcome, SendClass::kMaybeSent) << r.reason;
  EXPECT_EQ(r.reason, "connection closed after the request was sent, before any answer");
  EXPECT_EQ(mock.requests().size(), 1u);
}

TEST_F(KannelTest, AnswersABatchInOrderAndRefusesUnsendableMessages) {
  MockGateway mock([](const MockRequest& req) {
    const auto to = FormParams::from_target(req.target).get("to").value_or("");
    return to == "84900000002" ? answer(403, "Not routable. Do not try again.")
                               : answer(202, kAccepted);
  });
  auto gateway = make_gateway("kannel", settings(mock), harness_.context());
  const auto results =
      harness_.send(*gateway, {sms("1", "+84900000001", "a"), sms("2", "+84900000002", "b"),
                               sms("bad id", "+84900000003", "c"), sms("4", "+4930123456", "d"),
                               sms("5", "+84900000005", "e")});
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].outcome, SendClass::kAccepted);
  EXPECT_EQ(results[1].outcome, SendClass::kPermanent);
  EXPECT_EQ(results[2].outcome, SendClass::kPermanent);
  EXPECT_EQ(results[2].reason, "message id unfit for Kannel's dlr-url");
  EXPECT_EQ(results[3].outcome, SendClass::kPermanent);
  EXPECT_EQ(results[4].outcome, SendClass::kAccepted);
  EXPECT_EQ(mock.requests().size(), 3u);

  gateway->close();
  const auto closed = harness_.send(*gateway, {sms("6", "+84900000006", "f")});
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].outcome, SendClass::kRetryable);
  EXPECT_EQ(closed[0].reason, "closed");
  EXPECT_EQ(mock.requests().size(), 3u);
}

TEST_F(KannelTest, SecretsComeFromEnvironmentOrFile) {
  MockGateway mock([](const MockRequest&) { return answer(202, kAccepted); });
  loa::test::TempDir dir;
  loa::test::write_file(dir / "password", "from-a-file\n");
  GatewaySettings::Values values = settings(mock).values();
  values.erase("password_env");
  values["password_file"] = (dir / "password").string();
  auto gateway = make_gateway("kannel", GatewaySettings(values), harness_.context());
  harness_.send_one(*gateway, sms("1", "+84901234567", "x"));
  ASSERT_EQ(mock.requests().size(), 1u);
  EXPECT_EQ(FormParams::from_target(mock.requests()[0].target).get("password"), "from-a-file");

  struct Row {
    std::string key, value;
    std::string message;
    std::string erase;
  };
  const std::vector<Row> rows = {
      {"password_file", (dir / "missing").string(),
       "route 'sms': gateway setting 'password': cannot read password_file", "password_env"},
      {"password_env", "LOA_TEST_NOT_SET",
       "route 'sms': gateway setting 'password': environment variable 'LOA_TEST_NOT_SET'", ""},
      {"dlr_token_env", "LOA_TEST_NOT_SET",
       "route 'sms': gateway setting 'dlr_token': environment variable 'LOA_TEST_NOT_SET'", ""},
      {"dlr_url", "http://h/dlr?x=%41", "route 'sms': gateway setting 'dlr_url': must not hold '%'",
       ""},
      {"dlr_mask", "32", "route 'sms': gateway setting 'dlr_mask': must lie in [1, 31]", ""},
      {"connections", "0", "route 'sms': gateway setting 'connections': must lie in [1, 64]",
       ""},
      {"connections", "65", "route 'sms': gateway setting 'connections': must lie in [1, 64]",
       ""},
      {"passwrod_env", "X",
       "route 'sms': gateway setting 'passwrod_env': not a setting of gateway "
       "type 'kannel'",
       ""},
  };
  for (const Row& row : rows) {
    GatewaySettings::Values v = settings(mock).values();
    v.erase(row.erase);
    v[row.key] = row.value;
    try {
      make_gateway("kannel", GatewaySettings(v), harness_.context());
      ADD_FAILURE() << "no error for " << row.key;
    } catch (const GatewayConfigError& e) {
      EXPECT_EQ(std::string(e.what()).substr(0, row.message.size()), row.message);
    }
  }
}

// `connections` bounds the sendsms requests in flight (the HTTP client's per-origin cap).
TEST_F(KannelTest, ConnectionsSettingCapsTheRequestsInFlight) {
  MockGateway mock([](const MockRequest&) { return answer(202, kAccepted); });
  const auto message = sms("1", "+84901234567", "x");
  const auto by_default = KannelSettings::read(settings(mock));
  EXPECT_EQ(by_default.connections, 8u);
  EXPECT_EQ(std::get<HttpRequest>(KannelGateway::build_request(by_default, message))
                .max_connections,
            8u);
  GatewaySettings::Values v = settings(mock).values();
  v["connections"] = "16";
  const auto sixteen = KannelSettings::read(GatewaySettings(v));
  EXPECT_EQ(std::get<HttpRequest>(KannelGateway::build_request(sixteen, message)).max_connections,
            16u);
}

// DLR callbacks on our dlr-url, one row per Kannel DLR type (%d).
TEST(KannelWebhookTest, ParsesDeliveryReports) {
  struct Row {
    std::string name;
    std::string query;
    WebhookVerdict verdict;
    bool delivered;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"1 delivered", "id=4711&token=T1&status=1&answer=&msgid=uuid-1", WebhookVerdict::kEvent,
       true, ""},
      {"2 failed",
       "id=4711&token=T1&status=2&answer=NACK%2F11%2FInvalid+Destination+84901234567&msgid=uuid-1",
       WebhookVerdict::kEvent, false,
       "kannel dlr 2: delivery failed (NACK/11/Invalid Destination ***)"},
      {"16 SMSC reject", "id=4711&token=T1&status=16&answer=NACK&msgid=uuid-1",
       WebhookVerdict::kEvent, false, "kannel dlr 16: SMSC rejected (NACK)"},
      {"4 buffered", "id=4711&token=T1&status=4", WebhookVerdict::kIgnored, false,
       "intermediate dlr status 4"},
      {"8 SMSC submit", "id=4711&token=T1&status=8&answer=ACK%2F&msgid=", WebhookVerdict::kIgnored,
       false, "intermediate dlr status 8"},
      {"unknown", "id=4711&token=T1&status=64", WebhookVerdict::kIgnored, false,
       "unknown dlr status 64"},
      {"wrong token", "id=4711&token=T2&status=1", WebhookVerdict::kForbidden, false,
       "wrong or missing token"},
      {"no token", "id=4711&status=1", WebhookVerdict::kForbidden, false, "wrong or missing token"},
      {"raw dlr-url: status lost", "id=4711&token=T1", WebhookVerdict::kMalformed, false,
       "no status"},
      {"no id", "token=T1&status=1", WebhookVerdict::kMalformed, false, "no id"},
  };
  KannelSettings s;
  s.dlr_token = "T1";
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    expect_receipt(KannelGateway::parse_receipt(s, webhook("/hooks/kannel/dlr?" + row.query)),
                   row.verdict, "4711", "uuid-1", row.delivered, row.reason);
  }
}

// MOs on the get-url, in the shapes kannel-facts.md (b) observed.
TEST(KannelWebhookTest, ParsesRepliesInEveryCharset) {
  const std::string vietnamese =
      "Xin chào, tôi muốn hỏi về chương trình giảm nghèo bền vững. Đắk Lắk";
  struct Row {
    std::string name;
    std::string query;
    WebhookVerdict verdict;
    std::string from, text;
  };
  const std::vector<Row> rows = {
      {"UTF-8 via %b (mo-recode = yes)",
       "token=M1&from=84901234567&to=8088&text=Xin+ch%C3%A0o%2C+t%C3%B4i+mu%E1%BB%91n+h%E1%BB%8Fi+"
       "v%E1%BB%81+ch%C6%B0%C6%A1ng+tr%C3%ACnh+gi%E1%BA%A3m+ngh%C3%A8o+b%E1%BB%81n+v%E1%BB%AFng.+"
       "%C4%90%E1%BA%AFk+L%E1%BA%AFk&coding=0&charset=UTF-8&id=uuid-7&ts=1795684187",
       WebhookVerdict::kEvent, "+84901234567", vietnamese},
      {"UTF-16BE (mo-recode = no), 0x20 bytes as '+'",
       "token=M1&from=0901234567&text=%00X%00i%00n%00+%00c%00h%00%E0%00o%00+%01%10%1E%AF%00k%00+"
       "%00L%1E%AF%00k&coding=2&charset=UTF-16BE&id=uuid-7&ts=1795684187",
       WebhookVerdict::kEvent, "+84901234567", "Xin chào Đắk Lắk"},
      {"Latin-1",
       "token=M1&from=84901234567&text=Caf%E9&charset=ISO-8859-1&id=uuid-7&ts=1795684187",
       WebhookVerdict::kEvent, "+84901234567", "Café"},
      {"'+' typed by the household", "token=M1&from=84901234567&text=1%2B1&id=uuid-7&ts=1795684187",
       WebhookVerdict::kEvent, "+84901234567", "1+1"},
      {"unknown charset", "token=M1&from=84901234567&text=x&charset=EBCDIC",
       WebhookVerdict::kMalformed, "", ""},
      {"no sender", "token=M1&text=x", WebhookVerdict::kMalformed, "", ""},
      {"no text", "token=M1&from=84901234567", WebhookVerdict::kMalformed, "", ""},
      {"wrong token", "token=M2&from=84901234567&text=x", WebhookVerdict::kForbidden, "", ""},
  };
  KannelSettings s;
  s.mo_token = "M1";
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const auto r = KannelGateway::parse_reply(s, webhook("/hooks/kannel/mo?" + row.query));
    EXPECT_EQ(r.verdict, row.verdict) << to_string(r.verdict) << ": " << r.reason;
    if (row.verdict != WebhookVerdict::kEvent) continue;
    ASSERT_TRUE(r.event);
    EXPECT_EQ(r.event->from_phone, row.from);
    EXPECT_EQ(r.event->text, row.text);  // byte-exact
    EXPECT_EQ(r.event->provider_id, "uuid-7");
    EXPECT_EQ(
        std::chrono::duration_cast<std::chrono::seconds>(r.event->at.time_since_epoch()).count(),
        1795684187);
    EXPECT_EQ(r.response_body, "");  // the get-url answer must never become an SMS
  }
}

}  // namespace
}  // namespace loa::adapters
