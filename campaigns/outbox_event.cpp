#include "campaigns/outbox_event.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "campaigns/phone.hpp"

namespace loa::campaigns {

namespace {

using Kind = OutboxEvent::Kind;

constexpr std::array<std::string_view, 7> kKindWords = {
    "sent", "failed", "expired", "cancelled", "delivered", "undelivered", "reply"};

constexpr std::array<std::string_view, 10> kFieldNames = {
    "kind",   "message_id", "attempts", "at_ms",     "provider_id",
    "reason", "route",      "phone",    "zalo_user", "text"};
constexpr std::size_t kStatusFields = 6;
constexpr std::size_t kReplyFields = 10;

void append_escaped(std::string& out, std::string_view s) {
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = s.find_first_of("\\\t\n", from);
    if (at == std::string_view::npos) {
      out.append(s.substr(from));
      return;
    }
    out.append(s.substr(from, at - from));
    out.push_back('\\');
    out.push_back(s[at] == '\\' ? '\\' : s[at] == '\t' ? 't' : 'n');
    from = at + 1;
  }
}

template <class Int>
void append_number(std::string& out, Int n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

// A value quoted for an error message: short, so a garbled line cannot flood the log.
std::string quoted(std::string_view value) {
  constexpr std::size_t kMax = 40;
  std::string out = "'";
  out.append(value.substr(0, kMax));
  if (value.size() > kMax) out.append("...");
  out.push_back('\'');
  return out;
}

[[noreturn]] void fail(std::size_t line, std::size_t field, const std::string& what) {
  throw OutboxEventError("line " + std::to_string(line) + ", field " +
                         std::string(kFieldNames[field]) + ": " + what);
}

template <class Int>
Int parse_number(std::string_view text, std::size_t line, std::size_t field) {
  Int value{};
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
    fail(line, field, "not a whole number: " + quoted(text));
  if (value < 0) fail(line, field, "negative: " + quoted(text));
  return value;
}

void unescape(std::string_view text, std::string& out, std::size_t line, std::size_t field) {
  out.clear();
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = text.find('\\', from);
    if (at == std::string_view::npos) {
      out.append(text.substr(from));
      return;
    }
    out.append(text.substr(from, at - from));
    if (at + 1 == text.size()) fail(line, field, "ends in a lone '\\'");
    switch (text[at + 1]) {
      case '\\':
        out.push_back('\\');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      default:
        fail(line, field, "unknown escape " + quoted(text.substr(at, 2)));
    }
    from = at + 2;
  }
}

OutboxEvent decode_line(std::string_view text, std::size_t line) {
  std::array<std::string_view, kReplyFields> fields;
  std::size_t count = 0;
  std::size_t from = 0;
  for (;;) {
    const std::size_t tab = text.find('\t', from);
    const std::string_view f =
        text.substr(from, tab == std::string_view::npos ? std::string_view::npos : tab - from);
    if (count == kReplyFields)
      throw OutboxEventError("line " + std::to_string(line) + ": more than " +
                             std::to_string(kReplyFields) + " fields");
    fields[count++] = f;
    if (tab == std::string_view::npos) break;
    from = tab + 1;
  }
  OutboxEvent e;
  const auto kind = parse_outbox_event_kind(fields[0]);
  if (!kind) fail(line, 0, "unknown event kind " + quoted(fields[0]));
  e.kind = *kind;
  const std::size_t expected = e.kind == Kind::kReply ? kReplyFields : kStatusFields;
  if (count != expected)
    throw OutboxEventError(
        "line " + std::to_string(line) + ": a " + std::string(to_string(e.kind)) + " event has " +
        std::to_string(expected) + " fields, this one has " + std::to_string(count));
  e.message_id = parse_number<long long>(fields[1], line, 1);
  e.attempts = parse_number<int>(fields[2], line, 2);
  e.at_ms = parse_number<long long>(fields[3], line, 3);
  unescape(fields[4], e.provider_id, line, 4);
  unescape(fields[5], e.reason, line, 5);
  if (e.kind == Kind::kReply) {
    unescape(fields[6], e.route, line, 6);
    unescape(fields[7], e.phone, line, 7);
    unescape(fields[8], e.zalo_user, line, 8);
    unescape(fields[9], e.text, line, 9);
  }
  return e;
}

std::string now_text() {
  using namespace std::chrono;
  return format_epoch_ms(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

std::string_view to_string(OutboxEvent::Kind kind) {
  return kKindWords[static_cast<std::size_t>(kind)];
}

std::optional<OutboxEvent::Kind> parse_outbox_event_kind(std::string_view word) {
  for (std::size_t i = 0; i < kKindWords.size(); ++i)
    if (kKindWords[i] == word) return static_cast<Kind>(i);
  return std::nullopt;
}

std::string encode_events(const std::vector<OutboxEvent>& events) {
  std::string out;
  out.reserve(events.size() * 48);
  for (const OutboxEvent& e : events) {
    if (!out.empty()) out.push_back('\n');
    out.append(to_string(e.kind));
    out.push_back('\t');
    append_number(out, e.message_id);
    out.push_back('\t');
    append_number(out, e.attempts);
    out.push_back('\t');
    append_number(out, e.at_ms);
    out.push_back('\t');
    append_escaped(out, e.provider_id);
    out.push_back('\t');
    append_escaped(out, e.reason);
    if (e.kind == Kind::kReply) {
      for (const std::string* f : {&e.route, &e.phone, &e.zalo_user, &e.text}) {
        out.push_back('\t');
        append_escaped(out, *f);
      }
    }
  }
  return out;
}

std::vector<OutboxEvent> decode_events(std::string_view text) {
  std::vector<OutboxEvent> out;
  std::size_t line = 0;
  std::size_t from = 0;
  while (from < text.size()) {
    ++line;
    const std::size_t nl = text.find('\n', from);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    if (end == from) throw OutboxEventError("line " + std::to_string(line) + ": empty line");
    out.push_back(decode_line(text.substr(from, end - from), line));
    if (nl == std::string_view::npos) break;
    from = nl + 1;  // a final '\n' ends the loop here
  }
  return out;
}

std::string format_epoch_ms(long long at_ms) {
  using namespace std::chrono;
  // Called once per event on the results path: civil-date arithmetic and digits written by
  // hand (gmtime_r takes glibc's time-zone lock, snprintf parses its format every time).
  const sys_time<milliseconds> t{milliseconds{at_ms}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  if (at_ms < 0 || y > 9999) {
    // Outside the four-digit years: the general form (never on the hot path).
    const std::time_t secs = static_cast<std::time_t>(at_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];  // room for any int year, so the compiler can prove nothing is cut
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(at_ms % 1000));
    return buf;
  }
  long long ms = (t - day).count();  // 0 .. 86,399,999
  const int milli = static_cast<int>(ms % 1000);
  ms /= 1000;
  const int sec = static_cast<int>(ms % 60), min = static_cast<int>(ms / 60 % 60),
            hour = static_cast<int>(ms / 3600);
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](std::size_t at, int value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10)
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(0, y, 4);
  put(5, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
  put(8, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
  put(11, hour, 2);
  put(14, min, 2);
  put(17, sec, 2);
  put(20, milli, 3);
  return out;
}

// ---- applying -----------------------------------------------------------------------------

OutboxEventApplier::OutboxEventApplier(SQLite::Database& db) : db_(db), rows_(db) {}
OutboxEventApplier::~OutboxEventApplier() = default;

// The first channel of a row's comma-separated `fallback` (routes are named after channels).
#define FIRST_FALLBACK \
  "CASE WHEN instr(fallback, ',') > 0 THEN substr(fallback, 1, instr(fallback, ',') - 1) " \
  "ELSE fallback END"

SQLite::Statement& OutboxEventApplier::stmt(Stmt which) {
  auto& slot = stmts_[which];
  if (!slot) {
    // The WHERE clauses are the precedence rules of the header; keep them in step.
    static constexpr std::array<const char*, kStmtCount> kSql = {
        // kSent: also fills in a delivered row whose receipt beat its `sent`.
        "UPDATE outbox SET state = CASE WHEN state = 'delivered' THEN state ELSE 'sent' END, "
        "provider_id = CASE WHEN ?2 = '' THEN provider_id ELSE ?2 END, "
        "delivered_at = CASE WHEN delivered_at < ?4 THEN ?4 ELSE delivered_at END, "
        "attempts = MAX(attempts, ?3), sent_at = ?4, updated_at = ?5 "
        "WHERE id = ?1 AND (state IN ('planned', 'queued') OR "
        "(state = 'delivered' AND sent_at IS NULL))",
        // kDelivered
        "UPDATE outbox SET state = 'delivered', "
        "delivered_at = CASE WHEN sent_at > ?2 THEN sent_at ELSE ?2 END, "
        "provider_id = CASE WHEN provider_id = '' THEN ?3 ELSE provider_id END, "
        "attempts = MAX(attempts, ?4), updated_at = ?5 "
        "WHERE id = ?1 AND state <> 'delivered'",
        // kUndelivered
        "UPDATE outbox SET state = 'failed', last_error = ?2, "
        "provider_id = CASE WHEN provider_id = '' THEN ?3 ELSE provider_id END, "
        "attempts = MAX(attempts, ?4), updated_at = ?5 "
        "WHERE id = ?1 AND state IN ('planned', 'queued', 'sent', 'unknown')",
        // kFailed. ?5 = 1 when the channel reported the household unreachable: with a
        // fallback channel left, the row moves to it (planned again, body to be rendered by
        // the enqueuer, attempts from zero) instead of failing. SET reads the old row.
        // ?6: the route whose results stream carried the event (OutboxEvent::route, set by
        // engine/result_consumer.cpp; '' when unknown): an "unreachable" changes only a row
        // still on that route. Delivered twice (a crash between commit and XACK, a settle
        // retried after a lost reply), it must not move a row that already fell back on to
        // its next channel, nor fail that fallback before it is sent.
        "UPDATE outbox SET "
        "state = CASE WHEN ?5 = 1 AND fallback <> '' THEN 'planned' ELSE 'failed' END, "
        "fallback_from = CASE WHEN ?5 = 1 AND fallback <> '' THEN "
        "  fallback_from || CASE WHEN fallback_from = '' THEN '' ELSE ',' END || channel "
        "  ELSE fallback_from END, "
        "channel = CASE WHEN ?5 = 1 AND fallback <> '' THEN " FIRST_FALLBACK " ELSE channel END, "
        "route = CASE WHEN ?5 = 1 AND fallback <> '' THEN " FIRST_FALLBACK " ELSE route END, "
        "fallback = CASE WHEN ?5 = 1 AND fallback <> '' THEN "
        "  CASE WHEN instr(fallback, ',') > 0 THEN substr(fallback, instr(fallback, ',') + 1) "
        "  ELSE '' END ELSE fallback END, "
        "body = CASE WHEN ?5 = 1 AND fallback <> '' THEN '' ELSE body END, "
        "attempts = CASE WHEN ?5 = 1 AND fallback <> '' THEN 0 ELSE MAX(attempts, ?3) END, "
        "last_error = ?2, updated_at = ?4 WHERE id = ?1 AND state IN ('planned', 'queued') "
        "AND (?5 = 0 OR ?6 = '' OR route = ?6)",
        // kEnd: expired and cancelled
        "UPDATE outbox SET state = ?2, last_error = ?3, attempts = MAX(attempts, ?4), "
        "updated_at = ?5 WHERE id = ?1 AND state IN ('planned', 'queued')",
        // kReplyInsert: a NULL provider_id (the gateway gave none) is never a duplicate.
        "INSERT INTO replies(route, household_id, campaign_id, phone, zalo_user, text, "
        "provider_id, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, ''), ?8) "
        "ON CONFLICT(provider_id) DO NOTHING",
        // kByMessage
        "SELECT household_id, campaign_id FROM outbox WHERE id = ?1",
        // kByPhone
        "SELECT id FROM households WHERE phone_e164 = ?1 ORDER BY id LIMIT 16",
        // kByZalo
        "SELECT id FROM households WHERE zalo_user_id = ?1 ORDER BY id LIMIT 16",
        // kLatest: the household's latest message (the outbox_household index).
        "SELECT campaign_id, created_at, id FROM outbox WHERE household_id = ?1 "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        // kOrphan
        "INSERT OR IGNORE INTO orphan_receipts(message_ref, event, provider_id, at) "
        "VALUES (?1, ?2, ?3, ?4)",
    };
    slot = std::make_unique<SQLite::Statement>(db_, kSql[which]);
  }
  // tryReset: after a failed step (say SQLITE_BUSY in an earlier batch), reset() would throw
  // that old error again here.
  slot->tryReset();
  return *slot;
}

namespace {
// Strings are bound without SQLite's copy: every argument of run() outlives its exec().
void bind_arg(SQLite::Statement& st, int index, const std::string& value) {
  st.bindNoCopy(index, value);
}
template <class T>
void bind_arg(SQLite::Statement& st, int index, const T& value) {
  st.bind(index, value);
}
}  // namespace

template <class... Args>
int OutboxEventApplier::run(Stmt which, const Args&... args) {
  auto& st = stmt(which);
  int index = 0;
  (bind_arg(st, ++index, args), ...);
  return st.exec();
}

int OutboxEventApplier::apply(const std::vector<OutboxEvent>& events) {
  const std::string now = now_text();
  int changed = 0;
  orphans_ = 0;
  history_.clear();  // rows of an apply() that threw point into its batch: never written
  for (const OutboxEvent& e : events) {
    if (e.kind == Kind::kReply) {
      changed += apply_reply(e, now);
      continue;
    }
    std::string at = e.at_ms > 0 ? format_epoch_ms(e.at_ms) : now;
    const auto id = static_cast<std::int64_t>(e.message_id);
    // One read tells whether the message is known and gives its facts for the statistics
    // (into a member, so its strings' storage is reused from event to event).
    const bool known = id > 0 && rows_.read(e.message_id, before_);
    if (!known) {
      // A receipt for an id the outbox does not know is kept and counted as orphaned.
      // A replay of one already kept (the same id, kind and provider id) is not.
      if (e.kind == Kind::kDelivered || e.kind == Kind::kUndelivered)
        orphans_ += run(kOrphan, std::to_string(e.message_id), std::string(to_string(e.kind)),
                        e.provider_id, at);
      continue;
    }
    // Delivery times are monotonic: a receipt stamped before its send (the gateway's clock,
    // or a receipt that raced the send's answer) counts as delivered when it was sent. The
    // send's time is loa's own, taken before the request left, so loa's clock wins.
    if (e.kind == Kind::kDelivered && before_.sent_at_ms &&
        (e.at_ms > 0 ? e.at_ms : parse_iso_ms(now).value_or(0)) < *before_.sent_at_ms)
      at = format_epoch_ms(*before_.sent_at_ms);
    // The history row is written with the batch's others at the end (flush_history): it
    // depends on nothing the UPDATE below changes.
    history_.push_back({id, &e, at});
    // An event for a row still `planned`: a dispatcher had the message, so it was queued, but
    // the enqueuer's mark (which counts `queued` for the rows it finds planned) has not
    // committed, or never will (a crash between enqueueing and marking). Its first queueing
    // is counted here instead; a fallback's second queueing is never counted.
    const bool first_queueing = before_.state == "planned" && before_.on_first_channel;
    const int changed_before = changed;
    switch (e.kind) {
      case Kind::kSent:
        changed += run(kSent, id, e.provider_id, e.attempts, at, now);
        break;
      case Kind::kDelivered:
        changed += run(kDelivered, id, at, e.provider_id, e.attempts, now);
        break;
      case Kind::kUndelivered:
        changed += run(kUndelivered, id, e.reason.empty() ? std::string("undelivered") : e.reason,
                       e.provider_id, e.attempts, now);
        break;
      case Kind::kFailed: {
        // The dispatcher names an unreachable household so ("unreachable: no Zalo account").
        const int unreachable = e.reason.rfind("unreachable", 0) == 0 ? 1 : 0;
        changed += run(kFailed, id, e.reason.empty() ? std::string("failed") : e.reason,
                       e.attempts, now, unreachable, e.route);
        break;
      }
      case Kind::kExpired:
      case Kind::kCancelled:
        changed += run(kEnd, id, std::string(to_string(e.kind)), e.reason, e.attempts, now);
        break;
      case Kind::kReply:
        break;
    }
    if (changed != changed_before) {
      count(e, before_, e.at_ms > 0 ? e.at_ms : parse_iso_ms(now).value_or(0));
      if (first_queueing) ++deltas_.at(before_.key).queued;
    }
  }
  flush_history(now);
  deltas_.apply(db_);
  return changed;
}

void OutboxEventApplier::flush_history(const std::string& now) {
  // Once per message and kind: INSERT OR IGNORE against UNIQUE(message_id, event); the rows
  // keep the events' order, so the first of two events of one kind in a batch wins, as it did
  // with one INSERT per event. Chunks of 2^k rows, so a handful of statements serve any batch.
  std::size_t next = 0;
  while (next < history_.size()) {
    std::size_t log2 = kHistoryChunkLog2;
    while ((std::size_t{1} << log2) > history_.size() - next) --log2;
    const std::size_t rows = std::size_t{1} << log2;
    auto& slot = history_stmts_[log2];
    if (!slot) {
      std::string sql =
          "INSERT OR IGNORE INTO delivery_history(message_id, event, provider_id, reason, at, "
          "recorded_at) VALUES ";
      for (std::size_t r = 0; r < rows; ++r) sql += r == 0 ? "(?,?,?,?,?,?)" : ",(?,?,?,?,?,?)";
      slot = std::make_unique<SQLite::Statement>(db_, sql);
    }
    SQLite::Statement& st = *slot;
    st.tryReset();
    int index = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const HistoryRow& h = history_[next + r];
      st.bind(++index, h.message_id);
      st.bindNoCopy(++index, to_string(h.event->kind).data());  // a NUL-terminated literal
      st.bindNoCopy(++index, h.event->provider_id);
      st.bindNoCopy(++index, h.event->reason);
      st.bindNoCopy(++index, h.at);
      st.bindNoCopy(++index, now);
    }
    st.exec();
    next += rows;
  }
  history_.clear();
}

void OutboxEventApplier::count(const OutboxEvent& e, const OutboxRowFacts& before,
                               long long at_ms) {
  StatsCounters& c = deltas_.at(before.key);
  const bool was_sent = before.sent_at_ms || before.state == "sent" ||
                        before.state == "delivered" ||
                        (before.state == "failed" && !before.provider_id.empty());
  auto count_sent = [&] {
    if (was_sent) return;
    ++c.sent;
    c.cost_vnd += before.cost_vnd;
  };
  auto count_failure = [&](const std::string& reason) {
    ++c.failed;
    ++c.failures[summary_reason(reason)];
    if (is_opt_out_reason(reason)) ++c.opted_out;
  };
  switch (e.kind) {
    case Kind::kSent:
      count_sent();
      // A receipt that beat its `sent`: timed now that the send time is known.
      if (before.state == "delivered" && !before.sent_at_ms && before.delivered_at_ms)
        ++c.ttd[delivery_bucket(std::max(0LL, *before.delivered_at_ms - at_ms))];
      break;
    case Kind::kDelivered:
      // A real receipt wins over an earlier end state: the message leaves that count.
      if (before.state == "failed") {
        --c.failed;
        --c.failures[summary_reason(before.last_error)];
        if (is_opt_out_reason(before.last_error)) --c.opted_out;
      } else if (before.state == "expired") {
        --c.expired;
      } else if (before.state == "cancelled") {
        --c.cancelled;
        if (is_opt_out_reason(before.last_error)) --c.opted_out;
      } else if (before.state == "unknown") {
        --c.unknown;  // the receipt came after the timeout
      }
      count_sent();
      ++c.delivered;
      if (before.sent_at_ms) ++c.ttd[delivery_bucket(std::max(0LL, at_ms - *before.sent_at_ms))];
      break;
    case Kind::kUndelivered:
      if (before.state == "unknown") --c.unknown;
      count_sent();
      count_failure(e.reason.empty() ? std::string("undelivered") : e.reason);
      break;
    case Kind::kFailed:
      if (e.reason.rfind("unreachable", 0) == 0 && !before.fallback.empty())
        ++c.fallback;
      else
        count_failure(e.reason.empty() ? std::string("failed") : e.reason);
      break;
    case Kind::kExpired:
      ++c.expired;
      break;
    case Kind::kCancelled:
      ++c.cancelled;
      if (is_opt_out_reason(e.reason)) ++c.opted_out;
      break;
    case Kind::kReply:
      break;
  }
}

int OutboxEventApplier::apply_reply(const OutboxEvent& e, const std::string& now) {
  std::int64_t household = 0;
  std::int64_t campaign = 0;
  // Gateways write the sender as 84..., +84... or 0...: matched and stored in E.164.
  std::string phone = e.phone;
  if (!phone.empty()) {
    const PhoneResult normal = normalize_phone(phone);
    if (normal.ok()) phone = normal.e164;
  }
  std::int64_t message = 0;  // the outbox row the reply answers, for the statistics
  if (e.message_id > 0) {
    auto& st = stmt(kByMessage);
    st.bind(1, static_cast<std::int64_t>(e.message_id));
    if (st.executeStep()) {
      household = st.getColumn(0).getInt64();
      campaign = st.getColumn(1).getInt64();
      message = e.message_id;
    }
    st.tryReset();
  }
  // By phone, then by Zalo user. Households that share a phone: the one messaged last, whose
  // message the reply most likely answers.
  auto match = [&](Stmt lookup, const std::string& key) {
    if (household != 0 || key.empty()) return;
    std::vector<std::int64_t> candidates;
    {
      auto& st = stmt(lookup);
      st.bind(1, key);
      while (st.executeStep()) candidates.push_back(st.getColumn(0).getInt64());
      st.tryReset();
    }
    std::string best_at;
    std::int64_t best_id = 0;
    for (std::int64_t h : candidates) {
      auto& st = stmt(kLatest);
      st.bind(1, h);
      if (household == 0) household = h;  // the lowest id when none was messaged
      if (st.executeStep()) {
        std::string at = st.getColumn(1).getString();
        const std::int64_t id = st.getColumn(2).getInt64();
        if (best_id == 0 || at > best_at || (at == best_at && id > best_id)) {
          best_at = std::move(at);
          best_id = id;
          household = h;
          campaign = st.getColumn(0).getInt64();
          message = id;
        }
      }
      st.tryReset();
    }
  };
  match(kByPhone, phone);
  match(kByZalo, e.zalo_user);

  auto& st = stmt(kReplyInsert);
  st.bind(1, e.route);
  if (household)
    st.bind(2, household);
  else
    st.bind(2);
  if (campaign)
    st.bind(3, campaign);
  else
    st.bind(3);
  st.bind(4, phone);
  st.bind(5, e.zalo_user);
  st.bind(6, e.text);
  st.bind(7, e.provider_id);
  st.bind(8, e.at_ms > 0 ? format_epoch_ms(e.at_ms) : now);
  const int inserted = st.exec();
  if (inserted && message)
    if (auto row = rows_.read(message)) ++deltas_.at(row->key).replied;
  return inserted;
}

int apply_outbox_events(SQLite::Database& db, const std::vector<OutboxEvent>& events) {
  OutboxEventApplier applier(db);
  return applier.apply(events);
}

}  // namespace loa::campaigns
