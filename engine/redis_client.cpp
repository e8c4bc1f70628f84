#include "engine/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <optional>
#include <random>

namespace loa::engine {

namespace asio = boost::asio;
using boost::system::error_code;

// ---- errors -------------------------------------------------------------------------------

namespace {
class RedisCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "loa.redis"; }
  std::string message(int ev) const override {
    switch (static_cast<RedisErrc>(ev)) {
      case RedisErrc::kTimeout: return "Redis command timed out";
      case RedisErrc::kConnectionLost: return "Redis connection lost with the command in flight";
      case RedisErrc::kQueueFull: return "too many Redis commands pending";
      case RedisErrc::kClosed: return "Redis client closed";
      case RedisErrc::kErrorReply: return "Redis answered with an error";
    }
    return "unknown Redis error";
  }
};

RedisReply copy_reply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = RedisReply::Type::kString; break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Type::kStatus; break;
    case REDIS_REPLY_ERROR: out.type = RedisReply::Type::kError; break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::kInteger; break;
    case REDIS_REPLY_ARRAY: out.type = RedisReply::Type::kArray; break;
    default: out.type = RedisReply::Type::kNil; break;
  }
  if (r->type == REDIS_REPLY_INTEGER) out.integer = r->integer;
  if (r->str) out.str.assign(r->str, r->len);
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
  }
  return out;
}

std::string sha1_hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

bool is_noscript(const RedisReply& r) { return r.is_error() && r.str.rfind("NOSCRIPT", 0) == 0; }
}  // namespace

const boost::system::error_category& redis_category() {
  static const RedisCategory category;
  return category;
}
error_code make_error_code(RedisErrc e) { return {static_cast<int>(e), redis_category()}; }

RedisScript::RedisScript(std::string n, std::string src)
    : name(std::move(n)), source(std::move(src)), sha1(sha1_hex(source)) {}

RedisClientOptions RedisClientOptions::from(const RedisConfig& c, RedisEndpoint endpoint) {
  RedisClientOptions o;
  o.endpoint = std::move(endpoint);
  o.connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  o.command_timeout = std::chrono::milliseconds(c.command_timeout_ms);
  o.reconnect_min = std::chrono::milliseconds(c.reconnect_min_ms);
  o.reconnect_max = std::chrono::milliseconds(c.reconnect_max_ms);
  o.max_pending = static_cast<std::size_t>(c.max_pending);
  return o;
}

// ---- batches ------------------------------------------------------------------------------

struct RedisClient::Batch {
  Batch(asio::strand<asio::io_context::executor_type>& strand) : timer(strand) {}
  std::vector<RedisCommand> commands;
  Replies replies;
  std::vector<bool> answered;
  std::size_t remaining = 0;
  Handler handler;
  asio::steady_timer timer;
  bool done = false;
  bool sent = false;
  bool retried = false;  // NOSCRIPT recovery happens once
};

// What hiredis carries for one command: the batch and the reply's place in it.
struct RedisClient::Slot {
  std::shared_ptr<Batch> batch;
  std::size_t index;
  std::uint64_t generation;
};

std::shared_ptr<RedisClient> RedisClient::create(asio::io_context& io,
                                                 RedisClientOptions options) {
  return std::shared_ptr<RedisClient>(new RedisClient(io, std::move(options)));
}

RedisClient::RedisClient(asio::io_context& io, RedisClientOptions options)
    : io_(io),
      options_(std::move(options)),
      strand_(asio::make_strand(io)),
      socket_(strand_),
      reconnect_timer_(strand_),
      connect_timer_(strand_) {}

RedisClient::~RedisClient() {
  // close() must have run (the daemon does it); as a last resort free the context here so
  // hiredis never calls back into a dead object.
  if (ctx_) {
    ctx_->data = nullptr;
    ctx_->ev.data = nullptr;
    if (socket_.is_open()) socket_.release();
    redisAsyncFree(ctx_);
  }
}

RedisCommand RedisClient::eval_command(const RedisScript& script, std::vector<std::string> keys,
                                       std::vector<std::string> args) {
  {
    std::lock_guard lock(scripts_mutex_);
    scripts_.try_emplace(script.sha1, script.source);
  }
  RedisCommand cmd;
  cmd.reserve(3 + keys.size() + args.size());
  cmd.push_back("EVALSHA");
  cmd.push_back(script.sha1);
  cmd.push_back(std::to_string(keys.size()));
  for (auto& k : keys) cmd.push_back(std::move(k));
  for (auto& a : args) cmd.push_back(std::move(a));
  return cmd;
}

void RedisClient::start() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    if (self->state_ == State::kIdle) self->connect();
  });
}

void RedisClient::close() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    if (self->state_ == State::kClosed) return;
    self->state_ = State::kClosed;
    self->reconnect_timer_.cancel();
    self->connect_timer_.cancel();
    for (auto& b : self->waiting_) self->finish(b, RedisErrc::kClosed);
    self->waiting_.clear();
    self->waiting_commands_ = 0;
    if (self->ctx_) {
      // Runs the pending callbacks with no reply (-> kConnectionLost) and the cleanup hook.
      redisAsyncContext* ctx = self->ctx_;
      self->ctx_ = nullptr;
      redisAsyncFree(ctx);
    }
    self->connected_ = false;
  });
}

void RedisClient::submit(std::vector<RedisCommand> commands, std::chrono::milliseconds timeout,
                         Handler handler) {
  auto batch = std::make_shared<Batch>(strand_);
  batch->replies.resize(commands.size());
  batch->answered.assign(commands.size(), false);
  batch->remaining = commands.size();
  batch->commands = std::move(commands);
  batch->handler = std::move(handler);
  asio::dispatch(strand_, [self = shared_from_this(), batch, timeout] {
    if (batch->commands.empty()) return self->finish(batch, {});
    if (self->state_ == State::kClosed) return self->finish(batch, RedisErrc::kClosed);
    if (self->in_flight_ + self->waiting_commands_ + batch->commands.size() >
        self->options_.max_pending)
      return self->finish(batch, RedisErrc::kQueueFull);
    batch->timer.expires_after(timeout);
    batch->timer.async_wait([self, batch](error_code ec) {
      if (!ec) self->on_timeout(batch);
    });
    self->enqueue(std::move(batch));
  });
}

void RedisClient::enqueue(std::shared_ptr<Batch> batch) {
  if (state_ == State::kConnected && ctx_) {
    send(batch);
  } else {
    waiting_commands_ += batch->commands.size();
    waiting_.push_back(std::move(batch));
    if (state_ == State::kIdle) connect();
  }
}

void RedisClient::send(const std::shared_ptr<Batch>& batch) {
  batch->sent = true;
  if (in_flight_ == 0) last_reply_at_ = std::chrono::steady_clock::now();
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (std::size_t i = 0; i < batch->commands.size(); ++i) {
    const auto& cmd = batch->commands[i];
    if (batch->answered[i] || cmd.empty()) {
      // Already answered (a NOSCRIPT retry resends only the unanswered ones) or empty.
      continue;
    }
    argv.clear();
    argvlen.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    auto* slot = new Slot{batch, i, generation_};
    if (redisAsyncCommandArgv(ctx_, &RedisClient::on_reply_cb, slot, static_cast<int>(argv.size()),
                              argv.data(), argvlen.data()) != REDIS_OK) {
      delete slot;
      finish(batch, RedisErrc::kConnectionLost);
      return;
    }
    ++in_flight_;
  }
}

void RedisClient::finish(const std::shared_ptr<Batch>& batch, error_code ec) {
  if (batch->done) return;
  batch->done = true;
  batch->timer.cancel();
  if (!batch->handler) return;
  // The erased handler posts, so this never re-enters hiredis or the caller.
  auto handler = std::move(batch->handler);
  batch->handler = nullptr;
  handler(ec, std::move(batch->replies));
}

void RedisClient::on_timeout(const std::shared_ptr<Batch>& batch) {
  if (batch->done) return;
  if (!batch->sent) waiting_commands_ -= batch->commands.size();
  finish(batch, RedisErrc::kTimeout);
  // Nothing at all came back for a whole timeout while commands waited: the peer is stalled
  // or gone without a FIN. Start over rather than wait on TCP keep-alive.
  const auto silent = std::chrono::steady_clock::now() - last_reply_at_;
  if (state_ == State::kConnected && in_flight_ > 0 && silent >= options_.command_timeout)
    drop_connection("no reply within the command timeout");
}

void RedisClient::on_batch_replied(const std::shared_ptr<Batch>& batch) {
  if (!batch->retried) {
    // NOSCRIPT recovery: load each missing known script, then resend the EVALSHAs that did
    // not run. Done at most once per batch.
    std::vector<std::string> sources;
    std::vector<std::size_t> retry;
    {
      std::lock_guard lock(scripts_mutex_);
      for (std::size_t i = 0; i < batch->replies.size(); ++i) {
        if (!is_noscript(batch->replies[i]) || batch->commands[i].size() < 2) continue;
        auto it = scripts_.find(batch->commands[i][1]);
        if (it == scripts_.end()) continue;
        retry.push_back(i);
        if (std::find(sources.begin(), sources.end(), it->second) == sources.end())
          sources.push_back(it->second);
      }
    }
    if (!retry.empty() && state_ == State::kConnected && ctx_) {
      batch->retried = true;
      for (auto i : retry) {
        batch->replies[i] = RedisReply{};
        batch->answered[i] = false;
      }
      batch->remaining = retry.size();
      auto loader = std::make_shared<Batch>(strand_);
      for (auto& src : sources) loader->commands.push_back({"SCRIPT", "LOAD", src});
      loader->replies.resize(loader->commands.size());
      loader->answered.assign(loader->commands.size(), false);
      loader->remaining = loader->commands.size();
      send(loader);  // pipelined ahead of the retry; replies are not needed
      send(batch);
      return;
    }
  }
  finish(batch, {});
}

// ---- connection ---------------------------------------------------------------------------

void RedisClient::connect() {
  if (state_ == State::kClosed) return;
  const auto& ep = options_.endpoint;
  redisAsyncContext* ctx = ep.kind == RedisEndpoint::Kind::kTcp
                               ? redisAsyncConnect(ep.host.c_str(), ep.port)
                               : redisAsyncConnectUnix(ep.path.c_str());
  if (!ctx || ctx->err) {
    spdlog::warn("redis: cannot connect to {}: {}", ep.describe(),
                 ctx ? ctx->errstr : "out of memory");
    if (ctx) redisAsyncFree(ctx);
    schedule_reconnect();
    return;
  }
  ++generation_;
  ctx_ = ctx;
  state_ = State::kConnecting;
  want_read_ = read_armed_ = want_write_ = write_armed_ = false;
  if (ep.kind == RedisEndpoint::Kind::kTcp) redisEnableKeepAlive(&ctx->c);
  ctx->data = this;
  ctx->ev.data = this;
  ctx->ev.addRead = &RedisClient::add_read_cb;
  ctx->ev.delRead = &RedisClient::del_read_cb;
  ctx->ev.addWrite = &RedisClient::add_write_cb;
  ctx->ev.delWrite = &RedisClient::del_write_cb;
  ctx->ev.cleanup = &RedisClient::cleanup_cb;
  error_code ec;
  socket_.assign(ctx->c.fd, ec);
  redisAsyncSetConnectCallback(ctx, &RedisClient::on_connect_cb);
  redisAsyncSetDisconnectCallback(ctx, &RedisClient::on_disconnect_cb);
  if (ec) {
    spdlog::error("redis: cannot watch the socket: {}", ec.message());
    drop_connection("socket registration failed");
    return;
  }
  // hiredis asks for write readiness to learn that the connect finished; that request
  // arrived before the hooks were set, so arm it now.
  want_write_ = true;
  arm_write();
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), gen = generation_](error_code e) {
    if (e || gen != self->generation_ || self->state_ != State::kConnecting) return;
    spdlog::warn("redis: connecting to {} timed out", self->options_.endpoint.describe());
    self->drop_connection("connect timeout");
  });
}

void RedisClient::drop_connection(const char* why) {
  if (!ctx_) return;
  spdlog::warn("redis: dropping the connection to {}: {}", options_.endpoint.describe(), why);
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  connected_ = false;
  redisAsyncFree(ctx);  // pending callbacks get no reply -> kConnectionLost
  if (state_ != State::kClosed) schedule_reconnect();
}

void RedisClient::schedule_reconnect() {
  if (state_ == State::kClosed) return;
  state_ = State::kBackoff;
  connected_ = false;
  backoff_ = backoff_.count() == 0 ? options_.reconnect_min
                                   : std::min(backoff_ * 2, options_.reconnect_max);
  // Full jitter in [backoff/2, backoff]: many dispatchers must not reconnect in lockstep.
  static thread_local std::minstd_rand rng{std::random_device{}()};
  const auto half = backoff_.count() / 2;
  const auto delay = std::chrono::milliseconds(
      half + std::uniform_int_distribution<long long>(0, std::max<long long>(half, 0))(rng));
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->state_ == State::kBackoff) self->connect();
  });
}

void RedisClient::on_connected() {
  state_ = State::kConnected;
  connect_timer_.cancel();
  backoff_ = std::chrono::milliseconds(0);
  connected_ = true;
  ++connections_;
  spdlog::info("redis: connected to {}", options_.endpoint.describe());
  // Session set-up goes ahead of anything that waited.
  auto setup = std::make_shared<Batch>(strand_);
  if (!options_.endpoint.password.empty())
    setup->commands.push_back({"AUTH", options_.endpoint.password});
  if (options_.endpoint.db != 0)
    setup->commands.push_back({"SELECT", std::to_string(options_.endpoint.db)});
  {
    std::lock_guard lock(scripts_mutex_);
    for (const auto& [sha, src] : scripts_) setup->commands.push_back({"SCRIPT", "LOAD", src});
  }
  if (!setup->commands.empty()) {
    setup->replies.resize(setup->commands.size());
    setup->answered.assign(setup->commands.size(), false);
    setup->remaining = setup->commands.size();
    send(setup);
  }
  flush_waiting();
}

void RedisClient::flush_waiting() {
  while (!waiting_.empty() && state_ == State::kConnected && ctx_) {
    auto b = std::move(waiting_.front());
    waiting_.pop_front();
    if (b->done) continue;  // timed out while waiting; already accounted
    waiting_commands_ -= b->commands.size();
    send(b);
  }
}

// ---- hiredis callbacks (C): nothing may throw through them ---------------------------------

void RedisClient::on_connect_cb(const redisAsyncContext* c, int status) {
  auto* self = static_cast<RedisClient*>(c->data);
  if (!self) return;
  try {
    if (status != REDIS_OK) {
      spdlog::warn("redis: cannot connect to {}: {}", self->options_.endpoint.describe(),
                   c->errstr);
      self->ctx_ = nullptr;  // hiredis frees the context after this callback
      self->connected_ = false;
      self->schedule_reconnect();
      return;
    }
    self->on_connected();
  } catch (const std::exception& e) {
    spdlog::error("redis: connect callback failed: {}", e.what());
  }
}

void RedisClient::on_disconnect_cb(const redisAsyncContext* c, int status) {
  auto* self = static_cast<RedisClient*>(c->data);
  if (!self) return;
  try {
    self->connected_ = false;
    if (self->ctx_ == c) {
      // Dropped by the peer (not by us: drop_connection clears ctx_ first).
      self->ctx_ = nullptr;
      spdlog::warn("redis: connection to {} lost{}", self->options_.endpoint.describe(),
                   status == REDIS_OK ? "" : std::string(": ") + c->errstr);
      self->schedule_reconnect();
    }
  } catch (const std::exception& e) {
    spdlog::error("redis: disconnect callback failed: {}", e.what());
  }
}

void RedisClient::on_reply_cb(redisAsyncContext* c, void* reply, void* privdata) {
  std::unique_ptr<Slot> slot(static_cast<Slot*>(privdata));
  auto* self = static_cast<RedisClient*>(c->data);
  if (!self || !slot) return;
  try {
    auto& batch = slot->batch;
    if (slot->generation == self->generation_ && self->in_flight_ > 0) --self->in_flight_;
    if (!reply) {
      // The connection went away with this command in flight.
      self->finish(batch, RedisErrc::kConnectionLost);
      return;
    }
    self->last_reply_at_ = std::chrono::steady_clock::now();
    if (batch->done) return;  // timed out earlier; late reply discarded
    batch->replies[slot->index] = copy_reply(static_cast<redisReply*>(reply));
    batch->answered[slot->index] = true;
    if (--batch->remaining == 0) self->on_batch_replied(batch);
  } catch (const std::exception& e) {
    spdlog::error("redis: reply callback failed: {}", e.what());
  }
}

void RedisClient::add_read_cb(void* p) {
  if (auto* self = static_cast<RedisClient*>(p)) {
    self->want_read_ = true;
    self->arm_read();
  }
}
void RedisClient::del_read_cb(void* p) {
  if (auto* self = static_cast<RedisClient*>(p)) self->want_read_ = false;
}
void RedisClient::add_write_cb(void* p) {
  if (auto* self = static_cast<RedisClient*>(p)) {
    self->want_write_ = true;
    self->arm_write();
  }
}
void RedisClient::del_write_cb(void* p) {
  if (auto* self = static_cast<RedisClient*>(p)) self->want_write_ = false;
}
void RedisClient::cleanup_cb(void* p) {
  auto* self = static_cast<RedisClient*>(p);
  if (!self) return;
  self->want_read_ = self->want_write_ = false;
  // hiredis closes the descriptor itself; give it back without closing it.
  if (self->socket_.is_open()) self->socket_.release();
}

void RedisClient::arm_read() {
  if (read_armed_ || !socket_.is_open()) return;
  read_armed_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this(), gen = generation_](error_code ec) {
                       if (gen != self->generation_) return;
                       self->read_armed_ = false;
                       if (ec || !self->ctx_ || !self->want_read_) return;
                       redisAsyncHandleRead(self->ctx_);
                       if (self->ctx_ && self->want_read_ && gen == self->generation_)
                         self->arm_read();
                     });
}

void RedisClient::arm_write() {
  if (write_armed_ || !socket_.is_open()) return;
  write_armed_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this(), gen = generation_](error_code ec) {
                       if (gen != self->generation_) return;
                       self->write_armed_ = false;
                       if (ec || !self->ctx_ || !self->want_write_) return;
                       redisAsyncHandleWrite(self->ctx_);
                       if (self->ctx_ && self->want_write_ && gen == self->generation_)
                         self->arm_write();
                     });
}

}  // namespace loa::engine
