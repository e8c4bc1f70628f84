// Keeps the spawned redis-server (redis.url = "spawn") alive: the embedded default that every
// province runs, where a Redis that died used to stay dead until a person restarted loa
// (issue [W2 1/9], finding 1).
//
// Contract:
//  - start() begins watching a RedisProcess that is already running. When the child exits
//    (SIGKILL, a crash, the OOM killer), the supervisor starts it again on the same directory,
//    so on the same AOF, after a backoff that doubles from `restart_min` to `restart_max`. The
//    Redis client reconnects by itself; the epoch check (engine/enqueuer.cpp) reconciles the
//    queues from the outbox if the AOF lost them.
//  - Deaths and failed starts are counted over the last `window`; when there are more than
//    `attempts`, it gives up: `on_give_up(why)` is called once, on the supervisor's thread, and
//    the daemon exits non-zero so that systemd restarts the whole service.
//  - `on_restart(pid)` runs on the supervisor's thread after each successful restart.
//  - stop() stops watching, then stops the child (SIGTERM, then SIGKILL after `grace`) on the
//    supervisor's thread: the child's parent-death signal (PR_SET_PDEATHSIG) follows the thread
//    that forked it, so that thread must outlive it.
//
// Thread-safety: start and stop from the owner's thread; the counters from any thread. The
// RedisProcess is driven only by the supervisor's thread once start() has been called.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "engine/redis_process.hpp"

namespace loa::engine {

class RedisSupervisor {
 public:
  struct Options {
    std::chrono::milliseconds restart_min{200};
    std::chrono::milliseconds restart_max{5000};
    int attempts = 5;
    std::chrono::milliseconds window{60000};
    std::chrono::milliseconds poll{100};  // how soon a death is noticed
  };

  RedisSupervisor(RedisProcess& process, Options options,
                  std::function<void(const std::string& why)> on_give_up,
                  std::function<void(pid_t)> on_restart = {});
  ~RedisSupervisor();
  RedisSupervisor(const RedisSupervisor&) = delete;
  RedisSupervisor& operator=(const RedisSupervisor&) = delete;

  void start();
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  long long restarts() const { return restarts_.load(); }
  bool gave_up() const { return gave_up_.load(); }
  pid_t pid() const { return pid_.load(); }

 private:
  void run();
  bool wait_for(std::chrono::milliseconds d);  // false when stopping

  RedisProcess& process_;
  const Options options_;
  std::function<void(const std::string&)> on_give_up_;
  std::function<void(pid_t)> on_restart_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                   // guarded by mutex_
  std::chrono::milliseconds grace_{10000};  // guarded by mutex_
  std::atomic<long long> restarts_{0};
  std::atomic<bool> gave_up_{false};
  std::atomic<pid_t> pid_{-1};
};

}  // namespace loa::engine
