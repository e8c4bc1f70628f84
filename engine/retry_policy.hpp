// What happens after a failed send (issue [5/10], STYLE.md "Errors"): the retry backoff of one
// message, and the circuit breaker of one route.
//
// Contract:
//  - retry_delay(attempt) is base * 2^(attempt-1), capped at `max`, times a jitter factor in
//    [0.5, 1] drawn from `unit` (a number in [0, 1)), so a burst of failures does not retry in
//    lock-step. `attempt` counts the attempts made so far (1 after the first failure).
//  - CircuitBreaker: closed until `threshold` consecutive failures; then open for a cooldown;
//    then half-open: exactly one caller gets a probe permit, the others wait. A success
//    closes it, a failure opens it again. The cooldown starts short (first_cooldown, so the
//    route probes soon after a gateway restart) and doubles with every opening up to
//    max_cooldown; a success resets it. Every change of state goes to the observer (the
//    dispatcher logs it). Time is passed in, so tests drive it without sleeping.
//
// Thread-safety: retry_delay is pure. CircuitBreaker is safe from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

namespace loa::engine {

inline std::chrono::microseconds retry_delay(int attempt, std::chrono::milliseconds base,
                                             std::chrono::milliseconds max, double unit) {
  const double exp = std::ldexp(static_cast<double>(base.count()), std::clamp(attempt, 1, 40) - 1);
  const double capped = std::min(exp, static_cast<double>(max.count()));
  const double jitter = 0.5 + 0.5 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::microseconds(static_cast<long long>(capped * jitter * 1000.0));
}

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kClosed, kOpen, kHalfOpen };
  enum class Permit { kSend, kProbe, kWait };
  // A change of state, for the log: `cooldown` is how long the breaker stays open (kOpen
  // only), `failures` the consecutive failures so far.
  struct Transition {
    State from, to;
    std::chrono::milliseconds cooldown{0};
    int failures = 0;
  };
  // Called after every change of state, outside the breaker's lock, on the caller's thread.
  using Observer = std::function<void(const Transition&)>;

  CircuitBreaker(int threshold, std::chrono::milliseconds first_cooldown,
                 std::chrono::milliseconds max_cooldown, Observer observer = {})
      : threshold_(std::max(1, threshold)),
        max_cooldown_(std::max(std::chrono::milliseconds(1), max_cooldown)),
        first_cooldown_(std::clamp(first_cooldown, std::chrono::milliseconds(1), max_cooldown_)),
        observer_(std::move(observer)) {}

  // May the caller send now? kProbe: send one message only, and report it.
  Permit permit(Clock::time_point now) {
    std::optional<Transition> changed;
    Permit p = Permit::kWait;
    {
      std::lock_guard lock(mutex_);
      if (state_ == State::kClosed) return Permit::kSend;
      if (state_ == State::kOpen && now >= reopen_at_) {
        changed = move_to(State::kHalfOpen);
        probing_ = false;
      }
      if (state_ == State::kHalfOpen && !probing_) {
        probing_ = true;
        p = Permit::kProbe;
      }
    }
    notify(changed);
    return p;
  }

  void record_success() {
    std::optional<Transition> changed;
    {
      std::lock_guard lock(mutex_);
      failures_ = 0;
      opened_in_a_row_ = 0;
      probing_ = false;
      if (state_ != State::kClosed) changed = move_to(State::kClosed);
    }
    notify(changed);
  }

  // Returns true when this failure opened the breaker. Each opening since the last success
  // doubles the cooldown, from first_cooldown up to max_cooldown: a gateway that restarts in
  // a second is probed a second later, one that stays down is not hammered.
  bool record_failure(Clock::time_point now) {
    std::optional<Transition> changed;
    {
      std::lock_guard lock(mutex_);
      ++failures_;
      if (state_ == State::kHalfOpen || (state_ == State::kClosed && failures_ >= threshold_)) {
        const auto cooldown = cooldown_for(opened_in_a_row_++);
        reopen_at_ = now + cooldown;
        probing_ = false;
        ++opened_;
        changed = move_to(State::kOpen);
        changed->cooldown = cooldown;
      }
    }
    notify(changed);
    return changed.has_value();
  }

  // A probe that proved nothing hands its permit back: it sent nothing (the queue was empty,
  // the message expired) or the gateway only asked us to slow down.
  void release_probe() {
    std::lock_guard lock(mutex_);
    probing_ = false;
  }

  State state() const {
    std::lock_guard lock(mutex_);
    return state_;
  }
  long long times_opened() const {
    std::lock_guard lock(mutex_);
    return opened_;
  }
  Clock::time_point reopen_at() const {
    std::lock_guard lock(mutex_);
    return reopen_at_;
  }
  // The cooldown the next opening would have.
  std::chrono::milliseconds next_cooldown() const {
    std::lock_guard lock(mutex_);
    return cooldown_for(opened_in_a_row_);
  }

 private:
  std::chrono::milliseconds cooldown_for(int openings) const {
    const double grown =
        std::ldexp(static_cast<double>(first_cooldown_.count()), std::clamp(openings, 0, 40));
    return std::chrono::milliseconds(
        static_cast<long long>(std::min(grown, static_cast<double>(max_cooldown_.count()))));
  }
  Transition move_to(State to) {
    Transition t{state_, to, std::chrono::milliseconds(0), failures_};
    state_ = to;
    return t;
  }
  void notify(const std::optional<Transition>& t) const {
    if (t && observer_) observer_(*t);
  }

  mutable std::mutex mutex_;
  const int threshold_;
  const std::chrono::milliseconds max_cooldown_;
  const std::chrono::milliseconds first_cooldown_;  // at most max_cooldown_
  const Observer observer_;
  State state_ = State::kClosed;
  int failures_ = 0;
  int opened_in_a_row_ = 0;  // openings since the last success
  bool probing_ = false;
  long long opened_ = 0;
  Clock::time_point reopen_at_{};
};

inline std::string_view to_string(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "?";
}

}  // namespace loa::engine
