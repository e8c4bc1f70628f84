#include "engine/scheduler.hpp"

#include <spdlog/spdlog.h>

#include "campaigns/round_scheduler.hpp"
#include "engine/store.hpp"

namespace loa::engine {

using namespace loa::campaigns;

Scheduler::Scheduler(std::filesystem::path store, const Clock& clock, SettingsFor settings,
                     std::chrono::milliseconds interval, std::chrono::seconds stale_after)
    : store_(std::move(store)),
      clock_(clock),
      settings_(std::move(settings)),
      interval_(interval),
      stale_after_(stale_after) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::set_receipt_timeouts(campaigns::ReceiptTimeouts timeouts) {
  receipt_timeouts_ = std::move(timeouts);
}

void Scheduler::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::loop() {
  for (;;) {
    try {
      run_once();
    } catch (const std::exception& e) {
      spdlog::error("scheduler: {}", e.what());
    }
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
  }
}

int Scheduler::run_once() {
  if (!db_) {
    // One thread at a time: db_ is used only inside run_once (one thread at a time, see the
    // header), and expand_round hands it to its writer thread and joins it before returning.
    db_ = std::make_unique<SQLite::Database>(open_store(
        store_, StoreMode::kReadWrite, 5000, ConnectionMutex::kOneThreadAtATime));
    // Expansion writes hundreds of MB in a row, and the outbox's UNIQUE(round, phone) index
    // fills in random phone order.
    tune_for_bulk_writes(*db_);
  }
  SQLite::Database& db = *db_;
  const TimePoint now = clock_.now();
  if (int ended = end_campaigns(db, now)) spdlog::info("scheduler: {} campaign(s) ended", ended);
  int finished = 0;
  for (const DueRound& due : due_rounds(db, now, stale_after_)) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    if (!take_round(db, due, now, stale_after_)) continue;
    const bool resumed = due.round.state == RoundState::kExpanding;
    spdlog::info("scheduler: campaign '{}' round {} {} (cursor {})", due.campaign.name,
                 due.round.number, resumed ? "resumes" : "starts", due.round.cursor);
    try {
      auto settings = settings_(db, due.campaign);
      const auto started = std::chrono::steady_clock::now();
      const ExpandResult r = expand_round(
          db, due.campaign, due.round, std::move(settings), [this] { return clock_.now(); }, {},
          [this] {
            std::lock_guard lock(mutex_);
            return !stopping_;
          });
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      spdlog::info(
          "scheduler: campaign '{}' round {} {}: {} message(s) planned, {} shared phone(s) "
          "skipped, {} household(s) without a usable channel ({:.1f} s)",
          due.campaign.name, due.round.number, r.finished ? "expanded" : "stopped (paused?)",
          r.planned, r.duplicates, r.no_channel, secs);
      if (r.finished) ++finished;
    } catch (const std::exception& e) {
      spdlog::error("scheduler: campaign '{}' round {}: {}", due.campaign.name, due.round.number,
                    e.what());
    }
  }
  if (int unknown = mark_unknown_outcomes(db, clock_.now(), receipt_timeouts_))
    spdlog::info(
        "scheduler: {} message(s) had no receipt within their route's timeout: now "
        "unknown",
        unknown);
  if (int completed = complete_campaigns(db, clock_.now()))
    spdlog::info("scheduler: {} campaign(s) completed: nothing left to plan or send", completed);
  return finished;
}

}  // namespace loa::engine
