// Delivery statistics for operators and the programme's reports: the funnel (planned, queued,
// sent, delivered, failed by reason, expired, cancelled, unknown, fallback used, replied, opted
// out, cost in VND) and time to delivery at p50 and p95, for any range of days, in total or broken
// down by campaign, day, channel, route, carrier, commune/ward, legacy district, language or
// category.
//
// Contract: every query reads the summary tables of migration 0010 (stats_summary and
// stats_failures, kept by the outbox's writers, campaigns/stats_summary.hpp), never the outbox,
// so its cost grows with the number of summary rows in the range (campaigns x days x distinct
// keys), not with the number of messages. Days are local dates (Asia/Ho_Chi_Minh) on which the
// messages were planned, both ends included. Percentiles come from the bucketed histogram,
// interpolated linearly inside a bucket; beyond the last bound (one day) the bound is given.
//
// Thread-safety: one thread per Database; the functions keep no state.
#pragma once

#include <SQLiteCpp/Database.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "campaigns/stats_summary.hpp"

namespace loa::campaigns {

enum class Breakdown {
  kCampaign,
  kDay,
  kChannel,
  kRoute,
  kCarrier,
  kCommune,
  kDistrict,
  kLanguage,
  kCategory
};
inline constexpr Breakdown kAllBreakdowns[] = {
    Breakdown::kCampaign, Breakdown::kDay,     Breakdown::kChannel,
    Breakdown::kRoute,    Breakdown::kCarrier, Breakdown::kCommune,
    Breakdown::kDistrict, Breakdown::kLanguage, Breakdown::kCategory};

std::string_view to_string(Breakdown by);  // "campaign", "day", ... "commune", "district"
std::optional<Breakdown> parse_breakdown(std::string_view word);

class StatisticsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StatsQuery {
  std::string from;  // YYYY-MM-DD, inclusive
  std::string to;    // YYYY-MM-DD, inclusive
  std::optional<long long> campaign_id;
};
// Throws StatisticsError naming the parameter ("from", "to") for a date that is not
// YYYY-MM-DD or a range that ends before it starts.
void validate(const StatsQuery& query);

struct StatsRow {
  std::string group;  // the value grouped by (campaign id, day, channel...); "" in a total
  std::string label;  // for people: the campaign's name, the category's Vietnamese label...
  StatsCounters counters;  // failures: reason -> messages, in counters.failures
  std::optional<double> p50_seconds;  // time to delivery; nullopt when nothing was timed
  std::optional<double> p95_seconds;
  // Share of planned messages delivered, 0..1 (0 when nothing was planned).
  double delivery_rate() const;
};

// The whole range (and campaign) in one row.
StatsRow statistics_total(SQLite::Database& db, const StatsQuery& query);
// One row per value of `by`, in order of that value (days ascending, campaigns by id).
std::vector<StatsRow> statistics_by(SQLite::Database& db, const StatsQuery& query, Breakdown by);

// The q-quantile (0..1) of a time-to-delivery histogram, in seconds.
std::optional<double> delivery_percentile(const std::array<long long, kDeliveryBuckets>& ttd,
                                          double q);

}  // namespace loa::campaigns
