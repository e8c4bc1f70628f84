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

std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
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

}  // namespace loa::test
