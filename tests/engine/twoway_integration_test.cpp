// Two-way end to end (issue [7/10]), one `loa serve` on a real Redis and a SQLite file:
//  - the simulator's households reply to the example campaign: their replies reach the store,
//    opt-outs are confirmed (through the priority lane, despite the opt-out), a question waits
//    in the inbox, and `loa inbox reply` answers it; the answer is delivered, as a `reply`
//    message of the inbox campaign on the route the household wrote through;
//  - the webhook endpoints of an eSMS route over loopback HTTP: a signed reply is stored once
//    however often it is posted, a bad signature is 401 with nothing stored, a malformed
//    callback 400, an oversized body 413, and a receipt for an unknown id is accepted and
//    counted as orphaned.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

using namespace std::chrono_literals;

class TwoWayDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"LOA_DAEMON_DATA_DIR", data_.string()},
            {"LOA_REDIS_URL", redis_.unix_url()},
            {"LOA_LOG_LEVEL", "info"},
            {"LOA_DAEMON_THREADS", "2"},
            {"LOA_DISPATCHER_SIMULATOR_LEDGER", "memory"}};
  }

  test::CommandResult loa(const std::string& args) {
    std::string env;
    for (const auto& [k, v] : env_) env += k + "='" + v + "' ";
    return test::run_command(env + test::loa_binary().string() + " " + args + " 2>&1");
  }
  long long count(const std::string& sql) {
    SQLite::Database db((data_ / "loa.db").string(), SQLite::OPEN_READONLY, 5000);
    return db.execAndGet(sql).getInt64();
  }
  std::string text(const std::string& sql) {
    SQLite::Database db((data_ / "loa.db").string(), SQLite::OPEN_READONLY, 5000);
    auto v = db.execAndGet(sql);
    return v.isNull() ? "NULL" : v.getString();
  }

  test::TempDir dir_;
  std::filesystem::path data_ = dir_ / "data";
  test::PrivateRedis redis_;
  std::map<std::string, std::string> env_;
};

TEST_F(TwoWayDaemon, SimulatedRepliesReachTheInboxAndAnOperatorsAnswerIsDelivered) {
  env_["LOA_ROUTES_SMS_RATE_PER_SECOND"] = "400";
  env_["LOA_ROUTES_ZALO_ZNS_RATE_PER_SECOND"] = "400";
  env_["LOA_ROUTES_SMS_SIMULATOR_RECEIPT_DELAY_MS"] = "100";
  env_["LOA_ROUTES_ZALO_ZNS_SIMULATOR_RECEIPT_DELAY_MS"] = "100";
  env_["LOA_ROUTES_SMS_SIMULATOR_REPLY_RATE"] = "0.1";
  env_["LOA_ROUTES_ZALO_ZNS_SIMULATOR_REPLY_RATE"] = "0.1";
  env_["LOA_ROUTES_SMS_SIMULATOR_TRANSIENT_FAILURE_RATE"] = "0";
  env_["LOA_ROUTES_SMS_SIMULATOR_PERMANENT_FAILURE_RATE"] = "0";
  env_["LOA_ROUTES_SMS_SIMULATOR_DELIVERED_SHARE"] = "1";
  ASSERT_EQ(loa("templates load " + (test::source_dir() / "ops/examples/templates.toml").string())
                .exit_code,
            0);
  auto import = loa("contacts import " + (test::fixtures_dir() / "households-sample.csv").string());
  ASSERT_EQ(import.exit_code, 0) << import.output;
  std::ifstream in(test::source_dir() / "ops/examples/campaign.toml");
  std::stringstream file;
  file << in.rdbuf();
  test::write_file(dir_ / "campaign.toml",
                   std::regex_replace(file.str(), std::regex("quiet_hours = \"[^\"]*\""),
                                      "quiet_hours = \"00:00-00:00\""));
  ASSERT_EQ(loa("campaign create " + (dir_ / "campaign.toml").string()).exit_code, 0);

  const auto port = test::free_port();
  auto env = env_;
  env["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(port);
  test::LoaProcess daemon({"serve"}, env, dir_ / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  auto launched = loa("campaign launch --detach bhyt-2026");
  ASSERT_EQ(launched.exit_code, 0) << launched.output;

  // Households answer: a question waits in the inbox; an opt-out is confirmed and delivered.
  ASSERT_TRUE(test::wait_until([&] {
    return count("SELECT COUNT(*) FROM replies WHERE status = 'open'") > 0 &&
           count("SELECT COUNT(*) FROM replies r JOIN outbox o ON o.household_id = r.household_id "
                 "JOIN campaigns c ON c.id = o.campaign_id WHERE r.rule = 'opt_out' AND "
                 "c.name = 'inbox' AND o.state = 'delivered'") > 0;
  })) << daemon.log();
  EXPECT_EQ(count("SELECT COUNT(*) FROM replies WHERE status = 'new'"), 0);
  // No household was confirmed twice, and no confirmation was held back by its opt-out.
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox o JOIN campaigns c ON c.id = o.campaign_id "
                  "WHERE c.name = 'inbox' AND o.state = 'cancelled'"),
            0);

  auto listed = loa("inbox list --json --limit 1");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(listed.output, m, std::regex("\"id\":([0-9]+)"))) << listed.output;
  const std::string id = m[1];
  const std::string route = text("SELECT route FROM replies WHERE id = " + id);
  auto answered = loa("inbox reply " + id + " 'Dạ, cán bộ xã sẽ liên hệ ông/bà trong tuần này.'");
  ASSERT_EQ(answered.exit_code, 0) << answered.output;
  EXPECT_NE(answered.output.find("priority lane"), std::string::npos) << answered.output;
  const std::string message = text("SELECT answer_message_id FROM replies WHERE id = " + id);
  ASSERT_NE(message, "NULL");
  ASSERT_TRUE(test::wait_until([&] {
    return text("SELECT state FROM outbox WHERE id = " + message) == "delivered";
  })) << daemon.log();
  EXPECT_EQ(text("SELECT o.priority || '|' || c.name || '|' || o.body FROM outbox o JOIN "
                 "campaigns c ON c.id = o.campaign_id WHERE o.id = " + message),
            "reply|inbox|Dạ, cán bộ xã sẽ liên hệ ông/bà trong tuần này.");
  // Through the channel the household used: its SMS route, or SMS for a ZNS reply (ZNS sends
  // only approved templates).
  EXPECT_EQ(text("SELECT route FROM outbox WHERE id = " + message),
            route.rfind("sms", 0) == 0 ? route : "sms");
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_history WHERE message_id = " + message +
                  " AND event IN ('sent', 'delivered')"),
            2);
  auto shown = loa("inbox show " + id);
  EXPECT_NE(shown.output.find("answered"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find(": delivered"), std::string::npos) << shown.output;
  auto closed = loa("inbox close " + id);
  EXPECT_EQ(closed.exit_code, 0) << closed.output;
  auto unknown = loa("inbox reply 99999999 'x'");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("reply 99999999: no such reply"), std::string::npos);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

TEST_F(TwoWayDaemon, EsmsWebhooksAuthenticateAndAcceptOnlyWhatTheyShould) {
  const auto port = test::free_port();
  test::write_file(dir_ / "loa.toml",
                   "[http]\nbody_limit_bytes = 4096\n"
                   "[routes.sms]\ngateway = \"esms\"\n[routes.sms.options]\n"
                   "api_key_env = \"LOA_TEST_ESMS_KEY\"\nsecret_key_env = \"LOA_TEST_ESMS_SECRET\"\n"
                   "brandname = \"SoLDTBXH\"\nurl = \"http://127.0.0.1:9/\"\n"
                   "callback_url = \"http://127.0.0.1:" + std::to_string(port) +
                       "/webhooks/sms/receipt\"\n"
                   "callback_token_env = \"LOA_TEST_ESMS_CB\"\n"
                   "mo_private_key_env = \"LOA_TEST_ESMS_MO\"\nmo_cpid = \"8079\"\n");
  auto env = env_;
  env["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(port);
  env["LOA_TEST_ESMS_KEY"] = "k";
  env["LOA_TEST_ESMS_SECRET"] = "s";
  env["LOA_TEST_ESMS_CB"] = "cb-T0ken";
  env["LOA_TEST_ESMS_MO"] = "pk-123";
  test::LoaProcess daemon({"serve", "--config", (dir_ / "loa.toml").string()}, env,
                          dir_ / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  // Signed as in webhook_signature_test.cpp: Base64(MD5("8079" "sms-1" "Từ chối"
  // "20261126213000" "pk-123")).
  const std::string mo = "/webhooks/sms/reply?sender=84912345678&content=T%E1%BB%AB%20ch%E1%BB%91i"
                         "&serviceNumber=8079&keyword=TU&cpid=8079&smsid=sms-1"
                         "&receiverTime=20261126213000&sign=";
  const std::string good = "s%2FLxA%2FwlqLWJcQppNnOhJQ%3D%3D";
  auto forged = test::http_request(port, "GET", mo + "t" + good.substr(1));
  EXPECT_EQ(forged.status, 401) << forged.body;
  auto ok = test::http_request(port, "GET", mo + good);
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto again = test::http_request(port, "GET", mo + good);  // eSMS retried: stored once
  EXPECT_EQ(again.status, 200);
  auto malformed = test::http_request(port, "GET", "/webhooks/sms/reply?sender=84912345678");
  EXPECT_EQ(malformed.status, 400);
  auto huge = test::http_request(port, "POST", "/webhooks/sms/reply", std::string(8192, 'a'),
                                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(huge.status, 413);
  auto orphan = test::http_request(port, "GET", "/webhooks/sms/receipt?token=cb-T0ken&id=424242"
                                                "&SendStatus=5&SendSuccess=1&SMSID=x");
  EXPECT_EQ(orphan.status, 200);
  auto bad_token = test::http_request(port, "GET", "/webhooks/sms/receipt?token=cb-T0keN&id=1"
                                                   "&SendStatus=5&SendSuccess=1&SMSID=y");
  EXPECT_EQ(bad_token.status, 401);

  ASSERT_TRUE(test::wait_until([&] { return count("SELECT COUNT(*) FROM orphan_receipts") == 1; }))
      << daemon.log();
  ASSERT_TRUE(test::wait_until([&] {
    return count("SELECT COUNT(*) FROM replies WHERE status <> 'new'") == 1;
  })) << daemon.log();
  // The scenario is an absence (no second copy), which no event announces: a pause long enough
  // for the store side to have written one, were there one.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replies"), 1);
  // The unknown sender became a contact, opted out by its "Từ chối".
  EXPECT_EQ(text("SELECT phone || '|' || text || '|' || rule FROM replies"),
            "+84912345678|Từ chối|opt_out");
  EXPECT_EQ(count("SELECT COUNT(*) FROM households WHERE unknown = 1 AND opt_out_sms = 1"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM orphan_receipts WHERE message_ref = '424242'"), 1);
  const std::string log = daemon.log();
  EXPECT_NE(log.find("bad signature"), std::string::npos);
  EXPECT_NE(log.find("orphan_receipts"), std::string::npos);
  EXPECT_EQ(log.find("pk-123"), std::string::npos);  // secrets never logged
  EXPECT_EQ(log.find("cb-T0ken"), std::string::npos);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

}  // namespace
}  // namespace loa::engine
