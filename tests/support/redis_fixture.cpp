#include "tests/support/redis_fixture.hpp"

#include <unistd.h>

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>

namespace loa::test {

PrivateRedis::PrivateRedis(bool appendonly) {
  engine::RedisProcess::Options o;
  o.dir = dir_.path();
  o.tcp_port = 0;  // pick a free loopback port, kept across restarts
  o.appendonly = appendonly;
  process_ = std::make_unique<engine::RedisProcess>(o);
  process_->start();
}

PrivateRedis::~PrivateRedis() = default;

void PrivateRedis::start() { process_->start(); }
void PrivateRedis::stop() { process_->stop(); }
void PrivateRedis::restart() {
  const auto port = process_->tcp_port();
  process_->stop();
  engine::RedisProcess::Options o;
  o.dir = dir_.path();
  o.tcp_port = port;
  process_ = std::make_unique<engine::RedisProcess>(o);
  process_->start();
}

std::string PrivateRedis::tcp_url() const {
  return "redis://127.0.0.1:" + std::to_string(process_->tcp_port());
}

engine::RedisEndpoint PrivateRedis::unix_endpoint() const {
  return engine::RedisEndpoint::parse(unix_url());
}
engine::RedisEndpoint PrivateRedis::tcp_endpoint() const {
  return engine::RedisEndpoint::parse(tcp_url());
}

namespace {

std::string run_on(const std::string& socket, const std::function<void*(redisContext*)>& send) {
  timeval tv{2, 0};
  redisContext* c = redisConnectUnixWithTimeout(socket.c_str(), tv);
  if (!c || c->err) {
    if (c) redisFree(c);
    throw std::runtime_error("cannot reach the test redis");
  }
  std::string out;
  if (auto* r = static_cast<redisReply*>(send(c))) {
    if (r->str) out.assign(r->str, r->len);
    if (r->type == REDIS_REPLY_INTEGER) out = std::to_string(r->integer);
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

}  // namespace

std::string PrivateRedis::command(const std::string& format) const {
  return run_on(process_->socket_path(),
                [&format](redisContext* c) { return redisCommand(c, format.c_str()); });
}

std::string PrivateRedis::command(const std::vector<std::string>& argv) const {
  return redis_command_at(process_->socket_path(), argv);
}

std::string redis_command_at(const std::string& socket, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  return run_on(socket, [&](redisContext* c) {
    return redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lengths.data());
  });
}

pid_t redis_pid_at(const std::string& socket) {
  const std::string info = redis_command_at(socket, {"INFO", "server"});
  const auto at = info.find("process_id:");
  if (at == std::string::npos) throw std::runtime_error("no process_id in INFO server");
  return static_cast<pid_t>(std::stol(info.substr(at + 11)));
}

IoThreads::IoThreads(unsigned threads) : work_(io_.get_executor()) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

IoThreads::~IoThreads() {
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
}

}  // namespace loa::test

namespace loa::test {
engine::RedisEndpoint shared_redis() {
  return engine::RedisEndpoint::parse(shared_redis_url());
}

std::string shared_redis_url() {
  if (const char* url = std::getenv("LOA_TEST_REDIS_URL"); url && *url) return url;
  static PrivateRedis redis;  // stopped when the test process exits
  return redis.unix_url();
}
std::shared_ptr<engine::RedisClient> connect_redis(IoThreads& io) {
  return connect_redis(io, shared_redis());
}

std::shared_ptr<engine::RedisClient> connect_redis(IoThreads& io, engine::RedisEndpoint endpoint) {
  engine::RedisClientOptions o;
  o.endpoint = std::move(endpoint);
  auto client = engine::RedisClient::create(io.io(), o);
  client->start();
  return client;
}

std::string unique_name(const std::string& prefix) {
  return prefix + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace loa::test
