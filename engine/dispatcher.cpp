#include "engine/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <set>
#include <unordered_set>

#include "campaigns/fault_point.hpp"
#include "campaigns/local_time.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/embedded.hpp"
#include "engine/metrics.hpp"

namespace loa::engine {
namespace {

// The route's failure counters and send-duration histogram (engine/metrics.hpp), found once.
struct RouteMetrics {
  metrics::Counter *retryable, *auth, *throttled, *permanent, *unreachable, *maybe_sent;
  metrics::Histogram* send_duration;
};

const RouteMetrics& route_metrics(const std::string& route) {
  static std::mutex mutex;
  static std::map<std::string, RouteMetrics> by_route;
  std::lock_guard lock(mutex);
  auto it = by_route.find(route);
  if (it != by_route.end()) return it->second;
  auto& reg = metrics::Registry::global();
  auto failure = [&](const char* cls) {
    return &reg.counter("loa_send_failures_total",
                        "Failed gateway sends by the adapter's error class",
                        {{"route", route}, {"class", cls}});
  };
  RouteMetrics m{
      failure("retryable"),
      failure("auth"),
      failure("throttled"),
      failure("permanent"),
      failure("unreachable"),
      failure("maybe_sent"),
      &reg.histogram("loa_send_duration_seconds", "Time one gateway call (a batch of sends) took",
                     {{"route", route}})};
  return by_route.emplace(route, m).first->second;
}

}  // namespace

namespace {

using adapters::SendClass;
using boost::asio::awaitable;
using campaigns::OutboxEvent;
constexpr auto kAwait = boost::asio::as_tuple(boost::asio::use_awaitable);
constexpr std::chrono::milliseconds kLongestNap{250};  // so stop() is seen promptly

long long steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

long long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

OutboxEvent event(OutboxEvent::Kind kind, const QueuedMessage& m, std::string reason = {}) {
  OutboxEvent e;
  e.kind = kind;
  e.message_id = m.id;
  e.attempts = m.attempts;
  e.reason = std::move(reason);
  e.at_ms = wall_ms();
  return e;
}

bool is_zalo(std::string_view channel) { return channel.rfind("zalo", 0) == 0; }

}  // namespace

DispatcherSettings DispatcherSettings::from(const Config& config, std::string_view route) {
  const DispatcherConfig& d = config.dispatcher;
  DispatcherSettings s;
  s.batch = d.batch;
  s.workers = d.workers;
  s.lease = std::chrono::milliseconds(d.lease_ms);
  s.max_attempts = d.max_attempts;
  s.retry_base = std::chrono::milliseconds(d.retry_base_ms);
  s.retry_max = std::chrono::milliseconds(d.retry_max_ms);
  s.breaker_failures = d.breaker_failures;
  s.breaker_first_cooldown = std::chrono::milliseconds(d.breaker_first_cooldown_ms);
  s.breaker_cooldown = std::chrono::milliseconds(d.breaker_cooldown_ms);
  s.retry_unknown_after = std::chrono::seconds(route_gateway(config, route).retry_unknown_after_s);
  s.throttle_backoff = std::chrono::milliseconds(d.throttle_backoff_ms);
  s.results_backlog = d.results_backlog;
  s.idle = std::chrono::milliseconds(d.idle_ms);
  s.rate_per_second = route_rate(config, route);
  s.burst = route_gateway(config, route).burst;
  return s;
}

struct Dispatcher::Counters {
  std::atomic<long long> batches{0}, popped{0}, sent{0}, retried{0}, failed{0}, expired{0},
      opted_out{0}, capped{0}, parked{0}, redis_errors{0};
};

Dispatcher::Dispatcher(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis,
                       std::string route, std::shared_ptr<adapters::Gateway> gateway,
                       DispatcherSettings settings, const Clock& clock)
    : io_(io),
      redis_(redis),
      queue_(std::move(redis), std::move(route)),
      gateway_(std::move(gateway)),
      settings_(settings),
      clock_(clock),
      breaker_(settings.breaker_failures, settings.breaker_first_cooldown,
               settings.breaker_cooldown,
               [this](const CircuitBreaker::Transition& t) { log_breaker(t); }),
      frequency_script_("frequency_cap", std::string(embedded_file("lua/frequency_cap.lua"))),
      counters_(std::make_unique<Counters>()),
      rng_(std::random_device{}()) {}

Dispatcher::~Dispatcher() { stop(); }

std::string Dispatcher::optout_key(std::string_view channel) {
  return is_zalo(channel) ? "loa:{optout}:zalo" : "loa:{optout}:sms";
}

std::string Dispatcher::frequency_key(long long household_id) {
  return "loa:fcap:{h" + std::to_string(household_id) + "}";
}

void Dispatcher::start() {
  stopping_ = false;
  {
    std::lock_guard lock(mutex_);
    running_ = settings_.workers + 1;
  }
  // The configuration is the route's limit at start; an operator's live change (HSET on
  // loa:{route}:limit) lasts until the next start.
  boost::asio::co_spawn(
      boost::asio::make_strand(io_),
      [this]() -> awaitable<void> {
        auto ec = co_await queue_.set_rate(settings_.rate_per_second, settings_.burst);
        if (ec)
          spdlog::warn("dispatcher {}: could not set the rate limit yet ({}); will on first pop",
                       route(), ec.message());
      },
      [this](std::exception_ptr) {
        std::lock_guard lock(mutex_);
        if (--running_ == 0) finished_.notify_all();
      });
  for (int i = 0; i < settings_.workers; ++i) {
    boost::asio::co_spawn(boost::asio::make_strand(io_), work(), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("dispatcher {}: worker stopped: {}", route(), ex.what());
        }
      }
      std::lock_guard lock(mutex_);
      if (--running_ == 0) finished_.notify_all();
    });
  }
  spdlog::info("dispatcher {}: {} workers, batches of {}, lease {} ms", route(), settings_.workers,
               settings_.batch, settings_.lease.count());
}

void Dispatcher::stop() {
  stopping_ = true;
  std::unique_lock lock(mutex_);
  if (running_ == 0) return;
  // Workers finish the batch in hand; a gateway that never answers is bounded by the lease.
  if (!finished_.wait_for(lock, settings_.lease + std::chrono::seconds(5),
                          [this] { return running_ == 0; }))
    spdlog::warn("dispatcher {}: {} workers still busy at shutdown; their leases will expire",
                 route(), running_);
}

DispatcherStats Dispatcher::stats() const {
  DispatcherStats s;
  s.batches = counters_->batches;
  s.popped = counters_->popped;
  s.sent = counters_->sent;
  s.retried = counters_->retried;
  s.failed = counters_->failed;
  s.expired = counters_->expired;
  s.opted_out = counters_->opted_out;
  s.capped = counters_->capped;
  s.parked = counters_->parked;
  s.redis_errors = counters_->redis_errors;
  s.breaker_opened = breaker_.times_opened();
  return s;
}

void Dispatcher::log_breaker(const CircuitBreaker::Transition& t) const {
  using State = CircuitBreaker::State;
  if (t.to == State::kOpen)
    spdlog::warn(
        "dispatcher {}: circuit breaker {} -> open after {} consecutive failures; "
        "probing again in {} ms",
        route(), to_string(t.from), t.failures, t.cooldown.count());
  else if (t.to == State::kHalfOpen)
    spdlog::info("dispatcher {}: circuit breaker open -> half-open: one probe send", route());
  else
    spdlog::info("dispatcher {}: circuit breaker {} -> closed: the gateway answers again", route(),
                 to_string(t.from));
}

double Dispatcher::jitter() {
  std::lock_guard lock(rng_mutex_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

awaitable<void> Dispatcher::sleep(std::chrono::microseconds d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(std::clamp<std::chrono::microseconds>(d, std::chrono::microseconds(100),
                                                            kLongestNap));
  co_await timer.async_wait(kAwait);
}

awaitable<void> Dispatcher::work() {
  std::vector<std::string> lanes;  // the bulk lanes whose keys we pass to the pop script
  const std::chrono::microseconds idle = settings_.idle;
  int consecutive_errors = 0;
  while (!stopping_) {
    const long long rest = rest_until_us_.load() - steady_us();
    if (rest > 0) {
      co_await sleep(std::chrono::microseconds(rest));
      continue;
    }
    const auto permit = breaker_.permit(std::chrono::steady_clock::now());
    if (permit == CircuitBreaker::Permit::kWait) {
      co_await sleep(idle);
      continue;
    }
    const bool probe = permit == CircuitBreaker::Permit::kProbe;
    const int max = probe ? 1 : settings_.batch;
    const long long now_unix = clock_.now().time_since_epoch().count();
    auto [ec, pop] =
        co_await queue_.pop(max, settings_.lease, now_unix, settings_.results_backlog, lanes);
    if (ec || pop.code != PopResult::Code::kOk) {
      if (probe) breaker_.release_probe();
    }
    if (ec) {
      ++counters_->redis_errors;
      if (consecutive_errors++ % 50 == 0)
        spdlog::warn("dispatcher {}: pop failed: {}", route(), ec.message());
      co_await sleep(idle);
      continue;
    }
    consecutive_errors = 0;
    bool stale = false;
    if (!pop.lanes.empty() || static_cast<int>(pop.items.size()) < max) {
      stale = pop.lanes != lanes;
      lanes = pop.lanes;
    }
    const auto wait = pop.wait;
    switch (pop.code) {
      case PopResult::Code::kNoRate: {
        // Redis lost the route's limit (a flush, a new server): put the configured one back.
        auto set_ec = co_await queue_.set_rate(settings_.rate_per_second, settings_.burst);
        if (set_ec) co_await sleep(idle);
        continue;
      }
      case PopResult::Code::kEmpty:
        if (stale) continue;
        co_await sleep(wait.count() > 0 ? std::min(wait, idle) : idle);
        continue;
      case PopResult::Code::kLimited:
      case PopResult::Code::kBackpressure:
        co_await sleep(wait);
        continue;
      case PopResult::Code::kOk:
        break;
    }
    co_await handle(std::move(pop), probe);
    if (wait.count() > 0) co_await sleep(wait);
  }
}

awaitable<void> Dispatcher::handle(PopResult pop, bool probe) {
  ++counters_->batches;
  counters_->popped += static_cast<long long>(pop.items.size());
  const campaigns::TimePoint now = clock_.now();
  const long long now_unix = now.time_since_epoch().count();
  std::set<long long> paused;  // campaign ids (usually none): parsed once per batch
  for (const auto& cid : pop.paused) {
    long long id = 0;
    std::from_chars(cid.data(), cid.data() + cid.size(), id);
    paused.insert(id);
  }

  std::vector<SettleOp> ops;
  std::vector<SettleOp> parked;  // settled last, in reverse, so each lane keeps its order
  std::vector<OutboxEvent> events;
  std::vector<QueuedMessage> candidates;
  candidates.reserve(pop.items.size());

  auto park = [&parked, this](const QueuedMessage& m, long long wake) {
    SettleOp op;
    op.kind = SettleOp::Kind::kPark;
    op.id = std::to_string(m.id);
    op.campaign_id = m.campaign_id;  // a paused priority message waits in its campaign's lane
    op.wake_at = wake;
    parked.push_back(std::move(op));
    ++counters_->parked;
  };
  auto final_op = [&ops](const std::string& id) {
    SettleOp op;
    op.kind = SettleOp::Kind::kFinal;
    op.id = id;
    ops.push_back(std::move(op));
  };
  auto retry_op = [&ops](const QueuedMessage& m, std::chrono::microseconds delay) {
    SettleOp op;
    op.kind = SettleOp::Kind::kRetry;
    op.id = std::to_string(m.id);
    op.delay = delay;
    op.payload = m.encode();
    ops.push_back(std::move(op));
  };

  for (auto& [id, payload] : pop.items) {
    long long numeric = 0;
    std::from_chars(id.data(), id.data() + id.size(), numeric);
    auto m = QueuedMessage::decode(numeric, payload);
    if (!m) {
      spdlog::error("dispatcher {}: message {} has an unreadable payload; failing it", route(),
                    id);
      final_op(id);
      QueuedMessage stub;
      stub.id = numeric;
      events.push_back(event(OutboxEvent::Kind::kFailed, stub, "unreadable queue payload"));
      ++counters_->failed;
      continue;
    }
    if (!paused.empty() && paused.count(m->campaign_id)) {
      park(*m, 0);
      continue;
    }
    if (m->expires_at > 0 && now_unix >= m->expires_at) {
      final_op(id);
      events.push_back(event(OutboxEvent::Kind::kExpired, *m, "past the campaign's end"));
      ++counters_->expired;
      continue;
    }
    if (!m->quiet_hours.empty()) {
      auto quiet = campaigns::QuietHours::parse(m->quiet_hours);
      if (quiet && quiet->contains(now)) {
        const long long wake = quiet->next_allowed(now).time_since_epoch().count();
        if (m->priority)
          retry_op(*m, std::chrono::seconds(wake - now_unix));
        else
          park(*m, wake);
        continue;
      }
    }
    candidates.push_back(std::move(*m));
  }

  // Opt-outs and frequency caps, for the whole batch in one round trip.
  if (!candidates.empty()) {
    std::vector<RedisCommand> checks;
    std::vector<std::size_t> sms_index, zalo_index, cap_index;
    RedisCommand sms{"SMISMEMBER", optout_key("sms")};
    RedisCommand zalo{"SMISMEMBER", optout_key("zalo")};
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i].reply) continue;  // an answer to what the household wrote
      auto& target = is_zalo(candidates[i].channel) ? zalo : sms;
      (is_zalo(candidates[i].channel) ? zalo_index : sms_index).push_back(i);
      target.push_back(std::to_string(candidates[i].household_id));
    }
    if (!sms_index.empty()) checks.push_back(std::move(sms));
    if (!zalo_index.empty()) checks.push_back(std::move(zalo));
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const auto& m = candidates[i];
      if (m.frequency_cap <= 0 || m.frequency_window_days <= 0) continue;
      cap_index.push_back(i);
      checks.push_back(redis_->eval_command(
          frequency_script_, {frequency_key(m.household_id)},
          {std::to_string(now_unix), std::to_string(m.frequency_window_days * 86400LL),
           std::to_string(m.frequency_cap), std::to_string(m.id)}));
    }
    auto [ec, replies] = co_await redis_->async_exec_pipeline(std::move(checks), kAwait);
    bool ok = !ec && replies.size() == (sms_index.empty() ? 0 : 1) +
                                           (zalo_index.empty() ? 0 : 1) + cap_index.size();
    for (const auto& r : replies) ok = ok && !r.is_error();
    if (!ok) {
      // Without the checks nothing may leave; try the batch again shortly.
      ++counters_->redis_errors;
      spdlog::warn("dispatcher {}: dispatch checks failed ({}); retrying the batch", route(),
                   ec ? ec.message() : "error reply");
      for (const auto& m : candidates) retry_op(m, std::chrono::seconds(1));
      candidates.clear();
    } else {
      std::vector<char> drop(candidates.size(), 0);
      std::size_t next = 0;
      for (const auto* index : {&sms_index, &zalo_index}) {
        if (index->empty()) continue;
        const auto& r = replies[next++];
        for (std::size_t k = 0; k < index->size() && k < r.elements.size(); ++k)
          if (r.elements[k].integer == 1) drop[(*index)[k]] = 1;
      }
      for (std::size_t k = 0; k < cap_index.size(); ++k)
        if (!drop[cap_index[k]] && replies[next + k].integer == 0) drop[cap_index[k]] = 2;
      std::vector<QueuedMessage> keep;
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (!drop[i]) {
          keep.push_back(std::move(candidates[i]));
          continue;
        }
        final_op(std::to_string(candidates[i].id));
        events.push_back(event(OutboxEvent::Kind::kCancelled, candidates[i],
                               drop[i] == 1 ? "opted out" : "frequency cap"));
        ++(drop[i] == 1 ? counters_->opted_out : counters_->capped);
      }
      candidates = std::move(keep);
    }
  }

  if (!candidates.empty()) {
    std::vector<adapters::OutboundMessage> batch;
    batch.reserve(candidates.size());
    for (const auto& m : candidates)
      batch.push_back({std::to_string(m.id), m.channel, m.phone, m.zalo_user, m.body, m.units});
    const auto send_started = std::chrono::steady_clock::now();
    // A `sent` is stamped when the request left, not when its answer came: a receipt can
    // arrive before the answer, and delivery times must not be negative.
    const long long send_started_ms = wall_ms();
    auto results = co_await send(std::move(batch));
    const auto steady_now = std::chrono::steady_clock::now();
    const RouteMetrics& metrics = route_metrics(route());
    metrics.send_duration->observe(std::chrono::duration<double>(steady_now - send_started).count());
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      auto& m = candidates[i];
      adapters::SendResult r =
          i < results.size() ? results[i]
                             : adapters::SendResult{SendClass::kRetryable, "", "gateway answered short"};
      switch (r.outcome) {
        case SendClass::kAccepted: {
          ++m.attempts;
          SettleOp op;
          op.kind = SettleOp::Kind::kSent;
          op.id = std::to_string(m.id);
          ops.push_back(std::move(op));
          auto e = event(OutboxEvent::Kind::kSent, m);
          e.provider_id = r.provider_id;
          e.at_ms = send_started_ms;
          events.push_back(std::move(e));
          ++counters_->sent;
          breaker_.record_success();
          break;
        }
        case SendClass::kThrottled:
          metrics.throttled->add();
          rest_until_us_ = steady_us() + settings_.throttle_backoff.count() * 1000;
          retry_op(m, settings_.throttle_backoff);
          ++counters_->retried;
          // "Slow down" says nothing about whether the route works: a throttled probe neither
          // closes nor reopens the breaker, but it must hand its permit back, or the breaker
          // stays half-open with a probe in flight forever and the route never sends again.
          if (probe) breaker_.release_probe();
          break;
        case SendClass::kRetryable:
        case SendClass::kAuth:
        case SendClass::kMaybeSent: {
          const bool maybe_sent = r.outcome == SendClass::kMaybeSent;
          (maybe_sent                      ? metrics.maybe_sent
           : r.outcome == SendClass::kAuth ? metrics.auth
                                           : metrics.retryable)
              ->add();
          // A failed probe says the route is still down, not that this message is bad: it
          // spends no attempt, or a long outage would fail the messages that happened to be
          // probed (one per cooldown) while the others wait.
          if (!probe) ++m.attempts;
          breaker_.record_failure(steady_now);
          if (m.attempts >= settings_.max_attempts) {
            final_op(std::to_string(m.id));
            events.push_back(event(OutboxEvent::Kind::kFailed, m, r.reason));
            ++counters_->failed;
            break;
          }
          auto delay = retry_delay(m.attempts, settings_.retry_base, settings_.retry_max, jitter());
          if (maybe_sent) {
            // The gateway may have the message and may still report it: wait for its receipt
            // (which cancels this retry) at least retry_unknown_after, and at least until the
            // breaker would let a send through again.
            const auto reopen = std::chrono::duration_cast<std::chrono::microseconds>(
                breaker_.reopen_at() - steady_now);
            delay = std::max({delay, std::chrono::microseconds(settings_.retry_unknown_after),
                              breaker_.state() == CircuitBreaker::State::kClosed
                                  ? std::chrono::microseconds(0)
                                  : reopen});
          }
          retry_op(m, delay);
          ++counters_->retried;
          break;
        }
        case SendClass::kPermanent:
        case SendClass::kUnreachable:
          // The gateway answered: the route works, the message cannot go.
          (r.outcome == SendClass::kUnreachable ? metrics.unreachable : metrics.permanent)->add();
          ++m.attempts;
          breaker_.record_success();
          final_op(std::to_string(m.id));
          events.push_back(event(OutboxEvent::Kind::kFailed, m,
                                 r.outcome == SendClass::kUnreachable ? "unreachable: " + r.reason
                                                                      : r.reason));
          ++counters_->failed;
          break;
      }
    }
  } else if (probe) {
    breaker_.release_probe();
  }

  ops.insert(ops.end(), std::make_move_iterator(parked.rbegin()),
             std::make_move_iterator(parked.rend()));
  std::string encoded = events.empty() ? std::string() : campaigns::encode_events(events);
  LOA_FAULT_POINT("dispatch.settle");  // the gateway answered; leases held, nothing settled
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto ec = co_await queue_.settle(encoded, ops, settings_.mark_retention);
    if (!ec) co_return;
    ++counters_->redis_errors;
    spdlog::warn("dispatcher {}: settling a batch of {} failed: {}", route(), ops.size(),
                 ec.message());
    co_await sleep(std::chrono::milliseconds(200));
  }
  // The leases stay and expire: the messages return and go again, and the gateway's
  // idempotency key (our message id) keeps a resend from reaching the phone twice.
  spdlog::error("dispatcher {}: could not settle a batch of {}; its leases will expire",
                route(), ops.size());
}

namespace {

// Adapts the gateway's callback to an awaitable. (Named objects, no temporaries inside the
// co_await expression: GCC 12 destroys such temporaries twice.)
struct SendInitiation {
  std::shared_ptr<adapters::Gateway> gateway;
  template <class Handler>
  void operator()(Handler handler, std::vector<adapters::OutboundMessage> batch) const {
    auto shared = std::make_shared<Handler>(std::move(handler));
    gateway->async_send(std::move(batch), [shared](std::vector<adapters::SendResult> r) {
      auto ex = boost::asio::get_associated_executor(*shared);
      boost::asio::dispatch(ex, [shared, r = std::move(r)]() mutable {
        std::move (*shared)(std::move(r));
      });
    });
  }
};

}  // namespace

awaitable<std::vector<adapters::SendResult>> Dispatcher::send(
    std::vector<adapters::OutboundMessage> batch) {
  SendInitiation initiation{gateway_};
  auto op = boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                        void(std::vector<adapters::SendResult>)>(
      initiation, boost::asio::use_awaitable, std::move(batch));
  std::vector<adapters::SendResult> results = co_await std::move(op);
  co_return results;
}

}  // namespace loa::engine
