// Per-route rate limits enforced in Redis, atomically, in the gateway's cost unit (DESIGN.md
// 3.3): one GCRA script (engine/lua/rate_limit.lua) that reads Redis TIME, so every dispatcher
// process on every machine shares the limit exactly.
//
// Contract:
//  - Keys are loa:{route}:limit, with the route as the Redis Cluster hash tag (DESIGN.md 3.4);
//    the script receives its key in KEYS.
//  - The rate (units per second) and the burst (units) are values in that hash, so
//    async_set_rate changes them live for every dispatcher.
//  - async_acquire(route, cost) answers allowed, or the time to wait; a route with no rate
//    configured answers kUnlimited and the caller decides (the dispatcher refuses to send).
//
// Thread-safety: safe from any thread (it only submits to the RedisClient).
#pragma once

#include <boost/asio/async_result.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "engine/redis_client.hpp"

namespace loa::engine {

struct RateDecision {
  enum class Outcome { kAllowed, kWait, kUnlimited };
  Outcome outcome = Outcome::kWait;
  std::chrono::microseconds wait{0};
};

class RateLimiter {
 public:
  explicit RateLimiter(std::shared_ptr<RedisClient> redis);

  static std::string key(std::string_view route);

  // Signature: void(error_code, RateDecision).
  template <class Token>
  auto async_acquire(std::string_view route, int cost, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, RateDecision)>(
        [this](auto handler, std::string k, int c) {
          redis_->async_eval(
              script_, {std::move(k)}, {std::to_string(c)},
              [h = std::move(handler)](boost::system::error_code ec, RedisReply r) mutable {
                if (!ec && r.is_error()) ec = make_error_code(RedisErrc::kErrorReply);
                std::move(h)(ec, decide(r));
              });
        },
        token, key(route), cost);
  }

  // Signature: void(error_code, RedisReply).
  template <class Token>
  auto async_set_rate(std::string_view route, int units_per_second, int burst, Token&& token) {
    return redis_->async_exec({"HSET", key(route), "rate", std::to_string(units_per_second),
                               "burst", std::to_string(burst)},
                              std::forward<Token>(token));
  }

 private:
  static RateDecision decide(const RedisReply& reply);
  std::shared_ptr<RedisClient> redis_;
  RedisScript script_;
};

}  // namespace loa::engine
