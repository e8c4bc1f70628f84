// The scheduler's decisions over a real SQLite store, with the time given, not waited for.
#include "campaigns/round_scheduler.hpp"

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

}  // namespace
}  // namespace loa::campaigns
