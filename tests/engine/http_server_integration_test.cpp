// The HTTP server over real loopback sockets: routing, limits, and graceful shutdown.
#include "engine/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <future>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/redis_fixture.hpp"

namespace loa::engine {
namespace {

namespace http = boost::beast::http;
using loa::test::http_request;
using loa::test::IoThreads;
using loa::test::raw_exchange;

class HttpServerTest : public ::testing::Test {
 protected:
  std::shared_ptr<HttpServer> make(HttpServerOptions o = {}) {
    o.port = 0;
    auto server = HttpServer::create(io_.io(), o);
    server->route(http::verb::get, "/hello", [](const HttpRequest&, HttpRespond respond) {
      respond(make_response(200, R"({"hello":"xin chào"})"));
    });
    server->route(http::verb::post, "/echo", [](const HttpRequest& req, HttpRespond respond) {
      respond(make_response(200, req.body(), "text/plain"));
    });
    // Answers later, from a timer: a request in flight for `ms` milliseconds.
    server->route(http::verb::get, "/slow", [this](const HttpRequest& req, HttpRespond respond) {
      auto timer = std::make_shared<boost::asio::steady_timer>(io_.io());
      const int ms = req.target().ends_with("long") ? 5000 : 1000;
      timer->expires_after(std::chrono::milliseconds(ms));
      timer->async_wait([timer, respond](boost::system::error_code) {
        respond(make_response(200, R"({"slow":true})"));
      });
    });
    server->route(http::verb::get, "/throws", [](const HttpRequest&, HttpRespond) {
      throw std::runtime_error("boom");
    });
    server->start();
    return server;
  }
  void stop(const std::shared_ptr<HttpServer>& server, int grace_ms = 1000) {
    std::promise<void> done;
    server->shutdown(std::chrono::milliseconds(grace_ms), [&] { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  }
  IoThreads io_{2};
};

TEST_F(HttpServerTest, RoutesByPathAndMethod) {
  auto server = make();
  auto ok = http_request(server->port(), "GET", "/hello?x=1");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"hello":"xin chào"})");
  EXPECT_EQ(http_request(server->port(), "GET", "/nope").status, 404);
  EXPECT_EQ(http_request(server->port(), "DELETE", "/hello").status, 405);
  auto echo = http_request(server->port(), "POST", "/echo", "Hộ nghèo");
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, "Hộ nghèo");
  EXPECT_EQ(http_request(server->port(), "GET", "/throws").status, 500);
  stop(server);
}

TEST_F(HttpServerTest, OversizedBodyGets413AndTheServerStaysUp) {
  HttpServerOptions o;
  o.body_limit = 1024;
  auto server = make(o);
  auto big = http_request(server->port(), "POST", "/echo", std::string(4096, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 200);
  stop(server);
}

TEST_F(HttpServerTest, OversizedHeadersGet431) {
  HttpServerOptions o;
  o.header_limit = 1024;
  auto server = make(o);
  auto res = http_request(server->port(), "GET", "/hello", "", {{"X-Padding", std::string(4000, 'a')}});
  EXPECT_EQ(res.status, 431);
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 200);
  stop(server);
}

TEST_F(HttpServerTest, MalformedRequestsGet400) {
  auto server = make();
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /hello HTTP/9.9\r\n\r\n"),
        std::string("GET /hello HTTP/1.1\r\nContent-Length: nope\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
    auto answer = raw_exchange(server->port(), garbage);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << "for " << garbage << " got: " << answer;
  }
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 200);
  stop(server);
}

TEST_F(HttpServerTest, AnIdleConnectionIsClosedAfterTheReadTimeout) {
  HttpServerOptions o;
  o.read_timeout = std::chrono::milliseconds(200);
  auto server = make(o);
  const auto started = std::chrono::steady_clock::now();
  auto answer = raw_exchange(server->port(), "GET /hello HTTP/1.1\r\nHost: x\r\n", 5000);
  EXPECT_TRUE(answer.empty()) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  stop(server);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheCapGet503) {
  HttpServerOptions o;
  o.max_connections = 2;
  auto server = make(o);
  // Two slow requests hold both slots.
  auto a = std::async(std::launch::async, [&] { return http_request(server->port(), "GET", "/slow"); });
  auto b = std::async(std::launch::async, [&] { return http_request(server->port(), "GET", "/slow"); });
  for (int i = 0; i < 400 && server->connections() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 503);
  EXPECT_EQ(a.get().status, 200);
  EXPECT_EQ(b.get().status, 200);
  stop(server);
}

TEST_F(HttpServerTest, GracefulShutdownFinishesRequestsInFlight) {
  auto server = make();
  auto in_flight =
      std::async(std::launch::async, [&] { return http_request(server->port(), "GET", "/slow"); });
  for (int i = 0; i < 100 && server->connections() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(server->connections(), 1u);
  std::promise<void> done;
  server->shutdown(std::chrono::seconds(5), [&] { done.set_value(); });
  // New connections are refused at once...
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 0);
  // ...while the request in flight completes, and then the server is drained.
  auto res = in_flight.get();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"slow":true})");
  EXPECT_EQ(done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(server->connections(), 0u);
}

TEST_F(HttpServerTest, ShutdownGraceIsBounded) {
  auto server = make();
  auto in_flight = std::async(std::launch::async, [&] {
    return http_request(server->port(), "GET", "/slow?long", "", {}, 10000);
  });
  for (int i = 0; i < 100 && server->connections() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto started = std::chrono::steady_clock::now();
  stop(server, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(in_flight.get().status, 0);  // cut off at the deadline
}

}  // namespace
}  // namespace loa::engine
