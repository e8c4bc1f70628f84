#include "tests/support/http_sink.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <thread>
#include <vector>

namespace loa::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxBody = 1024 * 1024;

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

}  // namespace

// Connections and handlers refer to the Impl by pointer: the HttpSink owns it, stops the
// io_context and joins its threads before it goes (the counters outlive the io_context, whose
// destruction destroys the connections).
struct HttpSink::Impl {
  std::string response;
  std::string needle;
  std::atomic<std::uint64_t> requests{0}, matching{0};
  std::atomic<std::size_t> open{0}, peak{0};
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;

  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(Impl* o, tcp::socket s) : owner(o), socket(std::move(s)) {}
    ~Connection() { --owner->open; }
    Impl* owner;
    tcp::socket socket;
    std::string in;
    std::string out;
    std::array<char, 16384> chunk{};
    bool close_after = false;

    void read() {
      socket.async_read_some(asio::buffer(chunk), [self = shared_from_this()](
                                                      boost::system::error_code ec, std::size_t n) {
        if (ec) return;
        self->in.append(self->chunk.data(), n);
        if (!self->parse()) return;  // malformed or too large: drop the connection
        if (self->out.empty()) return self->read();
        self->write();
      });
    }

    void write() {
      asio::async_write(socket, asio::buffer(out),
                        [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          if (ec || self->close_after) return;
                          self->out.clear();
                          self->read();
                        });
    }

    // Answers every complete request in `in`; false when the connection must be dropped.
    bool parse() {
      std::size_t at = 0;
      while (!close_after) {
        const auto head_end = in.find("\r\n\r\n", at);
        if (head_end == std::string::npos) {
          if (in.size() - at > kMaxHead) return false;
          break;
        }
        const std::string_view head(in.data() + at, head_end - at);
        std::size_t length = 0;
        for (std::size_t line = head.find("\r\n"); line != std::string_view::npos;) {
          const auto next = head.find("\r\n", line + 2);
          const auto text = head.substr(line + 2, next == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : next - line - 2);
          if (iequals_prefix(text, "content-length:")) {
            auto v = text.substr(15);
            while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
            std::from_chars(v.data(), v.data() + v.size(), length);
          } else if (iequals_prefix(text, "connection:") &&
                     text.find("close") != std::string_view::npos) {
            close_after = true;
          }
          line = next;
        }
        if (length > kMaxBody) return false;
        const std::size_t end = head_end + 4 + length;
        if (in.size() < end) break;
        const auto request_line = head.substr(0, head.find("\r\n"));
        const std::string_view body(in.data() + head_end + 4, length);
        ++owner->requests;
        if (!owner->needle.empty() && (request_line.find(owner->needle) != std::string_view::npos ||
                                       body.find(owner->needle) != std::string_view::npos))
          ++owner->matching;
        out += owner->response;
        at = end;
      }
      in.erase(0, at);
      return true;
    }
  };

  void accept() {
    acceptor.async_accept([self = this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      s.set_option(tcp::no_delay(true));
      const auto now = ++self->open;
      auto most = self->peak.load();
      while (now > most && !self->peak.compare_exchange_weak(most, now)) {
      }
      std::make_shared<Connection>(self, std::move(s))->read();
      self->accept();
    });
  }
};

HttpSink::HttpSink(std::string body, std::string count_substring, unsigned threads)
    : impl_(std::make_shared<Impl>()) {
  impl_->response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  impl_->needle = std::move(count_substring);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  impl_->accept();
  for (unsigned i = 0; i < std::max(1u, threads); ++i)
    impl_->threads.emplace_back([impl = impl_.get()] { impl->io.run(); });
}

HttpSink::~HttpSink() {
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
}

std::uint16_t HttpSink::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string HttpSink::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
}

std::uint64_t HttpSink::requests() const { return impl_->requests; }
std::uint64_t HttpSink::matching() const { return impl_->matching; }
std::size_t HttpSink::peak_connections() const { return impl_->peak; }

}  // namespace loa::test
