// The enqueuer against a real SQLite store and a private redis-server: planned messages of
// running campaigns reach their route's queue and become queued, exactly once; a pause, a
// resume and a cancel reach the queues; opt-outs are mirrored; and when Redis loses its data,
// the queued messages are replayed from the outbox.
#include "engine/enqueuer.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include "engine/dispatcher.hpp"
#include "engine/store.hpp"
#include "tests/support/redis_fixture.hpp"

namespace loa::engine {
namespace {

class EnqueuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(open_store(path_, StoreMode::kReadWrite));
    migrate(*db_);
    db_->exec(
        "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state, "
        "quiet_hours, frequency_cap, frequency_window_days) VALUES "
        "(1, 'a', 't', 'sms', '2026-12-01T08:00:00+07:00', '2027-06-30T20:00:00+07:00', "
        "'running', '21:00-07:00', 2, 30),"
        "(2, 'b', 't', 'sms', '2026-12-01T08:00:00+07:00', '2027-06-30T20:00:00+07:00', "
        "'scheduled', '00:00-00:00', 0, 7);"
        "INSERT INTO rounds(id, campaign_id, number, due_at) VALUES (1, 1, 1, '2026-12-01'),"
        "(2, 2, 1, '2026-12-01');");
    writer_.start();
    redis_ = test::connect_redis(io_, private_redis_.unix_endpoint());
    EnqueuerSettings s;
    s.page_rows = 7;  // several pages per pass
    enqueuer_ = std::make_unique<Enqueuer>(io_.io(), redis_, path_, writer_,
                                           std::vector<std::string>{"sms", "zalo_zns"}, s);
  }
  void TearDown() override {
    enqueuer_.reset();
    writer_.stop();
    redis_->close();
  }

  void add_messages(long long campaign, long long first, int n, const char* route = "sms") {
    SQLite::Statement hh(*db_, "INSERT OR IGNORE INTO households(id) VALUES (?)");
    SQLite::Statement st(
        *db_,
        "INSERT INTO outbox(id, round_id, campaign_id, household_id, phone_e164, channel, route, "
        "language, body, units, cost_vnd, state, expires_at, created_at, updated_at) VALUES "
        "(?1, ?2, ?2, ?1, '+849' || (10000000 + ?1), ?3, ?3, 'vi', 'Thông báo hỗ trợ', 2, 1600, "
        "'planned', "
        "'2027-06-30T20:00:00+07:00', 'c', 'u')");
    for (long long id = first; id < first + n; ++id) {
      hh.reset();
      hh.bind(1, static_cast<std::int64_t>(id));
      hh.exec();
      st.reset();
      st.bind(1, static_cast<std::int64_t>(id));
      st.bind(2, static_cast<std::int64_t>(campaign));
      st.bind(3, route);
      st.exec();
    }
  }
  long long count(const std::string& sql) { return db_->execAndGet(sql).getInt64(); }
  std::string redis(const std::string& cmd) { return private_redis_.command(cmd); }

  test::TempDir dir_;
  std::filesystem::path path_ = dir_ / "loa.db";
  std::unique_ptr<SQLite::Database> db_;
  StoreWriter writer_{path_, StoreConfig{}};
  test::PrivateRedis private_redis_;
  test::IoThreads io_;
  std::shared_ptr<RedisClient> redis_;
  std::unique_ptr<Enqueuer> enqueuer_;
};

TEST_F(EnqueuerTest, PlannedMessagesOfRunningCampaignsAreQueuedOnce) {
  add_messages(1, 1, 20);
  add_messages(1, 21, 5, "zalo_zns");
  add_messages(2, 100, 4);  // campaign 2 is not running yet
  EXPECT_EQ(enqueuer_->run_once(), 25);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'queued'"), 25);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'planned'"), 4);
  EXPECT_EQ(redis("LLEN loa:{sms}:lane:1"), "20");
  EXPECT_EQ(redis("LLEN loa:{zalo_zns}:lane:1"), "5");
  // The payload carries what the dispatcher checks: cost, campaign, household, validity,
  // quiet hours and the frequency cap.
  auto m = QueuedMessage::decode(3, redis("HGET loa:{sms}:msg 3"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->units, 2);
  EXPECT_EQ(m->campaign_id, 1);
  EXPECT_EQ(m->household_id, 3);
  EXPECT_EQ(m->quiet_hours, "21:00-07:00");
  EXPECT_EQ(m->frequency_cap, 2);
  EXPECT_EQ(m->frequency_window_days, 30);
  EXPECT_EQ(m->expires_at, 1814360400);  // 2027-06-30T20:00:00+07:00
  EXPECT_EQ(m->body, "Thông báo hỗ trợ");
  // Nothing more to do; and more planned rows later are picked up.
  EXPECT_EQ(enqueuer_->run_once(), 0);
  add_messages(1, 200, 3);
  EXPECT_EQ(enqueuer_->run_once(), 3);
  EXPECT_EQ(redis("LLEN loa:{sms}:lane:1"), "23");
  EXPECT_EQ(enqueuer_->stats().skipped, 0);
}

TEST_F(EnqueuerTest, CampaignStatesReachTheQueues) {
  add_messages(1, 1, 10);
  enqueuer_->run_once();
  db_->exec("UPDATE campaigns SET state = 'paused' WHERE id = 1");
  enqueuer_->run_once();
  EXPECT_EQ(redis("SISMEMBER loa:{sms}:paused 1"), "1");
  EXPECT_EQ(redis("ZSCORE loa:{sms}:lanes 1"), "");
  db_->exec("UPDATE campaigns SET state = 'running' WHERE id = 1");
  enqueuer_->run_once();
  EXPECT_EQ(redis("SISMEMBER loa:{sms}:paused 1"), "0");
  EXPECT_EQ(redis("ZSCORE loa:{sms}:lanes 1"), "0");
  db_->exec("UPDATE campaigns SET state = 'cancelled' WHERE id = 1");
  enqueuer_->run_once();
  EXPECT_EQ(redis("SISMEMBER loa:{sms}:cancelled 1"), "1");
  EXPECT_EQ(redis("LLEN loa:{sms}:lane:1"), "0");
  EXPECT_EQ(redis("HLEN loa:{sms}:msg"), "0");
}

TEST_F(EnqueuerTest, OptOutsAreMirroredForTheDispatchers) {
  add_messages(1, 1, 3);
  db_->exec("UPDATE households SET opt_out_sms = 1 WHERE id = 2");
  db_->exec("UPDATE households SET opt_out_zalo = 1 WHERE id = 3");
  enqueuer_->run_once();
  EXPECT_EQ(redis("SISMEMBER " + Dispatcher::optout_key("sms") + " 2"), "1");
  EXPECT_EQ(redis("SCARD " + Dispatcher::optout_key("sms")), "1");
  EXPECT_EQ(redis("SISMEMBER " + Dispatcher::optout_key("zalo") + " 3"), "1");
  EXPECT_EQ(redis("SCARD " + Dispatcher::optout_key("zalo")), "1");
  // An opt-in (DK) takes the household out again at the next sync.
  db_->exec("UPDATE households SET opt_out_sms = 0 WHERE id = 2");
  EnqueuerSettings s;
  s.optout_every = std::chrono::milliseconds(0);
  Enqueuer again(io_.io(), redis_, path_, writer_, {"sms"}, s);
  again.run_once();  // a fresh process rebuilds the sets: the opt-in made meanwhile counts
  EXPECT_EQ(redis("SCARD " + Dispatcher::optout_key("sms")), "0");
  EXPECT_EQ(redis("SCARD " + Dispatcher::optout_key("zalo")), "1");
  // A running one mirrors changes as they come.
  db_->exec("UPDATE households SET opt_out_sms = 1 WHERE id IN (1, 2)");
  again.run_once();
  EXPECT_EQ(redis("SCARD " + Dispatcher::optout_key("sms")), "2");
  db_->exec("UPDATE households SET opt_out_sms = 0 WHERE id = 1");
  again.run_once();
  EXPECT_EQ(redis("SISMEMBER " + Dispatcher::optout_key("sms") + " 1"), "0");
  EXPECT_EQ(redis("SISMEMBER " + Dispatcher::optout_key("sms") + " 2"), "1");
}

TEST_F(EnqueuerTest, AFlushedRedisIsRefilledFromTheOutbox) {
  add_messages(1, 1, 30);
  enqueuer_->run_once();
  // Two were sent meanwhile; the rest are queued.
  db_->exec("UPDATE outbox SET state = 'sent' WHERE id IN (1, 2)");
  EXPECT_EQ(redis("FLUSHALL"), "OK");
  EXPECT_EQ(enqueuer_->run_once(), 0);  // nothing planned; the replay is counted apart
  EXPECT_EQ(enqueuer_->stats().reconciled, 28);
  EXPECT_EQ(redis("LLEN loa:{sms}:lane:1"), "28");
  EXPECT_EQ(redis("HEXISTS loa:{sms}:msg 1"), "0");
  EXPECT_NE(redis("GET " + Enqueuer::epoch_key("sms")), "");
  // Once the epoch is back, a pass replays nothing.
  enqueuer_->run_once();
  EXPECT_EQ(enqueuer_->stats().reconciled, 28);
}

}  // namespace
}  // namespace loa::engine
