// The whole path on a real Redis: the sample household list and the example campaign run to
// completion through the simulator, in one `loa serve` (role all) where a FLUSHALL in the
// middle loses nothing, because the outbox is the record and the enqueuer replays it
// (DESIGN.md 3.1); and split over a planner and two dispatcher processes (DESIGN.md 5).
#include <gtest/gtest.h>
#include <signal.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fstream>
#include <mutex>
#include <set>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/loa_process.hpp"
#include "tests/support/mock_gateway.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

using namespace std::chrono_literals;

class ReconciliationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"LOA_DAEMON_DATA_DIR", data_.string()},
            {"LOA_REDIS_URL", redis_.unix_url()},
            {"LOA_LOG_LEVEL", "info"},
            {"LOA_DAEMON_THREADS", "2"},
            {"LOA_ROUTES_SMS_RATE_PER_SECOND", "300"},
            {"LOA_ROUTES_ZALO_ZNS_RATE_PER_SECOND", "300"},
            {"LOA_ROUTES_SMS_SIMULATOR_RECEIPT_DELAY_MS", "200"},
            {"LOA_ROUTES_ZALO_ZNS_SIMULATOR_RECEIPT_DELAY_MS", "200"},
            {"LOA_DISPATCHER_RETRY_BASE_MS", "50"},
            {"LOA_DISPATCHER_RETRY_MAX_MS", "200"},
            {"LOA_DISPATCHER_SIMULATOR_LEDGER", "memory"}};
    ASSERT_EQ(loa("templates load " + (test::source_dir() / "ops/examples/templates.toml").string())
                  .exit_code, 0);
    auto import = loa("contacts import " + (test::fixtures_dir() / "households-sample.csv").string());
    ASSERT_EQ(import.exit_code, 0) << import.output;
    // The example campaign, without quiet hours so that the test runs at any time of day.
    std::ifstream in(test::source_dir() / "ops/examples/campaign.toml");
    std::stringstream text;
    text << in.rdbuf();
    test::write_file(dir_ / "campaign.toml",
                     std::regex_replace(text.str(), std::regex("quiet_hours = \"[^\"]*\""),
                                        "quiet_hours = \"00:00-00:00\""));
    auto created = loa("campaign create " + (dir_ / "campaign.toml").string());
    ASSERT_EQ(created.exit_code, 0) << created.output;
  }

  test::CommandResult loa(const std::string& args) {
    std::string env;
    for (const auto& [k, v] : env_) env += k + "=" + v + " ";
    return test::run_command(env + test::loa_binary().string() + " " + args + " 2>&1");
  }

  std::map<std::string, long long> states() {
    SQLite::Database db((data_ / "loa.db").string(), SQLite::OPEN_READONLY, 5000);
    // The campaign's messages (answers to households that replied are the inbox campaign's).
    SQLite::Statement q(db, "SELECT state, COUNT(*) FROM outbox WHERE campaign_id = (SELECT id "
                            "FROM campaigns WHERE name = 'bhyt-2026') GROUP BY state");
    std::map<std::string, long long> out;
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    return out;
  }

  // Waits for the example campaign to complete. The deadline stays under the test's ctest
  // TIMEOUT (120 s, of which set-up takes a few seconds): a campaign that does not complete
  // then fails with the daemon's log, instead of a ctest kill that shows nothing. On a machine
  // whose two cores are both loaded (LOA_TEST_STRESS=1), each of these tests took about 20 s.
  bool completes() {
    return test::wait_until([&] { return campaign_state() == "completed"; }, 90s, 100ms);
  }

  std::string campaign_state() {
    SQLite::Database db((data_ / "loa.db").string(), SQLite::OPEN_READONLY, 5000);
    return db.execAndGet("SELECT state FROM campaigns WHERE name = 'bhyt-2026'").getString();
  }

  test::TempDir dir_;
  std::filesystem::path data_ = dir_ / "data";
  test::PrivateRedis redis_;
  std::map<std::string, std::string> env_;
};

TEST_F(ReconciliationTest, AFlushAllMidCampaignLosesNothing) {
  const auto port = test::free_port();
  auto env = env_;
  env["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(port);
  test::LoaProcess daemon({"serve"}, env, dir_ / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  auto launched = loa("campaign launch --detach bhyt-2026");
  ASSERT_EQ(launched.exit_code, 0) << launched.output;

  // Let some of it go, then take Redis's memory away.
  test::wait_until([&] { return states()["sent"] + states()["delivered"] >= 200; },
                   test::kEventually, 50ms);
  auto before = states();
  ASSERT_GT(before["queued"] + before["planned"], 100) << "too late: little was left to send";
  EXPECT_EQ(redis_.command("FLUSHALL"), "OK");

  const bool completed = completes();
  ASSERT_TRUE(completed) << daemon.log();
  // Receipts trail the sends: wait for most of them (the simulator delivers 97 %).
  std::map<std::string, long long> after;
  long long total = 0;
  test::wait_until([&] {
    after = states();
    total = 0;
    for (const auto& [state, n] : after) total += n;
    return after["delivered"] > total / 2;
  });
  EXPECT_EQ(after["planned"], 0);
  EXPECT_EQ(after["queued"], 0);
  EXPECT_EQ(after["sent"] + after["delivered"] + after["failed"] + after["expired"] +
                after["cancelled"],
            total);
  EXPECT_GT(after["delivered"], total / 2);
  const std::string log = daemon.log();
  EXPECT_NE(log.find("replayed from the outbox"), std::string::npos) << log;
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

TEST_F(ReconciliationTest, APlannerAndTwoDispatchersShareACampaign) {
  auto env = env_;
  env["LOA_DISPATCHER_SIMULATOR_LEDGER"] = "redis";  // one gateway, seen by both dispatchers
  const auto planner_port = test::free_port();
  env["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(planner_port);
  test::LoaProcess planner({"serve", "--role", "planner"}, env, dir_ / "planner.log");
  std::vector<std::unique_ptr<test::LoaProcess>> dispatchers;
  for (const char* name : {"d1", "d2"}) {
    auto d = env;
    d["LOA_DAEMON_DATA_DIR"] = (dir_ / name).string();
    d["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(test::free_port());
    dispatchers.push_back(std::make_unique<test::LoaProcess>(
        std::vector<std::string>{"serve", "--role", "dispatcher"}, d,
        dir_ / (std::string(name) + ".log")));
  }
  ASSERT_TRUE(test::becomes_ready(planner_port)) << planner.log();
  auto launched = loa("campaign launch --detach bhyt-2026");
  ASSERT_EQ(launched.exit_code, 0) << launched.output;
  const bool completed = completes();
  ASSERT_TRUE(completed) << planner.log() << dispatchers[0]->log() << dispatchers[1]->log();
  auto after = states();
  EXPECT_EQ(after["planned"] + after["queued"], 0);
  // Every message reached the gateway once, whichever dispatcher sent it.
  long long ids = std::stoll(redis_.command("HLEN loa:{sms}:sim:seen")) +
                  std::stoll(redis_.command("HLEN loa:{zalo_zns}:sim:seen"));
  long long accepted = after["sent"] + after["delivered"] + after["failed"];
  EXPECT_LE(ids, accepted);  // failed ones include sends the gateway refused
  for (const char* route : {"sms", "zalo_zns"}) {
    // HINCRBY counts: a value of 2 would be a message sent twice.
    const std::string dup = redis_.command(std::vector<std::string>{
        "EVAL",
        "local n = 0 for _, v in ipairs(redis.call('HVALS', KEYS[1])) do "
        "if tonumber(v) > 1 then n = n + 1 end end return n",
        "1", std::string("loa:{") + route + "}:sim:seen"});
    EXPECT_EQ(dup, "0") << route;
  }
  for (auto& d : dispatchers) d->signal(SIGTERM);
  planner.signal(SIGTERM);
  for (auto& d : dispatchers) {
    EXPECT_EQ(d->wait(), 0) << d->log();
    EXPECT_EQ(d->log().find("dispatcher sms: 0 sent"), std::string::npos) << d->log();
  }
  EXPECT_EQ(planner.wait(), 0) << planner.log();
}

// Zalo first, SMS as the fallback, with the real zalo_zns adapter against a mock Zalo API that
// answers -118 ("no Zalo account") for some phones: exactly those households get the SMS
// instead, the others stay on Zalo, and nobody gets both.
TEST_F(ReconciliationTest, ZaloUnreachableFallsBackToSmsForExactlyThoseHouseholds) {
  std::mutex mutex;
  std::set<std::string> refused, accepted;  // phones, as Zalo saw them (84…)
  test::MockGateway zalo([&](const test::MockRequest& r) {
    test::MockResponse answer;
    answer.headers = {{"Content-Type", "application/json"}};
    const auto at = r.body.find("\"phone\":\"");
    const std::string phone = at == std::string::npos ? "" : r.body.substr(at + 9, 11);
    std::lock_guard lock(mutex);
    if (!phone.empty() && (phone.back() - '0') % 3 == 0) {  // a third of them have no Zalo
      refused.insert(phone);
      answer.body = R"({"error":-118,"message":"Zalo account not existed"})";
    } else {
      accepted.insert(phone);
      answer.body = R"({"error":0,"message":"Success","data":{"msg_id":"z-)" + phone + R"("}})";
    }
    return answer;
  });
  const auto tokens = dir_ / "zalo-tokens.json";
  test::write_file(tokens, "{\"access_token\":\"AT\",\"refresh_token\":\"RT\","
                           "\"expires_at\":4102444800}\n");
  std::filesystem::permissions(tokens, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  test::write_file(dir_ / "loa.toml",
                   "[routes.zalo_zns]\ngateway = \"zalo_zns\"\nrate_per_second = 0\n"
                   "[routes.zalo_zns.options]\nurl = \"" + zalo.url("/message/template") + "\"\n"
                   "token_file = \"" + tokens.string() + "\"\napp_id = \"4291763606161179100\"\n"
                   "app_secret_env = \"LOA_TEST_ZALO_SECRET\"\n");
  auto env = env_;
  env["LOA_TEST_ZALO_SECRET"] = "s3cret";
  env["LOA_ROUTES_SMS_SIMULATOR_TRANSIENT_FAILURE_RATE"] = "0";
  env["LOA_ROUTES_SMS_SIMULATOR_PERMANENT_FAILURE_RATE"] = "0";
  const auto port = test::free_port();
  env["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(port);
  test::LoaProcess daemon({"serve", "--config", (dir_ / "loa.toml").string()}, env,
                          dir_ / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  auto launched = loa("campaign launch --detach bhyt-2026");
  ASSERT_EQ(launched.exit_code, 0) << launched.output;
  const bool completed = completes();
  ASSERT_TRUE(completed) << daemon.log();

  SQLite::Database db((data_ / "loa.db").string(), SQLite::OPEN_READONLY, 5000);
  SQLite::Statement rows(db, "SELECT phone_e164, channel, fallback_from, state FROM outbox "
                             "WHERE campaign_id = (SELECT id FROM campaigns WHERE name = "
                             "'bhyt-2026')");
  std::set<std::string> fell_back;
  long long zalo_rows = 0;
  while (rows.executeStep()) {
    const std::string phone = rows.getColumn(0).isNull() ? "" : rows.getColumn(0).getString();
    const std::string channel = rows.getColumn(1).getString();
    const std::string from = rows.getColumn(2).getString();
    const std::string state = rows.getColumn(3).getString();
    EXPECT_NE(state, "planned");
    EXPECT_NE(state, "queued");
    if (from == "zalo_zns") {
      EXPECT_EQ(channel, "sms") << phone;
      fell_back.insert("84" + phone.substr(3));  // +849… -> 849…, as Zalo saw it
    }
    if (channel == "zalo_zns") {
      ++zalo_rows;
      EXPECT_EQ(state, "sent") << phone;  // no receipt webhook in this test
    }
  }
  std::lock_guard lock(mutex);
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(fell_back, refused);  // exactly the households Zalo reported unreachable
  for (const auto& phone : refused) EXPECT_EQ(accepted.count(phone), 0u) << phone;
  EXPECT_EQ(zalo_rows, static_cast<long long>(accepted.size()));
  const std::string show = loa("campaign show bhyt-2026").output;
  EXPECT_NE(show.find("fallback    " + std::to_string(refused.size()) + " from zalo_zns"),
            std::string::npos)
      << show;
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

// Carrier routing: with routes.sms_viettel enabled, the SMS of Viettel numbers go through that
// route (its own gateway and rate), the others through routes.sms; all of them are sent.
TEST_F(ReconciliationTest, ViettelNumbersGoThroughTheirOwnRoute) {
  auto env = env_;
  env["LOA_ROUTES_SMS_VIETTEL_ENABLED"] = "1";
  env["LOA_ROUTES_SMS_VIETTEL_RATE_PER_SECOND"] = "300";
  env_ = env;  // the CLI's launch expands with the same routing
  const auto port = test::free_port();
  env["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(port);
  test::LoaProcess daemon({"serve"}, env, dir_ / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  auto launched = loa("campaign launch --detach bhyt-2026");
  ASSERT_EQ(launched.exit_code, 0) << launched.output;
  ASSERT_TRUE(completes()) << daemon.log();
  SQLite::Database db((data_ / "loa.db").string(), SQLite::OPEN_READONLY, 5000);
  SQLite::Statement rows(db,
                         "SELECT COALESCE(h.carrier, ''), o.route, o.state FROM outbox o "
                         "JOIN households h ON h.id = o.household_id WHERE o.channel = 'sms' "
                         "AND o.state <> 'queued'");
  long long viettel = 0, others = 0;
  while (rows.executeStep()) {
    const std::string carrier = rows.getColumn(0).getString();
    const std::string route = rows.getColumn(1).getString();
    EXPECT_EQ(route, carrier == "viettel" ? "sms_viettel" : "sms") << carrier;
    EXPECT_NE(rows.getColumn(2).getString(), "queued");
    ++(carrier == "viettel" ? viettel : others);
  }
  EXPECT_GT(viettel, 0);
  EXPECT_GT(others, 0);
  EXPECT_NE(daemon.log().find("dispatcher sms_viettel: 4 workers"), std::string::npos)
      << daemon.log();
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
  EXPECT_EQ(daemon.log().find("dispatcher sms_viettel: 0 sent"), std::string::npos)
      << daemon.log();
}

}  // namespace
}  // namespace loa::engine
