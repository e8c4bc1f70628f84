// The bridge from the outbox (SQLite, the record) to the route queues (Redis, work in flight),
// run by the planner role (DESIGN.md 1, 3.1, 3.6):
//  - enqueue: planned messages of running campaigns go into their route's queue, then become
//    `queued` in the outbox (through the store writer). A crash between the two replays the
//    page; the queue skips what it holds, so nothing is doubled or lost.
//  - reconciliation: each route keeps an epoch key in Redis. When it is gone (a FLUSHALL, a
//    restart without persistence), every `queued` message of that route is enqueued again
//    from the outbox, and the opt-outs and campaign states are written again.
//  - campaign states: a pause, resume or cancel made anywhere (CLI, API) is carried to the
//    queues on the next pass, so it takes effect on queued messages within a second.
//  - fallback: a message whose first channel found the household unreachable comes back
//    planned on its next channel with an empty body (campaigns/outbox_event.hpp); it is
//    rendered for that channel (campaigns::plan_household) before it is enqueued, or failed
//    when the household cannot use that channel either.
//  - opt-outs: households opted out in the store are mirrored in loa:{optout}:sms and :zalo, the sets
//    that dispatchers check before each send.
//
// Contract: run_once() does one pass and returns the messages enqueued; start() runs passes
// on a thread of its own every `interval` (SQLite reads block), waiting on Redis through the
// io_context, which must be running. stop() finishes the pass in hand.
//
// Thread-safety: start/stop from one thread; run_once from one thread at a time.
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "campaigns/planner.hpp"
#include "engine/redis_client.hpp"
#include "engine/route_queue.hpp"
#include "engine/store_writer.hpp"

namespace loa::engine {

struct EnqueuerSettings {
  int page_rows = 5000;
  std::chrono::milliseconds interval{200};
  std::chrono::milliseconds optout_every{5000};
  std::chrono::milliseconds redis_timeout{30000};  // waiting for one pipeline
};

struct EnqueuerStats {
  long long passes = 0, enqueued = 0, skipped = 0, reconciled = 0, redis_errors = 0,
            fallbacks = 0;
};

class Enqueuer {
 public:
  // Planner settings (template, routes) for rendering fallback messages; as the scheduler's.
  using SettingsFor =
      std::function<campaigns::PlannerSettings(SQLite::Database&, const campaigns::Campaign&)>;

  Enqueuer(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis,
           std::filesystem::path store, StoreWriter& writer, std::vector<std::string> routes,
           SettingsFor settings_for, EnqueuerSettings settings = {});
  ~Enqueuer();
  Enqueuer(const Enqueuer&) = delete;
  Enqueuer& operator=(const Enqueuer&) = delete;

  void start();
  void stop();
  long long run_once();

  EnqueuerStats stats() const;
  static std::string epoch_key(std::string_view route);

  // A campaign's state and dispatch policy as the enqueuer reads it (enqueuer.cpp).
  struct Campaign;

 private:
  template <class T>
  T wait(boost::asio::awaitable<T> op);
  void reconcile_if_flushed();
  void sync_campaigns(bool force);
  void sync_optouts(bool force);
  long long enqueue_campaign(const Campaign& c);
  void render_fallbacks(const Campaign& c);
  void loop();

  boost::asio::io_context& io_;
  std::shared_ptr<RedisClient> redis_;
  std::filesystem::path store_;
  StoreWriter& writer_;
  std::map<std::string, std::unique_ptr<RouteQueue>> queues_;
  SettingsFor settings_for_;
  EnqueuerSettings settings_;
  std::unique_ptr<SQLite::Database> db_;

  std::map<long long, std::string> campaign_states_;  // as last carried to Redis
  std::set<long long> optout_sms_, optout_zalo_;      // as last mirrored
  std::chrono::steady_clock::time_point next_optout_sync_{};
  bool mirrored_optouts_ = false;  // the sets in Redis are this process's to diff against

  std::atomic<long long> passes_{0}, enqueued_{0}, skipped_{0}, reconciled_{0},
      redis_errors_{0}, fallbacks_{0};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mutex_
};

}  // namespace loa::engine
