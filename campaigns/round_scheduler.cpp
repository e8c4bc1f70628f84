#include "campaigns/round_scheduler.hpp"

#include "campaigns/inbox.hpp"
#include "campaigns/stats_summary.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace loa::campaigns {

std::vector<DueRound> due_rounds(SQLite::Database& db, TimePoint now,
                                 std::chrono::seconds stale_after) {
  std::vector<DueRound> out;
  for (const Campaign& c : list_campaigns(db)) {
    if (c.state != CampaignState::kScheduled && c.state != CampaignState::kRunning) continue;
    if (now >= c.end_at) continue;
    int latest = 0;
    for (int n = 1; n < 100000; ++n) {
      auto due = round_due(c, n);
      if (!due || *due > now) break;
      latest = n;
    }
    if (latest > 0) ensure_round(db, c, latest);
    for (const Round& r : rounds_of(db, c.id)) {
      if (r.state == RoundState::kPending && r.due_at <= now) out.push_back({c, r});
      if (r.state == RoundState::kExpanding) {
        SQLite::Statement hb(db, "SELECT heartbeat_at, started_at FROM rounds WHERE id = ?");
        hb.bind(1, r.id);
        if (!hb.executeStep()) continue;
        const std::string beat = hb.getColumn(0).isNull() ? "" : hb.getColumn(0).getString();
        auto last = parse_time(beat);
        if (!last || *last + stale_after <= now) out.push_back({c, r});
      }
    }
  }
  return out;
}

bool take_round(SQLite::Database& db, const DueRound& due, TimePoint now,
                std::chrono::seconds stale_after) {
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  const std::string beat = format_time(now);
  SQLite::Statement st(db,
                       "UPDATE rounds SET state = 'expanding', heartbeat_at = ?1, "
                       "started_at = COALESCE(started_at, ?1) WHERE id = ?2 AND "
                       "(state = 'pending' OR (state = 'expanding' AND "
                       "(heartbeat_at IS NULL OR heartbeat_at <= ?3)))");
  st.bind(1, beat);
  st.bind(2, due.round.id);
  st.bind(3, format_time(now - stale_after));
  if (st.exec() != 1) return false;
  const auto c = find_campaign(db, due.campaign.id);
  tx.commit();
  if (c && c->state == CampaignState::kScheduled)
    transition(db, c->id, CampaignState::kRunning, "system:scheduler",
               "round " + std::to_string(due.round.number) + " started");
  return true;
}

int end_campaigns(SQLite::Database& db, TimePoint now) {
  int ended = 0;
  for (const Campaign& c : list_campaigns(db)) {
    if (c.state != CampaignState::kScheduled && c.state != CampaignState::kRunning &&
        c.state != CampaignState::kPaused)
      continue;
    if (now < c.end_at) continue;
    count_outbox_rows(db, "expired", "o.campaign_id = ? AND o.state IN ('planned', 'queued')",
                      [&](SQLite::Statement& st) { st.bind(1, c.id); });
    SQLite::Statement exp(db,
                          "UPDATE outbox SET state = 'expired', updated_at = ? WHERE "
                          "campaign_id = ? AND state IN ('planned', 'queued')");
    exp.bind(1, format_time(now));
    exp.bind(2, c.id);
    const int expired = exp.exec();
    transition(db, c.id, CampaignState::kCompleted, "system:scheduler",
               "end_at passed; " + std::to_string(expired) + " unsent message(s) expired");
    ++ended;
  }
  return ended;
}

int complete_campaigns(SQLite::Database& db, TimePoint now) {
  int completed = 0;
  for (const Campaign& c : list_campaigns(db)) {
    if (c.state != CampaignState::kRunning || c.recurrence != Recurrence::kNone) continue;
    if (c.name == kInboxCampaign) continue;  // it carries answers for as long as loa runs
    if (now >= c.end_at) continue;  // end_campaigns' case: its unsent messages expire
    SQLite::Statement open_rounds(
        db,
        "SELECT COUNT(*), COALESCE(SUM(state IN ('pending', 'expanding')), 0) FROM rounds "
        "WHERE campaign_id = ?");
    open_rounds.bind(1, c.id);
    open_rounds.executeStep();
    if (open_rounds.getColumn(0).getInt64() == 0 || open_rounds.getColumn(1).getInt64() > 0)
      continue;
    SQLite::Statement unsent(db,
                             "SELECT EXISTS(SELECT 1 FROM outbox WHERE campaign_id = ? AND "
                             "state IN ('planned', 'queued'))");
    unsent.bind(1, c.id);
    unsent.executeStep();
    if (unsent.getColumn(0).getInt() != 0) continue;
    transition(db, c.id, CampaignState::kCompleted, "system:scheduler",
               "every round planned, no message left to send");
    ++completed;
  }
  return completed;
}

}  // namespace loa::campaigns
