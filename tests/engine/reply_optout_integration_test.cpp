// An opt-out by reply against a real redis-server and a real SQLite store (issue [7/10]): the
// results consumer stores a STOP, the reply rules cancel the household's queued bulk messages,
// and Redis learns it at once: the household joins the opt-out sets and its messages leave the
// route's lanes, so a pop never returns them; an answer waiting in the priority lane comes out
// first.
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <random>
#include <thread>

#include "campaigns/outbox_event.hpp"
#include "campaigns/reply_handler.hpp"
#include "engine/result_consumer.hpp"
#include "engine/route_queue.hpp"
#include "engine/store.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::wait_until;

TEST(ReplyOptOut, AStopRemovesTheHouseholdsQueuedMessagesFromRedisAtOnce) {
  test::PrivateRedis private_redis;  // the opt-out sets are global keys: not the shared server
  test::IoThreads io{2};
  test::TempDir dir;
  const auto path = dir / "loa.db";
  SQLite::Database db(open_store(path, StoreMode::kReadWrite));
  migrate(db);
  std::random_device rd;
  const std::string route = "optout" + std::to_string(rd() % 1000000000u);
  db.exec(
      "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) VALUES "
      "(7, 'c', 't', 'sms', '2026-12-01T08:00:00+07:00', '2026-12-31T20:00:00+07:00', 'running');"
      "INSERT INTO rounds(id, campaign_id, number, due_at) VALUES (1, 7, 1, '2026-12-01'), "
      "(2, 7, 2, '2026-12-02'), (3, 7, 3, '2026-12-03');"
      "INSERT INTO households(id, phone_e164) VALUES (11, '+84912345678'), (12, '+84987654321');");
  SQLite::Statement ins(db,
                        "INSERT INTO outbox(id, round_id, campaign_id, household_id, channel, "
                        "route, language, body, units, cost_vnd, priority, state, expires_at, "
                        "created_at, updated_at) VALUES (?, ? - 100, 7, ?, 'sms', ?, 'vi', 'x', 1, "
                        "800, 'bulk', 'queued', 'e', '2026-12-01T08:00:00+07:00', 'u')");
  std::vector<QueuedMessage> queued;
  for (auto [id, household] : {std::pair{101, 11}, {102, 11}, {103, 12}}) {
    ins.reset();
    ins.bind(1, id);
    ins.bind(2, id);
    ins.bind(3, household);
    ins.bind(4, route);
    ins.exec();
    QueuedMessage m;
    m.id = id;
    m.campaign_id = 7;
    m.household_id = household;
    m.channel = "sms";
    m.phone = "+849";
    m.body = "x";
    queued.push_back(m);
  }
  QueuedMessage answer;  // an answer to some household, waiting in the priority lane
  answer.id = 200;
  answer.campaign_id = 1;
  answer.household_id = 12;
  answer.priority = answer.reply = true;
  answer.channel = "sms";
  answer.body = "Dạ, tháng 12.";
  queued.push_back(answer);

  RedisClientOptions o;
  o.endpoint = private_redis.unix_endpoint();
  auto client = RedisClient::create(io.io(), o);
  client->start();
  auto queue = std::make_shared<RouteQueue>(client, route);
  auto [eec, added] = asio::co_spawn(io.io(), queue->enqueue(queued), asio::use_future).get();
  ASSERT_FALSE(eec);
  ASSERT_EQ(added.added, 4);
  ASSERT_FALSE(asio::co_spawn(io.io(), queue->set_rate(0, 1), asio::use_future).get());
  auto redis = [&](RedisCommand cmd) { return client->async_exec(std::move(cmd), asio::use_future).get(); };
  ASSERT_EQ(redis({"LLEN", queue->key("lane:7")}).integer, 3);

  StoreWriter writer(path, StoreConfig{});
  writer.start();
  ResultConsumer consumer(io.io(), o, {route}, writer);
  auto settings = std::make_shared<campaigns::ReplySettings>();
  consumer.set_reply_handler([settings](SQLite::Database& d) {
    return campaigns::handle_new_replies(d, *settings, *campaigns::parse_time("2026-12-01T09:00:00+07:00"));
  });
  consumer.start();

  campaigns::OutboxEvent stop;
  stop.kind = campaigns::OutboxEvent::Kind::kReply;
  stop.route = route;
  stop.phone = "84912345678";
  stop.text = "Stop";
  stop.provider_id = "mo-" + route;
  ASSERT_FALSE(asio::co_spawn(io.io(), queue->publish(campaigns::encode_events({stop})),
                              asio::use_future)
                   .get());

  ASSERT_TRUE(wait_until([&] { return redis({"LLEN", queue->key("lane:7")}).integer == 1; }));
  EXPECT_EQ(redis({"SISMEMBER", "loa:{optout}:sms", "11"}).integer, 1);
  EXPECT_EQ(redis({"SISMEMBER", "loa:{optout}:zalo", "11"}).integer, 1);
  EXPECT_EQ(redis({"HEXISTS", queue->key("msg"), "101"}).integer, 0);
  EXPECT_EQ(redis({"HEXISTS", queue->key("msg"), "102"}).integer, 0);
  EXPECT_EQ(redis({"HEXISTS", queue->key("msg"), "103"}).integer, 1);
  EXPECT_EQ(consumer.counters().replies_handled, 1u);
  consumer.stop();
  writer.stop();
  SQLite::Database check(path.string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(check.execAndGet("SELECT group_concat(id || ':' || state, ',') FROM (SELECT * FROM "
                             "outbox ORDER BY id)")
                .getString(),
            "101:cancelled,102:cancelled,103:queued");

  // What is left leaves in order: the answer first (priority lane), then the other household's.
  auto [pec, popped] =
      asio::co_spawn(io.io(), queue->pop(10, 30000ms, 1796083200, 0, {"7"}), asio::use_future)
          .get();
  ASSERT_FALSE(pec);
  std::vector<std::string> ids;
  for (const auto& [id, payload] : popped.items) ids.push_back(id);
  EXPECT_EQ(ids, (std::vector<std::string>{"200", "103"}));
  ASSERT_FALSE(popped.items.empty());
  auto decoded = QueuedMessage::decode(200, popped.items[0].second);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->reply);
  EXPECT_TRUE(decoded->priority);
  EXPECT_EQ(decoded->body, "Dạ, tháng 12.");
  client->close();
}

}  // namespace
}  // namespace loa::engine
