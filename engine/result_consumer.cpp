#include "engine/result_consumer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <deque>
#include <unordered_map>
#include <mutex>

#include "campaigns/fault_point.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/metrics.hpp"

namespace loa::engine {
namespace {

// Delivery latency (sent -> delivered) for /metrics, from the events this process applies.
// The sent times wait in a bounded table: beyond kLatencyPending, the oldest are forgotten
// (their receipts are then not measured), so memory stays flat.
constexpr std::size_t kLatencyPending = 200000;

// "loa:{route}:results" -> route
std::string route_of_stream(const std::string& stream_key) {
  const auto open = stream_key.find('{'), close = stream_key.find('}');
  return open != std::string::npos && close != std::string::npos && close > open
             ? stream_key.substr(open + 1, close - open - 1)
             : stream_key;
}

void observe_latency(const std::string& route,
                     const std::vector<campaigns::OutboxEvent>& events) {
  static std::mutex mutex;
  static std::unordered_map<long long, long long> sent_ms;  // message id -> when sent
  static std::deque<long long> order;
  // The route's histogram, looked up in the registry once per entry and only when a receipt
  // is timed (the lookup builds its name, help, labels and bounds).
  metrics::Histogram* histogram = nullptr;
  const auto latency = [&]() -> metrics::Histogram& {
    if (!histogram)
      histogram = &metrics::Registry::global().histogram(
          "loa_delivery_latency_seconds",
          "Time from the gateway accepting a message to its delivery receipt",
          {{"route", route}});
    return *histogram;
  };
  std::lock_guard lock(mutex);
  for (const auto& e : events) {
    if (e.at_ms <= 0 || e.message_id <= 0) continue;
    if (e.kind == campaigns::OutboxEvent::Kind::kSent) {
      if (sent_ms.emplace(e.message_id, e.at_ms).second) order.push_back(e.message_id);
      while (order.size() > kLatencyPending) {
        sent_ms.erase(order.front());
        order.pop_front();
      }
    } else if (e.kind == campaigns::OutboxEvent::Kind::kDelivered) {
      auto it = sent_ms.find(e.message_id);
      if (it == sent_ms.end()) continue;
      latency().observe(static_cast<double>(std::max(0LL, e.at_ms - it->second)) / 1000.0);
      sent_ms.erase(it);  // its id stays in `order` until it ages out; erase() then is a no-op
    }
  }
}

}  // namespace


namespace asio = boost::asio;
using boost::system::error_code;
using campaigns::OutboxEvent;

namespace {

// Applies on the store writer's thread with statements prepared once per thread. Safe because
// that thread ends before the writer closes its connection (engine/store_writer.hpp), and
// thread-local objects die with their thread.
int apply_on_writer(SQLite::Database& db, const std::vector<OutboxEvent>& events,
                    int* orphans) {
  thread_local std::unique_ptr<campaigns::OutboxEventApplier> applier;
  if (!applier || &applier->database() != &db)
    applier = std::make_unique<campaigns::OutboxEventApplier>(db);
  const int changed = applier->apply(events);
  *orphans = applier->orphans();
  return changed;
}

// What Redis must learn after replies changed opt-outs (set_reply_handler).
std::vector<RedisCommand> effect_commands(const campaigns::ReplyEffects& fx) {
  std::vector<RedisCommand> cmds;
  for (const char* channel : {"sms", "zalo"}) {
    const std::string key = std::string("loa:{optout}:") + channel;  // Dispatcher::optout_key
    if (!fx.opted_out.empty()) {
      RedisCommand add = {"SADD", key};
      for (auto id : fx.opted_out) add.push_back(std::to_string(id));
      cmds.push_back(std::move(add));
    }
    if (!fx.opted_in.empty()) {
      RedisCommand rem = {"SREM", key};
      for (auto id : fx.opted_in) rem.push_back(std::to_string(id));
      cmds.push_back(std::move(rem));
    }
  }
  for (const auto& d : fx.dropped) {
    const std::string prefix = "loa:{" + d.route + "}:";
    const std::string id = std::to_string(d.message_id);
    cmds.push_back({"HDEL", prefix + "msg", id});
    cmds.push_back({"LREM", prefix + "lane:" + std::to_string(d.campaign_id), "0", id});
    cmds.push_back({"ZREM", prefix + "delayed", id});
  }
  return cmds;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

// Entries of one read: applied as one write, then acknowledged together.
struct ReadBatch {
  std::vector<std::vector<std::string>> ids;  // per stream (index into keys), to XACK + XDEL
  std::vector<OutboxEvent> events;
  std::size_t entries = 0;
  int changed = 0;  // set by the write
  int orphans = 0;  // set by the write
  campaigns::ReplyEffects effects;  // set by the write
};

struct ResultConsumer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_, RedisClientOptions options_, std::vector<std::string> routes,
       StoreWriter& writer_, std::string consumer_)
      : io(io_),
        strand(asio::make_strand(io_)),
        options(std::move(options_)),
        writer(writer_),
        consumer(std::move(consumer_)),
        timer(strand) {
    for (const auto& r : routes) keys.push_back(stream_key(r));
    // A blocked XREADGROUP must not look like a stalled connection or a timeout.
    options.command_timeout =
        std::max(options.command_timeout, kBlock + std::chrono::milliseconds(2000));
    client = RedisClient::create(io, options);
  }

  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  RedisClientOptions options;
  StoreWriter& writer;
  std::string consumer;
  std::vector<std::string> keys;
  asio::steady_timer timer;
  std::shared_ptr<RedisClient> client;  // closed by stop(), after which commands fail at once
  enum class Life { kNew, kRunning, kStopped };
  Life life = Life::kNew;  // touched by start() and stop() only

  // Everything below up to idle_mutex is touched only on `strand`.
  bool stopping = false;
  bool busy = false;     // an XGROUP or XREADGROUP is outstanding
  bool waiting = false;  // the retry timer is armed
  bool need_groups = true;
  bool need_pending = true;               // re-read this consumer's pending entries before new ones
  std::vector<std::string> pending_from;  // per stream: read pending after this id; "" done
  std::size_t in_flight = 0;              // entries submitted to the writer, not yet committed
  std::size_t acks = 0;                   // XACK pipelines outstanding
  std::shared_ptr<ReadBatch> unsubmitted;  // refused by a full writer queue; retried
  std::chrono::milliseconds backoff{0};
  std::uint64_t error_streak = 0;

  std::mutex idle_mutex;
  std::condition_variable idle_cv;
  bool idle = false;  // guarded by idle_mutex: stopping and nothing outstanding

  std::atomic<std::uint64_t> entries{0}, events{0}, applied{0}, ignored{0}, decode_errors{0},
      write_failures{0}, redis_errors{0}, in_flight_entries{0}, orphans{0}, replies_handled{0};
  ReplyHandler reply_handler;  // set before start(); called on the writer's thread

  template <class F>
  auto on_strand(F&& f) {
    return asio::bind_executor(strand, std::forward<F>(f));
  }

  // The one place that decides what to do next.
  void step() {
    if (stopping) {
      if (!busy && in_flight == 0 && acks == 0) {
        std::lock_guard lock(idle_mutex);
        idle = true;
        idle_cv.notify_all();
      }
      return;
    }
    if (busy || waiting || keys.empty()) return;
    if (unsubmitted) {
      auto batch = std::move(unsubmitted);
      submit(std::move(batch));
      if (unsubmitted) return retry_after(std::chrono::milliseconds(20));
    }
    if (need_groups) return create_groups();
    if (need_pending) {
      // Entries being written or acknowledged are pending too; let them settle first.
      if (in_flight > 0 || acks > 0) return;
      need_pending = false;
      pending_from.assign(keys.size(), "0");
    }
    if (in_flight > 0 && in_flight + kReadCount * keys.size() > kMaxEntriesInFlight) return;
    read();
  }

  void retry_after(std::chrono::milliseconds delay) {
    waiting = true;
    timer.expires_after(delay);
    timer.async_wait(on_strand([self = shared_from_this()](error_code) {
      self->waiting = false;
      self->step();
    }));
  }

  void failed(const std::string& what) {
    ++redis_errors;
    ++error_streak;
    // The first of a run at warn, then sparsely: an outage must not flood the log.
    if (error_streak == 1 || error_streak % 64 == 0)
      spdlog::warn("results: {} (retrying; {} error(s) in a row)", what, error_streak);
    need_groups = true;   // cheap, and the right answer to NOGROUP and to a flushed server
    need_pending = true;  // a lost reply may have handed us entries we never saw
    backoff = std::clamp(backoff * 2, kRetryMin, kRetryMax);
    retry_after(backoff);
  }

  void succeeded() {
    if (error_streak > 0)
      spdlog::info("results: Redis answers again after {} error(s)", error_streak);
    error_streak = 0;
    backoff = std::chrono::milliseconds(0);
  }

  void create_groups() {
    std::vector<RedisCommand> cmds;
    for (const auto& k : keys) cmds.push_back({"XGROUP", "CREATE", k, kGroup, "0", "MKSTREAM"});
    busy = true;
    client->async_exec_pipeline(
        std::move(cmds),
        on_strand([self = shared_from_this()](error_code ec, RedisClient::Replies replies) {
          self->busy = false;
          if (self->stopping) return self->step();
          if (ec) return self->failed("XGROUP CREATE: " + ec.message());
          for (const auto& r : replies)
            if (r.is_error() && !starts_with(r.str, "BUSYGROUP"))
              return self->failed("XGROUP CREATE: " + r.str);
          self->need_groups = false;
          self->step();
        }));
  }

  void read() {
    const bool pending = !pending_from.empty();
    RedisCommand cmd = {"XREADGROUP", "GROUP", kGroup,
                        consumer,     "COUNT", std::to_string(kReadCount)};
    std::vector<std::size_t> streams;  // indices of the keys named, in order
    if (!pending) {
      cmd.push_back("BLOCK");
      cmd.push_back(std::to_string(kBlock.count()));
    }
    cmd.push_back("STREAMS");
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (!pending || !pending_from[i].empty()) {
        streams.push_back(i);
        cmd.push_back(keys[i]);
      }
    for (std::size_t i : streams) cmd.push_back(pending ? pending_from[i] : ">");
    busy = true;
    client->async_exec(std::move(cmd), on_strand([self = shared_from_this(), pending, streams](
                                                     error_code ec, RedisReply r) {
                         self->busy = false;
                         self->on_read(ec, std::move(r), pending, streams);
                       }));
  }

  void on_read(error_code ec, RedisReply reply, bool pending,
               const std::vector<std::size_t>& streams) {
    if (stopping) return step();  // what was read stays pending for the next start
    if (ec) return failed("XREADGROUP: " + ec.message());
    if (reply.is_error()) return failed("XREADGROUP: " + reply.str);
    succeeded();
    auto batch = std::make_shared<ReadBatch>();
    batch->ids.resize(keys.size());
    std::vector<bool> seen(keys.size(), false);
    if (reply.type == RedisReply::Type::kArray) {
      for (auto& stream : reply.elements) {
        if (stream.type != RedisReply::Type::kArray || stream.elements.size() != 2) continue;
        const std::string& key = stream.elements[0].str;
        const auto it = std::find(keys.begin(), keys.end(), key);
        if (it == keys.end()) continue;
        const auto index = static_cast<std::size_t>(it - keys.begin());
        for (auto& entry : stream.elements[1].elements) {
          if (entry.type != RedisReply::Type::kArray || entry.elements.empty()) continue;
          seen[index] = true;
          const std::string& id = entry.elements[0].str;
          batch->ids[index].push_back(id);
          ++batch->entries;
          if (pending) pending_from[index] = id;
          // A nil body: the entry was deleted while pending; acknowledging it is all.
          if (entry.elements.size() < 2 || entry.elements[1].is_nil()) continue;
          decode(key, id, entry.elements[1], batch->events);
        }
      }
    }
    if (pending) {
      // A stream whose pending entries are all read drops out of the pending pass.
      for (std::size_t i : streams)
        if (!seen[i]) pending_from[i].clear();
      if (std::all_of(pending_from.begin(), pending_from.end(),
                      [](const std::string& s) { return s.empty(); }))
        pending_from.clear();
    }
    if (batch->entries > 0) submit(std::move(batch));
    step();
  }

  void decode(const std::string& key, const std::string& id, const RedisReply& fields,
              std::vector<OutboxEvent>& out) {
    const RedisReply* body = nullptr;
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2)
      if (fields.elements[i].str == "e") body = &fields.elements[i + 1];
    try {
      if (!body) throw campaigns::OutboxEventError("no field 'e'");
      auto decoded = campaigns::decode_events(body->str);
      // A status event concerns the message on this route: an "unreachable" delivered twice
      // must not move a row that has fallen back to another route since (outbox_event.cpp).
      const std::string route = route_of_stream(key);
      for (auto& e : decoded)
        if (e.kind != OutboxEvent::Kind::kReply) e.route = route;
      observe_latency(route, decoded);
      out.insert(out.end(), std::make_move_iterator(decoded.begin()),
                 std::make_move_iterator(decoded.end()));
    } catch (const campaigns::OutboxEventError& e) {
      ++decode_errors;
      spdlog::warn("results: {} entry {} does not decode, skipped: {}", key, id, e.what());
    }
  }

  void submit(std::shared_ptr<ReadBatch> batch) {
    if (batch->events.empty()) {  // only bad or deleted entries: nothing to write
      entries += batch->entries;
      return acknowledge(batch);
    }
    auto self = shared_from_this();
    StoreWrite write{
        [batch, handler = reply_handler](SQLite::Database& db) {
          batch->changed = apply_on_writer(db, batch->events, &batch->orphans);
          const bool replies = std::any_of(batch->events.begin(), batch->events.end(),
                                           [](const OutboxEvent& e) {
                                             return e.kind == OutboxEvent::Kind::kReply;
                                           });
          if (handler && replies) batch->effects = handler(db);
        },
        [self, batch](bool ok, const std::string& error) {
          asio::post(self->strand,
                     [self, batch, ok, error] { self->on_written(batch, ok, error); });
        }};
    if (!writer.try_submit(write)) {
      unsubmitted = std::move(batch);  // the queue is full (or the writer stopped): later
      return;
    }
    in_flight += batch->entries;
    in_flight_entries = in_flight;
  }

  void on_written(const std::shared_ptr<ReadBatch>& batch, bool ok, const std::string& error) {
    in_flight -= batch->entries;
    in_flight_entries = in_flight;
    if (!ok) {
      ++write_failures;
      spdlog::error(
          "results: the store refused {} entr{} ({} events); they stay pending and "
          "are retried: {}",
          batch->entries, batch->entries == 1 ? "y" : "ies", batch->events.size(), error);
      need_pending = true;
      if (!stopping && !waiting) {
        backoff = std::clamp(backoff * 2, kRetryMin, kRetryMax);
        retry_after(backoff);
      }
      return step();
    }
    entries += batch->entries;
    events += batch->events.size();
    if (batch->orphans > 0) {
      orphans += static_cast<std::uint64_t>(batch->orphans);
      spdlog::warn("results: {} receipt(s) for message ids the outbox does not know: stored in "
                   "orphan_receipts ({} so far)",
                   batch->orphans, orphans.load());
    }
    replies_handled += static_cast<std::uint64_t>(batch->effects.processed);
    for (const auto& w : batch->effects.warnings) spdlog::warn("replies: {}", w);
    if (!batch->effects.opted_out.empty() || !batch->effects.opted_in.empty())
      spdlog::info("replies: {} household(s) opted out, {} opted in; {} queued message(s) "
                   "withdrawn",
                   batch->effects.opted_out.size(), batch->effects.opted_in.size(),
                   batch->effects.dropped.size());
    if (auto cmds = effect_commands(batch->effects); !cmds.empty()) {
      client->async_exec_pipeline(
          std::move(cmds), [self = shared_from_this()](error_code ec, RedisClient::Replies r) {
            bool failed = static_cast<bool>(ec);
            for (const auto& x : r) failed = failed || x.is_error();
            if (failed) {
              ++self->redis_errors;
              spdlog::warn("replies: telling Redis about opt-outs failed ({}); the enqueuer's "
                           "mirror and the dispatchers' check still apply them",
                           ec ? ec.message() : "error reply");
            }
          });
    }
    applied += static_cast<std::uint64_t>(batch->changed);
    ignored += batch->events.size() - static_cast<std::uint64_t>(batch->changed);
    LOA_FAULT_POINT("results.ack");  // committed to SQLite, not yet acknowledged in Redis
    acknowledge(batch);
    step();
  }

  void acknowledge(const std::shared_ptr<ReadBatch>& batch) {
    std::vector<RedisCommand> cmds;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (batch->ids[i].empty()) continue;
      RedisCommand ack = {"XACK", keys[i], kGroup};
      RedisCommand del = {"XDEL", keys[i]};
      for (const auto& id : batch->ids[i]) {
        ack.push_back(id);
        del.push_back(id);
      }
      cmds.push_back(std::move(ack));
      cmds.push_back(std::move(del));
    }
    if (cmds.empty()) return;
    ++acks;
    client->async_exec_pipeline(
        std::move(cmds),
        on_strand([self = shared_from_this()](error_code ec, RedisClient::Replies replies) {
          --self->acks;
          std::string error = ec ? ec.message() : "";
          for (const auto& r : replies)
            if (error.empty() && r.is_error()) error = r.str;
          if (!error.empty()) {
            // Committed but not acknowledged: re-read and re-applied later, harmlessly.
            ++self->redis_errors;
            self->need_pending = true;
            spdlog::warn("results: XACK failed ({}); the entries will be re-read", error);
          }
          self->step();
        }));
  }
};

ResultConsumer::ResultConsumer(asio::io_context& io, RedisClientOptions options,
                               std::vector<std::string> routes, StoreWriter& writer,
                               std::string consumer_name)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(routes), writer,
                                   std::move(consumer_name))) {}

ResultConsumer::~ResultConsumer() {
  try {
    stop();
  } catch (...) {
    // Never throw from a destructor.
  }
}

void ResultConsumer::start() {
  auto impl = impl_;
  if (impl->life != Impl::Life::kNew) return;
  impl->life = Impl::Life::kRunning;
  impl->client->start();
  spdlog::info("results: consuming {} stream(s) as '{}' in group '{}'", impl->keys.size(),
               impl->consumer, kGroup);
  asio::post(impl->strand, [impl] { impl->step(); });
}

void ResultConsumer::stop() {
  auto impl = impl_;
  if (impl->life != Impl::Life::kRunning) return;
  impl->life = Impl::Life::kStopped;
  asio::post(impl->strand, [impl] {
    impl->stopping = true;
    impl->unsubmitted.reset();  // never written: it stays pending for the next start
    impl->timer.cancel();
    impl->step();
  });
  std::unique_lock lock(impl->idle_mutex);
  if (!impl->idle_cv.wait_for(lock, kStopGrace, [&] { return impl->idle; }))
    spdlog::warn("results: stopped with work outstanding; it is re-read on the next start");
  lock.unlock();
  // Handlers still to come find `stopping` set, and the client fails their commands.
  impl->client->close();
}

ResultConsumer::Counters ResultConsumer::counters() const {
  const Impl& i = *impl_;
  Counters c;
  c.entries = i.entries;
  c.events = i.events;
  c.applied = i.applied;
  c.ignored = i.ignored;
  c.decode_errors = i.decode_errors;
  c.write_failures = i.write_failures;
  c.redis_errors = i.redis_errors;
  c.in_flight = i.in_flight_entries;
  c.orphans = i.orphans;
  c.replies_handled = i.replies_handled;
  return c;
}

void ResultConsumer::set_reply_handler(ReplyHandler handler) {
  impl_->reply_handler = std::move(handler);
}

}  // namespace loa::engine
