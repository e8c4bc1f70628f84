#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <array>
#include <boost/beast/core/string.hpp>
#include <functional>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace loa::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        int timeout_ms) {
  HttpResult result;
  asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    result.error = ec.message();
    return result;
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) {
    result.error = ec.message();
    return result;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  // tcp_stream's timeout applies to async operations only; poll the io_context for sync use.
  http::async_read(stream, buffer, res, [&](boost::system::error_code e, std::size_t) { ec = e; });
  io.run();
  if (ec) {
    result.error = ec.message();
    return result;
  }
  result.status = static_cast<int>(res.result_int());
  result.body = res.body();
  for (const auto& field : res)
    result.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return result;
}

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms,
                         const std::string& source) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  if (!source.empty()) {
    stream.socket().open(tcp::v4(), ec);
    if (!ec) stream.socket().bind(tcp::endpoint(asio::ip::make_address(source), 0), ec);
    if (ec) return {};
  }
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {};
  asio::write(stream.socket(), asio::buffer(bytes), ec);
  std::string out;
  std::array<char, 4096> buf;
  std::function<void()> read_more = [&] {
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    stream.async_read_some(asio::buffer(buf), [&](boost::system::error_code e, std::size_t n) {
      out.append(buf.data(), n);
      if (!e) read_more();
    });
  };
  read_more();
  io.run();
  return out;
}

namespace {

// The parsed status and body of `raw`, a whole response (interim 1xx answers skipped).
void parse_final_answer(const std::string& raw, HttpResult& result) {
  std::size_t at = 0;
  while (at < raw.size()) {
    const auto end = raw.find("\r\n\r\n", at);
    if (end == std::string::npos || raw.compare(at, 9, "HTTP/1.1 ") != 0) return;
    const int status = std::atoi(raw.c_str() + at + 9);
    if (status >= 200) {
      result.status = status;
      result.body = raw.substr(end + 4);
      return;
    }
    at = end + 4;
  }
}

}  // namespace

HttpResult send_upload(std::uint16_t port, const std::string& head, std::uint64_t body_bytes,
                       bool whole_body_first, int timeout_ms) {
  HttpResult result;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // EINPROGRESS
  const bool expect = head.find("Expect: 100-continue") != std::string::npos;
  const std::string chunk(64 * 1024, 'y');
  std::string out = head;                // bytes still to send now
  std::uint64_t body_left = body_bytes;  // body bytes not yet queued in `out`
  bool may_send_body = !expect;
  bool sending = true;
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (sending && out.empty() && may_send_body && body_left > 0) {
      const auto n = std::min<std::uint64_t>(body_left, chunk.size());
      out.assign(chunk, 0, n);
      body_left -= n;
    }
    const bool want_write = sending && !out.empty();
    // A client that sends everything first reads only before the body (a 100 Continue) and
    // after it.
    const bool want_read = !whole_body_first || !may_send_body || !want_write;
    pollfd p{fd, static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 100) < 0) break;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[16384];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        in.append(buf, static_cast<std::size_t>(n));
        // A 100 Continue lets the body go; any final answer stops it.
        if (in.find("\r\n\r\n") != std::string::npos) {
          if (in.starts_with("HTTP/1.1 100") && in.find("HTTP/1.1 ", 1) == std::string::npos) {
            may_send_body = true;
          } else {
            sending = false;
          }
        }
        continue;
      }
      if (n == 0) break;  // the server closed: the answer is whole
      if (errno == EAGAIN || errno == EINTR) continue;
      result.error = errno == ECONNRESET ? "reset" : std::strerror(errno);
      break;
    }
    if (want_write && (p.revents & POLLOUT)) {
      const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        if (whole_body_first) {
          result.error = errno == ECONNRESET || errno == EPIPE ? "reset" : std::strerror(errno);
          ::close(fd);
          return result;
        }
        sending = false;  // the server stopped reading; its answer may still be readable
      }
    }
  }
  ::close(fd);
  parse_final_answer(in, result);
  if (result.status == 0 && result.error.empty()) result.error = "no answer";
  return result;
}

}  // namespace loa::test
