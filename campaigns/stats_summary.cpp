#include "campaigns/stats_summary.hpp"

#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <cstdio>

namespace loa::campaigns {

namespace {

constexpr const char* kKeyColumns =
    "campaign_id, day, channel, route, carrier, commune, district, language, category";

// The summary key of an outbox row, as SQL over `o` (outbox) and `h` (households); the same
// expressions as the backfill in 0010_statistics.sql.
constexpr const char* kKeySelect =
    "o.campaign_id, substr(o.created_at, 1, 10), o.channel, o.route, COALESCE(h.carrier, ''), "
    "COALESCE(h.commune, ''), COALESCE(h.district, ''), o.language, COALESCE(h.category, '')";

std::string upsert_sql() {
  std::string sql = "INSERT INTO stats_summary(";
  sql += kKeyColumns;
  sql +=
      ", planned, queued, sent, delivered, failed, expired, cancelled, fallback, replied, "
      "opted_out, cost_vnd";
  for (std::size_t i = 0; i < kDeliveryBuckets; ++i) sql += ", ttd_" + std::to_string(i);
  sql += ") VALUES (?";
  for (int i = 1; i < 9 + 11 + static_cast<int>(kDeliveryBuckets); ++i) sql += ", ?";
  sql += ") ON CONFLICT(";
  sql += kKeyColumns;
  sql += ") DO UPDATE SET ";
  const char* counters[] = {"planned", "queued",    "sent",     "delivered", "failed", "expired",
                            "cancelled", "fallback", "replied", "opted_out", "cost_vnd"};
  bool first = true;
  auto add = [&](const std::string& c) {
    sql += (first ? "" : ", ") + c + " = " + c + " + excluded." + c;
    first = false;
  };
  for (const char* c : counters) add(c);
  for (std::size_t i = 0; i < kDeliveryBuckets; ++i) add("ttd_" + std::to_string(i));
  sql += " RETURNING id";
  return sql;
}

bool all_zero(const StatsCounters& c) {
  if (c.planned || c.queued || c.sent || c.delivered || c.failed || c.expired || c.cancelled ||
      c.fallback || c.replied || c.opted_out || c.cost_vnd)
    return false;
  for (long long n : c.ttd)
    if (n) return false;
  for (const auto& [reason, n] : c.failures)
    if (n) return false;
  return true;
}

}  // namespace

std::size_t delivery_bucket(long long latency_ms) {
  for (std::size_t i = 0; i < kDeliveryBucketBounds.size(); ++i)
    if (latency_ms <= kDeliveryBucketBounds[i] * 1000) return i;
  return kDeliveryBucketBounds.size();
}

std::string summary_reason(std::string_view last_error) {
  constexpr std::size_t kMaxChars = 80;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < last_error.size(); ++i) {
    // A character starts at every byte that is not a UTF-8 continuation byte.
    if ((static_cast<unsigned char>(last_error[i]) & 0xC0) != 0x80) {
      if (chars == kMaxChars) return std::string(last_error.substr(0, i));
      ++chars;
    }
  }
  return std::string(last_error);
}

bool is_opt_out_reason(std::string_view reason) { return reason.rfind("opted out", 0) == 0; }

void StatsDeltas::apply(SQLite::Database& db) {
  if (deltas_.empty()) return;
  SQLite::Statement up(db, upsert_sql());
  std::unique_ptr<SQLite::Statement> fail;
  for (const auto& [k, c] : deltas_) {
    if (all_zero(c)) continue;
    up.reset();
    int i = 0;
    up.bind(++i, static_cast<std::int64_t>(k.campaign_id));
    for (const std::string* s : {&k.day, &k.channel, &k.route, &k.carrier, &k.commune,
                                 &k.district, &k.language, &k.category})
      up.bindNoCopy(++i, *s);
    for (long long n : {c.planned, c.queued, c.sent, c.delivered, c.failed, c.expired,
                        c.cancelled, c.fallback, c.replied, c.opted_out, c.cost_vnd})
      up.bind(++i, static_cast<std::int64_t>(n));
    for (long long n : c.ttd) up.bind(++i, static_cast<std::int64_t>(n));
    if (!up.executeStep()) continue;
    const std::int64_t id = up.getColumn(0).getInt64();
    while (up.executeStep()) {
    }
    for (const auto& [reason, n] : c.failures) {
      if (n == 0) continue;
      if (!fail)
        fail = std::make_unique<SQLite::Statement>(
            db,
            "INSERT INTO stats_failures(summary_id, reason, messages) VALUES (?, ?, ?) "
            "ON CONFLICT(summary_id, reason) DO UPDATE SET messages = messages + "
            "excluded.messages");
      fail->reset();
      fail->bind(1, id);
      fail->bindNoCopy(2, reason);
      fail->bind(3, static_cast<std::int64_t>(n));
      fail->exec();
    }
  }
  deltas_.clear();
}

OutboxRowReader::OutboxRowReader(SQLite::Database& db) : db_(db) {}
OutboxRowReader::~OutboxRowReader() = default;

std::optional<OutboxRowFacts> OutboxRowReader::read(long long id) {
  if (!st_)
    st_ = std::make_unique<SQLite::Statement>(
        db_, std::string("SELECT ") + kKeySelect +
                 ", o.state, o.last_error, o.fallback, o.provider_id, o.sent_at, o.cost_vnd, "
                 "o.delivered_at "
                 "FROM outbox o LEFT JOIN households h ON h.id = o.household_id WHERE o.id = ?");
  auto& st = *st_;
  st.tryReset();
  st.bind(1, static_cast<std::int64_t>(id));
  if (!st.executeStep()) {
    st.tryReset();
    return std::nullopt;
  }
  OutboxRowFacts f;
  f.key.campaign_id = st.getColumn(0).getInt64();
  f.key.day = st.getColumn(1).getString();
  f.key.channel = st.getColumn(2).getString();
  f.key.route = st.getColumn(3).getString();
  f.key.carrier = st.getColumn(4).getString();
  f.key.commune = st.getColumn(5).getString();
  f.key.district = st.getColumn(6).getString();
  f.key.language = st.getColumn(7).getString();
  f.key.category = st.getColumn(8).getString();
  f.state = st.getColumn(9).getString();
  f.last_error = st.getColumn(10).getString();
  f.fallback = st.getColumn(11).getString();
  f.provider_id = st.getColumn(12).getString();
  if (!st.getColumn(13).isNull()) f.sent_at_ms = parse_iso_ms(st.getColumn(13).getString());
  f.cost_vnd = st.getColumn(14).getInt64();
  if (!st.getColumn(15).isNull())
    f.delivered_at_ms = parse_iso_ms(st.getColumn(15).getString());
  st.tryReset();
  return f;
}

void count_outbox_rows(SQLite::Database& db, std::string_view counter, std::string_view where,
                       const std::function<void(SQLite::Statement&)>& bind) {
  const std::string c(counter);
  const bool opt_out = counter == "cancelled";
  std::string sql = "INSERT INTO stats_summary(";
  sql += kKeyColumns;
  sql += ", " + c + (opt_out ? ", opted_out" : "") + ") SELECT " + kKeySelect + ", COUNT(*)";
  if (opt_out) sql += ", SUM(o.last_error LIKE 'opted out%')";
  sql += " FROM outbox o LEFT JOIN households h ON h.id = o.household_id WHERE ";
  sql += where;
  sql += " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ON CONFLICT(";
  sql += kKeyColumns;
  sql += ") DO UPDATE SET " + c + " = " + c + " + excluded." + c;
  if (opt_out) sql += ", opted_out = opted_out + excluded.opted_out";
  SQLite::Statement st(db, sql);
  if (bind) bind(st);
  st.exec();
}

std::optional<long long> parse_iso_ms(std::string_view text) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
      6)
    return std::nullopt;
  using namespace std::chrono;
  const sys_days day{year{y} / month{static_cast<unsigned>(mo)} / static_cast<unsigned>(d)};
  long long ms = duration_cast<milliseconds>(day.time_since_epoch()).count() +
                 ((h * 60LL + mi) * 60 + s) * 1000;
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < t.size() && t[i] == '.') {
    long long frac = 0;
    int digits = 0;
    for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i)
      if (digits < 3) frac = frac * 10 + (t[i] - '0'), ++digits;
    while (digits < 3) frac *= 10, ++digits;
    ms += frac;
  }
  if (i < t.size() && (t[i] == '+' || t[i] == '-') && i + 5 < t.size() + 0 && t.size() >= i + 6) {
    const int sign = t[i] == '+' ? 1 : -1;
    const int oh = (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
    const int om = (t[i + 4] - '0') * 10 + (t[i + 5] - '0');
    ms -= sign * (oh * 60LL + om) * 60 * 1000;
  }
  return ms;
}

}  // namespace loa::campaigns
