// How long each of the daemon's dependencies (Redis, the store) has been down: what /healthz
// reads to turn unhealthy once one has been down longer than daemon.unhealthy_after_ms, so that
// systemd or a load balancer notices a daemon that cannot work (issue [W2 1/9]: a dead Redis
// left /healthz at 200 for as long as one waited). /readyz says at once; /healthz says when
// waiting has not helped.
//
// Contract: observe() records a sample; a dependency is down from the first sample that says
// so until one says it is up. down_longer_than() lists those down for longer than `limit`.
//
// Thread-safety: every member is safe from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace loa::engine {

class DependencyWatch {
 public:
  using Clock = std::chrono::steady_clock;
  struct Down {
    std::string name;
    std::chrono::milliseconds for_;
  };

  void observe(const std::string& name, bool up, Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mutex_);
    if (up)
      down_since_.erase(name);
    else
      down_since_.try_emplace(name, now);
  }

  std::vector<Down> down_longer_than(std::chrono::milliseconds limit,
                                     Clock::time_point now = Clock::now()) const {
    std::lock_guard lock(mutex_);
    std::vector<Down> out;
    for (const auto& [name, since] : down_since_) {
      const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
      if (d > limit) out.push_back({name, d});
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Clock::time_point> down_since_;  // guarded by mutex_
};

}  // namespace loa::engine
