// An Asio-native asynchronous Redis client over hiredis 0.14's async API (which has no Asio
// adapter, so this is one): hiredis does the protocol, Asio does the waiting.
//
// Contract:
//  - Commands are pipelined: everything submitted before the socket is writable goes out in
//    one write, and replies complete in submission order.
//  - Every command or pipeline has a timeout. On timeout its handler gets RedisErrc::kTimeout
//    and its late reply, if any, is discarded. A connection that answers nothing for a whole
//    timeout while commands wait is treated as stalled and reconnected.
//  - The connection reconnects with exponential backoff and jitter. Commands submitted while
//    it is down wait (with their timeouts running) and go out once it is back; commands that
//    were in flight when it dropped fail with kConnectionLost, because they may or may not
//    have run.
//  - At most `max_pending` commands wait or fly at once; beyond that a submission fails at
//    once with kQueueFull (push-back, never unbounded memory).
//  - Scripts: async_eval sends EVALSHA with a locally computed SHA-1; on NOSCRIPT (a restarted
//    or flushed server) it loads the script and retries once. A NOSCRIPT reply means the
//    script did not run, so the retry is safe. The same recovery applies to EVALSHA commands
//    of known scripts inside a pipeline.
//  - Redis error replies (`-ERR ...`) are not transport errors: they come back as a
//    RedisReply of type kError, with error_code success.
//
// Thread-safety: every public member is safe to call from any thread. All hiredis work runs
// on the client's strand; completion handlers run on their associated executor, or on that
// strand when they have none.
#pragma once

#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/config.hpp"

struct redisAsyncContext;

namespace loa::engine {

// A reply deep-copied out of hiredis (whose replies die with the callback).
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;  // kString, kStatus, kError
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
};

enum class RedisErrc {
  kTimeout = 1,     // no reply within the command timeout
  kConnectionLost,  // the connection dropped with the command in flight
  kQueueFull,       // max_pending reached
  kClosed,          // the client was closed
  kErrorReply,      // for callers that expect data: Redis answered -ERR (e.g. a script error)
};
const boost::system::error_category& redis_category();
boost::system::error_code make_error_code(RedisErrc e);

using RedisCommand = std::vector<std::string>;

// A Lua script known by its source; the SHA-1 is computed once, here.
struct RedisScript {
  RedisScript(std::string name, std::string source);
  std::string name;
  std::string source;
  std::string sha1;
};

struct RedisClientOptions {
  RedisEndpoint endpoint;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  std::size_t max_pending = 10000;

  static RedisClientOptions from(const RedisConfig& config, RedisEndpoint endpoint);
};

class RedisClient : public std::enable_shared_from_this<RedisClient> {
 public:
  using Replies = std::vector<RedisReply>;
  // Type-erased completion. It posts the real handler to that handler's associated executor
  // (the client's strand when it has none), so it is never called inline.
  using Handler = std::function<void(boost::system::error_code, Replies)>;

  static std::shared_ptr<RedisClient> create(boost::asio::io_context& io,
                                             RedisClientOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Starts connecting. Commands may be submitted before the connection is up.
  void start();
  // Fails everything waiting or in flight with kClosed and stops reconnecting. Idempotent.
  void close();
  // True while a connection is established (a hint: the next command may still fail).
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // Connections made so far; a test can watch reconnects through it.
  std::uint64_t connection_count() const { return connections_.load(); }

  // One command. Signature: void(error_code, RedisReply).
  template <class Token>
  auto async_exec(RedisCommand command, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, RedisReply)>(
        [this](auto handler, RedisCommand cmd) {
          std::vector<RedisCommand> batch;
          batch.push_back(std::move(cmd));
          auto ex = boost::asio::get_associated_executor(handler, strand_);
          submit(std::move(batch), options_.command_timeout,
                 erase(ex, SingleReply<decltype(handler)>{std::move(handler)}));
        },
        token, std::move(command));
  }

  // A pipeline: sent together, replies in order. Signature: void(error_code, Replies).
  // The timeout covers the whole pipeline.
  template <class Token>
  auto async_exec_pipeline(std::vector<RedisCommand> commands, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Replies)>(
        [this](auto handler, std::vector<RedisCommand> cmds) {
          auto ex = boost::asio::get_associated_executor(handler, strand_);
          submit(std::move(cmds), options_.command_timeout, erase(ex, std::move(handler)));
        },
        token, std::move(commands));
  }

  // EVALSHA with NOSCRIPT recovery. Signature: void(error_code, RedisReply).
  template <class Token>
  auto async_eval(const RedisScript& script, std::vector<std::string> keys,
                  std::vector<std::string> args, Token&& token) {
    return async_exec(eval_command(script, std::move(keys), std::move(args)),
                      std::forward<Token>(token));
  }

  // Builds an EVALSHA command for use in a pipeline, and registers the script so that
  // NOSCRIPT replies are recovered.
  RedisCommand eval_command(const RedisScript& script, std::vector<std::string> keys,
                            std::vector<std::string> args);

 private:
  struct Batch;
  struct Slot;
  template <class Executor, class H>
  static Handler erase(Executor ex, H handler) {
    auto shared = std::make_shared<H>(std::move(handler));
    return [shared, ex](boost::system::error_code ec, Replies replies) {
      boost::asio::post(ex, [shared, ec, r = std::move(replies)]() mutable {
        std::move (*shared)(ec, std::move(r));
      });
    };
  }
  template <class H>
  struct SingleReply {
    H handler;
    void operator()(boost::system::error_code ec, Replies replies) {
      RedisReply r = replies.empty() ? RedisReply{} : std::move(replies.front());
      std::move(handler)(ec, std::move(r));
    }
  };
  enum class State { kIdle, kBackoff, kConnecting, kConnected, kClosed };

  RedisClient(boost::asio::io_context& io, RedisClientOptions options);
  void submit(std::vector<RedisCommand> commands, std::chrono::milliseconds timeout,
              Handler handler);
  void enqueue(std::shared_ptr<Batch> batch);
  void send(const std::shared_ptr<Batch>& batch);
  void finish(const std::shared_ptr<Batch>& batch, boost::system::error_code ec);
  void on_batch_replied(const std::shared_ptr<Batch>& batch);
  void on_timeout(const std::shared_ptr<Batch>& batch);
  void connect();
  void schedule_reconnect();
  void drop_connection(const char* why);
  void on_connected();
  void flush_waiting();

  // hiredis hooks and callbacks; each one is noexcept and never lets an exception out.
  static void on_connect_cb(const redisAsyncContext* c, int status);
  static void on_disconnect_cb(const redisAsyncContext* c, int status);
  static void on_reply_cb(redisAsyncContext* c, void* reply, void* privdata);
  static void add_read_cb(void* p);
  static void del_read_cb(void* p);
  static void add_write_cb(void* p);
  static void del_write_cb(void* p);
  static void cleanup_cb(void* p);
  void arm_read();
  void arm_write();

  boost::asio::io_context& io_;
  RedisClientOptions options_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer connect_timer_;

  // State below is touched only on strand_.
  State state_ = State::kIdle;
  redisAsyncContext* ctx_ = nullptr;
  std::uint64_t generation_ = 0;  // bumps per connection; stale socket waits are ignored
  bool want_read_ = false, read_armed_ = false, want_write_ = false, write_armed_ = false;
  std::chrono::milliseconds backoff_{0};
  std::deque<std::shared_ptr<Batch>> waiting_;  // submitted while not connected
  std::size_t waiting_commands_ = 0;
  std::size_t in_flight_ = 0;  // commands handed to hiredis, reply not yet seen
  std::chrono::steady_clock::time_point last_reply_at_{};

  std::mutex scripts_mutex_;
  std::unordered_map<std::string, std::string> scripts_;  // sha1 -> source, by scripts_mutex_

  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connections_{0};
};

}  // namespace loa::engine

template <>
struct boost::system::is_error_code_enum<loa::engine::RedisErrc> : std::true_type {};
