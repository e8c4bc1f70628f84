// The whole path on a real Redis: the sample household list and the example campaign run to
// completion through the simulator, in one `loa serve` (role all) where a FLUSHALL in the
// middle loses nothing, because the outbox is the record and the enqueuer replays it
// (DESIGN.md 3.1); and split over a planner and two dispatcher processes (DESIGN.md 5).
#include <gtest/gtest.h>
#include <signal.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

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
    SQLite::Statement q(db, "SELECT state, COUNT(*) FROM outbox GROUP BY state");
    std::map<std::string, long long> out;
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    return out;
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
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (states()["sent"] + states()["delivered"] < 200 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  auto before = states();
  ASSERT_GT(before["queued"] + before["planned"], 100) << "too late: little was left to send";
  EXPECT_EQ(redis_.command("FLUSHALL"), "OK");

  bool completed = false;
  for (int i = 0; i < 1200 && !completed; ++i) {
    completed = campaign_state() == "completed";
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(completed) << daemon.log();
  std::this_thread::sleep_for(1s);  // receipts trail the sends
  auto after = states();
  long long total = 0;
  for (const auto& [state, n] : after) total += n;
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
  bool completed = false;
  for (int i = 0; i < 1200 && !completed; ++i) {
    completed = campaign_state() == "completed";
    std::this_thread::sleep_for(100ms);
  }
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

}  // namespace
}  // namespace loa::engine
