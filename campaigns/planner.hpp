// The planner: expands one round of a campaign into outbox rows, a page of households at a
// time, so memory stays flat whatever the audience.
//
// Contract:
//  - next_page(cursor) reads the audience's households with id > cursor in id order (at most
//    `page_rows`), picks each one's first usable channel in the campaign's order (a phone for
//    sms and zalo_zns, Zalo presence for zalo_zns, a Zalo user id for zalo_oa; never a channel
//    it opted out of or did not consent to), renders the message in its language (with the
//    template's fallback chain), and prices it. Households with no usable channel are counted,
//    not planned.
//  - write_page() stores a page in the caller's transaction: the outbox rows with INSERT OR
//    IGNORE against UNIQUE(round, household) and UNIQUE(round, phone), so a household or a
//    shared phone gets one message per round, and the round's cursor in the same transaction.
//    A crash between pages therefore resumes at the cursor with no duplicate and no gap.
//  - The same pages feed validation and estimates without writing (PlanStats).
//
// Thread-safety: a Planner uses its Database from one thread.
#pragma once

#include <optional>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "campaigns/audience_filter.hpp"
#include "campaigns/campaign.hpp"
#include "campaigns/stats_summary.hpp"
#include "templates/campaign_estimate.hpp"
#include "templates/language_fallback.hpp"
#include "templates/sms_route.hpp"
#include "templates/template_library.hpp"
#include "templates/variables.hpp"

namespace loa::campaigns {

struct PlannedMessage {
  std::int64_t household_id = 0;
  std::string phone_e164;
  std::string zalo_user_id;
  std::string channel;
  std::string fallback;  // the usable channels after `channel`, comma-separated
  std::string route;
  std::string language;
  std::string body;
  std::int64_t units = 0;
  std::int64_t cost_vnd = 0;
  std::uint32_t stats_key = 0;  // index into its PlanPage's stats_keys
};

struct PlanPage {
  std::int64_t last_household_id = 0;  // the cursor after this page
  std::vector<PlannedMessage> messages;
  std::uint64_t households = 0;  // read
  std::uint64_t no_channel = 0;  // with no usable channel
  std::uint64_t unrenderable = 0;
  std::uint64_t duplicate_phones = 0;  // dedupe_phones only
  bool end = false;  // no household after this page
  // The distinct statistics keys of this page's messages (campaign and day are filled in by
  // write_page), so the summary takes one upsert per key and page (expand_round: per key and
  // transaction), nothing per row.
  std::vector<StatsKey> stats_keys;
};

struct PlanStats {
  std::uint64_t households = 0;
  std::uint64_t no_channel = 0;
  std::uint64_t unrenderable = 0;
  std::uint64_t duplicate_phones = 0;  // dedupe_phones only
  std::map<std::string, std::uint64_t> by_channel;
  std::vector<std::string> render_errors;  // the first few, for the operator
  templates::LanguageReport languages;
  templates::EstimateBuilder estimate;
};

struct PlannerSettings {
  std::shared_ptr<const templates::TemplateDef> definition;
  templates::FallbackChain fallback;
  templates::RouteTable routes;
  // Carrier routing: the SMS of a household whose carrier (households.carrier, from its
  // number's prefix) is listed here go through that route instead of routes.sms's.
  std::map<std::string, std::string> carrier_routes;
  std::size_t page_rows = 2000;
  // Expansion only: pages already rendered when the store is ready are written in one
  // transaction, up to this many rows (whole pages). Each commit writes every index page the
  // transaction touched back to the WAL; UNIQUE(round, phone) fills in random phone order, so
  // with 2,000-row transactions a million rows wrote ~4 GB, with 20,000 ~1.5 GB; 60,000 took a
  // 1M-household expansion from 10.9 to 9.1 s (ops/bench/notes.md, session 5).
  std::size_t commit_rows = 60000;
  // Expansion only: a transaction is also committed once it has been open this long (checked
  // between pages), whatever commit_rows says, so the write lock that a pause, a cancel or the
  // store writer waits for is never held much longer than this on a slow machine.
  std::chrono::milliseconds max_transaction{500};
  // Estimates only: skip a phone already planned in this pass, as the outbox's UNIQUE key
  // would (memory: a 64-bit hash per planned phone, ~40 bytes with the set's overhead).
  // Expansion leaves this to the store.
  bool dedupe_phones = false;
};

class Planner {
 public:
  Planner(SQLite::Database& db, const Campaign& campaign, SqlFilter audience,
          PlannerSettings settings);
  PlanPage next_page(std::int64_t cursor);
  const PlanStats& stats() const { return stats_; }

 private:
  SQLite::Database& db_;
  const Campaign& campaign_;
  SqlFilter audience_;
  PlannerSettings settings_;
  templates::Value campaign_context_;  // cleaned once, shared by every household's context
  templates::Value context_;           // the household being rendered (fill_context)
  // The household being read; members so their strings' storage is reused.
  templates::HouseholdVariables vars_;
  std::string phone_, zalo_id_;
  std::map<std::string, std::string> category_labels_;
  std::unique_ptr<SQLite::Statement> select_;
  std::unordered_set<std::uint64_t> phones_seen_;  // hashes; dedupe_phones only
  std::unordered_map<std::string, std::uint32_t> page_keys_;  // this page's stats keys
  std::string key_buffer_;
  PlanStats stats_;
};

struct PageWriteResult {
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;  // a shared phone (or a household) already planned this round
};

// Stores a page and moves the round's cursor; the caller holds the transaction. The page's
// planned counts go to the statistics summary at once, or, when `planned_counts` is given, are
// added to it for the caller to apply in the same transaction before it commits.
PageWriteResult write_page(SQLite::Database& db, const Campaign& campaign, const Round& round,
                           const PlanPage& page, TimePoint now,
                           StatsDeltas* planned_counts = nullptr);
// Plans one household again for the channels still open to it after a fallback (the row's
// `fallback` list, in order): the first it can use, rendered in its language. nullopt when
// none is usable (opted out, no phone) or the template cannot be rendered for it.
std::optional<PlannedMessage> plan_household(SQLite::Database& db, const Campaign& campaign,
                                             std::int64_t household_id,
                                             std::vector<std::string> channels,
                                             PlannerSettings settings);

// Marks the round expanded.
void finish_round(SQLite::Database& db, std::int64_t round_id);

// The compiled audience of a campaign (its filter, or its saved segment's; "*" selects every
// household). Throws CampaignError naming the problem, also for an empty audience.
SqlFilter campaign_audience(SQLite::Database& db, const Campaign& campaign);

}  // namespace loa::campaigns

namespace loa::campaigns {

struct ExpandResult {
  std::uint64_t planned = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t no_channel = 0;
  std::uint64_t unrenderable = 0;
  bool finished = false;  // false: stopped early (paused or cancelled); resumes at the cursor
};

// Expands `round` from its cursor to the end, reading and rendering pages on the calling thread
// and writing them on a second one. Each page's rows and the round's cursor after it are in
// the same transaction; the pages that are waiting when the writer is ready share one
// transaction (up to settings.commit_rows rows, and no longer than settings.max_transaction),
// and the writer commits as soon as no page is waiting, so a transaction is never held open
// while rendering. Before each page it
// re-reads the campaign's state and stops when it is no longer scheduled or running, so pause
// and cancel take effect within a page; and it stops when `keep_going` says so (a daemon
// shutting down), leaving the round pending at its cursor. `progress` runs after each commit,
// on the writing thread. (Per-page work that must be atomic with the page belongs in
// write_page, which runs once per page inside the transaction.) `db` is used by the calling
// thread before the writer starts and after it is joined, and by the writer thread alone in
// between, so it may be a connection without SQLite's own mutex (SQLITE_OPEN_NOMUTEX); the
// calling thread reads through a NOMUTEX read-only connection of its own.
ExpandResult expand_round(SQLite::Database& db, const Campaign& campaign, Round round,
                          PlannerSettings settings, const std::function<TimePoint()>& now,
                          const std::function<void(const ExpandResult&)>& progress = {},
                          const std::function<bool()>& keep_going = {});

}  // namespace loa::campaigns
