// The enqueuer against a real SQLite store and a private redis-server: planned messages of
// running campaigns reach their route's queue and become queued, exactly once; a pause, a
// resume and a cancel reach the queues; opt-outs are mirrored; and when Redis loses its data,
// the queued messages are replayed from the outbox.
#include "engine/enqueuer.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "campaigns/funnel.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/dispatcher.hpp"
#include "engine/store.hpp"
#include "engine/template_settings.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

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
                                           std::vector<std::string>{"sms", "zalo_zns"},
                                           settings_for(), s);
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
  // Campaign 3, running, Zalo ZNS first and SMS as its fallback, with the example templates
  // loaded (so that a fallback can be rendered).
  void add_zalo_campaign() {
    auto loaded = test::run_command("LOA_LOG_LEVEL=warn LOA_DAEMON_DATA_DIR=" + dir_.path().string() + " " +
                                    test::loa_binary().string() + " templates load " +
                                    (test::source_dir() / "ops/examples/templates.toml").string());
    ASSERT_EQ(loaded.exit_code, 0) << loaded.output;
    db_->exec(
        "INSERT INTO campaigns(id, name, template_key, audience, channels, start_at, end_at, state, "
        "variables) VALUES (3, 'bhyt', 'ho_tro_bhyt', '*', 'zalo_zns,sms', '2026-12-01T08:00:00+07:00', "
        "'2027-06-30T20:00:00+07:00', 'running', 'hotline=0262 3852 xxx' || char(10) || "
        "'reply_number=8xxx' || char(10) || 'sender=SO LDTBXH DAK LAK');"
        "INSERT INTO rounds(id, campaign_id, number, due_at) VALUES (3, 3, 1, '2026-12-01');");
  }
  static Enqueuer::SettingsFor settings_for() {
    return [](SQLite::Database& db, const campaigns::Campaign& c) {
      return planner_settings(Config{}, db, c);
    };
  }
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
  Enqueuer again(io_.io(), redis_, path_, writer_, {"sms"}, settings_for(), s);
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

// Zalo first, SMS as the fallback: a household Zalo reports unreachable gets the SMS, once,
// in the same outbox row (so never both); a permanent failure does not fall back.
TEST_F(EnqueuerTest, AnUnreachableHouseholdFallsBackToSmsOnce) {
  ASSERT_NO_FATAL_FAILURE(add_zalo_campaign());
  db_->exec(
      "INSERT INTO households(id, name, phone_e164, language, category, commune, has_zalo) VALUES "
      "(500, 'Y Nuê Êban', '+84912000500', 'rad', 'poor', 'Ea Tu', 1),"
      "(501, 'H Lan Niê', '+84912000501', 'vi', 'poor', 'Ea Tu', 1);");
  for (long long id : {500, 501})
    db_->exec("INSERT INTO outbox(id, round_id, campaign_id, household_id, phone_e164, channel, "
              "fallback, route, language, body, units, cost_vnd, state, expires_at, created_at, "
              "updated_at) VALUES (" + std::to_string(id) + ", 3, 3, " + std::to_string(id) +
              ", '+84912000" + std::to_string(id) + "', 'zalo_zns', 'sms', 'zalo_zns', 'vi', "
              "'{\"template_id\":\"CHO_DUYET_1\"}', 1, 200, 'queued', "
              "'2027-06-30T20:00:00+07:00', 'c', 'u')");
  auto failed = [](long long id, std::string reason) {
    campaigns::OutboxEvent e;
    e.kind = campaigns::OutboxEvent::Kind::kFailed;
    e.message_id = id;
    e.attempts = 1;
    e.reason = std::move(reason);
    return e;
  };
  campaigns::apply_outbox_events(*db_, {failed(500, "unreachable: simulated: no Zalo account"),
                                        failed(501, "simulated: invalid number")});
  auto row = [this](long long id, const char* column) {
    return db_->execAndGet("SELECT " + std::string(column) + " FROM outbox WHERE id = " +
                           std::to_string(id)).getString();
  };
  EXPECT_EQ(row(500, "state"), "planned");
  EXPECT_EQ(row(500, "channel"), "sms");
  EXPECT_EQ(row(500, "route"), "sms");
  EXPECT_EQ(row(500, "fallback_from"), "zalo_zns");
  EXPECT_EQ(row(500, "body"), "");
  EXPECT_EQ(row(501, "state"), "failed");  // permanent: no fallback
  EXPECT_EQ(row(501, "channel"), "zalo_zns");

  EXPECT_EQ(enqueuer_->run_once(), 1);
  EXPECT_EQ(enqueuer_->stats().fallbacks, 1);
  EXPECT_EQ(row(500, "state"), "queued");
  EXPECT_NE(row(500, "body").find("BHYT"), std::string::npos) << row(500, "body");
  EXPECT_EQ(row(500, "language"), "vi");  // rad falls back to Vietnamese until translated
  EXPECT_EQ(redis("LLEN loa:{sms}:lane:3"), "1");
  auto m = QueuedMessage::decode(500, redis("HGET loa:{sms}:msg 500"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->channel, "sms");
  EXPECT_EQ(m->phone, "+84912000500");

  // SMS has no further fallback: another unreachable fails it for good.
  campaigns::apply_outbox_events(*db_, {failed(500, "unreachable: no route")});
  EXPECT_EQ(row(500, "state"), "failed");
  EXPECT_EQ(row(500, "fallback_from"), "zalo_zns");
  const auto funnel = campaigns::campaign_funnel(*db_, 3);
  ASSERT_EQ(funnel.fallbacks.size(), 1u);
  EXPECT_EQ(funnel.fallbacks[0].first, "zalo_zns");
  EXPECT_EQ(funnel.fallbacks[0].second, 1);
}

// Found by ops/faults/crash: a message that falls back (Zalo unreachable) while the page around
// it is being enqueued was marked queued by the page's range UPDATE without ever being
// rendered or enqueued, and so was never sent. The store writer here applies the fallback
// after the page reached Redis and before its mark commits, as the results consumer can.
TEST_F(EnqueuerTest, AFallbackDuringAPageIsNotMarkedQueuedUnsent) {
  ASSERT_NO_FATAL_FAILURE(add_zalo_campaign());
  for (long long id : {500, 501, 502}) {
    const std::string n = std::to_string(id);
    db_->exec("INSERT INTO households(id, name, phone_e164, language, category, commune, has_zalo) "
              "VALUES (" + n + ", 'H Lan Niê', '+84912000" + n + "', 'vi', 'poor', 'Ea Tu', 1)");
    db_->exec("INSERT INTO outbox(id, round_id, campaign_id, household_id, phone_e164, channel, "
              "fallback, route, language, body, units, cost_vnd, state, expires_at, created_at, "
              "updated_at) VALUES (" + n + ", 3, 3, " + n + ", '+84912000" + n + "', 'zalo_zns', "
              "'sms', 'zalo_zns', 'vi', '{\"template_id\":\"CHO_DUYET_1\"}', 1, 200, '" +
              (id == 501 ? "queued" : "planned") + "', '2027-06-30T20:00:00+07:00', 'c', 'u')");
  }
  // Holds the store writer until the page (500 and 502) is in Redis, then applies Zalo's
  // "unreachable" for 501, which lies in the page's id range; the page's mark comes next.
  writer_.submit(StoreWrite{[this](SQLite::Database& db) {
                              test::wait_until(
                                  [&] { return redis("HEXISTS loa:{zalo_zns}:msg 502") == "1"; });
                              campaigns::OutboxEvent e;
                              e.kind = campaigns::OutboxEvent::Kind::kFailed;
                              e.message_id = 501;
                              e.attempts = 1;
                              e.reason = "unreachable: simulated: no Zalo account";
                              campaigns::apply_outbox_events(db, {e});
                            },
                            {}});
  EXPECT_EQ(enqueuer_->run_once(), 2);
  auto state = [this](long long id) {
    return db_->execAndGet("SELECT state || ' ' || route || ' ' || (body <> '') FROM outbox WHERE id = " +
                           std::to_string(id)).getString();
  };
  EXPECT_EQ(state(500), "queued zalo_zns 1");
  EXPECT_EQ(state(502), "queued zalo_zns 1");
  EXPECT_EQ(state(501), "planned sms 0") << "marked queued without being enqueued";
  // The next pass renders it for SMS and sends it on.
  EXPECT_EQ(enqueuer_->run_once(), 1);
  EXPECT_EQ(state(501), "queued sms 1");
  EXPECT_EQ(redis("HEXISTS loa:{sms}:msg 501"), "1");
}

// Found by ops/faults/crash --seed 315512: a planner killed before its page's `queued` marks
// committed replays the page after the restart, before the results consumer has applied what
// the dispatchers settled meanwhile. A message Zalo refused as unreachable (no dedupe mark:
// the gateway took nothing) went to Zalo again, was accepted there the second time, and was
// also sent on SMS when its fallback was applied: the household got both.
TEST_F(EnqueuerTest, AReplayedPageDoesNotResendWhatZaloRefusedBeforeTheKill) {
  ASSERT_NO_FATAL_FAILURE(add_zalo_campaign());
  db_->exec(
      "INSERT INTO households(id, name, phone_e164, language, category, commune, has_zalo) VALUES "
      "(600, 'H Lan Niê', '+84912000600', 'vi', 'poor', 'Ea Tu', 1);"
      "INSERT INTO outbox(id, round_id, campaign_id, household_id, phone_e164, channel, "
      "fallback, route, language, body, units, cost_vnd, state, expires_at, created_at, "
      "updated_at) VALUES (600, 3, 3, 600, '+84912000600', 'zalo_zns', 'sms', 'zalo_zns', 'vi', "
      "'{\"template_id\":\"CHO_DUYET_1\"}', 1, 200, 'planned', '2027-06-30T20:00:00+07:00', "
      "'c', 'u')");
  auto run = [this](auto op) {
    return boost::asio::co_spawn(io_.io(), std::move(op), boost::asio::use_future).get();
  };
  // The killed process: 600 was enqueued (its mark never committed), Zalo refused it, and the
  // batch was settled: the outcome waits in Zalo's results stream, not yet in the outbox.
  campaigns::OutboxEvent refused;
  refused.kind = campaigns::OutboxEvent::Kind::kFailed;
  refused.message_id = 600;
  refused.attempts = 1;
  refused.reason = "unreachable: simulated: no Zalo account";
  {
    RouteQueue zalo(redis_, "zalo_zns");
    ASSERT_FALSE(run(zalo.set_rate(0, 1)));
    QueuedMessage m;
    m.id = 600;
    m.campaign_id = 3;
    m.household_id = 600;
    m.channel = "zalo_zns";
    m.phone = "+84912000600";
    m.body = "{}";
    auto [ec, n] = run(zalo.enqueue({m}));
    ASSERT_FALSE(ec);
    ASSERT_EQ(n.added, 1);
    auto [pec, pop] = run(zalo.pop(10, std::chrono::milliseconds(30000), 0, 0, {"3"}));
    ASSERT_FALSE(pec);
    ASSERT_EQ(pop.items.size(), 1u);
    SettleOp op;
    op.kind = SettleOp::Kind::kFinal;
    op.id = "600";
    ASSERT_FALSE(run(zalo.settle(campaigns::encode_events({refused}), {op},
                                 std::chrono::seconds(3600))));
  }
  // The restarted enqueuer replays the page: the outbox still says planned, on Zalo.
  enqueuer_->run_once();
  EXPECT_EQ(redis("HEXISTS loa:{zalo_zns}:msg 600"), "0") << "sent to Zalo a second time";
  EXPECT_EQ(redis("LLEN loa:{zalo_zns}:lane:3"), "0");
  // The results consumer applies the refusal: 600 falls back to SMS and goes there, once.
  refused.route = "zalo_zns";
  std::promise<bool> applied;
  writer_.submit(StoreWrite{
      [refused](SQLite::Database& db) { campaigns::apply_outbox_events(db, {refused}); },
      [&applied](bool ok, const std::string&) { applied.set_value(ok); }});
  ASSERT_TRUE(applied.get_future().get());
  enqueuer_->run_once();
  EXPECT_EQ(db_->execAndGet("SELECT state || ' ' || route FROM outbox WHERE id = 600").getString(),
            "queued sms");
  EXPECT_EQ(redis("HEXISTS loa:{sms}:msg 600"), "1");
  EXPECT_EQ(redis("HEXISTS loa:{zalo_zns}:msg 600"), "0");
}

}  // namespace
}  // namespace loa::engine
