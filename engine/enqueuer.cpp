#include "engine/enqueuer.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/ranges.h>

#include <future>
#include <sstream>

#include "campaigns/local_time.hpp"
#include "campaigns/stats_summary.hpp"
#include "engine/dispatcher.hpp"
#include "engine/store.hpp"

namespace loa::engine {
namespace {

using boost::system::error_code;

class RedisUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr long long kRowsPerCampaignPass = 100000;  // then states and opt-outs get a turn
constexpr std::size_t kOptoutChunk = 1000;

// The columns read_message() expects, in its order.
constexpr const char* kMessageColumns =
    "id, campaign_id, route, household_id, channel, COALESCE(phone_e164, ''), "
    "COALESCE(zalo_user_id, ''), body, units, priority, attempts, expires_at";

std::string now_text() { return campaigns::format_time(std::chrono::floor<std::chrono::seconds>(
                             std::chrono::system_clock::now())); }

// A campaign's quiet hours as messages carry them: "" when there are none (an empty window).
// Checked once per campaign, not per message.
std::string quiet_text(const std::string& quiet_hours) {
  auto quiet = campaigns::QuietHours::parse(quiet_hours);
  return quiet && quiet->start_minute != quiet->end_minute ? quiet_hours : std::string();
}

// expires_at is one text per campaign (its end_at): parsed once, then reused.
struct ExpiryCache {
  std::string text;
  long long unix = 0;
  long long of(const std::string& t) {
    if (t != text) {
      text = t;
      auto parsed = campaigns::parse_time(t);
      unix = parsed ? parsed->time_since_epoch().count() : 0;
    }
    return unix;
  }
};

}  // namespace

struct Enqueuer::Campaign {
  long long id = 0;
  std::string state;
  std::string quiet_hours;  // as messages carry it (quiet_text)
  int frequency_cap = 0;
  int frequency_window_days = 0;
};

namespace {

// One outbox row (kMessageColumns) as it will wait in Redis, with its campaign's policy.
QueuedMessage read_message(SQLite::Statement& row, const Enqueuer::Campaign& c,
                           ExpiryCache& expiry, std::string& route) {
  QueuedMessage m;
  m.id = row.getColumn(0).getInt64();
  m.campaign_id = row.getColumn(1).getInt64();
  route = row.getColumn(2).getString();
  m.household_id = row.getColumn(3).getInt64();
  m.channel = row.getColumn(4).getString();
  m.phone = row.getColumn(5).getString();
  m.zalo_user = row.getColumn(6).getString();
  m.body = row.getColumn(7).getString();
  m.units = row.getColumn(8).getInt();
  const std::string priority = row.getColumn(9).getString();
  m.priority = priority != "bulk";  // transactional, or reply (campaigns/inbox.hpp)
  m.reply = priority == "reply";
  m.attempts = row.getColumn(10).getInt();
  m.expires_at = expiry.of(row.getColumn(11).getString());
  m.quiet_hours = c.quiet_hours;
  m.frequency_cap = c.frequency_cap;
  m.frequency_window_days = c.frequency_window_days;
  return m;
}

}  // namespace

namespace {


}  // namespace

Enqueuer::Enqueuer(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis,
                   std::filesystem::path store, StoreWriter& writer,
                   std::vector<std::string> routes, SettingsFor settings_for,
                   EnqueuerSettings settings)
    : io_(io),
      redis_(redis),
      store_(std::move(store)),
      writer_(writer),
      settings_for_(std::move(settings_for)),
      settings_(settings) {
  for (auto& r : routes) queues_.emplace(r, std::make_unique<RouteQueue>(redis, r));
}

Enqueuer::~Enqueuer() { stop(); }

std::string Enqueuer::epoch_key(std::string_view route) {
  return "loa:{" + std::string(route) + "}:epoch";
}

EnqueuerStats Enqueuer::stats() const {
  return {passes_.load(),       enqueued_.load(),     skipped_.load(),
          reconciled_.load(),   redis_errors_.load(), fallbacks_.load()};
}

template <class T>
T Enqueuer::wait(boost::asio::awaitable<T> op) {
  auto future = boost::asio::co_spawn(io_, std::move(op), boost::asio::use_future);
  if (future.wait_for(settings_.redis_timeout) != std::future_status::ready)
    throw RedisUnavailable("no answer from Redis in " +
                           std::to_string(settings_.redis_timeout.count()) + " ms");
  return future.get();
}

void Enqueuer::start() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void Enqueuer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Enqueuer::loop() {
  long long failures = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
    }
    long long done = 0;
    try {
      done = run_once();
      failures = 0;
    } catch (const std::exception& e) {
      ++redis_errors_;
      if (failures++ % 25 == 0) spdlog::warn("enqueuer: pass failed: {}; retrying", e.what());
      db_.reset();  // a fresh read connection next time
    }
    std::unique_lock lock(mutex_);
    if (done == 0) cv_.wait_for(lock, settings_.interval, [this] { return stopping_; });
  }
}

long long Enqueuer::run_once() {
  if (!db_)
    db_ = std::make_unique<SQLite::Database>(open_store(store_, StoreMode::kReadOnly));
  ++passes_;
  reconcile_if_flushed();
  sync_campaigns(false);
  sync_optouts(false);

  std::vector<Campaign> running;
  SQLite::Statement q(*db_,
                      "SELECT id, quiet_hours, frequency_cap, frequency_window_days FROM campaigns "
                      "WHERE state = 'running' ORDER BY id");
  while (q.executeStep()) {
    Campaign c;
    c.id = q.getColumn(0).getInt64();
    c.state = "running";
    c.quiet_hours = quiet_text(q.getColumn(1).getString());
    c.frequency_cap = q.getColumn(2).getInt();
    c.frequency_window_days = q.getColumn(3).getInt();
    running.push_back(std::move(c));
  }
  long long total = 0;
  for (const auto& c : running) total += enqueue_campaign(c);
  return total;
}

// Reads planned (or, when reconciling, queued) messages in pages and puts them in their
// route's queue. Planned ones then become queued, in one range UPDATE per page: every planned
// row of the campaign in that id range that has its text is in the page, because ids only
// grow and only render_fallbacks (at the start of a pass, on this thread) gives a row its
// text back. A row that falls back while the page is in flight is planned again with no
// text (outbox_event.cpp): it is neither read nor marked here, but rendered by the next pass.
// (Marking it queued unrendered lost it for good: found by ops/faults/crash.)
long long Enqueuer::enqueue_campaign(const Campaign& c) {
  SQLite::Statement page(*db_, std::string("SELECT ") + kMessageColumns +
                                   " FROM outbox WHERE campaign_id = ?1 AND state = 'planned' "
                                   "AND body <> '' AND id > ?2 ORDER BY id LIMIT ?3");
  render_fallbacks(c);
  // Pages whose `queued` marks are not committed yet are behind the cursor, so the next page
  // is read while the store writer commits the last one. The marks are awaited at the end of
  // the pass, so the next pass starts from the first planned row again (the index on
  // (campaign, state) leads straight to them), which also finds rows planned again by a
  // fallback.
  long long cursor = 0;
  long long total = 0;
  ExpiryCache expiry;
  std::vector<std::future<bool>> marks;
  while (total < kRowsPerCampaignPass) {
    page.reset();
    page.bind(1, static_cast<std::int64_t>(c.id));
    page.bind(2, static_cast<std::int64_t>(cursor));
    page.bind(3, settings_.page_rows);
    std::map<std::string, std::vector<QueuedMessage>> by_route;
    long long first = 0, last = 0, rows = 0;
    std::string route;
    while (page.executeStep()) {
      QueuedMessage m = read_message(page, c, expiry, route);
      if (first == 0) first = m.id;
      last = m.id;
      ++rows;
      by_route[route].push_back(std::move(m));
    }
    if (rows == 0) break;
    for (auto& [name, messages] : by_route) {
      auto it = queues_.find(name);
      if (it == queues_.end())  // the page stays planned: nothing is marked queued unsent
        throw std::runtime_error("campaign " + std::to_string(c.id) +
                                 " has messages for unknown route '" + name + "'");
      auto [ec, count] = wait(it->second->enqueue(std::move(messages)));
      if (ec) throw RedisUnavailable("enqueue on route " + name + ": " + ec.message());
      enqueued_ += count.added;
      skipped_ += count.skipped;
    }
    auto committed = std::make_shared<std::promise<bool>>();
    marks.push_back(committed->get_future());
    const long long campaign = c.id;
    writer_.submit(StoreWrite{
        [campaign, first, last](SQLite::Database& db) {
          // Statistics first, while the rows are still planned (a fallback's second
          // queueing is not counted again).
          campaigns::count_outbox_rows(
              db, "queued",
              "o.campaign_id = ?1 AND o.id BETWEEN ?2 AND ?3 AND o.state = 'planned' "
              "AND o.body <> '' AND o.fallback_from = ''",
              [&](SQLite::Statement& st) {
                st.bind(1, static_cast<std::int64_t>(campaign));
                st.bind(2, static_cast<std::int64_t>(first));
                st.bind(3, static_cast<std::int64_t>(last));
              });
          SQLite::Statement up(db,
                               "UPDATE outbox SET state = 'queued', updated_at = ?1 "
                               "WHERE campaign_id = ?2 AND id BETWEEN ?3 AND ?4 AND state = 'planned' "
                               "AND body <> ''");
          up.bind(1, now_text());
          up.bind(2, static_cast<std::int64_t>(campaign));
          up.bind(3, static_cast<std::int64_t>(first));
          up.bind(4, static_cast<std::int64_t>(last));
          up.exec();
        },
        [committed](bool ok, const std::string&) { committed->set_value(ok); }});
    cursor = last;
    total += rows;
    if (rows < settings_.page_rows) break;
  }
  bool all_marked = true;
  for (auto& m : marks) all_marked = m.get() && all_marked;
  if (!all_marked) throw std::runtime_error("marking a page queued failed");
  return total;
}

void Enqueuer::render_fallbacks(const Campaign& c) {
  SQLite::Statement rows(*db_,
                         "SELECT id, household_id, channel, fallback FROM outbox "
                         "WHERE campaign_id = ? AND state = 'planned' AND body = '' "
                         "AND fallback_from <> '' LIMIT 1000");
  rows.bind(1, static_cast<std::int64_t>(c.id));
  struct Row {
    long long id, household;
    std::vector<std::string> channels;
  };
  std::vector<Row> todo;
  while (rows.executeStep()) {
    Row r{rows.getColumn(0).getInt64(), rows.getColumn(1).getInt64(), {}};
    r.channels.push_back(rows.getColumn(2).getString());  // the channel it moved to
    std::stringstream rest(rows.getColumn(3).getString());  // then the ones after it
    for (std::string channel; std::getline(rest, channel, ',');)
      if (!channel.empty()) r.channels.push_back(channel);
    todo.push_back(std::move(r));
  }
  if (todo.empty()) return;
  auto campaign = campaigns::find_campaign(*db_, static_cast<std::int64_t>(c.id));
  if (!campaign || !settings_for_) return;
  const campaigns::PlannerSettings settings = settings_for_(*db_, *campaign);
  // Each row becomes its message on the first channel the household can still use, or fails.
  struct Update {
    long long id;
    std::optional<campaigns::PlannedMessage> message;
  };
  auto updates = std::make_shared<std::vector<Update>>();
  for (auto& r : todo)
    updates->push_back({r.id, campaigns::plan_household(*db_, *campaign, r.household,
                                                        std::move(r.channels), settings)});
  auto committed = std::make_shared<std::promise<bool>>();
  auto done = committed->get_future();
  writer_.submit(StoreWrite{
      [updates](SQLite::Database& db) {
        SQLite::Statement ok(db,
                             "UPDATE outbox SET channel = ?2, route = ?3, fallback = ?4, "
                             "language = ?5, body = ?6, units = ?7, cost_vnd = ?8, updated_at = ?9 "
                             "WHERE id = ?1 AND state = 'planned' AND body = ''");
        SQLite::Statement failed(db,
                                 "UPDATE outbox SET state = 'failed', last_error = last_error || "
                                 "'; no fallback channel usable', updated_at = ?2 "
                                 "WHERE id = ?1 AND state = 'planned' AND body = ''");
        const std::string now = now_text();
        campaigns::OutboxRowReader outbox_rows(db);
        campaigns::StatsDeltas deltas;
        for (const auto& u : *updates) {
          if (!u.message) {
            if (auto row = outbox_rows.read(u.id); row && row->state == "planned") {
              auto& counters = deltas.at(row->key);
              ++counters.failed;
              ++counters.failures[campaigns::summary_reason(row->last_error +
                                                     "; no fallback channel usable")];
            }
            failed.reset();
            failed.bind(1, static_cast<std::int64_t>(u.id));
            failed.bind(2, now);
            failed.exec();
            continue;
          }
          const auto& m = *u.message;
          ok.reset();
          ok.bind(1, static_cast<std::int64_t>(u.id));
          ok.bind(2, m.channel);
          ok.bind(3, m.route);
          ok.bind(4, m.fallback);
          ok.bind(5, m.language);
          ok.bind(6, m.body);
          ok.bind(7, m.units);
          ok.bind(8, m.cost_vnd);
          ok.bind(9, now);
          ok.exec();
        }
        deltas.apply(db);
      },
      [committed](bool ok, const std::string&) { committed->set_value(ok); }});
  if (!done.get()) throw std::runtime_error("storing fallback messages failed");
  fallbacks_ += static_cast<long long>(todo.size());
  spdlog::info("enqueuer: campaign {}: {} message(s) moved to their fallback channel", c.id,
               todo.size());
}

void Enqueuer::reconcile_if_flushed() {
  std::vector<RedisCommand> gets;
  for (const auto& [route, q] : queues_) gets.push_back({"GET", epoch_key(route)});
  auto [ec, replies] = wait(redis_->async_exec_pipeline(
      std::move(gets), boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (ec) throw RedisUnavailable("epoch check: " + ec.message());
  std::vector<std::string> lost;
  std::size_t i = 0;
  for (const auto& [route, q] : queues_)
    if (replies.at(i++).is_nil()) lost.push_back(route);
  if (lost.empty()) return;

  // Redis has lost (or never had) these routes' queues: replay what the outbox says is
  // queued. The queue skips what it still holds, so replaying too much is harmless.
  std::map<long long, Campaign> policy;
  SQLite::Statement cq(*db_,
                       "SELECT id, state, quiet_hours, frequency_cap, frequency_window_days "
                       "FROM campaigns");
  while (cq.executeStep()) {
    Campaign c;
    c.id = cq.getColumn(0).getInt64();
    c.state = cq.getColumn(1).getString();
    c.quiet_hours = quiet_text(cq.getColumn(2).getString());
    c.frequency_cap = cq.getColumn(3).getInt();
    c.frequency_window_days = cq.getColumn(4).getInt();
    policy[c.id] = std::move(c);
  }
  long long replayed = 0;
  ExpiryCache expiry;
  for (const auto& route : lost) {
    SQLite::Statement page(*db_, std::string("SELECT ") + kMessageColumns +
                                     " FROM outbox WHERE route = ?1 AND state = 'queued' "
                                     "AND id > ?2 ORDER BY id LIMIT ?3");
    long long cursor = 0;
    for (;;) {
      page.reset();
      page.bind(1, route);
      page.bind(2, static_cast<std::int64_t>(cursor));
      page.bind(3, settings_.page_rows);
      std::vector<QueuedMessage> messages;
      int rows = 0;
      std::string row_route;
      while (page.executeStep()) {
        ++rows;
        const auto& c = policy[page.getColumn(1).getInt64()];
        QueuedMessage m = read_message(page, c, expiry, row_route);
        cursor = m.id;
        if (c.state == "cancelled" || c.state == "completed") continue;
        messages.push_back(std::move(m));
      }
      if (!messages.empty()) {
        auto [eec, count] = wait(queues_.at(route)->enqueue(std::move(messages)));
        if (eec) throw RedisUnavailable("reconcile route " + route + ": " + eec.message());
        replayed += count.added;
      }
      if (rows < settings_.page_rows) break;
    }
  }
  reconciled_ += replayed;
  sync_campaigns(true);
  sync_optouts(true);
  std::vector<RedisCommand> sets;
  const std::string stamp = now_text();
  for (const auto& route : lost) sets.push_back({"SET", epoch_key(route), stamp});
  auto [sec, sreplies] = wait(redis_->async_exec_pipeline(
      std::move(sets), boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (sec) throw RedisUnavailable("epoch set: " + sec.message());
  if (replayed > 0)
    spdlog::warn("enqueuer: Redis had lost the queues of {}; {} queued message(s) replayed "
                 "from the outbox",
                 fmt::join(lost, ", "), replayed);
  else
    spdlog::info("enqueuer: route queues ready ({})", fmt::join(lost, ", "));
}

void Enqueuer::sync_campaigns(bool force) {
  SQLite::Statement q(*db_,
                      "SELECT id, state FROM campaigns WHERE state IN "
                      "('running', 'paused', 'cancelled', 'completed')");
  while (q.executeStep()) {
    const long long id = q.getColumn(0).getInt64();
    const std::string state = q.getColumn(1).getString();
    auto known = campaign_states_.find(id);
    const bool changed = known == campaign_states_.end() || known->second != state;
    if (!changed && !force) continue;
    std::optional<RouteQueue::LaneOp> op;
    if (state == "paused") op = RouteQueue::LaneOp::kPause;
    if (state == "running" && (force || (known != campaign_states_.end() && known->second == "paused")))
      op = RouteQueue::LaneOp::kResume;
    if (state == "cancelled" || state == "completed") op = RouteQueue::LaneOp::kCancel;
    if (op) {
      for (auto& [route, queue] : queues_) {
        auto ec = wait(queue->control(*op, id));
        if (ec) throw RedisUnavailable("campaign " + std::to_string(id) + " " + state + ": " +
                                       ec.message());
      }
      if (known != campaign_states_.end())
        spdlog::info("enqueuer: campaign {} is {}; its queued messages follow", id, state);
    }
    campaign_states_[id] = state;
  }
}

void Enqueuer::sync_optouts(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && mirrored_optouts_ && now < next_optout_sync_) return;
  next_optout_sync_ = now + settings_.optout_every;
  std::set<long long> sms, zalo;
  SQLite::Statement q(*db_,
                      "SELECT id, opt_out_sms, opt_out_zalo FROM households "
                      "WHERE opt_out_sms = 1 OR opt_out_zalo = 1");
  while (q.executeStep()) {
    if (q.getColumn(1).getInt()) sms.insert(q.getColumn(0).getInt64());
    if (q.getColumn(2).getInt()) zalo.insert(q.getColumn(0).getInt64());
  }
  std::vector<RedisCommand> commands;
  auto chunked = [&commands](RedisCommand head, const std::vector<long long>& ids) {
    for (std::size_t i = 0; i < ids.size(); i += kOptoutChunk) {
      RedisCommand c = head;
      for (std::size_t k = i; k < std::min(ids.size(), i + kOptoutChunk); ++k)
        c.push_back(std::to_string(ids[k]));
      commands.push_back(std::move(c));
    }
  };
  const bool replace = force || !mirrored_optouts_;
  auto mirror = [&](const std::string& key, const std::set<long long>& now_set,
                    const std::set<long long>& before) {
    if (replace) {
      // This process has no idea what the set held before (a start, a flushed Redis): build
      // it anew beside the old one and swap, so opt-ins made meanwhile are honoured and the
      // dispatchers never see a half-built set. (Both keys share the hash tag {optout}.)
      const std::string next = key + ":next";
      commands.push_back({"DEL", next});
      chunked({"SADD", next}, std::vector<long long>(now_set.begin(), now_set.end()));
      if (now_set.empty())
        commands.push_back({"DEL", key});
      else
        commands.push_back({"RENAME", next, key});
      return;
    }
    std::vector<long long> added, removed;
    for (long long id : now_set)
      if (!before.count(id)) added.push_back(id);
    for (long long id : before)
      if (!now_set.count(id)) removed.push_back(id);
    chunked({"SADD", key}, added);
    chunked({"SREM", key}, removed);
  };
  mirror(Dispatcher::optout_key("sms"), sms, optout_sms_);
  mirror(Dispatcher::optout_key("zalo"), zalo, optout_zalo_);
  if (!commands.empty()) {
    auto [ec, replies] = wait(redis_->async_exec_pipeline(
        std::move(commands), boost::asio::as_tuple(boost::asio::use_awaitable)));
    if (ec) throw RedisUnavailable("opt-out sync: " + ec.message());
    for (const auto& r : replies)
      if (r.is_error()) throw RedisUnavailable("opt-out sync: " + r.str);
  }
  optout_sms_ = std::move(sms);
  optout_zalo_ = std::move(zalo);
  mirrored_optouts_ = true;
}

}  // namespace loa::engine
