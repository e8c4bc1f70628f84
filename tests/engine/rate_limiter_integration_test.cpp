// The Redis rate limiter against a real redis-server: cost in segments, live rate changes,
// one limit shared by independent connections.
#include "engine/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "tests/support/redis_fixture.hpp"

namespace loa::engine {
namespace {

namespace asio = boost::asio;
using test::IoThreads;

std::shared_ptr<RedisClient> connect(IoThreads& io) {
  RedisClientOptions o;
  o.endpoint = test::shared_redis();
  auto c = RedisClient::create(io.io(), o);
  c->start();
  return c;
}

std::string unique_route(const char* name) {
  return std::string(name) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

TEST(RateLimiter, KeysShareTheRoutesHashTag) {
  EXPECT_EQ(RateLimiter::key("sms-viettel"), "loa:{sms-viettel}:limit");
}

TEST(RateLimiter, BurstThenWaitCountedInSegments) {
  IoThreads io;
  auto redis = connect(io);
  RateLimiter limiter(redis);
  const auto route = unique_route("burst");
  EXPECT_EQ(limiter.async_acquire(route, 1, asio::use_future).get().outcome,
            RateDecision::Outcome::kUnlimited);
  limiter.async_set_rate(route, 10, 10, asio::use_future).get();
  // Ten segments of burst: a 3-segment message, then seven single ones.
  EXPECT_EQ(limiter.async_acquire(route, 3, asio::use_future).get().outcome,
            RateDecision::Outcome::kAllowed);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(limiter.async_acquire(route, 1, asio::use_future).get().outcome,
              RateDecision::Outcome::kAllowed)
        << i;
  const RateDecision denied = limiter.async_acquire(route, 1, asio::use_future).get();
  EXPECT_EQ(denied.outcome, RateDecision::Outcome::kWait);
  EXPECT_GT(denied.wait.count(), 0);
  EXPECT_LE(denied.wait.count(), 100000 + 1000);  // one segment at 10/s: at most ~100 ms
  // A message dearer than the burst still passes when the bucket is full.
  const auto other = unique_route("dear");
  limiter.async_set_rate(other, 1000, 1, asio::use_future).get();
  EXPECT_EQ(limiter.async_acquire(other, 5, asio::use_future).get().outcome,
            RateDecision::Outcome::kAllowed);
  // At 1 segment/s the second message waits about a second.
  const auto live = unique_route("live");
  limiter.async_set_rate(live, 1, 1, asio::use_future).get();
  EXPECT_EQ(limiter.async_acquire(live, 1, asio::use_future).get().outcome,
            RateDecision::Outcome::kAllowed);
  const auto slow = limiter.async_acquire(live, 1, asio::use_future).get();
  EXPECT_EQ(slow.outcome, RateDecision::Outcome::kWait);
  EXPECT_GT(slow.wait.count(), 900000);  // about a second at 1/s
  redis->close();
}

// Two connections (as two dispatchers would have) take from one limit of 50 segments/s for
// two seconds; together they get 50/s, not 50/s each. Bounds are generous: exact accuracy is
// the benchmark's business.
TEST(RateLimiter, OneLimitSharedByTwoDispatchers) {
  IoThreads io;
  auto a = connect(io);
  auto b = connect(io);
  RateLimiter la(a), lb(b);
  const auto route = unique_route("shared");
  la.async_set_rate(route, 50, 1, asio::use_future).get();
  std::atomic<int> allowed{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto worker = [&](RateLimiter& l) {
    while (std::chrono::steady_clock::now() < deadline) {
      const RateDecision d = l.async_acquire(route, 1, asio::use_future).get();
      if (d.outcome == RateDecision::Outcome::kAllowed) {
        ++allowed;
      } else {
        // The scenario: a caller that waits as the limiter says (capped, to keep trying).
        std::this_thread::sleep_for(
            std::min<std::chrono::microseconds>(d.wait, std::chrono::milliseconds(5)));
      }
    }
  };
  std::thread ta(worker, std::ref(la)), tb(worker, std::ref(lb));
  ta.join();
  tb.join();
  EXPECT_GE(allowed.load(), 80);
  EXPECT_LE(allowed.load(), 110);
  a->close();
  b->close();
}

}  // namespace
}  // namespace loa::engine
