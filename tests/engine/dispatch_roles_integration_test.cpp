// Dispatchers as separate `loa serve --role dispatcher` processes sharing one real Redis:
// a dispatcher killed mid-send leaves leases that the survivor sends, once; and two
// dispatchers share one rate limit.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "campaigns/outbox_event.hpp"
#include "engine/gateways.hpp"
#include "engine/route_queue.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/mock_gateway.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::LoaProcess;

class DispatchRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = test::connect_redis(io_, redis_.unix_endpoint());
    queue_ = std::make_unique<RouteQueue>(client_, "sms");
  }
  void TearDown() override { client_->close(); }

  // A dispatcher process on the test's Redis; `extra` overrides configuration keys.
  std::unique_ptr<LoaProcess> dispatcher(const std::string& name, std::uint16_t port,
                                         std::map<std::string, std::string> extra) {
    std::map<std::string, std::string> env{
        {"LOA_REDIS_URL", redis_.unix_url()},
        {"LOA_DAEMON_DATA_DIR", (dir_ / name).string()},
        {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)},
        {"LOA_DAEMON_THREADS", "2"},
        {"LOA_DISPATCHER_SIMULATOR_LEDGER", "redis"},
        {"LOA_ROUTES_SMS_SIMULATOR_TRANSIENT_FAILURE_RATE", "0"},
        {"LOA_ROUTES_SMS_SIMULATOR_PERMANENT_FAILURE_RATE", "0"},
        {"LOA_ROUTES_SMS_SIMULATOR_REPLY_RATE", "0"},
        {"LOA_ROUTES_SMS_SIMULATOR_RECEIPT_DELAY_MS", "100"}};
    for (auto& [k, v] : extra) env[k] = v;
    return std::make_unique<LoaProcess>(std::vector<std::string>{"serve", "--role", "dispatcher"},
                                        env, dir_ / (name + ".log"));
  }

  void enqueue(int count, long long first_id) {
    std::vector<QueuedMessage> ms;
    for (int i = 0; i < count; ++i) {
      QueuedMessage m;
      m.id = first_id + i;
      m.campaign_id = 1;
      m.household_id = m.id;
      m.channel = "sms";
      m.phone = "+8491234" + std::to_string(1000 + i % 9000);
      m.expires_at = 4102444800;
      m.body = "Thông báo hỗ trợ BHYT";
      ms.push_back(std::move(m));
    }
    auto [ec, n] = asio::co_spawn(io_.io(), queue_->enqueue(ms), asio::use_future).get();
    ASSERT_FALSE(ec);
    ASSERT_EQ(n.added, count);
  }

  long long integer(const std::string& cmd) { return std::stoll(redis_.command(cmd)); }

  std::vector<campaigns::OutboxEvent> results() {
    std::vector<campaigns::OutboxEvent> out;
    auto r = client_->async_exec({"XRANGE", queue_->key("results"), "-", "+"}, asio::use_future)
                 .get();
    for (const auto& entry : r.elements)
      for (auto& e : campaigns::decode_events(entry.elements[1].elements[1].str))
        out.push_back(std::move(e));
    return out;
  }

  test::TempDir dir_;
  test::PrivateRedis redis_;
  test::IoThreads io_;
  std::shared_ptr<RedisClient> client_;
  std::unique_ptr<RouteQueue> queue_;
};

TEST_F(DispatchRolesTest, AKilledDispatchersLeasesAreSentOnceByTheSurvivor) {
  ASSERT_FALSE(asio::co_spawn(io_.io(), queue_->set_rate(0, 1), asio::use_future).get());
  enqueue(200, 1000);
  const auto port_a = test::free_port();
  // A holds every message in a 5-second send when it is killed.
  auto a = dispatcher("a", port_a,
                      {{"LOA_DISPATCHER_LEASE_MS", "2000"},
                       {"LOA_ROUTES_SMS_RATE_PER_SECOND", "0"},
                       {"LOA_ROUTES_SMS_SIMULATOR_LATENCY_MS", "5000"}});
  ASSERT_TRUE(test::wait_until([&] { return integer("ZCARD loa:{sms}:lease") == 200; }, 30s))
      << a->log();
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait(), 128 + SIGKILL);
  EXPECT_EQ(integer("HLEN " + RedisLedger::key("sms")), 0);  // the gateway saw nothing

  const auto port_b = test::free_port();
  auto b = dispatcher("b", port_b,
                      {{"LOA_DISPATCHER_LEASE_MS", "2000"},
                       {"LOA_ROUTES_SMS_RATE_PER_SECOND", "0"},
                       {"LOA_ROUTES_SMS_SIMULATOR_LATENCY_MS", "10"}});
  ASSERT_TRUE(test::wait_until([&] { return integer("HLEN loa:{sms}:msg") == 0; }, 30s))
      << b->log();
  EXPECT_EQ(integer("HLEN " + RedisLedger::key("sms")), 200);
  for (int id = 1000; id < 1200; ++id)
    ASSERT_EQ(redis_.command("HGET " + RedisLedger::key("sms") + " " + std::to_string(id)), "1")
        << "message " << id << " reached the gateway more than once";
  int sent = 0;
  for (const auto& e : results()) sent += e.kind == campaigns::OutboxEvent::Kind::kSent;
  EXPECT_EQ(sent, 200);
  b->signal(SIGTERM);
  EXPECT_EQ(b->wait(), 0) << b->log();
}

// Generous bounds: exact accuracy is the benchmark's business (ops/bench).
TEST_F(DispatchRolesTest, TwoDispatchersShareOneLimit) {
  ASSERT_FALSE(asio::co_spawn(io_.io(), queue_->set_rate(50, 1), asio::use_future).get());
  enqueue(2000, 5000);
  std::map<std::string, std::string> limited{{"LOA_ROUTES_SMS_RATE_PER_SECOND", "50"},
                                             {"LOA_ROUTES_SMS_SIMULATOR_LATENCY_MS", "5"}};
  auto a = dispatcher("a", test::free_port(), limited);
  auto b = dispatcher("b", test::free_port(), limited);
  std::this_thread::sleep_for(10s);  // the scenario: the window whose sends are counted
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  EXPECT_EQ(a->wait(), 0) << a->log();
  EXPECT_EQ(b->wait(), 0) << b->log();
  std::vector<long long> at;
  for (const auto& e : results())
    if (e.kind == campaigns::OutboxEvent::Kind::kSent) at.push_back(e.at_ms);
  ASSERT_GT(at.size(), 100u);
  std::sort(at.begin(), at.end());
  const double seconds = static_cast<double>(at.back() - at.front()) / 1000.0;
  const double rate = static_cast<double>(at.size() - 1) / seconds;
  EXPECT_NEAR(rate, 50.0, 5.0) << at.size() << " sends in " << seconds << " s";
  // Both processes sent: the log of each names what it sent at shutdown.
  EXPECT_EQ(a->log().find("dispatcher sms: 0 sent"), std::string::npos) << a->log();
  EXPECT_EQ(b->log().find("dispatcher sms: 0 sent"), std::string::npos) << b->log();
}

// A route configured with a real adapter type: the `http` gateway, its settings in
// [routes.sms.options], sends our queued messages to a (mock) SMS gateway over loopback.
TEST_F(DispatchRolesTest, ARouteSendsThroughTheHttpAdapterItsOptionsName) {
  test::MockGateway gateway([](const test::MockRequest& r) {
    test::MockResponse answer;
    answer.headers = {{"Content-Type", "application/json"}};
    const bool bad = r.body.find("+84912341099") != std::string::npos;
    answer.body = bad ? R"({"code":"17","id":""})" : R"({"code":"0","id":"gw-1"})";
    return answer;
  });
  test::write_file(dir_ / "loa.toml",
                   "[routes.sms]\ngateway = \"http\"\nrate_per_second = 0\n"
                   "[routes.sms.options]\nurl = \"" + gateway.url("/api/send") + "\"\n"
                   "body = '{\"to\":\"{{phone}}\",\"ref\":\"{{id}}\",\"text\":\"{{text}}\"}'\n"
                   "success_json = \"/code\"\nsuccess_value = \"0\"\n"
                   "message_id_json = \"/id\"\nerror_json = \"/code\"\n"
                   "\"error.17\" = \"permanent\"\n");
  ASSERT_FALSE(asio::co_spawn(io_.io(), queue_->set_rate(0, 1), asio::use_future).get());
  enqueue(100, 1000);  // phones +8491234<1000+i>: the one ending 1099 is refused
  const auto port = test::free_port();
  std::map<std::string, std::string> env{{"LOA_REDIS_URL", redis_.unix_url()},
                                         {"LOA_DAEMON_DATA_DIR", (dir_ / "d").string()},
                                         {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)}};
  LoaProcess d({"serve", "--role", "dispatcher", "--config", (dir_ / "loa.toml").string()}, env,
               dir_ / "d.log");
  ASSERT_TRUE(test::wait_until([&] { return integer("HLEN loa:{sms}:msg") == 0; }, 30s)) << d.log();
  const auto requests = gateway.requests();
  ASSERT_EQ(requests.size(), 100u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/send");
  EXPECT_NE(requests[0].body.find("\"text\":\"Thông báo hỗ trợ BHYT\""), std::string::npos)
      << requests[0].body;
  int sent = 0, failed = 0;
  for (const auto& e : results()) {
    if (e.kind == campaigns::OutboxEvent::Kind::kSent) {
      ++sent;
      EXPECT_EQ(e.provider_id, "gw-1");
    }
    if (e.kind == campaigns::OutboxEvent::Kind::kFailed) ++failed;
  }
  EXPECT_EQ(sent, 99);
  EXPECT_EQ(failed, 1);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 0) << d.log();
}

// The kannel adapter end to end against a mock smsbox: the dlr-url it sends carries our id and a
// token, and the daemon's webhook takes the delivery report Kannel would call back with.
TEST_F(DispatchRolesTest, KannelDeliveryReportsComeBackThroughTheWebhook) {
  test::MockGateway smsbox([](const test::MockRequest&) {
    test::MockResponse answer;
    answer.status = 202;
    answer.body = "0: Accepted for delivery";
    return answer;
  });
  const auto port = test::free_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/webhooks/sms/receipt";
  test::write_file(dir_ / "loa.toml",
                   "[routes.sms]\ngateway = \"kannel\"\nrate_per_second = 0\n"
                   "[routes.sms.options]\nurl = \"" + smsbox.url("/cgi-bin/sendsms") + "\"\n"
                   "username = \"loa\"\npassword_env = \"LOA_TEST_KANNEL_PASSWORD\"\n"
                   "from = \"8xxx\"\ndlr_url = \"" + base + "\"\n"
                   "dlr_token_env = \"LOA_TEST_KANNEL_DLR_TOKEN\"\n");
  ASSERT_FALSE(asio::co_spawn(io_.io(), queue_->set_rate(0, 1), asio::use_future).get());
  enqueue(3, 1000);
  std::map<std::string, std::string> env{{"LOA_REDIS_URL", redis_.unix_url()},
                                         {"LOA_DAEMON_DATA_DIR", (dir_ / "d").string()},
                                         {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)},
                                         {"LOA_TEST_KANNEL_PASSWORD", "p4ss"},
                                         {"LOA_TEST_KANNEL_DLR_TOKEN", "t0ken"}};
  LoaProcess d({"serve", "--role", "dispatcher", "--config", (dir_ / "loa.toml").string()}, env,
               dir_ / "d.log");
  ASSERT_TRUE(test::wait_until([&] { return integer("HLEN loa:{sms}:msg") == 0; }, 30s)) << d.log();
  const auto requests = smsbox.requests();
  ASSERT_EQ(requests.size(), 3u);
  // The adapter sends over several connections at once, so the three requests may arrive in any
  // order: each carries a dlr-url with its own id, the token and Kannel's %d escape,
  // percent-encoded.
  for (const std::string id : {"1000", "1001", "1002"}) {
    const auto carrying = std::count_if(requests.begin(), requests.end(), [&](const auto& r) {
      return r.target.find("dlr-url=") != std::string::npos &&
             r.target.find("id%3D" + id + "%26token%3Dt0ken%26status%3D%25d") != std::string::npos;
    });
    EXPECT_EQ(carrying, 1) << "message " << id << "; first request: " << requests[0].target;
  }
  // Kannel calls the dlr-url with %d = 1 (delivered); a wrong token is refused.
  auto ok = test::http_request(port, "GET", "/webhooks/sms/receipt?id=1000&token=t0ken&status=1"
                                            "&answer=ACK%2F&msgid=k-1");
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto forged = test::http_request(port, "GET", "/webhooks/sms/receipt?id=1001&token=nope&status=1");
  EXPECT_EQ(forged.status, 401);
  ASSERT_TRUE(test::wait_until(
      [&] {
        for (const auto& e : results())
          if (e.kind == campaigns::OutboxEvent::Kind::kDelivered && e.message_id == 1000)
            return true;
        return false;
      },
      10s))
      << d.log();
  for (const auto& e : results())
    EXPECT_FALSE(e.kind == campaigns::OutboxEvent::Kind::kDelivered && e.message_id == 1001);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 0) << d.log();
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static const char* kDigits = "0123456789abcdef";
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 15];
  }
  return hex;
}

// Zalo's OA webhook: a signed user_send_text event becomes a reply on the results stream, in
// Vietnamese byte for byte; a tampered body is refused.
TEST_F(DispatchRolesTest, ASignedZaloEventBecomesAReply) {
  const auto tokens = dir_ / "zalo-tokens.json";
  test::write_file(tokens, "{\"access_token\":\"AT\",\"refresh_token\":\"RT\","
                           "\"expires_at\":4102444800}\n");
  std::filesystem::permissions(tokens, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  const std::string app_id = "4291763606161179100";
  test::write_file(dir_ / "loa.toml",
                   "[routes.zalo_oa]\ngateway = \"zalo_oa\"\n[routes.zalo_oa.options]\n"
                   "token_file = \"" + tokens.string() + "\"\napp_id = \"" + app_id + "\"\n"
                   "app_secret_env = \"LOA_TEST_ZALO_SECRET\"\n"
                   "oa_secret_key_env = \"LOA_TEST_ZALO_OA_KEY\"\n");
  const auto port = test::free_port();
  std::map<std::string, std::string> env{{"LOA_REDIS_URL", redis_.unix_url()},
                                         {"LOA_DAEMON_DATA_DIR", (dir_ / "d").string()},
                                         {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)},
                                         {"LOA_TEST_ZALO_SECRET", "app-s3cret"},
                                         {"LOA_TEST_ZALO_OA_KEY", "oa-k3y"}};
  LoaProcess d({"serve", "--role", "dispatcher", "--config", (dir_ / "loa.toml").string()}, env,
               dir_ / "d.log");
  ASSERT_TRUE(test::becomes_ready(port)) << d.log();
  const std::string now_ms = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  const std::string text = "Cho tôi hỏi thủ tục làm thẻ BHYT cho hộ cận nghèo ạ?";
  const std::string body =
      R"({"app_id":")" + app_id + R"(","sender":{"id":"5741982365432178"},)" +
      R"("recipient":{"id":"579745863508352884"},"event_name":"user_send_text",)" +
      R"("message":{"text":")" + text + R"(","msg_id":"m-1"},"timestamp":")" + now_ms + R"("})";
  const std::string mac = "mac=" + sha256_hex(app_id + body + now_ms + "oa-k3y");
  auto ok = test::http_request(port, "POST", "/webhooks/zalo_oa/zalo", body,
                               {{"Content-Type", "application/json"}, {"X-ZEvent-Signature", mac}});
  EXPECT_EQ(ok.status, 200) << ok.body << d.log();
  std::string tampered = body;
  tampered.replace(tampered.find("BHYT"), 4, "XXXX");
  auto forged = test::http_request(port, "POST", "/webhooks/zalo_oa/zalo", tampered,
                                   {{"Content-Type", "application/json"},
                                    {"X-ZEvent-Signature", mac}});
  EXPECT_EQ(forged.status, 401);
  std::vector<campaigns::OutboxEvent> replies;
  ASSERT_TRUE(test::wait_until(
      [&] {
        replies.clear();
        auto r = client_->async_exec({"XRANGE", "loa:{zalo_oa}:results", "-", "+"},
                                     asio::use_future).get();
        for (const auto& entry : r.elements)
          for (auto& e : campaigns::decode_events(entry.elements[1].elements[1].str))
            if (e.kind == campaigns::OutboxEvent::Kind::kReply) replies.push_back(std::move(e));
        return !replies.empty();
      },
      10s))
      << d.log();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].text, text);
  EXPECT_EQ(replies[0].zalo_user, "5741982365432178");
  EXPECT_EQ(replies[0].route, "zalo_oa");
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 0) << d.log();
}

// The operator's view of the queues, and a live rate change every dispatcher sees.
TEST_F(DispatchRolesTest, LoaRoutesShowsTheQueuesAndChangesTheRateLive) {
  enqueue(12, 7000);
  const std::string env = "LOA_LOG_LEVEL=warn LOA_REDIS_URL=" + redis_.unix_url() + " ";
  auto shown = test::run_command(env + test::loa_binary().string() + " routes");
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("sms       simulator"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("12"), std::string::npos) << shown.output;
  auto set = test::run_command(env + test::loa_binary().string() + " routes rate sms 7 --burst 2");
  ASSERT_EQ(set.exit_code, 0) << set.output;
  EXPECT_NE(set.output.find("7 units/s, burst 2"), std::string::npos) << set.output;
  EXPECT_EQ(redis_.command("HGET loa:{sms}:limit rate"), "7");
  EXPECT_EQ(redis_.command("HGET loa:{sms}:limit burst"), "2");
  auto bad = test::run_command(env + test::loa_binary().string() + " routes rate fax 7");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  auto down = test::run_command("LOA_REDIS_URL=unix://" + (dir_ / "none.sock").string() +
                                " LOA_REDIS_COMMAND_TIMEOUT_MS=300 LOA_REDIS_CONNECT_TIMEOUT_MS=300 " +
                                test::loa_binary().string() + " routes");
  EXPECT_EQ(down.exit_code, 1) << down.output;
  EXPECT_NE(down.output.find("cannot reach Redis"), std::string::npos) << down.output;
}

}  // namespace
}  // namespace loa::engine
