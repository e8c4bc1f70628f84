// The daemon's HTTP/1.1 server (Boost.Beast): API, webhooks, dashboard, metrics and probes.
//
// Contract:
//  - Every request is bounded: header block (431 beyond), body (413 beyond), the time to
//    receive its header block (`header_timeout`, against slow clients) and then its body
//    (`read_timeout`); a request too slow is closed. Malformed requests get 400. None of these
//    stops the server.
//  - A refusal is answered, never reset: after a 4xx/503 that leaves part of the request
//    unread, the server half-closes and reads and discards what the client still sends, for at
//    most `linger`, before it closes (a close with unread bytes would send a TCP reset, which
//    can destroy the answer before the client reads it). 413, 431, 400 and 503 bodies are
//    JSON with a Vietnamese message first.
//  - At most `max_connections` are open, and `max_connections_per_client` from one address.
//    Beyond the first cap, `reserved_connections` more are admitted for the probe routes only
//    (probe_route: /healthz, /readyz), so that a full server still says whether it is alive;
//    any other request on them gets 503. Beyond both, or over the per-client cap, a connection
//    is answered 503 and closed.
//  - Every refusal (413, 431, 400, 503, a header too slow, a failed accept) and every one a
//    route reports through refusals() is counted and logged at a bounded rate
//    (engine/refusal_log.hpp).
//  - Routes are exact paths (the query string is ignored for matching) per method; a known
//    path with another method gets 405, an unknown one 404. A prefix route (route_prefix)
//    takes every path under its prefix that has no exact route, whatever the method; the
//    longest prefix wins (the REST API, engine/api.hpp, routes its own paths this way).
//  - An upload route (upload_route) streams its body to a file in `spool_dir` instead of
//    memory, with a limit of its own (413 beyond). `admit` sees the header block first and
//    may refuse (e.g. 401) before a byte of the body is read; `Expect: 100-continue` is
//    answered once admitted. The handler owns the file and removes it when done. All uploads
//    in progress together hold at most `upload_spool_limit` bytes (each its Content-Length,
//    or its limit when chunked); one more gets 503 with Retry-After.
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
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "engine/config.hpp"
#include "engine/refusal_log.hpp"

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
  std::chrono::milliseconds header_timeout{5000};
  std::size_t max_connections_per_client = 384;
  std::size_t reserved_connections = 16;
  std::chrono::milliseconds linger{5000};
  std::uint64_t upload_spool_limit = 768ull * 1024 * 1024;  // all uploads in progress
  RefusalLogOptions refusal_log;

  static HttpServerOptions from(const Config& config);
  // Lowers max_connections so that every connection, the reserved ones and
  // kDescriptorsBesideConnections more fit in `open_files` descriptors (RLIMIT_NOFILE): past
  // it accept(2) fails with EMFILE and nobody gets an answer, not even a 503.
  void fit_to(std::uint64_t open_files);
};

// Descriptors the daemon holds besides HTTP connections: SQLite and its journal, Redis
// connections, the gateways' HTTP client, spool files, logs. A generous guess, not a count.
inline constexpr std::uint64_t kDescriptorsBesideConnections = 128;

// A response with a body and content type; sets Content-Length and Server.
HttpResponse make_response(unsigned status, std::string body,
                           std::string content_type = "application/json");

class HttpServer : public std::enable_shared_from_this<HttpServer> {
 public:
  static std::shared_ptr<HttpServer> create(boost::asio::io_context& io,
                                            HttpServerOptions options);

  void route(boost::beast::http::verb method, std::string path, HttpRoute handler);
  // A route also served on the reserved connections when the server is full (health probes).
  void probe_route(boost::beast::http::verb method, std::string path, HttpRoute handler);
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
  // Where routes report the requests they refuse (a forged webhook), to be counted and logged
  // at a bounded rate.
  RefusalLog& refusals() { return refusals_; }

 private:
  class Session;
  friend class Session;
  HttpServer(boost::asio::io_context& io, HttpServerOptions options);
  enum class Admission { kServe, kProbesOnly, kRefuseFull, kRefuseClient };
  void accept();
  void flush_refusals();
  Admission admit(const boost::asio::ip::address& client);
  // The registered route a path falls under, for metric labels and logs (never the raw path,
  // which a client chooses).
  std::string route_label(std::string_view path) const;
  bool is_probe(std::string_view path) const;
  bool reserve_spool(std::uint64_t bytes);
  void release_spool(std::uint64_t bytes);
  void dispatch(const HttpRequest& request, HttpRespond respond) const;
  const HttpUploadRoute* upload_for(const HttpRequest& head) const;
  void session_opened(const std::shared_ptr<Session>& s, bool refused);
  void session_closed(Session* s, bool refused,
                      const std::optional<boost::asio::ip::address>& client);

  // Connections being refused (answered 503, lingering) at once, at most.
  static constexpr std::size_t kMaxRefusing = 256;

  boost::asio::io_context& io_;
  HttpServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer grace_timer_;
  boost::asio::steady_timer flush_timer_;
  RefusalLog refusals_;
  std::map<std::string, std::map<boost::beast::http::verb, HttpRoute>> routes_;
  std::map<std::string, HttpRoute> prefix_routes_;
  std::set<std::string, std::less<>> probe_paths_;
  std::function<void(const std::string&, unsigned)> observer_;
  std::map<std::pair<std::string, boost::beast::http::verb>, HttpUploadRoute> uploads_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::size_t> connections_{0};  // every session, refused ones too
  std::atomic<std::size_t> refusing_{0};
  std::atomic<std::uint64_t> spooling_{0};  // bytes reserved by uploads in progress
  std::atomic<bool> stopping_{false};

  std::mutex sessions_mutex_;
  std::map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  std::map<boost::asio::ip::address, std::size_t> per_client_;  // guarded by sessions_mutex_
  std::size_t admitted_ = 0;  // sessions served or probes-only; guarded by sessions_mutex_
  std::function<void()> on_drained_;                     // guarded by sessions_mutex_
};

}  // namespace loa::engine
