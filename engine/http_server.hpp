// The daemon's HTTP/1.1 server (Boost.Beast): API, webhooks, dashboard, metrics and probes.
//
// Contract:
//  - Every request is bounded: header block (431 beyond), body (413 beyond), and the time to
//    receive it (the connection is closed). Malformed requests get 400. None of these stops
//    the server.
//  - At most `max_connections` are open; one more is answered 503 and closed.
//  - Routes are exact paths (the query string is ignored for matching) per method; a known
//    path with another method gets 405, an unknown one 404. A prefix route (route_prefix)
//    takes every path under its prefix that has no exact route, whatever the method; the
//    longest prefix wins (the REST API, engine/api.hpp, routes its own paths this way).
//  - An upload route (upload_route) streams its body to a file in `spool_dir` instead of
//    memory, with a limit of its own (413 beyond). `admit` sees the header block first and
//    may refuse (e.g. 401) before a byte of the body is read; `Expect: 100-continue` is
//    answered once admitted. The handler owns the file and removes it when done.
//  - A route handler gets the request and a Respond callable that it must call exactly once,
//    from any thread, at any later time (a handler may answer asynchronously).
//  - shutdown(grace): stops accepting at once; idle keep-alive connections close; requests in
//    flight may finish until `grace` runs out, then every connection is closed. `done` runs
//    when the last connection is gone.
//
// Thread-safety: add routes before start(); afterwards every member is safe from any thread.
// Each connection runs on its own strand.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/config.hpp"

namespace loa::engine {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
using HttpRespond = std::function<void(HttpResponse)>;
using HttpRoute = std::function<void(const HttpRequest&, HttpRespond)>;

struct HttpUploadRoute {
  std::uint64_t body_limit = 64ull * 1024 * 1024;
  std::filesystem::path spool_dir;
  // Given the request with an empty body; an answer refuses the upload.
  std::function<std::optional<HttpResponse>(const HttpRequest& head)> admit;
  // `head` has an empty body; the body is in `file`, which the handler must remove.
  std::function<void(const HttpRequest& head, std::filesystem::path file, HttpRespond)> handle;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: pick a free port (see port())
  std::size_t max_connections = 1024;
  std::uint32_t header_limit = 8 * 1024;
  std::uint64_t body_limit = 1024 * 1024;
  std::chrono::milliseconds read_timeout{10000};

  static HttpServerOptions from(const Config& config);
};

// A response with a body and content type; sets Content-Length and Server.
HttpResponse make_response(unsigned status, std::string body,
                           std::string content_type = "application/json");

class HttpServer : public std::enable_shared_from_this<HttpServer> {
 public:
  static std::shared_ptr<HttpServer> create(boost::asio::io_context& io,
                                            HttpServerOptions options);

  void route(boost::beast::http::verb method, std::string path, HttpRoute handler);
  void route_prefix(std::string prefix, HttpRoute handler);
  void upload_route(boost::beast::http::verb method, std::string path, HttpUploadRoute upload);
  // Called with each routed request's path (no query) and its answer's status, on the thread
  // that answers (for metrics). Set before start().
  void observe(std::function<void(const std::string& path, unsigned status)> observer);
  // Binds and listens; throws boost::system::system_error when the address is unusable.
  void start();
  void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  std::uint16_t port() const { return port_.load(); }
  std::size_t connections() const { return connections_.load(); }

 private:
  class Session;
  friend class Session;
  HttpServer(boost::asio::io_context& io, HttpServerOptions options);
  void accept();
  void dispatch(const HttpRequest& request, HttpRespond respond) const;
  const HttpUploadRoute* upload_for(const HttpRequest& head) const;
  void session_opened(const std::shared_ptr<Session>& s);
  void session_closed(Session* s);

  boost::asio::io_context& io_;
  HttpServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer grace_timer_;
  std::map<std::string, std::map<boost::beast::http::verb, HttpRoute>> routes_;
  std::map<std::string, HttpRoute> prefix_routes_;
  std::function<void(const std::string&, unsigned)> observer_;
  std::map<std::pair<std::string, boost::beast::http::verb>, HttpUploadRoute> uploads_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::size_t> connections_{0};
  std::atomic<bool> stopping_{false};

  std::mutex sessions_mutex_;
  std::map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  std::function<void()> on_drained_;                     // guarded by sessions_mutex_
};

}  // namespace loa::engine
