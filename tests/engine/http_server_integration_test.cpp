// The HTTP server over real loopback sockets: routing, limits, and graceful shutdown.
#include "engine/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <future>
#include <thread>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include "engine/metrics.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

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
    server->probe_route(http::verb::get, "/healthz", [](const HttpRequest&, HttpRespond respond) {
      respond(make_response(200, R"({"status":"alive"})"));
    });
    server->route(http::verb::get, "/slow", [this](const HttpRequest& req, HttpRespond respond) {
      ++slow_started_;
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
  // Waits until `n` /slow requests have reached their route (are in flight).
  bool slow_in_flight(int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (slow_started_.load() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return slow_started_.load() >= n;
  }
  // Starts `n` /slow requests and returns them once all are in flight (none if they never are).
  std::vector<std::future<test::HttpResult>> hold_slow_requests(HttpServer& server, int n) {
    std::vector<std::future<test::HttpResult>> held;
    const int before = slow_started_.load();
    const auto port = server.port();
    for (int i = 0; i < n; ++i)
      held.push_back(
          std::async(std::launch::async, [port] { return http_request(port, "GET", "/slow"); }));
    if (!slow_in_flight(before + n)) held.clear();
    return held;
  }
  std::atomic<int> slow_started_{0};
  IoThreads io_{2};
};

std::uint64_t refused_total(const std::string& route, const std::string& reason) {
  return metrics::Registry::global()
      .counter("loa_http_refused_total", "", {{"route", route}, {"reason", reason}})
      .value();
}

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
  o.reserved_connections = 0;
  auto server = make(o);
  // Two slow requests hold both slots.
  auto slow = hold_slow_requests(*server, 2);
  ASSERT_EQ(slow.size(), 2u);
  const auto before = refused_total("(connection)", "too_many_connections");
  auto busy = http_request(server->port(), "GET", "/hello");
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(busy.body.find("Máy chủ đang bận"), std::string::npos) << busy.body;
  EXPECT_EQ(refused_total("(connection)", "too_many_connections"), before + 1);
  for (auto& request : slow) EXPECT_EQ(request.get().status, 200);
  stop(server);
}

TEST_F(HttpServerTest, GracefulShutdownFinishesRequestsInFlight) {
  auto server = make();
  auto in_flight =
      std::async(std::launch::async, [&] { return http_request(server->port(), "GET", "/slow"); });
  // In flight means at its route: a connection accepted whose request has not arrived yet
  // is idle, and shutdown closes it (under load, waiting on connections() alone raced).
  ASSERT_TRUE(slow_in_flight(1));
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
  ASSERT_TRUE(slow_in_flight(1));
  const auto started = std::chrono::steady_clock::now();
  stop(server, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(in_flight.get().status, 0);  // cut off at the deadline
}

TEST_F(HttpServerTest, AFullServerStillAnswersItsProbesOnReservedSlots) {
  HttpServerOptions o;
  o.max_connections = 2;
  o.reserved_connections = 2;
  auto server = make(o);
  auto slow = hold_slow_requests(*server, 2);
  ASSERT_EQ(slow.size(), 2u);
  for (int i = 0; i < 5; ++i) {
    auto probe = http_request(server->port(), "GET", "/healthz");
    EXPECT_EQ(probe.status, 200) << "probe " << i << ": " << probe.error;
  }
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 503);
  for (auto& request : slow) EXPECT_EQ(request.get().status, 200);
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 200);
  stop(server);
}

TEST_F(HttpServerTest, OneClientCannotTakeEveryConnection) {
  HttpServerOptions o;
  o.max_connections_per_client = 2;
  auto server = make(o);
  auto slow = hold_slow_requests(*server, 2);
  ASSERT_EQ(slow.size(), 2u);
  const auto before = refused_total("(connection)", "too_many_from_client");
  // 127.0.0.1 has its two; another loopback address is another client.
  EXPECT_EQ(raw_exchange(server->port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 5000)
                .rfind("HTTP/1.1 503", 0),
            0u);
  EXPECT_EQ(refused_total("(connection)", "too_many_from_client"), before + 1);
  auto other =
      raw_exchange(server->port(), "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                   5000, "127.0.0.2");
  EXPECT_EQ(other.rfind("HTTP/1.1 200", 0), 0u) << other;
  for (auto& request : slow) EXPECT_EQ(request.get().status, 200);
  stop(server);
}

// Slowloris: a header that trickles in a byte at a time is cut at header_timeout, even though
// each byte arrives well within it.
TEST_F(HttpServerTest, AHeaderThatTricklesInIsCutAtTheHeaderTimeout) {
  HttpServerOptions o;
  o.header_timeout = std::chrono::milliseconds(300);
  auto server = make(o);
  const auto before = refused_total("(connection)", "header_timeout");
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server->port()});
  const auto started = std::chrono::steady_clock::now();
  const std::string head = "GET /hello HTTP/1.1\r\nX-Slow: ";
  boost::system::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(head), ec);
  // One byte every 50 ms until the server closes (a write fails) or 10 s pass.
  while (!ec && std::chrono::steady_clock::now() - started < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    boost::asio::write(socket, boost::asio::buffer("a", 1), ec);
  }
  EXPECT_TRUE(ec) << "still open after 10 s";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  for (int i = 0; i < 200 && refused_total("(connection)", "header_timeout") == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(refused_total("(connection)", "header_timeout"), before + 1);
  EXPECT_EQ(http_request(server->port(), "GET", "/hello").status, 200);
  stop(server);
}

TEST_F(HttpServerTest, ANotFoundForAPathThatIsNotUtf8IsValidJson) {
  auto server = make();
  auto answer = raw_exchange(server->port(),
                             "GET /h\xff\xfe\xc3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 404", 0), 0u) << answer;
  const auto body = answer.substr(answer.find("\r\n\r\n") + 4);
  boost::system::error_code ec;
  auto j = boost::json::parse(body, ec);
  ASSERT_FALSE(ec) << body;
  EXPECT_EQ(j.at("error"), "no such path: /h\uFFFD\uFFFD\uFFFD");
  stop(server);
}

// All uploads in progress share one spool budget; one more is refused with 503 and
// Retry-After, and the budget comes back when an upload ends.
TEST_F(HttpServerTest, UploadsInProgressShareOneSpoolBudget) {
  test::TempDir dir;
  HttpServerOptions o;
  o.upload_spool_limit = 150'000;
  o.port = 0;
  auto server = HttpServer::create(io_.io(), o);
  HttpUploadRoute upload;
  upload.body_limit = 100'000;
  upload.spool_dir = dir.path();
  upload.handle = [](const HttpRequest&, std::filesystem::path file, HttpRespond respond) {
    const auto size = std::filesystem::file_size(file);
    std::filesystem::remove(file);
    respond(make_response(200, "{\"bytes\":" + std::to_string(size) + "}"));
  };
  server->upload_route(http::verb::post, "/upload", upload);
  server->start();
  // The first upload announces 100,000 bytes and sends half of them, then waits.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket first(io);
  first.connect({boost::asio::ip::make_address("127.0.0.1"), server->port()});
  boost::asio::write(
      first, boost::asio::buffer(
                 std::string("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                             "Connection: close\r\n\r\n") +
                 std::string(50'000, 'a')));
  // A second of 100,000 would pass 150,000: refused until the first is done.
  auto refused =
      loa::test::http_request(server->port(), "POST", "/upload", std::string(100'000, 'b'));
  for (int i = 0; i < 100 && refused.status == 200; ++i)  // the first may not be admitted yet
    refused = loa::test::http_request(server->port(), "POST", "/upload", std::string(100'000, 'b'));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("Retry-After"), "60");
  // A small one fits beside it.
  EXPECT_EQ(
      loa::test::http_request(server->port(), "POST", "/upload", std::string(10'000, 'c')).status,
      200);
  boost::asio::write(first, boost::asio::buffer(std::string(50'000, 'a')));
  std::string answer;
  boost::system::error_code ec;
  boost::asio::read(first, boost::asio::dynamic_buffer(answer), ec);
  EXPECT_NE(answer.find("\"bytes\":100000"), std::string::npos) << answer;
  EXPECT_EQ(
      loa::test::http_request(server->port(), "POST", "/upload", std::string(100'000, 'd')).status,
      200);
  stop(server);
}

}  // namespace
}  // namespace loa::engine
