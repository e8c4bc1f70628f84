// The campaign scheduler: starts rounds on time and expands them into the outbox.
//
// Contract:
//  - run_once() does one pass at clock.now(): ends campaigns past end_at (their unsent messages
//    expire), then takes every due round (campaigns/round_scheduler.hpp) and expands it
//    (campaigns/planner.hpp). A round is taken by one planner only, and an interrupted one
//    (a crash, a kill -9) resumes at its cursor on the next pass after its heartbeat went
//    stale, so the outbox ends exact. Last, it completes the one-off campaigns that have
//    nothing left to plan or send (campaigns::complete_campaigns). Every pass also moves the
//    messages whose receipt is overdue to `unknown` (campaigns/receipt_timeout.hpp), by the
//    routes' timeouts given to set_receipt_timeouts() and the injected clock.
//  - start() runs passes on a thread of its own every `interval` (expansion is blocking SQLite
//    work and must not hold the io_context's threads); stop() finishes the current page and
//    joins. Pause and cancel are seen between pages (campaigns/planner.hpp).
//  - Planning uses its own SQLite connection; its transactions are bounded (commit_rows rows,
//    and about max_transaction of time: campaigns/planner.hpp), so the store writer waits at
//    most about that long for the write lock.
//
// Thread-safety: start/stop from one thread; run_once from one thread at a time. The planning
// connection is opened without SQLite's per-connection mutex (engine/store.hpp,
// ConnectionMutex::kOneThreadAtATime): only run_once uses it, and expand_round's writer thread
// has it only between its start and its join.
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "campaigns/planner.hpp"
#include "campaigns/receipt_timeout.hpp"
#include "engine/clock.hpp"

namespace loa::engine {

class Scheduler {
 public:
  // Builds the planner settings (template, fallback chain, routes) for a campaign; throws
  // campaigns::CampaignError when the campaign cannot be planned (e.g. its template is gone).
  using SettingsFor =
      std::function<campaigns::PlannerSettings(SQLite::Database&, const campaigns::Campaign&)>;

  Scheduler(std::filesystem::path store, const Clock& clock, SettingsFor settings,
            std::chrono::milliseconds interval = std::chrono::seconds(1),
            std::chrono::seconds stale_after = std::chrono::seconds(30));
  ~Scheduler();

  // Before start(): how long each route's messages wait for a receipt (none: no timeout).
  void set_receipt_timeouts(campaigns::ReceiptTimeouts timeouts);
  void start();
  void stop();
  // One pass; returns the rounds expanded to the end.
  int run_once();

 private:
  void loop();
  std::filesystem::path store_;
  const Clock& clock_;
  SettingsFor settings_;
  std::chrono::milliseconds interval_;
  std::chrono::seconds stale_after_;
  campaigns::ReceiptTimeouts receipt_timeouts_;
  std::unique_ptr<SQLite::Database> db_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mutex_
};

}  // namespace loa::engine
