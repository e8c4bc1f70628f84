// The async HTTP client that gateway adapters send through: one libcurl multi handle driven by
// the io_context (curl's multi_socket interface, in the pattern of curl's asiohiper.cpp), so
// thousands of requests share a few kept-alive connections without a thread each.
//
// Contract:
//  - async_request completes exactly once, with the handler's associated executor (the
//    io_context's by default), never inline from async_request itself. On success `ec` is
//    empty and the response holds any HTTP status (a 500 is a success here: the adapter
//    classifies statuses). On failure `ec` is an HttpErrc and the response holds what had
//    arrived (possibly partial) plus curl's message in `detail`, for logs.
//  - Connections are kept alive and reused across requests; at most max_total_connections are
//    open in all. At most max_connections_per_host requests to one origin (scheme://host:port
//    as spelled in the URL), or the request's own HttpRequest::max_connections, are handed to
//    curl at once, so at most that many connections are open to it; the rest wait in the
//    client in arrival order, their timeout running, and one is handed over as soon as another
//    to that origin finishes (so all the connections stay busy). A waiting request whose
//    timeout ran out fails with kTimeout when its turn comes.
//  - Every request has a timeout (HttpRequest::timeout, the whole exchange, connect included);
//    it must be positive. Responses larger than max_response_bytes (headers and body) fail
//    with kTooLarge. At most max_in_flight requests are accepted at once; one more completes
//    at once with kBusy (push-back, nothing is queued without bound).
//  - TLS peers are verified (certificate and host name) unless verify_tls is false. Only http
//    and https URLs are accepted; redirects are not followed.
//  - Proxies come from the environment as libcurl reads it (http_proxy, https_proxy,
//    all_proxy, no_proxy); nothing here overrides them.
//  - curl adds Host, Accept, Content-Length and User-Agent; a POST without a Content-Type is
//    sent as application/x-www-form-urlencoded (curl's default). "Expect: 100-continue" is
//    suppressed unless the request sets Expect itself (curl 7.88 adds it to bodies over 1 MB,
//    then waits up to a second for servers that never answer 100).
//  - close() completes every request in flight with kClosed (a request whose answer was
//    already complete keeps it), and every later request too; it is idempotent. No callback
//    runs after close() returns except those completions. The destructor calls close().
//    Per-operation cancellation (cancellation slots) is not supported: use timeouts or close().
//
// Lifetime: the curl state lives in an object shared with the client's pending handlers, so
// the client may be destroyed with work in flight, and the io_context may be stopped with
// handlers pending (the state is then freed when the io_context destroys them).
//
// Thread-safety: async_request, close and stats are safe from any thread, with the io_context
// run on any number of threads; curl is only ever touched on the client's strand.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace loa::adapters {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "POST";  // an HTTP token: GET, POST, PUT, DELETE, PATCH, HEAD, ...
  std::string url;              // http:// or https://
  HttpHeaders headers;          // sent in this order; no CR or LF in names or values
  std::string body;             // sent as is (with Content-Length) unless empty for GET/HEAD
  std::chrono::milliseconds timeout{10000};
  // At most this many requests to the request's origin are handed to curl at once (so at most
  // this many connections to it); 0 means the client's max_connections_per_host. Values over
  // max_total_connections count as that. The latest request to an origin sets its cap.
  std::size_t max_connections = 0;
  // Never on the wire twice. libcurl re-sends a request whose reused (kept-alive) connection
  // died before any answer, on a new connection and without telling ("Connection died, retrying
  // a fresh connect"): right for an idle connection the server had closed, wrong for a server
  // that read the request, acted on it and died. Set for a send with no idempotency key: such a
  // re-send is stopped, and a request that went out once and got no answer fails with kOther
  // (never kConnect, as a refused re-send would report it: the server may have acted on it).
  bool at_most_once = false;
};

struct HttpResponse {
  long status = 0;      // 0 when no status line arrived
  HttpHeaders headers;  // of the final response, in order, names as the server spelled them
  std::string body;
  std::string detail;  // curl's message when the request failed; empty on success

  // The first header of that name (ASCII case-insensitive), or "" when there is none.
  std::string_view header(std::string_view name) const;
};

// Why a request failed. Status codes are not errors; the adapter classifies them.
enum class HttpErrc {
  kTimeout = 1,     // HttpRequest::timeout ran out (connect included)
  kConnect,         // refused or unreachable
  kTls,             // handshake failed, or the peer's certificate did not verify
  kResolve,         // the host (or proxy) name did not resolve
  kTooLarge,        // the response exceeded max_response_bytes
  kClosed,          // close() was called
  kOther,           // anything else from the transport: reset, empty reply, bad framing, ...
  kInvalidRequest,  // a bad URL, a scheme other than http(s), a bad method, header or timeout
  kBusy,            // max_in_flight requests are already in flight
  // The whole request was sent, then the connection was closed or reset before a status line
  // came: the server may have acted on it. (A timeout stays kTimeout.)
  kNoAnswer,
};

const boost::system::error_category& http_category();
boost::system::error_code make_error_code(HttpErrc e);

struct HttpClientOptions {
  long max_connections_per_host = 8;  // per origin, unless a request sets max_connections
  long max_total_connections = 64;    // CURLMOPT_MAX_TOTAL_CONNECTIONS and the idle cache size
  std::size_t max_response_bytes = 1 << 20;
  bool verify_tls = true;
  std::string user_agent = "loa/0.1";
  std::size_t max_in_flight = 10000;
};

// Counters since creation.
struct HttpClientStats {
  std::uint64_t requests = 0;        // async_request calls
  std::uint64_t rejected = 0;        // of which refused with kBusy
  std::size_t in_flight = 0;         // accepted and not yet completed
  std::size_t open_connections = 0;  // sockets open now, idle kept-alive ones included
  std::size_t peak_connections = 0;  // the most ever open at once
};

class HttpClient : public std::enable_shared_from_this<HttpClient> {
 public:
  using Signature = void(boost::system::error_code, HttpResponse);
  using Handler = boost::asio::any_completion_handler<Signature>;

  // Throws std::invalid_argument for non-positive limits, std::runtime_error when curl cannot
  // be initialised.
  static std::shared_ptr<HttpClient> create(boost::asio::io_context& io,
                                            HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  template <class Token>
  auto async_request(HttpRequest request, Token&& token) {
    return boost::asio::async_initiate<Token, Signature>(
        [self = shared_from_this()](auto handler, HttpRequest req) {
          self->start(std::move(req), Handler(std::move(handler)));
        },
        token, std::move(request));
  }

  void close();
  HttpClientStats stats() const;
  const HttpClientOptions& options() const { return options_; }

 private:
  struct State;  // the curl multi handle and everything it drives, shared with pending handlers
  HttpClient(boost::asio::io_context& io, HttpClientOptions options);
  void start(HttpRequest request, Handler handler);

  boost::asio::io_context& io_;
  const HttpClientOptions options_;
  std::shared_ptr<State> state_;
};

}  // namespace loa::adapters

template <>
struct boost::system::is_error_code_enum<loa::adapters::HttpErrc> : std::true_type {};
