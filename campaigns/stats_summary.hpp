// The statistics summary (migration 0010): how the writers of the outbox keep stats_summary and
// stats_failures up to date without triggers and without scans. Each writer accumulates the
// changes of one batch in a StatsDeltas (a map from summary key to counter deltas, all in C++),
// and applies them once, in the batch's own transaction, with one upsert per distinct key.
//
// Who counts what (see 0010_statistics.sql for the meaning of each counter):
//   planner (write_page)              planned, per page (expand_round: per transaction)
//   enqueuer (marking a page queued)  queued, per page (count_outbox_rows)
//   results applier (outbox_event)    sent, delivered, failed by reason, expired, cancelled,
//                                     fallback, replied, opted_out, cost_vnd, time to delivery
//   end of campaign, cancel           expired, cancelled (count_outbox_rows, before the UPDATE)
//   receipt timeout                   unknown (count_outbox_rows); a late receipt takes it back
//
// Thread-safety: a StatsDeltas is a plain value; apply() uses its Database from the caller's
// thread inside the caller's transaction.
#pragma once

#include <SQLiteCpp/Database.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace SQLite {
class Column;
class Statement;
}

namespace loa::campaigns {

// Upper bounds of the time-to-delivery buckets, in seconds; the last bucket is open.
inline constexpr std::array<long long, 15> kDeliveryBucketBounds = {
    1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400};
inline constexpr std::size_t kDeliveryBuckets = kDeliveryBucketBounds.size() + 1;
std::size_t delivery_bucket(long long latency_ms);

// The failure reason as the summary keeps it: its first 80 characters (not bytes, as SQLite's
// substr() in the backfill), so the number of distinct reasons stays bounded.
std::string summary_reason(std::string_view last_error);
// Dispatch stopped a message because its household opted out.
bool is_opt_out_reason(std::string_view reason);

struct StatsKey {
  long long campaign_id = 0;
  std::string day;  // YYYY-MM-DD, local planning day
  std::string channel, route, carrier, commune, district, language, category;
  auto operator<=>(const StatsKey&) const = default;
};

struct StatsCounters {
  long long planned = 0, queued = 0, sent = 0, delivered = 0, failed = 0, expired = 0,
            cancelled = 0, fallback = 0, replied = 0, opted_out = 0, cost_vnd = 0,
            unknown = 0;  // sent, no receipt within the route's receipt timeout
  std::array<long long, kDeliveryBuckets> ttd{};
  std::map<std::string, long long> failures;  // reason -> delta
};

class StatsDeltas {
 public:
  StatsDeltas();
  ~StatsDeltas();
  StatsDeltas(StatsDeltas&&) noexcept;
  StatsDeltas& operator=(StatsDeltas&&) noexcept;

  StatsCounters& at(const StatsKey& key) { return deltas_[key]; }
  bool empty() const { return deltas_.empty(); }
  std::size_t size() const { return deltas_.size(); }
  // One upsert per key (and one per failure reason); clears the deltas. The upserts are
  // prepared on the first apply() and kept for the next ones on the same Database (a writer
  // that applies a batch after batch), so a StatsDeltas must be destroyed before its Database.
  void apply(SQLite::Database& db);

 private:
  std::map<StatsKey, StatsCounters> deltas_;
  SQLite::Database* prepared_for_ = nullptr;
  std::unique_ptr<SQLite::Statement> upsert_, upsert_returning_, fail_;
};

// An outbox row as the results applier needs it to count a change of state.
struct OutboxRowFacts {
  StatsKey key;
  std::string state, last_error, fallback, provider_id;
  std::optional<long long> sent_at_ms;       // from sent_at, if set
  std::optional<long long> delivered_at_ms;  // from delivered_at, if set
  long long cost_vnd = 0;
  bool on_first_channel = true;  // fallback_from is empty: not moved to a fallback channel
};
// Reads one row (and its household's area, carrier and category); nullopt for an unknown id.
// The statement is prepared once per reader: keep one for a batch.
class OutboxRowReader {
 public:
  explicit OutboxRowReader(SQLite::Database& db);
  ~OutboxRowReader();
  std::optional<OutboxRowFacts> read(long long id);
  // The same into `out`, reusing its strings' storage (the results applier reads one row per
  // event); false, `out` unspecified, for an unknown id.
  bool read(long long id, OutboxRowFacts& out);

 private:
  SQLite::Database& db_;
  std::unique_ptr<SQLite::Statement> st_;
};

// Adds COUNT(*) of the outbox rows that `where` selects (aliases: o = outbox, h = households)
// to `counter` ("queued", "expired", "cancelled", "unknown"; also opted_out for rows whose
// last_error is an opt-out when counter is "cancelled"), grouped by summary key, in one statement.
// Call it before the UPDATE that moves those rows. `bind` binds the where clause's parameters.
void count_outbox_rows(SQLite::Database& db, std::string_view counter, std::string_view where,
                       const std::function<void(SQLite::Statement&)>& bind);

// A column's text (NULL: "") into `out`, reusing `out`'s storage: for the loops that read a
// row per message (the results applier, the planner) without a string allocated per column.
void assign_column_text(std::string& out, const SQLite::Column& column);

// "2026-12-01T01:02:03.456Z" (or without milliseconds, or with an offset) to epoch ms.
std::optional<long long> parse_iso_ms(std::string_view text);

}  // namespace loa::campaigns
