// The clock seam (STYLE.md "Seams for testing"): code that depends on the time takes a Clock,
// so quiet hours, schedules and expiry are tested with a ManualClock instead of sleeping.
//
// Thread-safety: SystemClock is stateless; ManualClock is safe from any thread.
#pragma once

#include <atomic>
#include <chrono>

#include "campaigns/local_time.hpp"

namespace loa::engine {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual campaigns::TimePoint now() const = 0;
};

class SystemClock : public Clock {
 public:
  campaigns::TimePoint now() const override {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

class ManualClock : public Clock {
 public:
  explicit ManualClock(campaigns::TimePoint start) : t_(start.time_since_epoch().count()) {}
  campaigns::TimePoint now() const override {
    return campaigns::TimePoint(std::chrono::seconds(t_.load()));
  }
  void set(campaigns::TimePoint t) { t_ = t.time_since_epoch().count(); }
  void advance(std::chrono::seconds d) { t_ += d.count(); }

 private:
  std::atomic<long long> t_;
};

}  // namespace loa::engine
