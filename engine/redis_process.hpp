// A private redis-server child: the embedded default (redis.url = "spawn", DESIGN.md section 6),
// and the Redis that integration tests start for themselves.
//
// Contract:
//  - start() runs `redis-server` listening on a unix socket in `dir` (and on a loopback TCP
//    port when asked), with AOF in `dir`, and returns once it answers PING. It throws
//    RedisProcessError with a clear message when the binary is missing (saying how to install
//    it), when the socket path is too long, or when the server exits or does not answer.
//  - The child lives in its own process group, so a Ctrl-C in the terminal reaches only the
//    daemon, which then stops Redis last, after flushing; and it gets SIGTERM if the daemon
//    dies, so no orphan outlives it.
//  - stop() sends SIGTERM (Redis rewrites nothing and fsyncs the AOF), waits up to the grace
//    period, then SIGKILLs. The destructor stops the child.
//
// Thread-safety: none; one owner drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace loa::engine {

class RedisProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RedisProcess {
 public:
  struct Options {
    std::string binary = "redis-server";
    std::filesystem::path dir;              // socket, AOF and log live here
    std::optional<std::uint16_t> tcp_port;  // also listen on 127.0.0.1:port (0: pick one)
    bool appendonly = true;
    std::chrono::milliseconds start_timeout{10000};
  };

  explicit RedisProcess(Options options);
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  void start();
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Non-blocking: when the child has exited (killed, crashed), reaps it and returns how it
  // ended ("exit status N" or "signal N"); nullopt while it runs or when there is none.
  std::optional<std::string> reap();
  // Fault injection for tests: SIGKILL, SIGSTOP and SIGCONT.
  void kill_hard();
  void pause();
  void resume();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string socket_path() const;
  std::uint16_t tcp_port() const { return port_; }  // 0 when not listening on TCP
  std::string url() const;                           // unix:///… for the client

  // The absolute path of `name` in PATH (or `name` itself when it contains a slash and is
  // executable); nullopt when not found.
  static std::optional<std::string> find_binary(const std::string& name);
  // A loopback TCP port that was free a moment ago (0 if none could be had).
  static std::uint16_t free_loopback_port();

 private:
  bool wait_ready(std::string& why);
  std::string log_tail() const;

  Options options_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace loa::engine
