#include "campaigns/receipt_timeout.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "campaigns/outbox_event.hpp"
#include "campaigns/stats_summary.hpp"

namespace loa::campaigns {
namespace {

// Rows per transaction: a few ms of writing, so the results' writer is not held up.
constexpr int kChunk = 2000;

}  // namespace

int mark_unknown_outcomes(SQLite::Database& db, TimePoint now, const ReceiptTimeouts& timeouts) {
  const long long now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::string updated_at = format_epoch_ms(now_ms);
  int moved = 0;
  for (const auto& entry : timeouts) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const auto& route = entry.first;
    const auto& timeout = entry.second;
    const std::string deadline = format_epoch_ms(
        now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    const std::string reason = "no receipt within " + std::to_string(timeout.count()) + " h";
    for (;;) {
      // The sent_at of the chunk's last row bounds the chunk (rows sharing it may add a few).
      SQLite::Statement last(db,
                             "SELECT sent_at FROM outbox WHERE state = 'sent' AND route = ?1 "
                             "AND sent_at < ?2 ORDER BY sent_at LIMIT 1 OFFSET ?3");
      last.bind(1, route);
      last.bind(2, deadline);
      last.bind(3, kChunk - 1);
      const std::string bound = last.executeStep() ? last.getColumn(0).getString() : deadline;
      const bool whole = bound == deadline;  // fewer than a chunk are left
      constexpr const char* kWhere =
          "o.state = 'sent' AND o.route = ?1 AND o.sent_at < ?2 AND o.sent_at <= ?3";
      SQLite::Transaction tx(db);
      count_outbox_rows(db, "unknown", kWhere, [&](SQLite::Statement& st) {
        st.bind(1, route);
        st.bind(2, deadline);
        st.bind(3, bound);
      });
      // sql-trusted: kWhere is a constant
      SQLite::Statement update(
          db, "UPDATE outbox AS o SET state = 'unknown', last_error = ?4, updated_at = ?5 WHERE " +
                  std::string(kWhere));
      update.bind(1, route);
      update.bind(2, deadline);
      update.bind(3, bound);
      update.bind(4, reason);
      update.bind(5, updated_at);
      const int n = update.exec();
      tx.commit();
      moved += n;
      if (whole || n == 0) break;
    }
  }
  return moved;
}

}  // namespace loa::campaigns
