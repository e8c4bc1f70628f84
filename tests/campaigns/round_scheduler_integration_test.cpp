// The scheduler's decisions over a real SQLite store, with the time given, not waited for.
#include "campaigns/round_scheduler.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::campaigns {
namespace {

TimePoint at(const char* text) { return parse_time(text).value(); }

class RoundScheduler : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(
        engine::open_store(dir_ / "loa.db", engine::StoreMode::kReadWrite));
    engine::migrate(*db_);
  }
  Campaign make(Recurrence recurrence) {
    Campaign c;
    c.name = "c" + std::to_string(++n_);
    c.template_key = "t";
    c.start_at = at("2026-12-01T08:00:00+07:00");
    c.end_at = at("2026-12-31T20:00:00+07:00");
    c.recurrence = recurrence;
    c.id = create_campaign(*db_, c, "test");
    transition(*db_, c.id, CampaignState::kScheduled, "test");
    return *find_campaign(*db_, c.id);
  }
  test::TempDir dir_;
  std::unique_ptr<SQLite::Database> db_;
  int n_ = 0;
};

TEST_F(RoundScheduler, NothingBeforeTheStartThenOneRoundOnTime) {
  Campaign c = make(Recurrence::kNone);
  EXPECT_TRUE(due_rounds(*db_, at("2026-12-01T07:59:59+07:00")).empty());
  auto due = due_rounds(*db_, at("2026-12-01T08:00:00+07:00"));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].round.number, 1);
  EXPECT_TRUE(take_round(*db_, due[0], at("2026-12-01T08:00:00+07:00")));
  EXPECT_EQ(find_campaign(*db_, c.id)->state, CampaignState::kRunning);
  // Never twice: a second taker loses, and the round is no longer offered while it is fresh.
  EXPECT_FALSE(take_round(*db_, due[0], at("2026-12-01T08:00:01+07:00")));
  EXPECT_TRUE(due_rounds(*db_, at("2026-12-01T08:00:05+07:00")).empty());
}

TEST_F(RoundScheduler, AStalledPlannerIsTakenOverOnce) {
  make(Recurrence::kNone);
  auto due = due_rounds(*db_, at("2026-12-01T08:00:00+07:00"));
  ASSERT_TRUE(take_round(*db_, due[0], at("2026-12-01T08:00:00+07:00")));
  // The planner died (no heartbeat). After 30 s its round is offered again, once.
  auto again = due_rounds(*db_, at("2026-12-01T08:00:31+07:00"));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].round.state, RoundState::kExpanding);
  EXPECT_TRUE(take_round(*db_, again[0], at("2026-12-01T08:00:31+07:00")));
  EXPECT_FALSE(take_round(*db_, again[0], at("2026-12-01T08:00:32+07:00")));
}

TEST_F(RoundScheduler, MissedWhileDownStartsOnceAndRecurs) {
  Campaign c = make(Recurrence::kDaily);
  // loa was down from before the start until the 4th: only the latest due round starts.
  auto due = due_rounds(*db_, at("2026-12-04T10:00:00+07:00"));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].round.number, 4);
  ASSERT_TRUE(take_round(*db_, due[0], at("2026-12-04T10:00:00+07:00")));
  db_->exec("UPDATE rounds SET state = 'expanded'");
  EXPECT_TRUE(due_rounds(*db_, at("2026-12-04T23:00:00+07:00")).empty());
  // The next day brings round 5, on time.
  due = due_rounds(*db_, at("2026-12-05T08:00:00+07:00"));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].round.number, 5);
  EXPECT_EQ(rounds_of(*db_, c.id).size(), 2u);  // rounds 1-3 were never created
}

TEST_F(RoundScheduler, PausedCampaignsWaitAndEndedOnesComplete) {
  Campaign c = make(Recurrence::kNone);
  transition(*db_, c.id, CampaignState::kPaused, "test");
  EXPECT_TRUE(due_rounds(*db_, at("2026-12-02T08:00:00+07:00")).empty());
  EXPECT_EQ(end_campaigns(*db_, at("2026-12-31T19:59:59+07:00")), 0);
  EXPECT_EQ(end_campaigns(*db_, at("2026-12-31T20:00:00+07:00")), 1);
  EXPECT_EQ(find_campaign(*db_, c.id)->state, CampaignState::kCompleted);
  const int audits = db_->execAndGet("SELECT COUNT(*) FROM audit_log WHERE subject = 'campaign:" +
                                     c.name + "'")
                         .getInt();
  EXPECT_EQ(audits, 4);  // create, schedule, pause, complete
}

class CampaignCompletion : public RoundScheduler {
 protected:
  // A household and an outbox row in `state` for the campaign's round `round_id`.
  void message(const Campaign& c, std::int64_t round_id, const std::string& state) {
    db_->exec("INSERT INTO households(name) VALUES ('h')");
    SQLite::Statement st(*db_,
                         "INSERT INTO outbox(round_id, campaign_id, household_id, channel, route, "
                         "language, body, units, cost_vnd, state, expires_at, created_at, "
                         "updated_at) VALUES (?, ?, last_insert_rowid(), 'sms', 'sms', 'vi', 'x', "
                         "1, 800, ?, 'e', 'c', 'u')");
    st.bind(1, round_id);
    st.bind(2, c.id);
    st.bind(3, state);
    st.exec();
  }
  // Runs round 1 of `c` at its start and marks it expanded.
  std::int64_t expanded_round(const Campaign& c) {
    auto due = due_rounds(*db_, c.start_at);
    EXPECT_EQ(due.size(), 1u);
    EXPECT_TRUE(take_round(*db_, due.at(0), c.start_at));
    db_->exec("UPDATE rounds SET state = 'expanded' WHERE id = " +
              std::to_string(due.at(0).round.id));
    return due.at(0).round.id;
  }
  CampaignState state(const Campaign& c) { return find_campaign(*db_, c.id)->state; }
  const TimePoint later_ = at("2026-12-02T08:00:00+07:00");
};

TEST_F(CampaignCompletion, AOneOffCampaignCompletesWhenNothingIsLeftToSend) {
  Campaign c = make(Recurrence::kNone);
  EXPECT_EQ(complete_campaigns(*db_, later_), 0);  // scheduled, no round yet
  auto due = due_rounds(*db_, c.start_at);
  ASSERT_TRUE(take_round(*db_, due.at(0), c.start_at));
  EXPECT_EQ(complete_campaigns(*db_, later_), 0);  // its round is expanding
  db_->exec("UPDATE rounds SET state = 'expanded'");
  const std::int64_t round = due.at(0).round.id;
  for (const char* s : {"sent", "delivered", "failed", "expired", "cancelled", "planned", "queued"})
    message(c, round, s);
  EXPECT_EQ(complete_campaigns(*db_, later_), 0);  // planned and queued wait
  db_->exec("UPDATE outbox SET state = 'sent' WHERE state = 'planned'");
  EXPECT_EQ(complete_campaigns(*db_, later_), 0);  // queued waits
  db_->exec("UPDATE outbox SET state = 'failed' WHERE state = 'queued'");
  EXPECT_EQ(complete_campaigns(*db_, later_), 1);
  EXPECT_EQ(state(c), CampaignState::kCompleted);
  EXPECT_EQ(complete_campaigns(*db_, later_), 0);  // once
  EXPECT_EQ(db_->execAndGet("SELECT actor || ' ' || action || ' ' || detail FROM audit_log "
                            "WHERE subject = 'campaign:" +
                            c.name + "' ORDER BY id DESC LIMIT 1")
                .getString(),
            "system:scheduler campaign.completed running -> completed: every round planned, no "
            "message left to send");
  // Sent messages keep their receipts coming after completion; nothing else changed.
  EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").getInt(), 2);
}

TEST_F(CampaignCompletion, OnlyRunningOneOffCampaignsComplete) {
  Campaign recurring = make(Recurrence::kDaily);
  message(recurring, expanded_round(recurring), "delivered");
  Campaign paused = make(Recurrence::kNone);
  message(paused, expanded_round(paused), "delivered");
  transition(*db_, paused.id, CampaignState::kPaused, "test");
  Campaign empty = make(Recurrence::kNone);  // a round that planned nothing completes too
  expanded_round(empty);
  EXPECT_EQ(complete_campaigns(*db_, later_), 1);
  EXPECT_EQ(state(recurring), CampaignState::kRunning);  // completes at end_at
  EXPECT_EQ(state(paused), CampaignState::kPaused);
  EXPECT_EQ(state(empty), CampaignState::kCompleted);
  // Past end_at it is end_campaigns' job (its unsent messages expire), not this one's.
  Campaign late = make(Recurrence::kNone);
  message(late, expanded_round(late), "sent");
  EXPECT_EQ(complete_campaigns(*db_, at("2026-12-31T20:00:00+07:00")), 0);
}

}  // namespace
}  // namespace loa::campaigns
