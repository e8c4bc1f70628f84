// What happens after a failed send (issue [5/10], STYLE.md "Errors"): the retry backoff of one
// message, and the circuit breaker of one route.
//
// Contract:
//  - retry_delay(attempt) is base * 2^(attempt-1), capped at `max`, times a jitter factor in
//    [0.5, 1] drawn from `unit` (a number in [0, 1)), so a burst of failures does not retry in
//    lock-step. `attempt` counts the attempts made so far (1 after the first failure).
//  - CircuitBreaker: closed until `threshold` consecutive failures; then open for `cooldown`;
//    then half-open: exactly one caller gets a probe permit, the others wait. A success
//    closes it, a failure opens it again for another cooldown. Time is passed in, so tests
//    drive it without sleeping.
//
// Thread-safety: retry_delay is pure. CircuitBreaker is safe from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>

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

  CircuitBreaker(int threshold, std::chrono::milliseconds cooldown)
      : threshold_(std::max(1, threshold)), cooldown_(cooldown) {}

  // May the caller send now? kProbe: send one message only, and report it.
  Permit permit(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (state_ == State::kClosed) return Permit::kSend;
    if (state_ == State::kOpen && now >= reopen_at_) {
      state_ = State::kHalfOpen;
      probing_ = false;
    }
    if (state_ == State::kHalfOpen && !probing_) {
      probing_ = true;
      return Permit::kProbe;
    }
    return Permit::kWait;
  }

  void record_success() {
    std::lock_guard lock(mutex_);
    failures_ = 0;
    state_ = State::kClosed;
    probing_ = false;
  }

  // Returns true when this failure opened the breaker.
  bool record_failure(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    ++failures_;
    if (state_ == State::kHalfOpen || (state_ == State::kClosed && failures_ >= threshold_)) {
      state_ = State::kOpen;
      reopen_at_ = now + cooldown_;
      probing_ = false;
      ++opened_;
      return true;
    }
    return false;
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

 private:
  mutable std::mutex mutex_;
  const int threshold_;
  const std::chrono::milliseconds cooldown_;
  State state_ = State::kClosed;
  int failures_ = 0;
  bool probing_ = false;
  long long opened_ = 0;
  Clock::time_point reopen_at_{};
};

}  // namespace loa::engine
