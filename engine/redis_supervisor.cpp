#include "engine/redis_supervisor.hpp"

#include <spdlog/spdlog.h>

#include <deque>

namespace loa::engine {

RedisSupervisor::RedisSupervisor(RedisProcess& process, Options options,
                                 std::function<void(const std::string&)> on_give_up,
                                 std::function<void(pid_t)> on_restart)
    : process_(process),
      options_(options),
      on_give_up_(std::move(on_give_up)),
      on_restart_(std::move(on_restart)) {}

RedisSupervisor::~RedisSupervisor() { stop(std::chrono::seconds(5)); }

void RedisSupervisor::start() {
  if (thread_.joinable()) return;
  pid_ = process_.pid();
  thread_ = std::thread([this] { run(); });
}

void RedisSupervisor::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    grace_ = grace;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool RedisSupervisor::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

void RedisSupervisor::run() {
  using Clock = std::chrono::steady_clock;
  std::deque<Clock::time_point> failures;  // deaths and failed starts within the window
  auto fail = [&](const std::string& what) {
    const auto now = Clock::now();
    failures.push_back(now);
    while (!failures.empty() && now - failures.front() > options_.window) failures.pop_front();
    if (static_cast<int>(failures.size()) <= options_.attempts) return false;
    gave_up_ = true;
    const std::string why = "the spawned redis-server failed " + std::to_string(failures.size()) +
                            " times within " + std::to_string(options_.window.count()) +
                            " ms (last: " + what + "); giving up";
    spdlog::critical("redis: {}", why);
    if (on_give_up_) on_give_up_(why);
    return true;
  };
  while (wait_for(options_.poll)) {
    const pid_t was = pid_.load();
    const auto ended = process_.reap();
    if (!ended) continue;
    pid_ = -1;
    spdlog::error(
        "redis: the spawned redis-server (pid {}) ended ({}); restarting it on the same "
        "AOF",
        was, *ended);
    if (fail("ended with " + *ended)) return;
    auto delay = options_.restart_min;
    while (wait_for(delay)) {
      try {
        process_.start();
        pid_ = process_.pid();
        restarts_ += 1;
        spdlog::warn("redis: redis-server restarted (pid {}), restart {}", process_.pid(),
                     restarts_.load());
        if (on_restart_) on_restart_(process_.pid());
        break;
      } catch (const RedisProcessError& e) {
        spdlog::error("redis: restarting redis-server failed: {}", e.what());
        if (fail(e.what())) return;
      }
      delay = std::min(delay * 2, options_.restart_max);
    }
  }
  std::chrono::milliseconds grace;
  {
    std::lock_guard lock(mutex_);
    grace = grace_;
  }
  process_.stop(grace);
  pid_ = -1;
}

}  // namespace loa::engine
