// What the benchmarks that fill a route queue share: a message like a campaign's, enqueueing
// many through the real RouteQueue, and figures from a private Redis (INFO) and from this
// process (getrusage). Header-only; used from a benchmark's own thread.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/route_queue.hpp"
#include "tests/support/redis_fixture.hpp"

namespace loa::bench {

inline double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline double info_field(const test::PrivateRedis& redis, const std::string& section,
                         const std::string& field) {
  const std::string info = redis.command("INFO " + section);
  const auto at = info.find(field + ":");
  if (at == std::string::npos) return 0;
  return std::atof(info.c_str() + at + field.size() + 1);
}

inline double redis_cpu_seconds(const test::PrivateRedis& redis) {
  return info_field(redis, "cpu", "used_cpu_user") + info_field(redis, "cpu", "used_cpu_sys");
}

inline std::string sample_body() {
  return "Ho tro BHYT 2026: ho ngheo, can ngheo duoc ho tro 100% muc dong. Lien he can bo xa "
         "hoac goi 0262 3852 xxx.";
}

inline engine::QueuedMessage message(long long id) {
  engine::QueuedMessage m;
  m.id = id;
  m.campaign_id = 1 + id % 2;  // two campaigns share the route
  m.household_id = id;
  m.channel = "sms";
  m.phone = "+849" + std::to_string(10000000 + id % 89999999);
  m.expires_at = 4102444800;
  m.quiet_hours = "";
  m.body = sample_body();
  return m;
}

// Enqueues messages first .. first+n-1 in chunks; cost_pattern 1 makes them cost 1 and 2
// segments in turn.
inline void enqueue(test::IoThreads& io, engine::RouteQueue& queue, long long first, long long n,
                    int cost_pattern = 0) {
  namespace asio = boost::asio;
  constexpr long long kChunk = 5000;
  for (long long at = 0; at < n; at += kChunk) {
    std::vector<engine::QueuedMessage> ms;
    for (long long i = at; i < std::min(n, at + kChunk); ++i) {
      ms.push_back(message(first + i));
      if (cost_pattern) ms.back().units = 1 + static_cast<int>(i % 2);
    }
    auto [ec, count] = asio::co_spawn(io.io(), queue.enqueue(std::move(ms)), asio::use_future).get();
    if (ec) std::abort();
  }
}

// A route of a private Redis (AOF on, as in the embedded mode) with a client on two io threads
// and the route's queue, its rate set to unlimited.
struct BenchRoute {
  explicit BenchRoute(const std::string& route = "bench") {
    engine::RedisClientOptions o;
    o.endpoint = redis.unix_endpoint();
    o.max_pending = 1000000;
    client = engine::RedisClient::create(io.io(), o);
    client->start();
    queue = std::make_unique<engine::RouteQueue>(client, route);
    namespace asio = boost::asio;
    if (asio::co_spawn(io.io(), queue->set_rate(0, 1), asio::use_future).get()) std::abort();
  }
  test::PrivateRedis redis{/*appendonly=*/true};
  test::IoThreads io{2};
  std::shared_ptr<engine::RedisClient> client;
  std::unique_ptr<engine::RouteQueue> queue;
};

}  // namespace loa::bench
