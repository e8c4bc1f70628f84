// Statistics as JSON, for the API (GET /api/v1/stats) and the dashboard: a StatsRow becomes
// {"group", "label", "planned", "queued", "sent", "delivered", "failed", "expired", "cancelled",
//  "unknown", "fallback", "replied", "opted_out", "cost_vnd", "failed_by_reason": {reason: n},
//  "delivery_rate", "time_to_delivery_p50_s", "time_to_delivery_p95_s"} (the p50/p95 are null
// when no delivery was timed).
//
// Thread-safety: pure functions.
#pragma once

#include <SQLiteCpp/Database.h>

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/statistics.hpp"

namespace loa::engine {

boost::json::object stats_row_json(const campaigns::StatsRow& row);

// {"from", "to", "campaign": id|null, "total": row, "by": {"commune": [rows], ...}} for the
// breakdowns listed in `by`.
boost::json::object stats_json(SQLite::Database& db, const campaigns::StatsQuery& query,
                               const std::vector<campaigns::Breakdown>& by);

// "commune,day" -> breakdowns; throws campaigns::StatisticsError naming the unknown word.
std::vector<campaigns::Breakdown> parse_breakdowns(const std::string& list);

// The local date (Asia/Ho_Chi_Minh) today, YYYY-MM-DD; the default end of a range.
std::string local_today();

}  // namespace loa::engine
