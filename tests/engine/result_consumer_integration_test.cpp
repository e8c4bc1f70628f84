// The results streams against a real redis-server and a real SQLite store: entries become
// outbox changes, the streams empty, bad entries are skipped, pending entries survive a
// restart of the consumer, and a deleted stream or a restarted Redis is recovered from.
#include "engine/result_consumer.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <boost/asio/use_future.hpp>
#include <random>
#include <thread>

#include "campaigns/outbox_event.hpp"
#include "engine/store.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

namespace asio = boost::asio;
using campaigns::OutboxEvent;
using Kind = OutboxEvent::Kind;
using loa::test::IoThreads;
using loa::test::PrivateRedis;
using loa::test::TempDir;

std::string unique_route() {
  std::random_device rd;
  return "test" + std::to_string(rd() % 1000000000u);
}

RedisClientOptions options_for(RedisEndpoint endpoint) {
  RedisClientOptions o;
  o.endpoint = std::move(endpoint);
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(200);
  return o;
}

using test::wait_until;

OutboxEvent event(Kind kind, long long id, std::string reason = "") {
  OutboxEvent e;
  e.kind = kind;
  e.message_id = id;
  e.attempts = 1;
  e.at_ms = 1796083200000;
  e.provider_id = "gw-" + std::to_string(id);
  e.reason = std::move(reason);
  return e;
}

class ResultConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(open_store(path_, StoreMode::kReadWrite));
    migrate(*db_);
    db_->exec(
        "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) "
        "VALUES (1, 'c', 't', 'sms', '2026-12-01T08:00:00+07:00', '2026-12-31T20:00:00+07:00', "
        "'running');"
        "INSERT INTO rounds(id, campaign_id, number, due_at) VALUES (1, 1, 1, '2026-12-01');"
        "INSERT INTO households(id, phone_e164) VALUES (1, '+84912345678');");
    writer_.start();
  }
  void TearDown() override { writer_.stop(); }

  // n queued messages, ids first..first+n-1.
  void add_messages(long long first, int n) {
    SQLite::Statement hh(*db_, "INSERT OR IGNORE INTO households(id) VALUES (?)");
    SQLite::Statement st(
        *db_,
        "INSERT INTO outbox(id, round_id, campaign_id, household_id, channel, route, language, "
        "body, units, cost_vnd, state, expires_at, created_at, updated_at) VALUES (?, 1, 1, ?, "
        "'sms', 'sms', 'vi', 'x', 1, 800, 'queued', 'e', 'c', 'u')");
    db_->exec("BEGIN");
    for (long long id = first; id < first + n; ++id) {
      hh.reset();
      hh.bind(1, static_cast<std::int64_t>(id + 1000));
      hh.exec();
      st.reset();
      st.bind(1, static_cast<std::int64_t>(id));
      st.bind(2, static_cast<std::int64_t>(id + 1000));
      st.exec();
    }
    db_->exec("COMMIT");
  }
  long long count(const std::string& sql) { return db_->execAndGet(sql).getInt64(); }

  // A started consumer of `routes` on the shared Redis (or `endpoint`).
  std::unique_ptr<ResultConsumer> consumer_for(std::vector<std::string> routes,
                                               RedisEndpoint endpoint = test::shared_redis()) {
    auto c = std::make_unique<ResultConsumer>(io_.io(), options_for(std::move(endpoint)),
                                              std::move(routes), writer_);
    c->start();
    return c;
  }

  std::shared_ptr<RedisClient> connect(RedisEndpoint endpoint) {
    auto c = RedisClient::create(io_.io(), options_for(std::move(endpoint)));
    c->start();
    clients_.push_back(c);
    return c;
  }
  RedisReply exec(RedisClient& c, RedisCommand cmd) {
    auto f = c.async_exec(std::move(cmd), asio::use_future);
    return f.get();
  }
  void xadd(RedisClient& c, const std::string& route, const std::string& payload,
            const std::string& field = "e") {
    auto r = exec(c, {"XADD", ResultConsumer::stream_key(route), "*", field, payload});
    ASSERT_FALSE(r.is_error()) << r.str;
  }
  long long xlen(RedisClient& c, const std::string& route) {
    return exec(c, {"XLEN", ResultConsumer::stream_key(route)}).integer;
  }
  long long xpending(RedisClient& c, const std::string& route) {
    auto r = exec(c, {"XPENDING", ResultConsumer::stream_key(route), ResultConsumer::kGroup});
    return r.elements.empty() ? -1 : r.elements[0].integer;
  }

  IoThreads io_{2};
  TempDir dir_;
  std::filesystem::path path_ = dir_ / "loa.db";
  std::unique_ptr<SQLite::Database> db_;
  StoreWriter writer_{path_, StoreConfig{}};
  std::vector<std::shared_ptr<RedisClient>> clients_;

 public:
  ~ResultConsumerTest() override {
    for (auto& c : clients_) c->close();
  }
};

TEST_F(ResultConsumerTest, EntriesUpdateTheOutboxAndTheStreamEmpties) {
  const std::string route = unique_route();
  add_messages(1, 300);
  auto redis = connect(test::shared_redis());
  // Published before the consumer ever ran: the group starts at 0, so nothing is missed.
  xadd(*redis, route, campaigns::encode_events({event(Kind::kSent, 1), event(Kind::kSent, 2)}));

  auto consumer = consumer_for({route});
  for (long long id = 3; id <= 300; id += 3) {
    // A dispatcher's batches: sends, receipts, failures, and ids the store never had.
    xadd(*redis, route,
         campaigns::encode_events({event(Kind::kSent, id), event(Kind::kDelivered, id + 1),
                                   event(Kind::kFailed, id + 2, "http 400"),
                                   event(Kind::kSent, 100000 + id)}));
  }
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 101; }))
      << consumer->counters().entries;
  // 1, 2 and every 3k sent; 3k+1 delivered and 3k+2 failed up to 300.
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), 2 + 100);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'"), 99);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'failed'"), 99);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'queued'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE provider_id = 'gw-' || id"), 102 + 99);
  ASSERT_TRUE(wait_until([&] { return xlen(*redis, route) == 0; })) << xlen(*redis, route);
  EXPECT_EQ(xpending(*redis, route), 0);
  consumer->stop();
  const auto c = consumer->counters();
  EXPECT_EQ(c.entries, 101u);
  EXPECT_EQ(c.events, 2u + 400u);
  EXPECT_EQ(c.applied, 300u);
  EXPECT_EQ(c.ignored, 102u);  // 100 unknown ids, and 301 and 302 past the last row
  EXPECT_EQ(c.decode_errors, 0u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST_F(ResultConsumerTest, ABadEntryIsCountedAndAcknowledged) {
  const std::string route = unique_route();
  add_messages(1, 2);
  auto redis = connect(test::shared_redis());
  auto consumer = consumer_for({route});
  xadd(*redis, route, campaigns::encode_events({event(Kind::kSent, 1)}));
  xadd(*redis, route, "sent\t2\tnot-a-number\t0\t\t");  // garbled
  xadd(*redis, route, "whatever", "payload");           // no field e
  xadd(*redis, route, campaigns::encode_events({event(Kind::kDelivered, 2)}));
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 4; }));
  ASSERT_TRUE(wait_until([&] { return xlen(*redis, route) == 0; }));
  EXPECT_EQ(xpending(*redis, route), 0);
  const auto c = consumer->counters();
  EXPECT_EQ(c.decode_errors, 2u);
  EXPECT_EQ(c.applied, 2u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'"), 1);
}

TEST_F(ResultConsumerTest, EntriesLeftPendingByAPreviousRunAreAppliedOnStart) {
  const std::string route = unique_route();
  const std::string key = ResultConsumer::stream_key(route);
  add_messages(1, 200);
  auto redis = connect(test::shared_redis());
  ASSERT_FALSE(exec(*redis, {"XGROUP", "CREATE", key, "store", "0", "MKSTREAM"}).is_error());
  for (long long id = 1; id <= 200; ++id)
    xadd(*redis, route, campaigns::encode_events({event(Kind::kSent, id)}));
  // A previous run read them (into its pending list) and died before applying or acking.
  auto read =
      exec(*redis, {"XREADGROUP", "GROUP", "store", "store", "COUNT", "1000", "STREAMS", key, ">"});
  ASSERT_EQ(read.elements.size(), 1u);
  ASSERT_EQ(read.elements[0].elements[1].elements.size(), 200u);
  EXPECT_EQ(xpending(*redis, route), 200);
  // One of them was even deleted meanwhile: its id stays pending with no body.
  const std::string gone = read.elements[0].elements[1].elements[0].elements[0].str;
  exec(*redis, {"XDEL", key, gone});

  auto consumer = consumer_for({route});
  ASSERT_TRUE(wait_until([&] { return xpending(*redis, route) == 0; }));
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), 199);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE id = 1 AND state = 'queued'"), 1)
      << "the deleted entry's event was applied";
  EXPECT_EQ(xlen(*redis, route), 0);
  EXPECT_EQ(consumer->counters().entries, 200u);
  EXPECT_EQ(consumer->counters().events, 199u);
}

// Found by ops/faults/crash (a SIGKILL between the commit of a batch of results and its XACK):
// an entry is applied twice. Zalo's "unreachable" had moved the message to its SMS fallback;
// applied again, it moved the row once more, from SMS to nothing: the household's message
// failed without being sent. A settle that Redis applied but whose reply was lost, then
// retried, publishes the same entry twice too. A `failed` now changes only a row still on
// the route whose stream carried it.
TEST_F(ResultConsumerTest, AnUnreachableAppliedTwiceDoesNotFailTheFallback) {
  const std::string zalo = unique_route(), sms = unique_route();
  db_->exec("INSERT INTO households(id, phone_e164) VALUES (2, '+84912000002');"
            "INSERT INTO outbox(id, round_id, campaign_id, household_id, phone_e164, channel, "
            "fallback, route, language, body, units, cost_vnd, state, expires_at, created_at, "
            "updated_at) VALUES (7, 1, 1, 2, '+84912000002', 'zalo_zns', 'sms', '" + zalo + "', "
            "'vi', 'z', 1, 200, 'queued', 'e', 'c', 'u')");
  auto redis = connect(test::shared_redis());
  auto consumer = consumer_for({zalo, sms});
  const std::string unreachable =
      campaigns::encode_events({event(Kind::kFailed, 7, "unreachable: simulated: no Zalo account")});
  xadd(*redis, zalo, unreachable);
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 1; }));
  auto row = [&] {
    return db_->execAndGet("SELECT state || ' ' || channel || ' ' || fallback_from FROM outbox "
                           "WHERE id = 7").getString();
  };
  EXPECT_EQ(row(), "planned sms zalo_zns");
  // The enqueuer renders it for SMS, on its route, and queues it there.
  db_->exec("UPDATE outbox SET route = '" + sms + "', body = 'Xin chào', state = 'queued' "
            "WHERE id = 7");
  xadd(*redis, zalo, unreachable);  // the same entry again
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 2; }));
  ASSERT_TRUE(wait_until([&] { return xlen(*redis, zalo) == 0; }));
  EXPECT_EQ(row(), "queued sms zalo_zns") << "the SMS fallback was failed by Zalo's event";
  EXPECT_EQ(count("SELECT COALESCE(SUM(fallback), 0) FROM stats_summary"), 1);
  EXPECT_EQ(count("SELECT COALESCE(SUM(failed), 0) FROM stats_summary"), 0);
  // The SMS route's own outcome still applies.
  xadd(*redis, sms, campaigns::encode_events({event(Kind::kSent, 7)}));
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 3; }));
  EXPECT_EQ(row(), "sent sms zalo_zns");
}

TEST_F(ResultConsumerTest, ManyEntriesOnTwoRoutesStayBounded) {
  const std::string sms = unique_route();
  const std::string zalo = unique_route();
  add_messages(1, 20000);
  auto redis = connect(test::shared_redis());
  auto consumer = consumer_for({sms, zalo});
  std::size_t max_in_flight = 0;
  for (int entry = 0; entry < 1000; ++entry) {
    std::vector<OutboxEvent> batch;
    for (int i = 0; i < 20; ++i) batch.push_back(event(Kind::kSent, entry * 20 + i + 1));
    xadd(*redis, entry % 2 ? zalo : sms, campaigns::encode_events(batch));
    max_in_flight = std::max<std::size_t>(max_in_flight, consumer->counters().in_flight);
  }
  ASSERT_TRUE(wait_until([&] {
    max_in_flight = std::max<std::size_t>(max_in_flight, consumer->counters().in_flight);
    return consumer->counters().entries == 1000;
  })) << consumer->counters().entries;
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), 20000);
  EXPECT_EQ(consumer->counters().applied, 20000u);
  EXPECT_LE(max_in_flight, ResultConsumer::kMaxEntriesInFlight);
  ASSERT_TRUE(wait_until([&] { return xlen(*redis, sms) + xlen(*redis, zalo) == 0; }));
}

TEST_F(ResultConsumerTest, ADeletedStreamGetsItsGroupBack) {
  const std::string route = unique_route();
  add_messages(1, 2);
  auto redis = connect(test::shared_redis());
  auto consumer = consumer_for({route});
  xadd(*redis, route, campaigns::encode_events({event(Kind::kSent, 1)}));
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 1; }));
  // As FLUSHALL would: the stream and its group vanish; a dispatcher publishes again.
  exec(*redis, {"DEL", ResultConsumer::stream_key(route)});
  xadd(*redis, route, campaigns::encode_events({event(Kind::kSent, 2)}));
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 2; }))
      << "redis errors " << consumer->counters().redis_errors;
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), 2);
  EXPECT_GE(consumer->counters().redis_errors, 1u);  // the NOGROUP it recovered from
}

TEST_F(ResultConsumerTest, ARestartedRedisIsRecoveredFrom) {
  PrivateRedis private_redis;
  const std::string route = unique_route();
  add_messages(1, 2);
  auto consumer = consumer_for({route}, private_redis.unix_endpoint());
  const std::string key = ResultConsumer::stream_key(route);
  private_redis.command("XADD " + key + " * e " + "sent\t1\t1\t0\tp1\t");
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 1; }));
  private_redis.restart();  // no persistence: the stream and the group are gone
  // The scenario: the consumer meets the empty Redis (its group gone) before the next entry
  // comes; the wait below holds whichever comes first.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  private_redis.command("XADD " + key + " * e " + "sent\t2\t1\t0\tp2\t");
  ASSERT_TRUE(wait_until([&] { return consumer->counters().entries == 2; }))
      << "redis errors " << consumer->counters().redis_errors;
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), 2);
  consumer->stop();
}

TEST_F(ResultConsumerTest, StopWaitsForWritesInFlight) {
  const std::string route = unique_route();
  add_messages(1, 5000);
  auto redis = connect(test::shared_redis());
  for (int entry = 0; entry < 100; ++entry) {
    std::vector<OutboxEvent> batch;
    for (int i = 0; i < 50; ++i) batch.push_back(event(Kind::kSent, entry * 50 + i + 1));
    xadd(*redis, route, campaigns::encode_events(batch));
  }
  {
    auto consumer = consumer_for({route});
    ASSERT_TRUE(wait_until([&] { return consumer->counters().entries > 0; }));
    consumer->stop();
    const auto c = consumer->counters();
    EXPECT_EQ(c.in_flight, 0u);
    // Whatever it applied, it acknowledged; the rest waits in the stream.
    EXPECT_EQ(static_cast<long long>(c.entries) + xlen(*redis, route), 100);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
              static_cast<long long>(c.events));
  }
  // A new consumer finishes the job.
  auto again = consumer_for({route});
  ASSERT_TRUE(wait_until([&] { return xlen(*redis, route) == 0; }));
  ASSERT_TRUE(wait_until(
      [&] { return count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == 5000; }));
}

}  // namespace
}  // namespace loa::engine
