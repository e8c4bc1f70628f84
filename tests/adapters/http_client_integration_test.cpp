// The async HTTP client over real loopback sockets, against the mock gateway: what goes on
// the wire, connection reuse and caps, timeouts, transport failures, bounds and close().
#include "adapters/http_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <future>
#include <set>
#include <thread>

#include "tests/support/mock_gateway.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::adapters {
namespace {

using loa::test::MockGateway;
using loa::test::MockRequest;
using loa::test::MockResponse;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 10s;  // only reached when a test fails

struct Outcome {
  boost::system::error_code ec;
  HttpResponse response;
  std::chrono::milliseconds elapsed{0};
};

std::future<Outcome> send(HttpClient& client, HttpRequest request) {
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto future = promise->get_future();
  const auto start = Clock::now();
  client.async_request(
      std::move(request), [promise, start](boost::system::error_code ec, HttpResponse response) {
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        promise->set_value({ec, std::move(response), elapsed});
      });
  return future;
}

Outcome outcome_of(std::future<Outcome> future) {
  if (future.wait_for(kWait) != std::future_status::ready) {
    ADD_FAILURE() << "no completion within " << kWait.count() << " s";
    return {make_error_code(HttpErrc::kOther), {}, {}};
  }
  return future.get();
}

HttpRequest request(std::string method, std::string url, std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

MockResponse respond(unsigned status, std::string body = {},
                     std::chrono::milliseconds delay = 0ms) {
  MockResponse r;
  r.status = status;
  r.body = std::move(body);
  r.delay = delay;
  return r;
}

// Polls (briefly) until `done` holds; false after kWait.
template <class F>
bool eventually(F done) {
  return test::wait_until(done, kWait, 2ms);
}

class HttpClientTest : public ::testing::Test {
 protected:
  // Loopback must never go through a proxy from the environment the tests run in.
  static void SetUpTestSuite() { ::setenv("no_proxy", "127.0.0.1,localhost", 1); }

  std::shared_ptr<HttpClient> make(HttpClientOptions options = {}) {
    clients_.push_back(HttpClient::create(io_.io(), options));
    return clients_.back();
  }

  loa::test::IoThreads io_{2};
  std::vector<std::shared_ptr<HttpClient>> clients_;  // destroyed (closed) before io_
};

TEST_F(HttpClientTest, PostArrivesExactlyAsSentAndTheAnswerComesBack) {
  MockGateway gateway([](const MockRequest&) {
    MockResponse r = respond(201, R"({"code":"100","message":"Đã tiếp nhận"})");
    r.headers = {{"X-Request-Id", "gw-7781"}, {"Content-Type", "application/json; charset=utf-8"}};
    return r;
  });
  auto client = make();
  HttpRequest req = request(
      "POST", gateway.url("/MainService.svc/json/SendMultipleMessage_V4_post_json/?a=1&b=2"),
      R"({"Phone":"+84912345678","Content":"Kính gửi bà con thôn Ea Tân: họp dân lúc 8 giờ sáng thứ Hai tại nhà văn hoá. Xin cảm ơn!"})");
  req.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"Authorization", "Bearer zX9-token"},
                 {"X-Idempotency-Key", "msg-000042"},
                 {"X-Empty", ""}};

  const Outcome out = outcome_of(send(*client, req));
  ASSERT_FALSE(out.ec) << out.ec.message() << ": " << out.response.detail;
  EXPECT_EQ(out.response.status, 201);
  EXPECT_EQ(out.response.header("x-request-id"), "gw-7781");
  EXPECT_EQ(out.response.header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(out.response.body, R"({"code":"100","message":"Đã tiếp nhận"})");
  EXPECT_TRUE(out.response.detail.empty());

  const auto seen = gateway.requests();
  ASSERT_EQ(seen.size(), 1u);
  const MockRequest& r = seen[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/MainService.svc/json/SendMultipleMessage_V4_post_json/?a=1&b=2");
  EXPECT_EQ(r.body, req.body);
  std::vector<std::pair<std::string, std::string>> ours;
  for (const auto& h : r.headers) {
    if (std::any_of(req.headers.begin(), req.headers.end(),
                    [&](const auto& x) { return x.first == h.first; })) {
      ours.push_back(h);
    }
  }
  EXPECT_EQ(ours, req.headers);  // same names, values and order
  EXPECT_EQ(r.header("Content-Length"), std::to_string(req.body.size()));
  EXPECT_EQ(r.header("User-Agent"), "loa/0.1");
  EXPECT_EQ(r.header("Expect"), "");
}

// One row per method: what the mock sees.
TEST_F(HttpClientTest, SendsEachMethodWithItsBody) {
  MockGateway gateway;
  auto client = make();
  struct Row {
    std::string method;
    std::string body;
  };
  const std::vector<Row> rows = {
      {"GET", ""},
      {"PUT", "{\"a\":1}"},
      {"DELETE", ""},
      {"PATCH", "x=1"},
      {"HEAD", ""},
      {"POST", ""},
      {"POST", std::string(2 << 20, 'b')},  // over curl's 1 MB "Expect: 100-continue" threshold
  };
  for (const auto& row : rows) {
    const Outcome out = outcome_of(send(*client, request(row.method, gateway.url("/m"), row.body)));
    EXPECT_FALSE(out.ec) << row.method << ": " << out.response.detail;
    EXPECT_EQ(out.response.status, 200) << row.method;
  }
  const auto seen = gateway.requests();
  ASSERT_EQ(seen.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(seen[i].method, rows[i].method);
    EXPECT_EQ(seen[i].body, rows[i].body) << rows[i].method;
    EXPECT_EQ(seen[i].header("Expect"), "") << rows[i].method;
  }
}

TEST_F(HttpClientTest, ErrorStatusesAreAnswersNotErrors) {
  MockGateway gateway([](const MockRequest&) {
    MockResponse r = respond(503, "busy");
    r.headers = {{"Retry-After", "7"}};
    return r;
  });
  auto client = make();
  const Outcome out = outcome_of(send(*client, request("POST", gateway.url("/send"), "x")));
  ASSERT_FALSE(out.ec) << out.response.detail;
  EXPECT_EQ(out.response.status, 503);
  EXPECT_EQ(out.response.header("retry-after"), "7");
  EXPECT_EQ(out.response.body, "busy");
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
  MockGateway gateway([](const MockRequest& r) { return respond(200, r.body); });
  HttpClientOptions options;
  auto client = make(options);
  for (int i = 0; i < 200; ++i) {
    const Outcome out =
        outcome_of(send(*client, request("POST", gateway.url("/seq"), std::to_string(i))));
    ASSERT_FALSE(out.ec) << i << ": " << out.response.detail;
    ASSERT_EQ(out.response.body, std::to_string(i));
  }
  EXPECT_LE(gateway.connections(), static_cast<std::size_t>(options.max_connections_per_host));
  EXPECT_EQ(gateway.connections(), 1u);  // kept alive throughout
  EXPECT_EQ(client->stats().peak_connections, 1u);
  EXPECT_EQ(client->stats().open_connections, 1u);  // idle in curl's cache
  EXPECT_EQ(client->stats().requests, 200u);
}

// A server that reads a request on a kept-alive connection and dies unanswered (and answers on
// a new connection), with and without HttpRequest::at_most_once. One row each: how often the
// server read that request, and what the caller heard.
TEST_F(HttpClientTest, AnAtMostOnceRequestCutUnansweredIsNotSentAgain) {
  struct Row {
    bool at_most_once;
    std::size_t seen;              // times the server read the cut request
    boost::system::error_code ec;  // what the caller heard
  };
  const std::vector<Row> rows = {
      // libcurl re-sends it on a new connection, where it is answered: the server acted on it
      // twice, and the caller cannot know.
      {false, 2, {}},
      {true, 1, make_error_code(HttpErrc::kNoAnswer)},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.at_most_once ? "at most once" : "default");
    std::atomic<int> n{0};
    MockGateway gateway([&n](const MockRequest&) {
      MockResponse r = respond(202, "0: Accepted for delivery");
      r.cut = ++n == 2;  // the first request opens the connection; the second is cut
      return r;
    });
    auto client = make();
    auto first = request("GET", gateway.url("/send?to=1"));
    first.at_most_once = row.at_most_once;
    ASSERT_FALSE(outcome_of(send(*client, first)).ec);
    auto second = request("GET", gateway.url("/send?to=2"));
    second.at_most_once = row.at_most_once;
    const Outcome out = outcome_of(send(*client, second));
    EXPECT_EQ(out.ec, row.ec) << out.ec.message() << ": " << out.response.detail;
    std::size_t seen = 0;
    for (const MockRequest& r : gateway.requests()) seen += r.target == "/send?to=2";
    EXPECT_EQ(seen, row.seen);
    ASSERT_GE(gateway.requests().size(), 2u);
    EXPECT_EQ(gateway.requests()[1].connection, 1u);  // the cut request went out on a reused one
  }
}

TEST_F(HttpClientTest, ConcurrentRequestsStayWithinThePerHostCap) {
  MockGateway gateway([](const MockRequest& r) {
    return respond(200, r.body, 20ms);  // so that requests overlap
  });
  HttpClientOptions options;
  options.max_connections_per_host = 4;
  auto client = make(options);
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(send(*client, request("POST", gateway.url("/burst"), std::to_string(i))));
  }
  for (int i = 0; i < 100; ++i) {
    const Outcome out = outcome_of(std::move(futures[i]));
    ASSERT_FALSE(out.ec) << i << ": " << out.response.detail;
    EXPECT_EQ(out.response.body, std::to_string(i));
  }
  EXPECT_EQ(gateway.requests().size(), 100u);
  EXPECT_LE(gateway.peak_connections(), 4u);
  EXPECT_LE(gateway.connections(), 4u);
  EXPECT_LE(client->stats().peak_connections, 4u);
  EXPECT_GT(gateway.peak_connections(), 1u);  // it did go parallel
  EXPECT_EQ(client->stats().in_flight, 0u);
}

// A gateway adapter's `connections` setting travels as HttpRequest::max_connections: it
// replaces the client's per-host cap for that origin, above it as well as below it.
TEST_F(HttpClientTest, ARequestsOwnConnectionCapReplacesThePerHostCap) {
  MockGateway gateway([](const MockRequest& r) {
    return respond(200, r.body, 30ms);  // so that requests overlap
  });
  HttpClientOptions options;
  options.max_connections_per_host = 2;
  auto client = make(options);
  auto burst = [&](std::size_t cap) {
    std::vector<std::future<Outcome>> futures;
    for (int i = 0; i < 60; ++i) {
      HttpRequest r = request("POST", gateway.url("/burst"), std::to_string(i));
      r.max_connections = cap;
      futures.push_back(send(*client, r));
    }
    for (int i = 0; i < 60; ++i) {
      const Outcome out = outcome_of(std::move(futures[i]));
      ASSERT_FALSE(out.ec) << i << ": " << out.response.detail;
      EXPECT_EQ(out.response.body, std::to_string(i));
    }
  };
  burst(6);
  EXPECT_LE(gateway.peak_connections(), 6u);
  EXPECT_LE(client->stats().peak_connections, 6u);
  EXPECT_GT(gateway.peak_connections(), 2u);  // beyond the client's default of 2
  burst(1);  // one at a time now, over the connections kept alive
  EXPECT_EQ(gateway.requests().size(), 120u);
  EXPECT_LE(client->stats().open_connections, 6u);
  EXPECT_EQ(client->stats().in_flight, 0u);
}

TEST_F(HttpClientTest, TimesOutInAboutTheTimeoutAndStaysUsable) {
  MockGateway gateway([](const MockRequest& r) {
    return respond(200, "late", r.target == "/slow" ? 3000ms : 0ms);
  });
  auto client = make();
  HttpRequest slow = request("GET", gateway.url("/slow"));
  slow.timeout = 300ms;
  const Outcome out = outcome_of(send(*client, slow));
  EXPECT_EQ(out.ec, make_error_code(HttpErrc::kTimeout)) << out.ec.message();
  EXPECT_FALSE(out.response.detail.empty());
  EXPECT_GE(out.elapsed, 250ms);
  EXPECT_LT(out.elapsed, 2000ms);

  const Outcome next = outcome_of(send(*client, request("GET", gateway.url("/fast"))));
  ASSERT_FALSE(next.ec) << next.response.detail;
  EXPECT_EQ(next.response.status, 200);
}

TEST_F(HttpClientTest, RefusedConnectionIsKConnect) {
  auto client = make();
  const std::uint16_t port = loa::test::free_port();  // bound, then closed: nothing listens
  const Outcome out =
      outcome_of(send(*client, request("POST", "http://127.0.0.1:" + std::to_string(port) + "/")));
  EXPECT_EQ(out.ec, make_error_code(HttpErrc::kConnect)) << out.response.detail;
  EXPECT_EQ(out.response.status, 0);
}

// A request that went out whole and got no answer may have been acted on (a gateway that
// queued the message and died before it answered): kNoAnswer, never kConnect or kOther, so
// the adapter can say "maybe sent". Small bodies travel with the headers, large ones after.
TEST_F(HttpClientTest, AConnectionCutAfterTheRequestIsKNoAnswer) {
  MockGateway gateway([](const MockRequest&) {
    MockResponse r;
    r.cut = true;
    return r;
  });
  auto client = make();
  struct Row {
    std::string method;
    std::size_t body_bytes;
  };
  const std::vector<Row> rows = {{"GET", 0}, {"POST", 40}, {"POST", 200000}};
  for (const Row& row : rows) {
    SCOPED_TRACE(row.method + " with " + std::to_string(row.body_bytes) + " body bytes");
    const std::size_t before = gateway.requests().size();
    const Outcome out = outcome_of(send(
        *client, request(row.method, gateway.url("/sendsms"), std::string(row.body_bytes, 'x'))));
    EXPECT_EQ(out.ec, make_error_code(HttpErrc::kNoAnswer))
        << out.ec.message() << ": " << out.response.detail;
    EXPECT_EQ(out.response.status, 0);
    ASSERT_EQ(gateway.requests().size(), before + 1);  // it did arrive
    EXPECT_EQ(gateway.requests().back().body.size(), row.body_bytes);
  }
  gateway.set_handler({});  // answers 200 again: the client is still usable
  const Outcome next = outcome_of(send(*client, request("GET", gateway.url("/"))));
  ASSERT_FALSE(next.ec) << next.response.detail;
  EXPECT_EQ(next.response.status, 200);
}

TEST_F(HttpClientTest, HttpsToAPlainHttpPortFails) {
  EXPECT_TRUE(HttpClientOptions{}.verify_tls);
  MockGateway gateway;
  auto client = make();
  HttpRequest req = request("POST", "https://127.0.0.1:" + std::to_string(gateway.port()) + "/");
  req.timeout = 5000ms;
  const Outcome out = outcome_of(send(*client, req));
  EXPECT_TRUE(out.ec == make_error_code(HttpErrc::kTls) ||
              out.ec == make_error_code(HttpErrc::kOther))
      << out.ec.message() << ": " << out.response.detail;
  EXPECT_EQ(out.response.status, 0);
}

TEST_F(HttpClientTest, ResolvesNamesAsWell) {
  MockGateway gateway;
  auto client = make();
  const Outcome out = outcome_of(
      send(*client, request("GET", "http://localhost:" + std::to_string(gateway.port()) + "/")));
  ASSERT_FALSE(out.ec) << out.response.detail;
  EXPECT_EQ(out.response.status, 200);
}

// A name that goes through curl's threaded resolver (unlike "localhost", which curl answers
// itself): RFC 6761 guarantees .invalid never resolves. A resolver that cannot be reached at
// all makes it a timeout instead; either way the client stays usable.
TEST_F(HttpClientTest, UnresolvableNameFails) {
  MockGateway gateway;
  auto client = make();
  HttpRequest req = request("GET", "http://loa-test.invalid/");
  req.timeout = 3000ms;
  const Outcome out = outcome_of(send(*client, req));
  EXPECT_TRUE(out.ec == make_error_code(HttpErrc::kResolve) ||
              out.ec == make_error_code(HttpErrc::kTimeout))
      << out.ec.message() << ": " << out.response.detail;
  const Outcome next = outcome_of(send(*client, request("GET", gateway.url("/"))));
  EXPECT_FALSE(next.ec) << next.response.detail;
}

// One row per way a response can be too large, and one that fits.
TEST_F(HttpClientTest, BoundsTheResponseSize) {
  constexpr std::size_t kCap = 64 * 1024;
  struct Row {
    const char* name;
    std::size_t body;
    bool chunked;  // no Content-Length: only the running count can tell
    bool fits;
  };
  const Row rows[] = {
      {"content-length", 3 * kCap, false, false},
      {"chunked", 3 * kCap, true, false},
      {"fits", kCap / 2, true, true},
  };
  MockGateway gateway([&](const MockRequest& r) {
    for (const Row& row : rows) {
      if (r.target == std::string("/") + row.name) {
        MockResponse out = respond(200, std::string(row.body, 'x'));
        out.chunked = row.chunked;
        return out;
      }
    }
    return respond(404);
  });
  HttpClientOptions options;
  options.max_response_bytes = kCap;
  auto client = make(options);
  for (const Row& row : rows) {
    const Outcome out =
        outcome_of(send(*client, request("GET", gateway.url(std::string("/") + row.name))));
    if (row.fits) {
      EXPECT_FALSE(out.ec) << row.name << ": " << out.response.detail;
      EXPECT_EQ(out.response.body.size(), row.body) << row.name;
    } else {
      EXPECT_EQ(out.ec, make_error_code(HttpErrc::kTooLarge))
          << row.name << ": " << out.ec.message() << ": " << out.response.detail;
      EXPECT_LE(out.response.body.size(), kCap) << row.name;
    }
  }
}

TEST_F(HttpClientTest, CloseFailsRequestsInFlightAndLaterOnes) {
  MockGateway gateway([](const MockRequest&) { return respond(200, "", 5000ms); });
  auto client = make();
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < 5; ++i) futures.push_back(send(*client, request("POST", gateway.url("/"))));
  ASSERT_TRUE(eventually([&] { return gateway.requests().size() == 5; }));

  const auto closing = Clock::now();
  client->close();
  client->close();  // idempotent
  for (auto& f : futures) {
    const Outcome out = outcome_of(std::move(f));
    EXPECT_EQ(out.ec, make_error_code(HttpErrc::kClosed)) << out.ec.message();
  }
  EXPECT_LT(Clock::now() - closing, 2000ms);  // not the mock's 5 s

  const Outcome later = outcome_of(send(*client, request("POST", gateway.url("/"))));
  EXPECT_EQ(later.ec, make_error_code(HttpErrc::kClosed));
  EXPECT_EQ(client->stats().in_flight, 0u);
  EXPECT_TRUE(eventually([&] { return client->stats().open_connections == 0; }));
}

TEST_F(HttpClientTest, NeverCompletesInsideAsyncRequest) {
  boost::asio::io_context io;  // not running yet
  {
    auto client = HttpClient::create(io);
    client->close();
    bool called = false;
    boost::system::error_code ec;
    client->async_request(request("GET", "http://127.0.0.1:1/"),
                          [&](boost::system::error_code e, HttpResponse) {
                            called = true;
                            ec = e;
                          });
    EXPECT_FALSE(called);
    io.run();
    EXPECT_TRUE(called);
    EXPECT_EQ(ec, make_error_code(HttpErrc::kClosed));
  }
  io.restart();
  io.run();
}

TEST_F(HttpClientTest, PushesBackBeyondMaxInFlight) {
  MockGateway gateway([](const MockRequest&) { return respond(200, "", 200ms); });
  HttpClientOptions options;
  options.max_in_flight = 2;
  auto client = make(options);
  auto a = send(*client, request("POST", gateway.url("/a")));
  auto b = send(*client, request("POST", gateway.url("/b")));
  const Outcome c = outcome_of(send(*client, request("POST", gateway.url("/c"))));
  EXPECT_EQ(c.ec, make_error_code(HttpErrc::kBusy));
  EXPECT_LT(c.elapsed, 150ms);  // at once, not after a or b
  EXPECT_FALSE(outcome_of(std::move(a)).ec);
  EXPECT_FALSE(outcome_of(std::move(b)).ec);
  EXPECT_EQ(client->stats().rejected, 1u);
  EXPECT_EQ(client->stats().requests, 3u);
}

// One row per request the client must refuse without sending anything.
TEST_F(HttpClientTest, RefusesWhatItMustNotSend) {
  MockGateway gateway;
  auto client = make();
  struct Row {
    const char* name;
    HttpRequest request;
  };
  std::vector<Row> rows = {
      {"file url", request("GET", "file:///etc/passwd")},
      {"ftp url", request("GET", "ftp://127.0.0.1:" + std::to_string(gateway.port()) + "/")},
      {"method with a space", request("GE T", gateway.url("/"))},
      {"header smuggling", request("POST", gateway.url("/"))},
      {"header name with a colon", request("POST", gateway.url("/"))},
      {"zero timeout", request("POST", gateway.url("/"))},
  };
  rows[3].request.headers = {{"X-A", "1\r\nX-B: 2"}};
  rows[4].request.headers = {{"X-A:", "1"}};
  rows[5].request.timeout = 0ms;
  for (const Row& row : rows) {
    const Outcome out = outcome_of(send(*client, row.request));
    EXPECT_EQ(out.ec, make_error_code(HttpErrc::kInvalidRequest))
        << row.name << ": " << out.ec.message() << ": " << out.response.detail;
    EXPECT_TRUE(out.response.body.empty()) << row.name;
  }
  EXPECT_TRUE(gateway.requests().empty());
}

TEST(HttpClientOptionsTest, RejectsNonPositiveLimits) {
  boost::asio::io_context io;
  HttpClientOptions options;
  options.max_connections_per_host = 0;
  EXPECT_THROW(HttpClient::create(io, options), std::invalid_argument);
}

}  // namespace
}  // namespace loa::adapters
