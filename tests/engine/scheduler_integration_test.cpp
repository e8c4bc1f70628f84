// The daemon's scheduler with an injected clock: rounds start when the clock says so, a round
// missed while loa was down starts once, recurring rounds follow, ended campaigns complete,
// and a message whose receipt never came becomes `unknown` after its route's timeout.
#include "engine/scheduler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "campaigns/audience.hpp"
#include "campaigns/funnel.hpp"
#include "campaigns/outbox_event.hpp"
#include "campaigns/round_scheduler.hpp"
#include "engine/store.hpp"
#include "engine/template_settings.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

using campaigns::parse_time;
using campaigns::TimePoint;

TimePoint at(const char* text) { return parse_time(text).value(); }

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = test::run_command("LOA_DAEMON_DATA_DIR=" + (dir_ / "data").string() + " " +
                               test::loa_binary().string() + " templates load " +
                               (test::source_dir() / "ops/examples/templates.toml").string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    path_ = dir_ / "data" / "loa.db";
    db_ = std::make_unique<SQLite::Database>(open_store(path_, StoreMode::kReadWrite));
    db_->exec(
        "INSERT INTO households(household_code, name, phone_e164, language, category, commune) "
        "VALUES ('A', 'Một', '+84912345678', 'vi', 'poor', 'Xã Ea Tu'), "
        "('B', 'Hai', '+84912345679', 'rad', 'poor', 'Xã Ea Tu'), "
        "('C', 'Ba', '+84912345670', 'vi', 'escaped', 'Xã Ea Tu')");
  }
  std::int64_t campaign(campaigns::Recurrence recurrence, const std::string& name = "weekly",
                        const std::string& audience = R"(category = "poor")") {
    campaigns::Campaign c;
    c.name = name;
    c.template_key = "ho_tro_bhyt";
    c.audience = audience;
    c.channels = {"sms"};
    c.start_at = at("2026-12-01T08:00:00+07:00");
    c.end_at = at("2026-12-20T20:00:00+07:00");
    c.recurrence = recurrence;
    const auto id = campaigns::create_campaign(*db_, c, "test");
    campaigns::transition(*db_, id, campaigns::CampaignState::kScheduled, "test");
    return id;
  }
  int outbox() { return db_->execAndGet("SELECT COUNT(*) FROM outbox").getInt(); }
  // Expands a new one-off campaign's round of two households a page each (three pages: the
  // last is empty) with `max_transaction` and commit_rows far off; returns the commits. The
  // writer is held back 300 ms before its first page, so by then the renderer has queued the
  // other two: only the time bound can make the writer commit with pages waiting.
  int commits_with(std::chrono::milliseconds max_transaction, const std::string& name) {
    campaign(campaigns::Recurrence::kNone, name);
    const TimePoint now = at("2026-12-01T09:00:00+07:00");
    for (const auto& due : campaigns::due_rounds(*db_, now)) {
      if (due.campaign.name != name) continue;
      EXPECT_TRUE(campaigns::take_round(*db_, due, now));
      auto settings = planner_settings(config_, *db_, due.campaign);
      settings.page_rows = 1;
      settings.commit_rows = 1000000;
      settings.max_transaction = max_transaction;
      bool first = true;
      int commits = 0;
      const auto r = campaigns::expand_round(
          *db_, due.campaign, due.round, settings,
          [&] {
            if (first) std::this_thread::sleep_for(std::chrono::milliseconds(300));
            first = false;
            return now;
          },
          [&](const campaigns::ExpandResult&) { ++commits; });
      EXPECT_TRUE(r.finished);
      EXPECT_EQ(r.planned, 2u);
      return commits;
    }
    ADD_FAILURE() << "no due round for " << name;
    return 0;
  }

  test::TempDir dir_;
  std::filesystem::path path_;
  std::unique_ptr<SQLite::Database> db_;
  Config config_ = load_config_text("", "test", false);
};

TEST_F(SchedulerTest, RoundsFollowTheInjectedClock) {
  const auto id = campaign(campaigns::Recurrence::kWeekly);
  ManualClock clock(at("2026-11-30T12:00:00+07:00"));
  Scheduler scheduler(path_, clock, [this](SQLite::Database& db, const campaigns::Campaign& c) {
    return planner_settings(config_, db, c);
  });
  EXPECT_EQ(scheduler.run_once(), 0);  // before the start
  EXPECT_EQ(outbox(), 0);

  clock.set(at("2026-12-01T08:00:00+07:00"));
  EXPECT_EQ(scheduler.run_once(), 1);
  EXPECT_EQ(outbox(), 2);  // the two poor households
  EXPECT_EQ(scheduler.run_once(), 0);  // never twice
  EXPECT_EQ(campaigns::find_campaign(*db_, id)->state, campaigns::CampaignState::kRunning);

  // Down from the 2nd to the 16th: rounds 2 (the 8th) and 3 (the 15th) were missed; only the
  // latest starts, once.
  clock.set(at("2026-12-16T09:00:00+07:00"));
  EXPECT_EQ(scheduler.run_once(), 1);
  EXPECT_EQ(outbox(), 4);
  EXPECT_EQ(db_->execAndGet("SELECT group_concat(number) FROM rounds").getString(), "1,3");
  EXPECT_EQ(scheduler.run_once(), 0);

  // Past the end: the campaign completes; nothing was sent, so everything planned expires.
  clock.set(at("2026-12-20T20:00:00+07:00"));
  scheduler.run_once();
  EXPECT_EQ(campaigns::find_campaign(*db_, id)->state, campaigns::CampaignState::kCompleted);
  EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM outbox WHERE state = 'expired'").getInt(), 4);
}

// A sender nobody listed (a household the reply handler created, marked unknown) gets no bulk
// message, even from `audience = "*"`, until a list names its number.
TEST_F(SchedulerTest, UnknownSendersAreLeftOutUntilAListNamesThem) {
  db_->exec(
      "INSERT INTO households(name, phone_e164, phone_raw, language, language_source, unknown, "
      "source) VALUES ('', '+84987654321', '84987654321', 'vi', 'default', 1, 'reply')");
  const auto id = campaign(campaigns::Recurrence::kWeekly, "everyone", "*");
  const auto everyone = campaigns::find_campaign(*db_, id);
  ASSERT_TRUE(everyone);
  EXPECT_EQ(
      campaigns::count_audience(*db_, campaigns::campaign_audience(*db_, *everyone)).households,
      3u);
  ManualClock clock(at("2026-12-01T08:00:00+07:00"));
  Scheduler scheduler(path_, clock, [this](SQLite::Database& db, const campaigns::Campaign& c) {
    return planner_settings(config_, db, c);
  });
  EXPECT_EQ(scheduler.run_once(), 1);
  EXPECT_EQ(outbox(), 3);
  EXPECT_EQ(
      db_->execAndGet("SELECT COUNT(*) FROM outbox WHERE phone_e164 = '+84987654321'").getInt(), 0);

  // The operator imports a list with that number (no household code: matched by phone).
  const auto csv = dir_ / "them.csv";
  std::ofstream(csv) << "Họ và tên chủ hộ,Số điện thoại,Phân loại hộ,Xã/Phường/Thị trấn\n"
                        "Y Bhăm Niê,0987654321,Hộ nghèo,Xã Ea Tu\n";
  auto r = test::run_command("LOA_DAEMON_DATA_DIR=" + (dir_ / "data").string() + " " +
                             test::loa_binary().string() + " contacts import " + csv.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) || ':' || SUM(unknown) FROM households WHERE "
                            "phone_e164 = '+84987654321'")
                .getString(),
            "1:0");
  clock.set(at("2026-12-08T08:00:00+07:00"));
  EXPECT_EQ(scheduler.run_once(), 1);
  EXPECT_EQ(
      db_->execAndGet("SELECT COUNT(*) FROM outbox WHERE phone_e164 = '+84987654321'").getInt(), 1);
}

TEST_F(SchedulerTest, AOneOffCampaignCompletesOnceEveryMessageIsSent) {
  const auto id = campaign(campaigns::Recurrence::kNone);
  ManualClock clock(at("2026-12-01T08:00:00+07:00"));
  Scheduler scheduler(path_, clock, [this](SQLite::Database& db, const campaigns::Campaign& c) {
    return planner_settings(config_, db, c);
  });
  EXPECT_EQ(scheduler.run_once(), 1);
  EXPECT_EQ(outbox(), 2);
  // Planned messages wait to be sent: still running.
  EXPECT_EQ(campaigns::find_campaign(*db_, id)->state, campaigns::CampaignState::kRunning);
  db_->exec("UPDATE outbox SET state = 'sent' WHERE id = (SELECT MIN(id) FROM outbox)");
  clock.set(at("2026-12-01T09:00:00+07:00"));
  scheduler.run_once();
  EXPECT_EQ(campaigns::find_campaign(*db_, id)->state, campaigns::CampaignState::kRunning);
  db_->exec("UPDATE outbox SET state = 'failed' WHERE state = 'planned'");
  scheduler.run_once();
  EXPECT_EQ(campaigns::find_campaign(*db_, id)->state, campaigns::CampaignState::kCompleted);
  EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM outbox WHERE state = 'expired'").getInt(), 0);
}

// Receipts that never come: after routes.<route>.receipt_timeout_hours a `sent` message
// becomes `unknown`, a final state counted apart in the funnel and the statistics; a receipt
// that comes later still makes it `delivered`, and the counts follow.
TEST_F(SchedulerTest, AMessageWithNoReceiptBecomesUnknownAndALateReceiptStillCounts) {
  const auto id = campaign(campaigns::Recurrence::kNone);
  ManualClock clock(at("2026-12-01T08:00:00+07:00"));
  Scheduler scheduler(path_, clock, [this](SQLite::Database& db, const campaigns::Campaign& c) {
    return planner_settings(config_, db, c);
  });
  scheduler.set_receipt_timeouts({{"sms", std::chrono::hours(72)}});
  EXPECT_EQ(scheduler.run_once(), 1);
  ASSERT_EQ(outbox(), 2);
  // Both are sent at 08:00:05 (01:00:05Z); neither receipt comes.
  std::vector<long long> ids;
  {
    SQLite::Statement st(*db_, "SELECT id FROM outbox ORDER BY id");
    while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
  }
  auto apply = [this](campaigns::OutboxEvent::Kind kind, long long message, const char* when) {
    campaigns::OutboxEvent e;
    e.kind = kind;
    e.message_id = message;
    e.attempts = 1;
    e.at_ms = at(when).time_since_epoch().count() * 1000;
    db_->exec("BEGIN IMMEDIATE");
    campaigns::apply_outbox_events(*db_, {e});
    db_->exec("COMMIT");
  };
  for (long long m : ids)
    apply(campaigns::OutboxEvent::Kind::kSent, m, "2026-12-01T08:00:05+07:00");
  auto states = [this] {
    return db_
        ->execAndGet(
            "SELECT group_concat(state, ',') FROM (SELECT state FROM outbox "
            "ORDER BY id)")
        .getString();
  };
  auto summed = [this](const char* counter) {
    return db_
        ->execAndGet(std::string("SELECT COALESCE(SUM(") + counter + "), 0) FROM stats_summary")
        .getInt64();
  };

  clock.set(at("2026-12-04T08:00:04+07:00"));  // a second short of 72 h
  scheduler.run_once();
  EXPECT_EQ(states(), "sent,sent");
  EXPECT_EQ(summed("unknown"), 0);

  clock.set(at("2026-12-04T08:00:06+07:00"));
  scheduler.run_once();
  EXPECT_EQ(states(), "unknown,unknown");
  EXPECT_EQ(db_->execAndGet("SELECT last_error FROM outbox LIMIT 1").getString(),
            "no receipt within 72 h");
  EXPECT_EQ(summed("unknown"), 2);
  EXPECT_EQ(summed("sent"), 2);
  auto funnel = campaigns::campaign_funnel(*db_, id);
  EXPECT_EQ(funnel.unknown, 2);
  EXPECT_EQ(funnel.sent, 0);
  EXPECT_EQ(funnel.total(), 2);
  scheduler.run_once();  // once only
  EXPECT_EQ(summed("unknown"), 2);

  // The handset was off for three days; its receipt comes now.
  apply(campaigns::OutboxEvent::Kind::kDelivered, ids[0], "2026-12-04T09:30:00+07:00");
  EXPECT_EQ(states(), "delivered,unknown");
  EXPECT_EQ(summed("unknown"), 1);
  EXPECT_EQ(summed("delivered"), 1);
  EXPECT_EQ(summed("sent"), 2);  // sent once, counted once
  funnel = campaigns::campaign_funnel(*db_, id);
  EXPECT_EQ(funnel.unknown, 1);
  EXPECT_EQ(funnel.delivered, 1);
  // A route without a timeout (none given) leaves its messages alone.
  Scheduler untimed(path_, clock, [this](SQLite::Database& db, const campaigns::Campaign& c) {
    return planner_settings(config_, db, c);
  });
  db_->exec("UPDATE outbox SET state = 'sent' WHERE id = " + std::to_string(ids[1]));
  untimed.run_once();
  EXPECT_EQ(states(), "delivered,sent");
}

// The planner commits once its transaction has been open max_transaction, even with pages
// waiting and commit_rows far off, so the write lock that a pause, a cancel or the store
// writer waits for is held briefly whatever the machine's speed; without the bound the pages
// that wait share one transaction.
TEST_F(SchedulerTest, APlannerTransactionIsBoundedInTime) {
  EXPECT_EQ(commits_with(std::chrono::milliseconds(0), "bounded"), 3);
  EXPECT_EQ(commits_with(std::chrono::hours(1), "unbounded"), 1);
  EXPECT_EQ(outbox(), 4);
}

TEST_F(SchedulerTest, TheThreadRunsPassesUntilStopped) {
  campaign(campaigns::Recurrence::kNone);
  ManualClock clock(at("2026-12-01T09:00:00+07:00"));
  Scheduler scheduler(
      path_, clock,
      [this](SQLite::Database& db, const campaigns::Campaign& c) {
        return planner_settings(config_, db, c);
      },
      std::chrono::milliseconds(20));
  scheduler.start();
  test::wait_until([&] { return outbox() >= 2; });
  scheduler.stop();
  EXPECT_EQ(outbox(), 2);
}

}  // namespace
}  // namespace loa::engine
