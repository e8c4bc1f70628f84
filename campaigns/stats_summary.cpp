#include "campaigns/stats_summary.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
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
      "opted_out, cost_vnd, unknown";
  for (std::size_t i = 0; i < kDeliveryBuckets; ++i) sql += ", ttd_" + std::to_string(i);
  sql += ") VALUES (?";
  for (int i = 1; i < 9 + 12 + static_cast<int>(kDeliveryBuckets); ++i) sql += ", ?";
  sql += ") ON CONFLICT(";
  sql += kKeyColumns;
  sql += ") DO UPDATE SET ";
  const char* counters[] = {"planned",   "queued",   "sent",    "delivered", "failed",   "expired",
                            "cancelled", "fallback", "replied", "opted_out", "cost_vnd", "unknown"};
  bool first = true;
  auto add = [&](const std::string& c) {
    sql += (first ? "" : ", ") + c + " = " + c + " + excluded." + c;
    first = false;
  };
  for (const char* c : counters) add(c);
  for (std::size_t i = 0; i < kDeliveryBuckets; ++i) add("ttd_" + std::to_string(i));
  return sql;
}

bool all_zero(const StatsCounters& c) {
  if (c.planned || c.queued || c.sent || c.delivered || c.failed || c.expired || c.cancelled ||
      c.fallback || c.replied || c.opted_out || c.cost_vnd || c.unknown)
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

StatsDeltas::StatsDeltas() = default;
StatsDeltas::~StatsDeltas() = default;
StatsDeltas::StatsDeltas(StatsDeltas&&) noexcept = default;
StatsDeltas& StatsDeltas::operator=(StatsDeltas&&) noexcept = default;

void StatsDeltas::apply(SQLite::Database& db) {
  if (deltas_.empty()) return;
  if (prepared_for_ != &db) {
    upsert_.reset();
    upsert_returning_.reset();
    fail_.reset();
    prepared_for_ = &db;
  }
  static const std::string kUpsert = upsert_sql();
  std::unique_ptr<SQLite::Statement>& fail = fail_;
  for (const auto& [k, c] : deltas_) {
    if (all_zero(c)) continue;
    // The summary row's id is needed only for failure reasons: RETURNING makes SQLite run the
    // statement into a temporary table first, so the common case goes without it.
    const bool reasons = std::any_of(c.failures.begin(), c.failures.end(),
                                     [](const auto& f) { return f.second != 0; });
    auto& slot = reasons ? upsert_returning_ : upsert_;
    if (!slot)
      slot = std::make_unique<SQLite::Statement>(db, reasons ? kUpsert + " RETURNING id" : kUpsert);
    SQLite::Statement& up = *slot;
    // tryReset: after a failed step in an earlier batch, reset() would throw that error again.
    up.tryReset();
    int i = 0;
    up.bind(++i, static_cast<std::int64_t>(k.campaign_id));
    for (const std::string* s : {&k.day, &k.channel, &k.route, &k.carrier, &k.commune,
                                 &k.district, &k.language, &k.category})
      up.bindNoCopy(++i, *s);
    for (long long n : {c.planned, c.queued, c.sent, c.delivered, c.failed, c.expired, c.cancelled,
                        c.fallback, c.replied, c.opted_out, c.cost_vnd, c.unknown})
      up.bind(++i, static_cast<std::int64_t>(n));
    for (long long n : c.ttd) up.bind(++i, static_cast<std::int64_t>(n));
    if (!reasons) {
      up.exec();
      continue;
    }
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
      fail->tryReset();
      fail->bind(1, id);
      fail->bindNoCopy(2, reason);
      fail->bind(3, static_cast<std::int64_t>(n));
      fail->exec();
    }
  }
  // Done with RETURNING, and no binding left pointing into the keys cleared below.
  for (auto* st : {upsert_.get(), upsert_returning_.get(), fail.get()}) {
    if (!st) continue;
    st->tryReset();
    st->clearBindings();
  }
  deltas_.clear();
}

OutboxRowReader::OutboxRowReader(SQLite::Database& db) : db_(db) {}
OutboxRowReader::~OutboxRowReader() = default;

std::optional<OutboxRowFacts> OutboxRowReader::read(long long id) {
  OutboxRowFacts f;
  if (!read(id, f)) return std::nullopt;
  return f;
}

bool OutboxRowReader::read(long long id, OutboxRowFacts& f) {
  if (!st_)
    st_ = std::make_unique<SQLite::Statement>(
        db_, std::string("SELECT ") + kKeySelect +
                 ", o.state, o.last_error, o.fallback, o.provider_id, o.sent_at, o.cost_vnd, "
                 "o.delivered_at, o.fallback_from = '' "
                 "FROM outbox o LEFT JOIN households h ON h.id = o.household_id WHERE o.id = ?");
  auto& st = *st_;
  st.tryReset();
  st.bind(1, static_cast<std::int64_t>(id));
  if (!st.executeStep()) {
    st.tryReset();
    return false;
  }
  // No allocation once `f`'s strings have grown to the sizes this store holds.
  const auto text = [&st](int column, std::string& out) {
    assign_column_text(out, st.getColumn(column));
  };
  f.key.campaign_id = st.getColumn(0).getInt64();
  text(1, f.key.day);
  text(2, f.key.channel);
  text(3, f.key.route);
  text(4, f.key.carrier);
  text(5, f.key.commune);
  text(6, f.key.district);
  text(7, f.key.language);
  text(8, f.key.category);
  text(9, f.state);
  text(10, f.last_error);
  text(11, f.fallback);
  text(12, f.provider_id);
  f.sent_at_ms.reset();
  if (!st.getColumn(13).isNull()) f.sent_at_ms = parse_iso_ms(st.getColumn(13).getText());
  f.cost_vnd = st.getColumn(14).getInt64();
  f.delivered_at_ms.reset();
  if (!st.getColumn(15).isNull()) f.delivered_at_ms = parse_iso_ms(st.getColumn(15).getText());
  f.on_first_channel = st.getColumn(16).getInt() == 1;
  st.tryReset();
  return true;
}

void assign_column_text(std::string& out, const SQLite::Column& column) {
  const auto* bytes = static_cast<const char*>(column.getBlob());
  if (bytes == nullptr)
    out.clear();
  else
    out.assign(bytes, static_cast<std::size_t>(column.getBytes()));
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
  std::size_t i = 0;
  // The form the store writes ("2026-12-01T01:02:03..."), read once per delivery receipt: its
  // digits directly. Anything else goes through sscanf, as it always did.
  auto digits = [&text](std::size_t at, std::size_t n, int& out) {
    out = 0;
    for (std::size_t k = at; k < at + n; ++k) {
      if (text[k] < '0' || text[k] > '9') return false;
      out = out * 10 + (text[k] - '0');
    }
    return true;
  };
  if (text.size() >= 19 && text[4] == '-' && text[7] == '-' && text[10] == 'T' &&
      text[13] == ':' && text[16] == ':' && digits(0, 4, y) && digits(5, 2, mo) &&
      digits(8, 2, d) && digits(11, 2, h) && digits(14, 2, mi) && digits(17, 2, s)) {
    i = 19;
  } else {
    int consumed = 0;
    const std::string t(text);
    if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                    &consumed) != 6)
      return std::nullopt;
    i = static_cast<std::size_t>(consumed);
  }
  using namespace std::chrono;
  const sys_days day{year{y} / month{static_cast<unsigned>(mo)} / static_cast<unsigned>(d)};
  long long ms = duration_cast<milliseconds>(day.time_since_epoch()).count() +
                 ((h * 60LL + mi) * 60 + s) * 1000;
  const std::string_view t = text;
  if (i < t.size() && t[i] == '.') {
    long long frac = 0;
    int n = 0;
    for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i)
      if (n < 3) frac = frac * 10 + (t[i] - '0'), ++n;
    while (n < 3) frac *= 10, ++n;
    ms += frac;
  }
  if (i < t.size() && (t[i] == '+' || t[i] == '-') && t.size() >= i + 6) {
    const int sign = t[i] == '+' ? 1 : -1;
    const int oh = (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
    const int om = (t[i + 4] - '0') * 10 + (t[i + 5] - '0');
    ms -= sign * (oh * 60LL + om) * 60 * 1000;
  }
  return ms;
}

}  // namespace loa::campaigns
