// The dispatcher against a real redis-server and the in-process simulator, with an injected
// clock for policy: every message sent once and reported; quiet hours hold a lane until
// morning; expired, opted-out and capped messages are not sent; retries back off and then
// fail; the circuit breaker opens and probes; a final receipt cancels a pending retry, and a
// send whose outcome is unknown waits for its receipt before it is retried.
#include "engine/dispatcher.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "adapters/registry.hpp"
#include "adapters/simulator.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/receipt_relay.hpp"
#include "tests/support/gateway_harness.hpp"
#include "tests/support/redis_fixture.hpp"

namespace loa::engine {
namespace {

namespace asio = boost::asio;
using campaigns::OutboxEvent;
using namespace std::chrono_literals;

campaigns::TimePoint at(const char* text) { return *campaigns::parse_time(text); }

long long unique_id() {
  static std::atomic<long long> next{0};
  return (static_cast<long long>(::getpid()) % 100000) * 10000000LL +
         (std::chrono::steady_clock::now().time_since_epoch().count() / 1000) % 1000000 * 10 +
         (next++ % 10);
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = test::connect_redis(io_);
    route_ = test::unique_name("d");
    queue_ = std::make_unique<RouteQueue>(redis_, route_);
    settings_.batch = 50;
    settings_.workers = 2;
    settings_.lease = 5s;
    settings_.max_attempts = 3;
    settings_.retry_base = 20ms;
    settings_.retry_max = 100ms;
    settings_.breaker_failures = 1000000;
    settings_.idle = 20ms;
    settings_.rate_per_second = 0;
  }
  void TearDown() override {
    if (dispatcher_) dispatcher_->stop();
    if (simulator_) simulator_->close();
    dispatcher_.reset();
    redis_->close();
  }

  void start(adapters::SimulatorSettings sim = {}) {
    ledger_ = std::make_shared<adapters::MemoryLedger>();
    simulator_ = std::make_shared<adapters::Simulator>(io_.io().get_executor(), sim, ledger_);
    dispatcher_ = std::make_unique<Dispatcher>(io_.io(), redis_, route_, simulator_, settings_,
                                               clock_);
    dispatcher_->start();
  }

  QueuedMessage message(long long campaign, long long household = 0) {
    QueuedMessage m;
    m.id = unique_id();
    m.campaign_id = campaign;
    m.household_id = household ? household : m.id;
    m.channel = "sms";
    m.phone = "+84912345678";
    m.expires_at = at("2027-06-30T20:00:00+07:00").time_since_epoch().count();
    m.quiet_hours = "21:00-07:00";
    m.body = "Kính gửi hộ gia đình: hỗ trợ BHYT năm 2026.";
    return m;
  }

  void enqueue(const std::vector<QueuedMessage>& ms) {
    auto [ec, n] = asio::co_spawn(io_.io(), queue_->enqueue(ms), asio::use_future).get();
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(n.added, static_cast<long long>(ms.size()));
  }

  RedisReply command(std::vector<std::string> args) {
    return redis_->async_exec(std::move(args), asio::use_future).get();
  }

  // Outcomes published so far: message id -> its events, in order.
  std::map<long long, std::vector<OutboxEvent>> outcomes() {
    std::map<long long, std::vector<OutboxEvent>> out;
    auto r = command({"XRANGE", queue_->key("results"), "-", "+"});
    for (const auto& entry : r.elements)
      for (std::size_t i = 0; i + 1 < entry.elements[1].elements.size(); i += 2)
        for (auto& e : campaigns::decode_events(entry.elements[1].elements[i + 1].str))
          out[e.message_id].push_back(std::move(e));
    return out;
  }

  bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }

  test::IoThreads io_;
  std::shared_ptr<RedisClient> redis_;
  std::string route_;
  std::unique_ptr<RouteQueue> queue_;
  ManualClock clock_{at("2026-11-26T10:00:00+07:00")};
  DispatcherSettings settings_;
  std::shared_ptr<adapters::MemoryLedger> ledger_;
  std::shared_ptr<adapters::Simulator> simulator_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, SendsEveryMessageOnceAndReportsIt) {
  std::vector<QueuedMessage> ms;
  for (int i = 0; i < 300; ++i) ms.push_back(message(1 + i % 2));
  enqueue(ms);
  start();
  ASSERT_TRUE(eventually([&] { return outcomes().size() == ms.size(); }));
  auto out = outcomes();
  for (const auto& m : ms) {
    ASSERT_EQ(out[m.id].size(), 1u) << m.id;
    EXPECT_EQ(out[m.id][0].kind, OutboxEvent::Kind::kSent);
    EXPECT_EQ(out[m.id][0].attempts, 1);
    EXPECT_EQ(out[m.id][0].provider_id, "sim-" + std::to_string(m.id));
    EXPECT_EQ(ledger_->count(std::to_string(m.id)), 1);
  }
  EXPECT_EQ(simulator_->stats().duplicates, 0u);
  auto [ec, depth] = asio::co_spawn(io_.io(), queue_->depth(), asio::use_future).get();
  EXPECT_EQ(depth.waiting, 0);
  EXPECT_EQ(depth.leased, 0);
  EXPECT_EQ(dispatcher_->stats().sent, 300);
}

TEST_F(DispatcherTest, QuietHoursHoldTheLaneUntilMorning) {
  clock_.set(at("2026-11-26T22:30:00+07:00"));
  std::vector<QueuedMessage> ms;
  for (int i = 0; i < 20; ++i) ms.push_back(message(7));
  enqueue(ms);
  start();
  ASSERT_TRUE(eventually([&] { return dispatcher_->stats().parked >= 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(outcomes().empty());
  EXPECT_EQ(simulator_->stats().requests, 0u);
  // The lane sleeps until 07:00 in Vietnam, by the dispatcher's clock.
  auto wake = command({"ZSCORE", queue_->key("asleep"), "7"});
  EXPECT_EQ(wake.str, std::to_string(at("2026-11-27T07:00:00+07:00").time_since_epoch().count()));
  clock_.set(at("2026-11-27T06:59:00+07:00"));
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(outcomes().empty());
  clock_.set(at("2026-11-27T07:00:00+07:00"));
  ASSERT_TRUE(eventually([&] { return outcomes().size() == ms.size(); }));
  EXPECT_EQ(simulator_->stats().accepted, ms.size());
}

TEST_F(DispatcherTest, ExpiredOptedOutAndCappedMessagesAreNotSent) {
  auto expired = message(3);
  expired.expires_at = at("2026-11-26T09:00:00+07:00").time_since_epoch().count();
  auto opted_out = message(3);
  auto zalo_opted_out = message(3);
  zalo_opted_out.channel = "zalo_zns";
  command({"SADD", Dispatcher::optout_key("sms"), std::to_string(opted_out.household_id)});
  command({"SADD", Dispatcher::optout_key("zalo"), std::to_string(zalo_opted_out.household_id)});
  // The Zalo opt-out does not stop an SMS to the same household.
  auto sms_same_household = message(3, zalo_opted_out.household_id);
  // Two campaigns' messages to one household under a cap of 1 per 7 days: one goes.
  const long long household = unique_id();
  auto capped_a = message(4, household);
  auto capped_b = message(5, household);
  for (auto* m : {&capped_a, &capped_b}) {
    m->frequency_cap = 1;
    m->frequency_window_days = 7;
  }
  enqueue({expired, opted_out, zalo_opted_out, sms_same_household});
  enqueue({capped_a});
  enqueue({capped_b});
  start();
  ASSERT_TRUE(eventually([&] { return outcomes().size() == 6; }));
  auto out = outcomes();
  EXPECT_EQ(out[expired.id][0].kind, OutboxEvent::Kind::kExpired);
  EXPECT_EQ(out[opted_out.id][0].kind, OutboxEvent::Kind::kCancelled);
  EXPECT_EQ(out[opted_out.id][0].reason, "opted out");
  EXPECT_EQ(out[zalo_opted_out.id][0].kind, OutboxEvent::Kind::kCancelled);
  EXPECT_EQ(out[sms_same_household.id][0].kind, OutboxEvent::Kind::kSent);
  int sent = 0, capped = 0;
  for (const auto* m : {&capped_a, &capped_b}) {
    const auto& e = out[m->id][0];
    if (e.kind == OutboxEvent::Kind::kSent) ++sent;
    if (e.kind == OutboxEvent::Kind::kCancelled && e.reason == "frequency cap") ++capped;
  }
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(capped, 1);
  EXPECT_EQ(simulator_->stats().requests, 2u);
  command({"SREM", Dispatcher::optout_key("sms"), std::to_string(opted_out.household_id)});
  command({"SREM", Dispatcher::optout_key("zalo"), std::to_string(zalo_opted_out.household_id)});
}

TEST_F(DispatcherTest, TransientFailuresBackOffThenFailWithTheLastReason) {
  adapters::SimulatorSettings sim;
  sim.transient_failure_rate = 1.0;
  std::vector<QueuedMessage> ms;
  for (int i = 0; i < 10; ++i) ms.push_back(message(8));
  enqueue(ms);
  const auto began = std::chrono::steady_clock::now();
  start(sim);
  ASSERT_TRUE(eventually([&] { return outcomes().size() == ms.size(); }));
  // Two waits between three attempts, each at least half of 20 ms then 40 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - began, 30ms);
  for (const auto& [id, events] : outcomes()) {
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, OutboxEvent::Kind::kFailed);
    EXPECT_EQ(events[0].attempts, 3);
    EXPECT_EQ(events[0].reason, "simulated: timeout");
  }
  EXPECT_EQ(simulator_->stats().requests, 30u);
  EXPECT_EQ(dispatcher_->stats().retried, 20);
}

TEST_F(DispatcherTest, ThePermanentlyRefusedFailAtOnce) {
  adapters::SimulatorSettings sim;
  sim.permanent_failure_rate = 1.0;
  enqueue({message(9)});
  start(sim);
  ASSERT_TRUE(eventually([&] { return outcomes().size() == 1; }));
  const auto e = outcomes().begin()->second.at(0);
  EXPECT_EQ(e.kind, OutboxEvent::Kind::kFailed);
  EXPECT_EQ(e.attempts, 1);
  EXPECT_EQ(e.reason, "simulated: invalid number");
}

TEST_F(DispatcherTest, TheBreakerOpensOnARunOfFailuresAndProbesWithOneMessage) {
  settings_.breaker_failures = 5;
  settings_.breaker_cooldown = 400ms;
  settings_.max_attempts = 1000;
  settings_.retry_base = 1ms;
  settings_.retry_max = 1ms;
  settings_.workers = 1;
  settings_.batch = 5;
  adapters::SimulatorSettings sim;
  sim.transient_failure_rate = 1.0;
  std::vector<QueuedMessage> ms;
  for (int i = 0; i < 5; ++i) ms.push_back(message(10));
  enqueue(ms);
  start(sim);
  ASSERT_TRUE(eventually([&] { return dispatcher_->stats().breaker_opened >= 1; }));
  EXPECT_EQ(dispatcher_->breaker_state(), CircuitBreaker::State::kOpen);
  const auto requests = simulator_->stats().requests;
  EXPECT_EQ(requests, 5u);  // one batch, then nothing while open
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(simulator_->stats().requests, requests);
  // After the cooldown exactly one message probes; it fails, and the breaker opens again.
  ASSERT_TRUE(eventually([&] { return dispatcher_->stats().breaker_opened >= 2; }, 3s));
  EXPECT_EQ(simulator_->stats().requests, requests + 1);
}

// A gateway whose answer the test switches while the dispatcher runs: every message of a
// batch gets the current class.
class SwitchableGateway final : public adapters::Gateway {
 public:
  std::atomic<adapters::SendClass> answer{adapters::SendClass::kRetryable};
  std::atomic<int> requests{0};
  std::string_view type() const override { return "switchable"; }
  void async_send(std::vector<adapters::OutboundMessage> batch, SendDone done) override {
    requests += static_cast<int>(batch.size());
    std::vector<adapters::SendResult> results(batch.size());
    for (auto& r : results) {
      r.outcome = answer.load();
      r.reason = std::string(adapters::to_string(r.outcome));
    }
    done(std::move(results));
  }
  void close() override {}
};

// Issue 10 (gateway faults): a route that answers 500s opens its breaker; when the gateway
// then throttles, the probe is answered "slow down". That probe neither closes nor reopens the
// breaker, and it used to keep the probe permit forever: the breaker stayed half-open with a
// probe "in flight" and the route never sent again, even after the gateway recovered.
TEST_F(DispatcherTest, AThrottledProbeHandsItsPermitBackSoTheRouteResumes) {
  settings_.breaker_failures = 5;
  settings_.breaker_cooldown = 100ms;
  settings_.throttle_backoff = 50ms;
  settings_.max_attempts = 1000;
  settings_.retry_base = 1ms;
  settings_.retry_max = 1ms;
  settings_.workers = 2;
  settings_.batch = 5;
  auto gateway = std::make_shared<SwitchableGateway>();
  std::vector<QueuedMessage> ms;
  for (int i = 0; i < 20; ++i) ms.push_back(message(14));
  enqueue(ms);
  dispatcher_ = std::make_unique<Dispatcher>(io_.io(), redis_, route_, gateway, settings_, clock_);
  dispatcher_->start();
  ASSERT_TRUE(eventually([&] { return dispatcher_->stats().breaker_opened >= 1; }));
  gateway->answer = adapters::SendClass::kThrottled;
  const int before = gateway->requests;
  // The probe after the cooldown is throttled, and again after each rest.
  ASSERT_TRUE(eventually([&] { return gateway->requests >= before + 2; }, 3s))
      << "no throttled probe followed the first: the route is stuck";
  gateway->answer = adapters::SendClass::kAccepted;
  ASSERT_TRUE(eventually([&] {
    int sent = 0;
    for (const auto& [id, events] : outcomes())
      for (const auto& e : events) sent += e.kind == OutboxEvent::Kind::kSent;
    return sent == static_cast<int>(ms.size());
  }, 5s)) << "the route did not resume after the gateway recovered";
  EXPECT_EQ(dispatcher_->breaker_state(), CircuitBreaker::State::kClosed);
}

// Issue 10 (gateway faults): while the breaker is open the route sends one probe per cooldown,
// and a probe that fails spends no attempt of its message. Otherwise an outage longer than
// max_attempts cooldowns would fail whichever messages were picked as probes, although the
// others wait and nothing is wrong with them.
TEST_F(DispatcherTest, AFailedProbeSpendsNoAttemptSoALongOutageFailsNothing) {
  settings_.breaker_failures = 2;
  settings_.breaker_cooldown = 20ms;
  settings_.max_attempts = 3;
  settings_.retry_base = 1ms;
  settings_.retry_max = 1ms;
  settings_.workers = 1;
  settings_.batch = 1;
  auto gateway = std::make_shared<SwitchableGateway>();
  std::vector<QueuedMessage> ms{message(14), message(14)};
  enqueue(ms);
  dispatcher_ = std::make_unique<Dispatcher>(io_.io(), redis_, route_, gateway, settings_, clock_);
  dispatcher_->start();
  // Two failures open the breaker; then far more failed probes than the two messages have
  // attempts between them (2 x 3).
  ASSERT_TRUE(eventually([&] { return gateway->requests >= 20; }, 5s));
  gateway->answer = adapters::SendClass::kAccepted;
  ASSERT_TRUE(eventually([&] {
    int sent = 0;
    for (const auto& [id, events] : outcomes())
      for (const auto& e : events) sent += e.kind == OutboxEvent::Kind::kSent;
    return sent == 2;
  }, 5s)) << "a message was failed by the outage instead of waiting for it to end";
  for (const auto& [id, events] : outcomes())
    for (const auto& e : events)
      EXPECT_NE(e.kind, OutboxEvent::Kind::kFailed) << "message " << id << ": " << e.reason;
  EXPECT_GE(dispatcher_->stats().breaker_opened, 2);
}

// Redis helpers for the tests below: a member's score in one of the route's sorted sets.
std::optional<double> score(const RedisReply& r) {
  if (r.is_nil() || r.str.empty()) return std::nullopt;
  return std::stod(r.str);
}

// The double SMS through real Kannel: smsbox stopped after it queued a message and
// before it answered loa, Kannel delivered the message after its restart and loa recorded the
// receipt, and then loa retried the message anyway. Here the Kannel adapter talks to the mock
// gateway, which records every sendsms and cuts each connection unanswered. A receipt for one
// of two such messages arrives while their retries wait: that message's retry never reaches
// the gateway, and the other's does (so the retry path is live and the test can fail).
TEST_F(DispatcherTest, AFinalReceiptCancelsAPendingRetryOfItsMessage) {
  settings_.retry_unknown_after = 3000ms;
  settings_.max_attempts = 5;
  settings_.workers = 1;
  test::ScopedEnv password("LOA_TEST_KANNEL_PASSWORD", "loa secret");
  test::ScopedEnv dlr_token("LOA_TEST_KANNEL_DLR", "dlrTok-7");
  test::MockGateway mock([](const test::MockRequest&) {
    test::MockResponse r;
    r.cut = true;
    return r;
  });
  test::GatewayHarness harness;
  auto gateway = adapters::make_gateway(
      "kannel",
      adapters::GatewaySettings{{"url", mock.url("/cgi-bin/sendsms")},
                                {"username", "loa"},
                                {"password_env", "LOA_TEST_KANNEL_PASSWORD"},
                                {"from", "8088"},
                                {"dlr_url", "http://127.0.0.1:8080/hooks/kannel/dlr"},
                                {"dlr_token_env", "LOA_TEST_KANNEL_DLR"}},
      harness.context(route_));
  // The dispatcher holds the gateway, whose HTTP client lives on the harness's io_context:
  // it goes first, however the test ends.
  struct StopFirst {
    std::unique_ptr<Dispatcher>& dispatcher;
    ~StopFirst() {
      if (dispatcher) dispatcher->stop();
      dispatcher.reset();
    }
  } stop_first{dispatcher_};
  const QueuedMessage delivered = message(20), retried = message(20);
  enqueue({delivered, retried});
  // sendsms requests for one message id (its dlr-url carries "?id=<id>&").
  auto requests_for = [&mock](long long id) {
    const std::string tag = "%3Fid%3D" + std::to_string(id) + "%26";
    int n = 0;
    for (const auto& r : mock.requests()) n += r.target.find(tag) != std::string::npos;
    return n;
  };
  auto delayed = [this](long long id) {
    return score(command({"ZSCORE", queue_->key("delayed"), std::to_string(id)}));
  };
  dispatcher_ = std::make_unique<Dispatcher>(io_.io(), redis_, route_, gateway, settings_, clock_);
  dispatcher_->start();
  ASSERT_TRUE(eventually([&] { return delayed(delivered.id) && delayed(retried.id); }))
      << "the cut sends were not scheduled for a retry";
  EXPECT_EQ(requests_for(delivered.id), 1);
  EXPECT_EQ(requests_for(retried.id), 1);
  const double first_due = *delayed(retried.id);

  // Kannel had it after all: the receipt arrives while the retry waits.
  ReceiptRelay relay(io_.io(), redis_, route_);
  relay.start();
  adapters::DeliveryReceipt receipt;
  receipt.message_id = std::to_string(delivered.id);
  receipt.delivered = true;
  receipt.at = std::chrono::system_clock::now();
  relay.on_receipt(receipt);
  ASSERT_TRUE(eventually([&] { return outcomes().count(delivered.id) == 1; }));
  ASSERT_TRUE(delayed(delivered.id)) << "the retry came due before the receipt was published: "
                                        "the machine is too slow for retry_unknown_after";

  // Both retries come due together; the other message's goes out, is cut again and waits
  // again (a later due time), and by then its batch is settled.
  ASSERT_TRUE(eventually(
      [&] {
        const auto due = delayed(retried.id);
        return due && *due > first_due;
      },
      15s))
      << "the message without a receipt was not retried";
  EXPECT_EQ(requests_for(retried.id), 2);
  EXPECT_EQ(requests_for(delivered.id), 1) << "a delivered message was sent again";
  EXPECT_FALSE(delayed(delivered.id)) << "its retry still waits";
  EXPECT_EQ(command({"HEXISTS", queue_->key("msg"), std::to_string(delivered.id)}).integer, 0);
  const auto out = outcomes();
  ASSERT_EQ(out.count(delivered.id), 1u);
  ASSERT_EQ(out.at(delivered.id).size(), 1u);
  EXPECT_EQ(out.at(delivered.id)[0].kind, OutboxEvent::Kind::kDelivered);
  relay.stop();
}

// How long a failed send waits for its retry, by what the gateway said. A send cut off after
// the request went out may have reached the gateway: it waits retry_unknown_after, or the
// breaker's remaining cooldown when that is longer, so its receipt can arrive first. An
// ordinary failure keeps its short backoff.
TEST_F(DispatcherTest, AnUnknownOutcomeIsRetriedOnlyAfterItsReceiptHadTimeToArrive) {
  struct Row {
    std::string name;
    adapters::SendClass answer;
    int breaker_failures;
    std::chrono::milliseconds breaker_cooldown;  // first and longest
    std::chrono::milliseconds retry_unknown_after;
    std::chrono::milliseconds at_least, at_most;  // the retry's delay
  };
  // A backoff of 15-30 s (jitter), so no retry comes due while the test looks.
  settings_.retry_base = 30s;
  settings_.retry_max = 30s;
  const std::vector<Row> rows = {
      {"retryable: the backoff", adapters::SendClass::kRetryable, 1000000, 60s, 60s, 14s, 31s},
      {"maybe sent: retry_unknown_after", adapters::SendClass::kMaybeSent, 1000000, 1s, 60s, 55s,
       61s},
      {"maybe sent, breaker open longer: its cooldown", adapters::SendClass::kMaybeSent, 1, 120s,
       10s, 115s, 121s},
  };
  settings_.workers = 1;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    settings_.breaker_failures = row.breaker_failures;
    settings_.breaker_first_cooldown = row.breaker_cooldown;
    settings_.breaker_cooldown = row.breaker_cooldown;
    settings_.retry_unknown_after = row.retry_unknown_after;
    auto gateway = std::make_shared<SwitchableGateway>();
    gateway->answer = row.answer;
    const QueuedMessage m = message(30);
    enqueue({m});
    dispatcher_ =
        std::make_unique<Dispatcher>(io_.io(), redis_, route_, gateway, settings_, clock_);
    dispatcher_->start();
    std::optional<double> due;
    ASSERT_TRUE(eventually([&] {
      due = score(command({"ZSCORE", queue_->key("delayed"), std::to_string(m.id)}));
      return due.has_value();
    }));
    const auto time = command({"TIME"});
    const double now_us =
        std::stod(time.elements.at(0).str) * 1e6 + std::stod(time.elements.at(1).str);
    const auto delay = std::chrono::milliseconds(static_cast<long long>((*due - now_us) / 1000));
    dispatcher_->stop();
    dispatcher_.reset();
    EXPECT_GE(delay, row.at_least);
    EXPECT_LE(delay, row.at_most);
    EXPECT_EQ(gateway->requests, 1);
    command({"DEL", queue_->key("delayed"), queue_->key("msg")});
  }
}

}  // namespace
}  // namespace loa::engine
