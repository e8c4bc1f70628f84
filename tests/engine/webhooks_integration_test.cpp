// Webhooks acknowledge only what is durable (engine/webhooks.hpp, issue [W2 1/9] finding 2):
// with Redis down, a Kannel reply webhook answers 200 only once the reply is in the route's
// fsynced spool, and 503 once the spool is full; after Redis returns, every reply answered 200
// is stored and its household opted out, and those answered 503 are taken when retried, as a
// gateway would. No opt-out is lost.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

using namespace std::chrono_literals;

// "Từ chối" (an opt-out, campaigns/reply_rules) from 0912 000 <n>, Kannel's MO id kannel-<n>.
std::string opt_out_reply(int n) {
  return "/webhooks/sms/reply?token=mo-t0ken&from=%2B84912000" + std::to_string(100 + n) +
         "&to=8088&text=T%E1%BB%AB%20ch%E1%BB%91i&charset=UTF-8&id=kannel-" + std::to_string(n);
}

TEST(DurableWebhooks, RepliesWhileRedisIsDownAreSpooledOrRefusedButNeverLost) {
  test::TempDir dir;
  test::PrivateRedis redis;
  const auto port = test::free_port();
  const auto data = dir / "data";
  test::write_file(dir / "loa.toml",
                   "[daemon]\nspool_max_bytes = 4096\n"
                   "[routes.sms]\ngateway = \"kannel\"\n[routes.sms.options]\n"
                   "url = \"http://127.0.0.1:9/cgi-bin/sendsms\"\nusername = \"loa\"\n"
                   "password_env = \"LOA_TEST_KANNEL_PASSWORD\"\n"
                   "mo_token_env = \"LOA_TEST_KANNEL_MO_TOKEN\"\n");
  test::LoaProcess daemon({"serve", "--config", (dir / "loa.toml").string()},
                          {{"LOA_REDIS_URL", redis.unix_url()},
                           {"LOA_DAEMON_DATA_DIR", data.string()},
                           {"LOA_DAEMON_THREADS", "2"},
                           {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)},
                           {"LOA_TEST_KANNEL_PASSWORD", "secret"},
                           {"LOA_TEST_KANNEL_MO_TOKEN", "mo-t0ken"}},
                          dir / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  auto count = [&](const std::string& sql) {
    SQLite::Database db((data / "loa.db").string(), SQLite::OPEN_READONLY, 5000);
    return db.execAndGet(sql).getInt64();
  };

  EXPECT_EQ(test::http_request(port, "GET", opt_out_reply(0)).status, 200);  // Redis up
  redis.kill_hard();
  ASSERT_TRUE(
      test::eventually([&] { return test::http_request(port, "GET", "/readyz").status == 503; }));

  constexpr int kReplies = 60;  // more than 4096 bytes of spool holds
  std::vector<int> refused;
  int spooled = 0;
  for (int n = 1; n <= kReplies; ++n) {
    const auto r = test::http_request(port, "GET", opt_out_reply(n));
    ASSERT_TRUE(r.status == 200 || r.status == 503) << r.status << " " << r.body;
    if (r.status == 200)
      ++spooled;
    else
      refused.push_back(n);
  }
  EXPECT_GT(spooled, 0);
  EXPECT_FALSE(refused.empty()) << "the spool should have filled up";
  EXPECT_GT(std::filesystem::file_size(data / "spool" / "sms.spool"), 0u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replies"), 1);  // nothing reaches the store yet

  redis.start();  // empty: its data was not persisted
  // The gateway retries what was refused, until it is taken.
  for (int n : refused)
    ASSERT_TRUE(test::eventually([&] {
      return test::http_request(port, "GET", opt_out_reply(n)).status == 200;
    })) << "reply "
        << n << " refused after Redis returned\n"
        << daemon.log();
  ASSERT_TRUE(test::eventually([&] {
    return count("SELECT COUNT(*) FROM households WHERE opt_out_sms = 1") == kReplies + 1;
  })) << count("SELECT COUNT(*) FROM households WHERE opt_out_sms = 1")
      << " opted out\n"
      << daemon.log();
  EXPECT_EQ(count("SELECT COUNT(*) FROM replies"), kReplies + 1);
  EXPECT_TRUE(test::eventually(
      [&] { return std::filesystem::file_size(data / "spool" / "sms.spool") == 0; }));
  EXPECT_NE(daemon.log().find("spooled receipt/reply batch(es) delivered to Redis"),
            std::string::npos);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

}  // namespace
}  // namespace loa::engine
