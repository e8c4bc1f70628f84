// The kannel adapter against a real Kannel (Debian's bearerbox and smsbox, fakesmsc as the SMS
// centre; tests/support/kannel_peer.hpp): loa sends through sendsms, Kannel's delivery reports
// come back on the dlr-url into the daemon's webhook, and a message typed into fakesmsc
// arrives as a reply through get-url, Vietnamese intact in both directions.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <set>
#include <thread>

#include "campaigns/outbox_event.hpp"
#include "engine/route_queue.hpp"
#include "tests/support/kannel_peer.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(KannelEndToEnd, SendsReceivesReportsAndHearsReplies) {
  test::TempDir dir;
  test::PrivateRedis redis;
  test::IoThreads io;
  auto client = test::connect_redis(io, redis.unix_endpoint());
  RouteQueue queue(client, "sms");
  const auto port = test::free_port();
  const std::string loa = "http://127.0.0.1:" + std::to_string(port);
  test::KannelPeer kannel(loa + "/webhooks/sms/reply?token=mo-t0ken&from=%p&to=%P&text=%b"
                                "&charset=%C&coding=%c&id=%I&ts=%T");

  test::write_file(dir / "loa.toml",
                   "[routes.sms]\ngateway = \"kannel\"\nrate_per_second = 0\n"
                   "[routes.sms.options]\nurl = \"" + kannel.sendsms_url() + "\"\n"
                   "username = \"" + std::string(test::KannelPeer::kUser) + "\"\n"
                   "password_env = \"LOA_TEST_KANNEL_PASSWORD\"\nfrom = \"8088\"\n"
                   "dlr_url = \"" + loa + "/webhooks/sms/receipt\"\n"
                   "dlr_token_env = \"LOA_TEST_KANNEL_DLR_TOKEN\"\n"
                   "mo_token_env = \"LOA_TEST_KANNEL_MO_TOKEN\"\n");
  std::map<std::string, std::string> env{{"LOA_REDIS_URL", redis.unix_url()},
                                         {"LOA_DAEMON_DATA_DIR", (dir / "d").string()},
                                         {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)},
                                         {"LOA_TEST_KANNEL_PASSWORD", test::KannelPeer::kPassword},
                                         {"LOA_TEST_KANNEL_DLR_TOKEN", "dlr-t0ken"},
                                         {"LOA_TEST_KANNEL_MO_TOKEN", "mo-t0ken"}};
  test::LoaProcess daemon({"serve", "--role", "dispatcher", "--config", (dir / "loa.toml").string()},
                          env, dir / "loa.log");
  ASSERT_TRUE(test::becomes_ready(port)) << daemon.log();

  // Twenty messages, Vietnamese with diacritics (so Kannel gets coding=2, charset=UTF-8).
  ASSERT_FALSE(asio::co_spawn(io.io(), queue.set_rate(0, 1), asio::use_future).get());
  std::vector<QueuedMessage> messages;
  for (int i = 0; i < 20; ++i) {
    QueuedMessage m;
    m.id = 5000 + i;
    m.campaign_id = 1;
    m.household_id = m.id;
    m.channel = "sms";
    m.phone = "+849012340" + std::to_string(10 + i);
    m.expires_at = 4102444800;
    m.body = "Hộ nghèo được hỗ trợ 100% BHYT. Đắk Lắk";
    messages.push_back(std::move(m));
  }
  auto [ec, added] = asio::co_spawn(io.io(), queue.enqueue(messages), asio::use_future).get();
  ASSERT_FALSE(ec);

  auto events = [&] {
    std::vector<campaigns::OutboxEvent> out;
    auto r = client->async_exec({"XRANGE", "loa:{sms}:results", "-", "+"}, asio::use_future).get();
    for (const auto& entry : r.elements)
      for (auto& e : campaigns::decode_events(entry.elements[1].elements[1].str))
        out.push_back(std::move(e));
    return out;
  };
  std::set<long long> delivered;
  test::wait_until([&] {
    delivered.clear();
    for (const auto& e : events())
      if (e.kind == campaigns::OutboxEvent::Kind::kDelivered) delivered.insert(e.message_id);
    return delivered.size() >= 20;
  });
  EXPECT_EQ(delivered.size(), 20u) << daemon.log() << kannel.logs();
  int sent = 0;
  for (const auto& e : events()) sent += e.kind == campaigns::OutboxEvent::Kind::kSent;
  EXPECT_EQ(sent, 20);
  const auto mts = kannel.received();
  ASSERT_EQ(mts.size(), 20u) << kannel.logs();
  // UCS-2 on the SMSC side: "8088 849012340xx ucs-2 <UTF-16BE, url-encoded>".
  EXPECT_EQ(mts[0].rfind("8088 84901234", 0), 0u) << mts[0];
  EXPECT_NE(mts[0].find(" ucs-2 "), std::string::npos) << mts[0];
  // "Hộ": H is %00H and ộ (U+1ED9) is %1E%D9 in URL-encoded UTF-16BE.
  EXPECT_NE(mts[0].find("%00H%1E%D9"), std::string::npos) << mts[0];

  // A household answers from its handset.
  const std::string question = "Xin chào, tôi muốn hỏi về chương trình giảm nghèo. Đắk Lắk";
  kannel.send_mo("84901234567", "8088", question);
  bool replied = false;
  test::wait_until([&] {
    for (const auto& e : events())
      if (e.kind == campaigns::OutboxEvent::Kind::kReply) {
        EXPECT_EQ(e.text, question);
        EXPECT_EQ(e.phone, "+84901234567");
        replied = true;
      }
    return replied;
  });
  EXPECT_TRUE(replied) << daemon.log() << kannel.logs();
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
  client->close();
}

}  // namespace
}  // namespace loa::engine
