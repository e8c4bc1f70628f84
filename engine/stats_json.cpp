#include "engine/stats_json.hpp"

#include <boost/json/array.hpp>
#include <chrono>

#include "campaigns/local_time.hpp"

namespace loa::engine {

namespace json = boost::json;

json::object stats_row_json(const campaigns::StatsRow& row) {
  const auto& c = row.counters;
  json::object o;
  o["group"] = row.group;
  o["label"] = row.label;
  o["planned"] = c.planned;
  o["queued"] = c.queued;
  o["sent"] = c.sent;
  o["delivered"] = c.delivered;
  o["failed"] = c.failed;
  o["expired"] = c.expired;
  o["cancelled"] = c.cancelled;
  o["unknown"] = c.unknown;
  o["fallback"] = c.fallback;
  o["replied"] = c.replied;
  o["opted_out"] = c.opted_out;
  o["cost_vnd"] = c.cost_vnd;
  json::object reasons;
  for (const auto& [reason, n] : c.failures) reasons[reason] = n;
  o["failed_by_reason"] = std::move(reasons);
  o["delivery_rate"] = row.delivery_rate();
  o["time_to_delivery_p50_s"] = row.p50_seconds ? json::value(*row.p50_seconds) : nullptr;
  o["time_to_delivery_p95_s"] = row.p95_seconds ? json::value(*row.p95_seconds) : nullptr;
  return o;
}

json::object stats_json(SQLite::Database& db, const campaigns::StatsQuery& query,
                        const std::vector<campaigns::Breakdown>& by) {
  json::object out;
  out["from"] = query.from;
  out["to"] = query.to;
  out["campaign"] = query.campaign_id ? json::value(*query.campaign_id) : nullptr;
  out["total"] = stats_row_json(campaigns::statistics_total(db, query));
  json::object groups;
  for (campaigns::Breakdown b : by) {
    json::array rows;
    for (const auto& r : campaigns::statistics_by(db, query, b)) rows.push_back(stats_row_json(r));
    groups[campaigns::to_string(b)] = std::move(rows);
  }
  out["by"] = std::move(groups);
  return out;
}

std::vector<campaigns::Breakdown> parse_breakdowns(const std::string& list) {
  std::vector<campaigns::Breakdown> out;
  std::size_t from = 0;
  while (from <= list.size()) {
    const std::size_t comma = list.find(',', from);
    const std::string word =
        list.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    if (!word.empty()) {
      auto b = campaigns::parse_breakdown(word);
      if (!b)
        throw campaigns::StatisticsError(
            "by: unknown breakdown '" + word +
            "' (campaign, day, channel, route, carrier, commune, district, language, category)");
      out.push_back(*b);
    }
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

std::string local_today() {
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  return campaigns::format_time(now).substr(0, 10);
}

}  // namespace loa::engine
