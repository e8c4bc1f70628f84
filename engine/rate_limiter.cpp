#include "engine/rate_limiter.hpp"

#include "engine/embedded.hpp"

namespace loa::engine {

RateLimiter::RateLimiter(std::shared_ptr<RedisClient> redis)
    : redis_(std::move(redis)),
      script_("rate_limit", std::string(embedded_file("lua/rate_limit.lua"))) {}

std::string RateLimiter::key(std::string_view route) {
  return "loa:{" + std::string(route) + "}:limit";
}

RateDecision RateLimiter::decide(const RedisReply& r) {
  RateDecision d;
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) return d;
  const long long verdict = r.elements[0].integer;
  if (verdict == 1) d.outcome = RateDecision::Outcome::kAllowed;
  if (verdict == -1) d.outcome = RateDecision::Outcome::kUnlimited;
  d.wait = std::chrono::microseconds(r.elements[1].integer);
  return d;
}

}  // namespace loa::engine
