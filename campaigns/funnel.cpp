#include "campaigns/funnel.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>

namespace loa::campaigns {

Funnel campaign_funnel(SQLite::Database& db, long long campaign_id) {
  Funnel f;
  SQLite::Statement st(
      db,
      "SELECT state, CASE WHEN state = 'failed' THEN last_error ELSE '' END AS reason, "
      "COUNT(*), SUM(CASE WHEN state IN ('sent', 'delivered', 'unknown') OR sent_at IS NOT NULL "
      "THEN cost_vnd ELSE 0 END) FROM outbox WHERE campaign_id = ? GROUP BY state, reason");
  st.bind(1, static_cast<std::int64_t>(campaign_id));
  while (st.executeStep()) {
    const std::string state = st.getColumn(0).getString();
    const long long n = st.getColumn(2).getInt64();
    f.cost_vnd += st.getColumn(3).getInt64();
    if (state == "planned")
      f.planned += n;
    else if (state == "queued")
      f.queued += n;
    else if (state == "sent")
      f.sent += n;
    else if (state == "delivered")
      f.delivered += n;
    else if (state == "expired")
      f.expired += n;
    else if (state == "cancelled")
      f.cancelled += n;
    else if (state == "unknown")
      f.unknown += n;
    else if (state == "failed") {
      f.failed += n;
      f.failed_by_reason.emplace_back(st.getColumn(1).getString(), n);
    }
  }
  std::stable_sort(f.failed_by_reason.begin(), f.failed_by_reason.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  SQLite::Statement replies(db, "SELECT COUNT(*) FROM replies WHERE campaign_id = ?");
  replies.bind(1, static_cast<std::int64_t>(campaign_id));
  if (replies.executeStep()) f.replies = replies.getColumn(0).getInt64();
  SQLite::Statement fallbacks(db,
                              "SELECT fallback_from, COUNT(*) FROM outbox WHERE campaign_id = ? "
                              "AND fallback_from <> '' GROUP BY fallback_from ORDER BY 2 DESC");
  fallbacks.bind(1, static_cast<std::int64_t>(campaign_id));
  while (fallbacks.executeStep())
    f.fallbacks.emplace_back(fallbacks.getColumn(0).getString(), fallbacks.getColumn(1).getInt64());
  return f;
}

}  // namespace loa::campaigns
