// What happens after a failed send: the retry backoff, and the circuit breaker with its
// growing cooldown and its logged changes of state. Pure: time is passed in, nothing sleeps.
#include "engine/retry_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace loa::engine {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;
using Permit = CircuitBreaker::Permit;

TEST(CircuitBreaker, ClosesOnASuccessfulProbe) {
  CircuitBreaker b(3, 1000ms, 1000ms);  // a cooldown that does not grow
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_EQ(b.permit(t0), CircuitBreaker::Permit::kSend);
  EXPECT_FALSE(b.record_failure(t0));
  EXPECT_FALSE(b.record_failure(t0));
  b.record_success();  // not consecutive any more
  EXPECT_FALSE(b.record_failure(t0));
  EXPECT_FALSE(b.record_failure(t0));
  EXPECT_TRUE(b.record_failure(t0));
  EXPECT_EQ(b.permit(t0 + 999ms), CircuitBreaker::Permit::kWait);
  EXPECT_EQ(b.permit(t0 + 1000ms), CircuitBreaker::Permit::kProbe);
  EXPECT_EQ(b.permit(t0 + 1000ms), CircuitBreaker::Permit::kWait);  // one probe at a time
  b.release_probe();  // the probe found nothing to send
  EXPECT_EQ(b.permit(t0 + 1001ms), CircuitBreaker::Permit::kProbe);
  EXPECT_TRUE(b.record_failure(t0 + 1001ms));  // a failed probe opens it again
  EXPECT_EQ(b.permit(t0 + 1500ms), CircuitBreaker::Permit::kWait);
  EXPECT_EQ(b.permit(t0 + 2001ms), CircuitBreaker::Permit::kProbe);
  b.record_success();
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(b.permit(t0 + 2001ms), CircuitBreaker::Permit::kSend);
  EXPECT_EQ(b.times_opened(), 2);
}

TEST(RetryDelay, DoublesWithJitterUpToTheCap) {
  EXPECT_EQ(retry_delay(1, 2000ms, 600000ms, 1.0), 2000ms);
  EXPECT_EQ(retry_delay(1, 2000ms, 600000ms, 0.0), 1000ms);
  EXPECT_EQ(retry_delay(3, 2000ms, 600000ms, 1.0), 8000ms);
  EXPECT_EQ(retry_delay(30, 2000ms, 600000ms, 1.0), 600000ms);
  EXPECT_EQ(retry_delay(30, 2000ms, 600000ms, 0.0), 300000ms);
}

// A gateway that comes back after a second is probed a second later; one that stays down is
// probed less and less often, up to the longest cooldown; a success starts again from the
// first. Every change of state reaches the observer (the dispatcher logs it).
TEST(CircuitBreaker, TheCooldownStartsShortAndGrowsWithEachOpening) {
  std::vector<CircuitBreaker::Transition> seen;
  CircuitBreaker b(2, 1000ms, 8000ms,
                   [&seen](const CircuitBreaker::Transition& t) { seen.push_back(t); });
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_FALSE(b.record_failure(t));
  EXPECT_TRUE(b.record_failure(t));
  struct Row {
    std::chrono::milliseconds cooldown;  // of the opening just made
  };
  // Each row: the breaker is open for `cooldown`, then one probe fails and it opens again.
  const std::vector<Row> rows = {{1000ms}, {2000ms}, {4000ms}, {8000ms}, {8000ms}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE("opening " + std::to_string(i + 1));
    EXPECT_EQ(b.state(), State::kOpen);
    EXPECT_EQ(b.reopen_at() - t, rows[i].cooldown);
    EXPECT_EQ(b.permit(t + rows[i].cooldown - 1ms), Permit::kWait);
    t += rows[i].cooldown;
    EXPECT_EQ(b.permit(t), Permit::kProbe);
    EXPECT_EQ(b.state(), State::kHalfOpen);
    if (i + 1 < rows.size()) {
      EXPECT_TRUE(b.record_failure(t));
    }
  }
  b.record_success();  // the last probe went through
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.next_cooldown(), 1000ms);  // a success starts again from the first cooldown
  EXPECT_EQ(b.times_opened(), 5);

  // closed -> open, then (open -> half-open, half-open -> open) four times, then open ->
  // half-open and half-open -> closed.
  ASSERT_EQ(seen.size(), 1u + 4 * 2 + 2);
  EXPECT_EQ(seen[0].from, State::kClosed);
  EXPECT_EQ(seen[0].to, State::kOpen);
  EXPECT_EQ(seen[0].cooldown, 1000ms);
  EXPECT_EQ(seen[0].failures, 2);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(seen[1 + 2 * i].from, State::kOpen);
    EXPECT_EQ(seen[1 + 2 * i].to, State::kHalfOpen);
    EXPECT_EQ(seen[2 + 2 * i].from, State::kHalfOpen);
    EXPECT_EQ(seen[2 + 2 * i].to, State::kOpen);
    EXPECT_EQ(seen[2 + 2 * i].cooldown, rows[i + 1].cooldown);
  }
  EXPECT_EQ(seen[9].to, State::kHalfOpen);
  EXPECT_EQ(seen[10].from, State::kHalfOpen);
  EXPECT_EQ(seen[10].to, State::kClosed);
  EXPECT_EQ(to_string(seen[10].from), "half-open");

  // A success while closed changes nothing, and says nothing.
  b.record_success();
  EXPECT_EQ(seen.size(), 11u);
}

}  // namespace
}  // namespace loa::engine
