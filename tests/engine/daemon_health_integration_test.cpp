// /healthz turns unhealthy once a dependency has been down longer than
// daemon.unhealthy_after_ms (issue [W2 1/9]: a dead Redis left it at 200 for as long as one
// waited, so neither systemd nor a load balancer noticed), and healthy again when it is back.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

using namespace std::chrono_literals;

TEST(DaemonHealth, HealthzTurns503OnlyAfterRedisHasBeenDownLongerThanTheLimit) {
  test::TempDir dir;
  test::PrivateRedis redis;
  const auto port = test::free_port();
  constexpr auto kLimit = 1500ms;
  test::LoaProcess daemon({"serve"},
                          {{"LOA_REDIS_URL", redis.unix_url()},
                           {"LOA_DAEMON_DATA_DIR", (dir / "data").string()},
                           {"LOA_DAEMON_THREADS", "2"},
                           {"LOA_DAEMON_UNHEALTHY_AFTER_MS", std::to_string(kLimit.count())},
                           {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)}},
                          dir / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  EXPECT_EQ(test::http_request(port, "GET", "/healthz").status, 200);

  const auto killed = std::chrono::steady_clock::now();
  redis.kill_hard();
  test::HttpResult unhealthy;
  const auto deadline = killed + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    unhealthy = test::http_request(port, "GET", "/healthz");
    if (unhealthy.status == 503) break;
    ASSERT_EQ(unhealthy.status, 200) << unhealthy.body;
    std::this_thread::sleep_for(50ms);
  }
  const auto after = std::chrono::steady_clock::now() - killed;
  ASSERT_EQ(unhealthy.status, 503) << daemon.log();
  EXPECT_GE(after, kLimit);  // never before the limit: a blip is /readyz's business
  EXPECT_NE(unhealthy.body.find("\"status\":\"unhealthy\""), std::string::npos) << unhealthy.body;
  EXPECT_NE(unhealthy.body.find("\"redis\":\"down for "), std::string::npos) << unhealthy.body;

  redis.start();
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();
  EXPECT_EQ(test::http_request(port, "GET", "/healthz").status, 200);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

}  // namespace
}  // namespace loa::engine
