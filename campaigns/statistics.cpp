#include "campaigns/statistics.hpp"

#include <SQLiteCpp/Statement.h>

#include <array>
#include <map>

namespace loa::campaigns {

namespace {

struct Dimension {
  std::string_view word;
  const char* group;  // SQL over s (stats_summary)
  const char* label;
};

// Labels: a campaign's name, a category's Vietnamese label; the value itself otherwise.
constexpr std::array<Dimension, 9> kDimensions = {{
    {"campaign", "s.campaign_id",
     "COALESCE((SELECT name FROM campaigns WHERE id = s.campaign_id), s.campaign_id)"},
    {"day", "s.day", "s.day"},
    {"channel", "s.channel", "s.channel"},
    {"route", "s.route", "s.route"},
    {"carrier", "s.carrier", "s.carrier"},
    {"commune", "s.commune", "s.commune"},
    {"district", "s.district", "s.district"},
    {"language", "s.language", "s.language"},
    {"category", "s.category",
     "COALESCE((SELECT label_vi FROM categories WHERE code = s.category), s.category)"},
}};

bool is_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::string sums() {
  std::string sql =
      "SUM(s.planned), SUM(s.queued), SUM(s.sent), SUM(s.delivered), SUM(s.failed), "
      "SUM(s.expired), SUM(s.cancelled), SUM(s.fallback), SUM(s.replied), SUM(s.opted_out), "
      "SUM(s.cost_vnd), SUM(s.unknown)";
  for (std::size_t i = 0; i < kDeliveryBuckets; ++i) sql += ", SUM(s.ttd_" + std::to_string(i) + ")";
  return sql;
}

std::string where(const StatsQuery& q) {
  return std::string(" WHERE s.day BETWEEN ?1 AND ?2") +
         (q.campaign_id ? " AND s.campaign_id = ?3" : "");
}

void bind(SQLite::Statement& st, const StatsQuery& q) {
  st.bind(1, q.from);
  st.bind(2, q.to);
  if (q.campaign_id) st.bind(3, static_cast<std::int64_t>(*q.campaign_id));
}

// Columns from `first`: the 12 counters, then the histogram.
void read_counters(SQLite::Statement& st, int first, StatsRow& row) {
  auto& c = row.counters;
  long long* fields[] = {&c.planned, &c.queued,    &c.sent,      &c.delivered,
                         &c.failed,  &c.expired,   &c.cancelled, &c.fallback,
                         &c.replied, &c.opted_out, &c.cost_vnd,  &c.unknown};
  int i = first;
  for (long long* f : fields) *f = st.getColumn(i++).getInt64();
  for (auto& b : c.ttd) b = st.getColumn(i++).getInt64();
  row.p50_seconds = delivery_percentile(c.ttd, 0.50);
  row.p95_seconds = delivery_percentile(c.ttd, 0.95);
}

const Dimension& dimension(Breakdown by) { return kDimensions[static_cast<std::size_t>(by)]; }

}  // namespace

std::string_view to_string(Breakdown by) { return dimension(by).word; }

std::optional<Breakdown> parse_breakdown(std::string_view word) {
  for (std::size_t i = 0; i < kDimensions.size(); ++i)
    if (kDimensions[i].word == word) return static_cast<Breakdown>(i);
  return std::nullopt;
}

void validate(const StatsQuery& q) {
  if (!is_date(q.from))
    throw StatisticsError("from: '" + q.from + "' is not a date (YYYY-MM-DD)");
  if (!is_date(q.to)) throw StatisticsError("to: '" + q.to + "' is not a date (YYYY-MM-DD)");
  if (q.to < q.from)
    throw StatisticsError("to: " + q.to + " is before from (" + q.from + ")");
}

double StatsRow::delivery_rate() const {
  return counters.planned > 0
             ? static_cast<double>(counters.delivered) / static_cast<double>(counters.planned)
             : 0.0;
}

std::optional<double> delivery_percentile(const std::array<long long, kDeliveryBuckets>& ttd,
                                          double q) {
  long long total = 0;
  for (long long n : ttd) total += n;
  if (total <= 0) return std::nullopt;
  const double target = q * static_cast<double>(total);
  double below = 0;
  for (std::size_t i = 0; i < ttd.size(); ++i) {
    const double n = static_cast<double>(ttd[i]);
    if (n > 0 && below + n >= target) {
      const double lo = i == 0 ? 0.0 : static_cast<double>(kDeliveryBucketBounds[i - 1]);
      if (i == kDeliveryBucketBounds.size()) return lo;  // the open bucket: its lower bound
      const double hi = static_cast<double>(kDeliveryBucketBounds[i]);
      return lo + (hi - lo) * ((target - below) / n);
    }
    below += n;
  }
  return static_cast<double>(kDeliveryBucketBounds.back());
}

StatsRow statistics_total(SQLite::Database& db, const StatsQuery& query) {
  validate(query);
  StatsRow row;
  // sql-trusted: sums() and where() are constant text with ? placeholders (bound by bind)
  SQLite::Statement st(db, "SELECT " + sums() + " FROM stats_summary s" + where(query));
  bind(st, query);
  if (st.executeStep() && !st.getColumn(0).isNull()) read_counters(st, 0, row);
  // sql-trusted: as above
  SQLite::Statement f(db,
                      "SELECT f.reason, SUM(f.messages) FROM stats_failures f JOIN stats_summary "
                      "s ON s.id = f.summary_id" +
                          where(query) + " GROUP BY 1 HAVING SUM(f.messages) <> 0");
  bind(f, query);
  while (f.executeStep())
    row.counters.failures[f.getColumn(0).getString()] = f.getColumn(1).getInt64();
  return row;
}

std::vector<StatsRow> statistics_by(SQLite::Database& db, const StatsQuery& query,
                                    Breakdown by) {
  validate(query);
  const Dimension& d = dimension(by);
  std::vector<StatsRow> rows;
  std::map<std::string, std::size_t> index;
  // sql-trusted: the dimension's columns are constants; where() as above
  SQLite::Statement st(db, std::string("SELECT ") + d.group + ", " + d.label + ", " + sums() +
                               " FROM stats_summary s" + where(query) + " GROUP BY 1 ORDER BY 1");
  bind(st, query);
  while (st.executeStep()) {
    StatsRow row;
    row.group = st.getColumn(0).getString();
    row.label = st.getColumn(1).getString();
    read_counters(st, 2, row);
    index[row.group] = rows.size();
    rows.push_back(std::move(row));
  }
  SQLite::Statement f(db, std::string("SELECT ") + d.group +
                              ", f.reason, SUM(f.messages) FROM stats_failures f JOIN "
                              "stats_summary s ON s.id = f.summary_id" +
                              where(query) + " GROUP BY 1, 2 HAVING SUM(f.messages) <> 0");
  bind(f, query);
  while (f.executeStep()) {
    auto it = index.find(f.getColumn(0).getString());
    if (it != index.end())
      rows[it->second].counters.failures[f.getColumn(1).getString()] = f.getColumn(2).getInt64();
  }
  return rows;
}

}  // namespace loa::campaigns
