// The spawned Redis heals itself (engine/redis_supervisor.hpp, issue [W2 1/9] finding 1):
//  - a redis-server killed with SIGKILL is started again on the same AOF, with its data;
//  - one that cannot be started again makes the supervisor give up, once;
//  - in `loa serve` (redis.url = "spawn"): the daemon is ready again after a SIGKILL of its
//    Redis, and exits 1 when Redis cannot be restarted, for systemd to restart it.
#include "engine/redis_supervisor.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

using namespace std::chrono_literals;

// A redis-server that can be taken away: a script that execs the real one, to delete later.
std::filesystem::path wrapper_for_redis(const test::TempDir& dir) {
  const auto real = RedisProcess::find_binary("redis-server");
  if (!real) throw std::runtime_error("redis-server is not installed");
  const auto path = dir / "redis-wrapper";
  test::write_file(path, "#!/bin/sh\nexec " + *real + " \"$@\"\n");
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

RedisSupervisor::Options fast() {
  RedisSupervisor::Options o;
  o.restart_min = 20ms;
  o.restart_max = 200ms;
  o.attempts = 2;
  o.poll = 20ms;
  return o;
}

TEST(RedisSupervisor, RestartsRedisAfterASigkillOnTheSameAof) {
  test::TempDir dir;
  RedisProcess::Options po;
  po.dir = dir / "redis";
  RedisProcess process(po);
  process.start();
  test::redis_command_at(process.socket_path(), {"SET", "loa:household:7", "đã từ chối"});
  std::atomic<bool> gave_up{false};
  RedisSupervisor supervisor(process, fast(), [&](const std::string&) { gave_up = true; });
  supervisor.start();
  const pid_t first = supervisor.pid();
  ASSERT_GT(first, 0);

  for (int kill = 1; kill <= 2; ++kill) {
    const pid_t before = supervisor.pid();
    ASSERT_EQ(::kill(before, SIGKILL), 0);
    ASSERT_TRUE(test::eventually([&] {
      return supervisor.restarts() == kill && supervisor.pid() > 0;
    })) << "restart "
        << kill << " did not happen";
    EXPECT_NE(supervisor.pid(), before);
    // The write acknowledged before the kill was in the AOF (Redis writes it before it
    // answers), so it is there after the restart.
    EXPECT_EQ(test::redis_command_at(process.socket_path(), {"GET", "loa:household:7"}),
              "đã từ chối");
  }
  EXPECT_FALSE(gave_up);
  const pid_t last = supervisor.pid();
  supervisor.stop(5s);
  EXPECT_NE(::kill(last, 0), 0);  // stop() stopped the child too
}

TEST(RedisSupervisor, GivesUpOnceWhenRedisCannotBeStartedAgain) {
  test::TempDir dir;
  RedisProcess::Options po;
  po.dir = dir / "redis";
  po.binary = wrapper_for_redis(dir).string();
  RedisProcess process(po);
  process.start();
  std::mutex mutex;
  std::vector<std::string> reasons;
  RedisSupervisor supervisor(process, fast(), [&](const std::string& why) {
    std::lock_guard lock(mutex);
    reasons.push_back(why);
  });
  supervisor.start();
  std::filesystem::remove(po.binary);  // the package was removed, say
  ASSERT_EQ(::kill(supervisor.pid(), SIGKILL), 0);
  ASSERT_TRUE(test::eventually([&] { return supervisor.gave_up(); }));
  std::this_thread::sleep_for(300ms);  // a second call would have come by now
  std::lock_guard lock(mutex);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("failed 3 times"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[0].find("redis-server not found"), std::string::npos) << reasons[0];
  EXPECT_EQ(supervisor.restarts(), 0);
}

class SpawnedRedisDaemon : public ::testing::Test {
 protected:
  std::map<std::string, std::string> env() {
    return {{"LOA_DAEMON_DATA_DIR", data_.string()},
            {"LOA_REDIS_URL", "spawn"},
            {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port_)},
            {"LOA_DAEMON_THREADS", "2"},
            {"LOA_REDIS_RESTART_MIN_MS", "50"},
            {"LOA_REDIS_RESTART_MAX_MS", "500"}};
  }
  std::string socket() const { return (data_ / "redis" / "redis.sock").string(); }

  test::TempDir dir_;
  std::filesystem::path data_ = dir_ / "data";
  std::uint16_t port_ = test::free_port();
};

TEST_F(SpawnedRedisDaemon, IsReadyAgainAfterItsRedisIsKilled) {
  test::LoaProcess daemon({"serve"}, env(), dir_ / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port_)) << daemon.log();
  for (int kill = 1; kill <= 2; ++kill) {
    const pid_t redis = test::redis_pid_at(socket());
    ASSERT_EQ(::kill(redis, SIGKILL), 0);
    ASSERT_TRUE(test::eventually([&] {
      try {
        return test::redis_pid_at(socket()) != redis;
      } catch (const std::exception&) {
        return false;  // not back yet
      }
    })) << daemon.log();
    ASSERT_TRUE(test::becomes_ready(port_)) << daemon.log();
  }
  EXPECT_NE(daemon.log().find("redis-server restarted"), std::string::npos);
  EXPECT_EQ(test::http_request(port_, "GET", "/healthz").status, 200);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

TEST_F(SpawnedRedisDaemon, ExitsNonZeroWhenItsRedisCannotBeRestarted) {
  auto e = env();
  const auto wrapper = wrapper_for_redis(dir_);
  e["LOA_REDIS_SERVER_BINARY"] = wrapper.string();
  e["LOA_REDIS_RESTART_ATTEMPTS"] = "1";
  test::LoaProcess daemon({"serve"}, e, dir_ / "serve.log");
  ASSERT_TRUE(test::becomes_ready(port_)) << daemon.log();
  std::filesystem::remove(wrapper);
  ASSERT_EQ(::kill(test::redis_pid_at(socket()), SIGKILL), 0);
  EXPECT_EQ(daemon.wait(60s), 1) << daemon.log();
  EXPECT_NE(daemon.log().find("giving up"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace loa::engine
