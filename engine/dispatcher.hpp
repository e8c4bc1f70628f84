// The dispatcher of one route: pops leased batches from the route's queues (RouteQueue),
// checks each message again at the moment it leaves (DESIGN.md 3.6), sends through the
// route's gateway, and settles the batch: outcomes go to the results stream, failures are
// retried with backoff or failed, and the route's circuit breaker opens on a run of
// failures.
//
// Checks at dispatch, in order:
//  - a paused campaign: the message goes back to the head of its lane;
//  - validity: at or after the campaign's end the message is `expired`;
//  - quiet hours (the campaign's, in Vietnam time): the campaign's lane sleeps until the
//    window opens, with the message back at its head (a priority message waits in the
//    delayed set instead);
//  - opt-out: a household in loa:{optout}:sms or loa:{optout}:zalo (by channel) is `cancelled`,
//    reason "opted out", including messages queued before the opt-out; except answers to a
//    household that wrote (QueuedMessage::reply: an opt-out confirmation, an operator's
//    answer; campaigns/inbox.hpp), which answer what the household itself sent;
//  - the frequency cap: over its cap (engine/lua/frequency_cap.lua) the message is
//    `cancelled`, reason "frequency cap".
// Gateway outcomes (adapters/gateway.hpp): accepted -> sent; retryable/auth -> retried with
// backoff until max_attempts, then failed; maybe_sent (the request went out, no answer came)
// -> the same, but retried only after the longer of retry_unknown_after and the breaker's
// remaining cooldown: a receipt that arrives meanwhile marks the message sent in Redis
// (engine/receipt_relay.hpp), and the pop then drops the retry (engine/lua/route_pop.lua) (a
// breaker probe that fails spends no attempt: the route is down, the message waits); throttled ->
// retried after throttle_backoff with no attempt spent, and the route rests (a throttled breaker
// probe hands its permit back: the breaker stays half-open and probes again after the rest);
// permanent and unreachable -> failed (fallback to another channel is issue [6/10]).
//
// The circuit breaker (engine/retry_policy.hpp) probes after a short first cooldown that
// doubles with each opening; every change of its state is logged.
//
// Contract: start() spawns `workers` coroutines on the io_context; stop() asks them to finish
// the batch in hand and returns once they have (bounded by the gateway's own timeouts).
// A dispatcher needs only Redis and its gateway, never the store (DESIGN.md 5). Policy times
// (validity, quiet hours, the cap's window) come from the injected Clock; leases, retries and
// the rate limit use Redis TIME.
//
// Thread-safety: start/stop from one thread; stats() from any thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "adapters/gateway.hpp"
#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/redis_client.hpp"
#include "engine/retry_policy.hpp"
#include "engine/route_queue.hpp"

namespace loa::engine {

struct DispatcherSettings {
  int batch = 256;
  int workers = 4;
  std::chrono::milliseconds lease{30000};
  int max_attempts = 5;
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_max{600000};
  int breaker_failures = 20;
  std::chrono::milliseconds breaker_first_cooldown{1000};  // doubles per opening...
  std::chrono::milliseconds breaker_cooldown{30000};       // ...up to this
  // A send whose outcome is unknown (kMaybeSent) is retried after the longer of this and the
  // breaker's remaining cooldown, so that its receipt has time to arrive and cancel it.
  std::chrono::milliseconds retry_unknown_after{60000};
  std::chrono::milliseconds throttle_backoff{1000};
  long long results_backlog = 20000;
  std::chrono::milliseconds idle{200};
  std::chrono::seconds mark_retention{86400};
  int rate_per_second = 0;  // written to Redis when the route has no limit there
  int burst = 1;

  static DispatcherSettings from(const Config& config, std::string_view route);
};

struct DispatcherStats {
  long long batches = 0, popped = 0, sent = 0, retried = 0, failed = 0, expired = 0,
            opted_out = 0, capped = 0, parked = 0, redis_errors = 0, breaker_opened = 0;
};

class Dispatcher {
 public:
  Dispatcher(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis, std::string route,
             std::shared_ptr<adapters::Gateway> gateway, DispatcherSettings settings,
             const Clock& clock);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  void stop();

  const std::string& route() const { return queue_.route(); }
  DispatcherStats stats() const;
  CircuitBreaker::State breaker_state() const { return breaker_.state(); }

  // The opt-out sets the dispatcher reads; the planner side keeps them (engine/enqueuer.hpp).
  static std::string optout_key(std::string_view channel);  // "loa:{optout}:sms" / ":zalo"
  static std::string frequency_key(long long household_id);   // "loa:fcap:{h<id>}"

 private:
  struct Counters;
  boost::asio::awaitable<void> work();
  boost::asio::awaitable<void> handle(PopResult pop, bool probe);
  boost::asio::awaitable<std::vector<adapters::SendResult>> send(
      std::vector<adapters::OutboundMessage> batch);
  boost::asio::awaitable<void> sleep(std::chrono::microseconds d);
  double jitter();
  void log_breaker(const CircuitBreaker::Transition& t) const;

  boost::asio::io_context& io_;
  std::shared_ptr<RedisClient> redis_;
  RouteQueue queue_;
  std::shared_ptr<adapters::Gateway> gateway_;
  DispatcherSettings settings_;
  const Clock& clock_;
  CircuitBreaker breaker_;
  RedisScript frequency_script_;
  std::unique_ptr<Counters> counters_;

  std::atomic<bool> stopping_{false};
  std::atomic<long long> rest_until_us_{0};  // steady-clock µs: throttled, rest until then
  std::mutex mutex_;
  std::condition_variable finished_;
  int running_ = 0;  // guarded by mutex_
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
};

}  // namespace loa::engine
