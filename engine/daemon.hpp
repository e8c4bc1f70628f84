// The loa daemon: wires configuration, the store, Redis, the HTTP server and (in later
// issues) the planner, scheduler and dispatcher onto one io_context run by N threads.
//
// Contract:
//  - start() brings every component of the chosen role up, in order: data directory (and its
//    lock, so two daemons never share one), spawned Redis, store and migrations, store
//    writer, Redis client, HTTP server. A failure there throws StartupError, whose message is
//    one clear line; main() turns it into exit code 2.
//  - SIGINT/SIGTERM (or stop()) shut down gracefully, in reverse: stop accepting HTTP and let
//    requests in flight finish within http.shutdown_grace_ms, flush the store writer, close
//    Redis, stop the spawned redis-server. A second signal forces an immediate stop.
//  - A spawned redis-server that dies is restarted (engine/redis_supervisor.hpp); if it cannot
//    be, the daemon stops gracefully and exit_code() is kExitRedisLost, for systemd to restart
//    the service. /healthz answers 503 once Redis or the store has been down longer than
//    daemon.unhealthy_after_ms; /readyz answers 503 at once.
//  - Roles: `all` runs everything; `planner` runs store, planner, API and webhooks;
//    `dispatcher` needs only Redis and the adapters (no store), and must be given an
//    external redis.url.
//
// Thread-safety: construct, start() and wait() from one thread; stop() from any thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/config.hpp"

namespace loa::engine {

class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Role { kAll, kPlanner, kDispatcher };
Role parse_role(const std::string& text);  // throws ConfigError
const char* role_name(Role role);

class Daemon {
 public:
  Daemon(Config config, Role role);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  void start();
  // Blocks until the daemon has stopped (after a signal or stop()).
  void wait();
  // Begins a graceful shutdown; safe from any thread and from signal-free contexts.
  void stop();

  // 0 after a graceful stop; kExitRedisLost when the spawned Redis could not be restarted.
  int exit_code() const { return exit_code_.load(); }
  static constexpr int kExitRedisLost = 1;  // the CLI's kExitFailure (engine/cli.hpp)

  std::uint16_t http_port() const;
  std::string redis_url() const;  // where the Redis client connects (the socket when spawned)

 private:
  struct Parts;
  void shutdown();
  boost::asio::awaitable<void> watch_health();
  static void observe_dependencies(Parts& parts);
  static void add_metrics(Parts& parts, bool uses_store);

  Config config_;
  Role role_;
  std::unique_ptr<Parts> parts_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> exit_code_{0};
};

}  // namespace loa::engine
