// Real Redis for integration tests, never a mock (STYLE.md "Seams for testing").
//
// PrivateRedis starts its own redis-server (Debian's) in a temporary directory, on a unix
// socket and a free loopback TCP port, so a test may kill, restart or pause it freely.
// IoThreads runs an io_context on background threads for the duration of a test.
#pragma once

#include <sys/types.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/config.hpp"
#include "engine/redis_client.hpp"
#include "engine/redis_process.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::test {

class PrivateRedis {
 public:
  explicit PrivateRedis(bool appendonly = false);
  ~PrivateRedis();
  void start();
  void stop();
  void restart();  // stop and start on the same socket and port
  void kill_hard() { process_->kill_hard(); }
  void pause() { process_->pause(); }
  void resume() { process_->resume(); }

  std::string unix_url() const { return process_->url(); }
  std::string tcp_url() const;
  engine::RedisEndpoint unix_endpoint() const;
  engine::RedisEndpoint tcp_endpoint() const;
  // A blocking one-shot command through hiredis' synchronous API, for test set-up and checks.
  std::string command(const std::string& format) const;
  // The same with arguments as given (for values that hold spaces, such as a script).
  std::string command(const std::vector<std::string>& argv) const;

 private:
  TempDir dir_;
  std::unique_ptr<engine::RedisProcess> process_;
};

// A blocking one-shot command to the redis-server on unix socket `socket` (say a daemon's
// spawned one); throws std::runtime_error when it cannot be reached.
std::string redis_command_at(const std::string& socket, const std::vector<std::string>& argv);
// The pid of the redis-server on `socket`, from INFO server.
pid_t redis_pid_at(const std::string& socket);

class IoThreads {
 public:
  explicit IoThreads(unsigned threads = 2);
  ~IoThreads();
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace loa::test

namespace loa::test {
// A Redis shared by the tests that need not stop it: the one ops/test started
// (LOA_TEST_REDIS_URL), or else one started on first use for this test process.
engine::RedisEndpoint shared_redis();
std::string shared_redis_url();
// A started RedisClient on `io`, to the shared test Redis unless told otherwise.
std::shared_ptr<engine::RedisClient> connect_redis(IoThreads& io);
std::shared_ptr<engine::RedisClient> connect_redis(IoThreads& io, engine::RedisEndpoint endpoint);
// A name no other test (or test process) uses, for routes and keys on the shared Redis.
std::string unique_name(const std::string& prefix);
}  // namespace loa::test
