// The async Redis client against a real redis-server: order, timeouts, restarts, scripts.
#include "engine/redis_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/use_future.hpp>
#include <future>
#include <thread>

#include "tests/support/redis_fixture.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

namespace asio = boost::asio;
using loa::test::IoThreads;
using loa::test::PrivateRedis;

RedisClientOptions options_for(RedisEndpoint endpoint) {
  RedisClientOptions o;
  o.endpoint = std::move(endpoint);
  o.command_timeout = std::chrono::milliseconds(2000);
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(200);
  return o;
}

// Runs one command and waits for it, returning the error code and the reply.
std::pair<boost::system::error_code, RedisReply> exec(RedisClient& client, RedisCommand cmd) {
  std::promise<std::pair<boost::system::error_code, RedisReply>> p;
  client.async_exec(std::move(cmd), [&p](boost::system::error_code ec, RedisReply r) {
    p.set_value({ec, std::move(r)});
  });
  auto f = p.get_future();
  if (f.wait_for(std::chrono::seconds(15)) != std::future_status::ready)
    return {make_error_code(RedisErrc::kTimeout), {}};
  return f.get();
}

// Retries a command until it succeeds or the deadline passes (a reconnect is in progress).
RedisReply exec_eventually(RedisClient& client, RedisCommand cmd) {
  boost::system::error_code ec;
  RedisReply reply;
  const bool done = test::wait_until([&] {
    std::tie(ec, reply) = exec(client, cmd);
    return !ec;
  });
  if (!done) ADD_FAILURE() << "still failing: " << ec.message();
  return done ? reply : RedisReply{};
}

class RedisClientTest : public ::testing::Test {
 protected:
  IoThreads io_{2};
};

TEST_F(RedisClientTest, SetGetOverUnixSocketAndTcp) {
  PrivateRedis redis;
  for (auto endpoint : {redis.unix_endpoint(), redis.tcp_endpoint()}) {
    auto client = RedisClient::create(io_.io(), options_for(endpoint));
    client->start();
    auto [ec1, set] = exec(*client, {"SET", "greeting", "Xin chào Đắk Lắk"});
    ASSERT_FALSE(ec1) << ec1.message();
    EXPECT_EQ(set.type, RedisReply::Type::kStatus);
    auto [ec2, get] = exec(*client, {"GET", "greeting"});
    ASSERT_FALSE(ec2);
    EXPECT_EQ(get.str, "Xin chào Đắk Lắk");
    auto [ec3, missing] = exec(*client, {"GET", "nothing-here"});
    ASSERT_FALSE(ec3);
    EXPECT_TRUE(missing.is_nil());
    client->close();
  }
}

TEST_F(RedisClientTest, ErrorRepliesAreRepliesNotTransportErrors) {
  auto client = RedisClient::create(io_.io(), options_for(test::shared_redis()));
  client->start();
  auto [ec, r] = exec(*client, {"NO-SUCH-COMMAND"});
  EXPECT_FALSE(ec);
  EXPECT_TRUE(r.is_error());
  EXPECT_NE(r.str.find("unknown command"), std::string::npos) << r.str;
  client->close();
}

TEST_F(RedisClientTest, PipelinedCommandsKeepTheirOrder) {
  auto client = RedisClient::create(io_.io(), options_for(test::shared_redis()));
  client->start();
  const std::string key = "order-" + std::to_string(::getpid());
  exec(*client, {"DEL", key});

  // 1) One explicit pipeline of 1000 INCRs: replies come back 1..1000 in order.
  std::vector<RedisCommand> cmds(1000, RedisCommand{"INCR", key});
  auto f = client->async_exec_pipeline(cmds, asio::use_future);
  auto replies = f.get();
  ASSERT_EQ(replies.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(replies[i].integer, i + 1) << "at " << i;

  // 2) 1000 separate commands submitted back to back without waiting: hiredis pipelines them
  //    on the one connection, and each sees the counter in submission order.
  std::vector<std::future<RedisReply>> futures;
  for (int i = 0; i < 1000; ++i)
    futures.push_back(client->async_exec({"INCR", key}, asio::use_future));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(futures[i].get().integer, 1001 + i) << "at " << i;
  client->close();
}

TEST_F(RedisClientTest, ACommandTimesOutAndTheClientCarriesOn) {
  auto options = options_for(test::shared_redis());
  options.command_timeout = std::chrono::milliseconds(200);
  auto client = RedisClient::create(io_.io(), options);
  client->start();
  ASSERT_FALSE(exec(*client, {"PING"}).first);

  const auto started = std::chrono::steady_clock::now();
  // BLPOP on an empty list holds this connection's reply for a second.
  auto [ec, r] = exec(*client, {"BLPOP", "loa-test-never-filled", "1"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ec, make_error_code(RedisErrc::kTimeout));
  EXPECT_LT(took, std::chrono::milliseconds(900));

  // Afterwards the client works again (on the same or a fresh connection).
  auto pong = exec_eventually(*client, {"PING"});
  EXPECT_EQ(pong.str, "PONG");
  client->close();
}

TEST_F(RedisClientTest, SurvivesARedisRestartAndResumes) {
  PrivateRedis redis;
  auto client = RedisClient::create(io_.io(), options_for(redis.tcp_endpoint()));
  client->start();
  ASSERT_EQ(exec_eventually(*client, {"PING"}).str, "PONG");
  const auto before = client->connection_count();

  redis.stop();
  // While it is down, commands fail (lost or timed out) rather than hang.
  auto [ec, r] = exec(*client, {"PING"});
  EXPECT_TRUE(ec) << "a command succeeded with Redis stopped";

  redis.restart();
  EXPECT_EQ(exec_eventually(*client, {"SET", "after", "restart"}).str, "OK");
  EXPECT_EQ(exec_eventually(*client, {"GET", "after"}).str, "restart");
  EXPECT_GT(client->connection_count(), before);
  client->close();
}

TEST_F(RedisClientTest, CommandsSubmittedWhileDownGoOutOnReconnect) {
  PrivateRedis redis;
  auto options = options_for(redis.unix_endpoint());
  options.command_timeout = std::chrono::milliseconds(5000);
  auto client = RedisClient::create(io_.io(), options);
  client->start();
  ASSERT_EQ(exec_eventually(*client, {"PING"}).str, "PONG");
  redis.stop();
  ASSERT_TRUE(test::wait_until([&] { return !client->connected(); }));  // it has noticed
  auto pending = client->async_exec({"SET", "queued", "yes"}, asio::use_future);
  // The scenario: the command waits through a real outage, not only the restart's instant.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  redis.restart();
  EXPECT_EQ(pending.get().str, "OK");
  EXPECT_EQ(redis.command("GET queued"), "yes");
  client->close();
}

TEST_F(RedisClientTest, ScriptsRecoverFromNoscript) {
  auto client = RedisClient::create(io_.io(), options_for(test::shared_redis()));
  client->start();
  RedisScript script("add", "return tonumber(ARGV[1]) + tonumber(ARGV[2])");
  auto r1 = client->async_eval(script, {}, {"40", "2"}, asio::use_future).get();
  EXPECT_EQ(r1.integer, 42);

  // The server forgets every script (as after a restart without persistence).
  exec(*client, {"SCRIPT", "FLUSH"});
  auto r2 = client->async_eval(script, {}, {"1", "2"}, asio::use_future).get();
  EXPECT_EQ(r2.integer, 3) << r2.str;

  // The same recovery inside a pipeline, for the EVALSHAs only.
  exec(*client, {"SCRIPT", "FLUSH"});
  auto replies = client
                     ->async_exec_pipeline({client->eval_command(script, {}, {"5", "5"}),
                                            {"PING"},
                                            client->eval_command(script, {}, {"1", "1"})},
                                           asio::use_future)
                     .get();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].integer, 10);
  EXPECT_EQ(replies[1].str, "PONG");
  EXPECT_EQ(replies[2].integer, 2);
  client->close();
}

TEST_F(RedisClientTest, PushesBackWhenTooManyArePending) {
  PrivateRedis redis;
  auto options = options_for(redis.unix_endpoint());
  options.max_pending = 3;
  options.command_timeout = std::chrono::milliseconds(3000);
  auto client = RedisClient::create(io_.io(), options);
  client->start();
  ASSERT_EQ(exec_eventually(*client, {"PING"}).str, "PONG");
  redis.pause();  // nothing is answered, so commands stay pending
  std::vector<std::future<RedisReply>> held;
  for (int i = 0; i < 3; ++i) held.push_back(client->async_exec({"PING"}, asio::use_future));
  auto [ec, r] = exec(*client, {"PING"});
  EXPECT_EQ(ec, make_error_code(RedisErrc::kQueueFull));
  redis.resume();
  for (auto& f : held) EXPECT_EQ(f.get().str, "PONG");
  client->close();
}

TEST_F(RedisClientTest, CloseFailsWhatIsWaiting) {
  auto options = options_for(RedisEndpoint::parse("unix:///tmp/loa-no-such-redis.sock"));
  options.command_timeout = std::chrono::milliseconds(5000);
  auto client = RedisClient::create(io_.io(), options);
  client->start();
  std::promise<boost::system::error_code> p;
  client->async_exec({"PING"}, [&](boost::system::error_code ec, RedisReply) { p.set_value(ec); });
  client->close();
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_EQ(f.get(), make_error_code(RedisErrc::kClosed));
}

}  // namespace
}  // namespace loa::engine
