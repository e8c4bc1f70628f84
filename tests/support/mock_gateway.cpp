#include "tests/support/mock_gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <mutex>
#include <thread>

namespace loa::test {

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t kBodyLimit = 16 << 20;  // tests may send more than Beast's 1 MB default
}  // namespace

std::string MockRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, name)) return v;
  }
  return {};
}

// Declared so that the io_context goes before the state its sessions touch when it destroys
// them.
struct MockGateway::Impl {
  std::uint16_t port = 0;
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> peak{0};
  mutable std::mutex mutex;
  Handler handler;                    // guarded by mutex
  std::vector<MockRequest> requests;  // guarded by mutex
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;

  MockResponse answer(const MockRequest& request) {
    Handler h;
    {
      std::lock_guard lock(mutex);
      requests.push_back(request);
      h = handler;
    }
    return h ? h(request) : MockResponse{};
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;  // EMFILE and the like: keep serving the connections already open
      }
      const std::size_t id = accepted.fetch_add(1) + 1;
      const std::size_t now = open.fetch_add(1) + 1;
      std::size_t seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      asio::co_spawn(io, serve(std::move(socket), id), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket, std::size_t id) {
    struct Closing {
      std::atomic<std::size_t>& open;
      ~Closing() { open.fetch_sub(1); }
    } closing{open};
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      auto [rec, rn] = co_await http::async_read(socket, buffer, parser, kAwait);
      if (rec) break;  // closed by the client, or not HTTP at all
      http::request<http::string_body> req = parser.release();
      MockRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& field : req) {
        r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      r.body = req.body();
      r.connection = id;
      const MockResponse out = answer(r);
      if (out.delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, out.delay);
        co_await timer.async_wait(kAwait);
      }
      if (out.cut) {
        boost::system::error_code ignored;
        socket.close(ignored);
        co_return;
      }
      http::response<http::string_body> res;
      res.version(req.version());
      res.result(out.status);
      for (const auto& [name, value] : out.headers) res.insert(name, value);
      res.body() = out.body;
      res.keep_alive(req.keep_alive());
      if (out.chunked) {
        res.chunked(true);
      } else {
        res.prepare_payload();
      }
      auto [wec, wn] = co_await http::async_write(socket, res, kAwait);
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
  }
};

MockGateway::MockGateway(Handler handler) : impl_(std::make_shared<Impl>()) {
  impl_->handler = std::move(handler);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

MockGateway::~MockGateway() {
  impl_->io.stop();
  impl_->thread.join();
  // Destroying the io_context (with impl_) destroys the suspended sessions and their sockets.
}

std::uint16_t MockGateway::port() const { return impl_->port; }

std::string MockGateway::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}

std::vector<MockRequest> MockGateway::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t MockGateway::connections() const { return impl_->accepted.load(); }
std::size_t MockGateway::open_connections() const { return impl_->open.load(); }
std::size_t MockGateway::peak_connections() const { return impl_->peak.load(); }

void MockGateway::set_handler(Handler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->handler = std::move(handler);
}

}  // namespace loa::test
