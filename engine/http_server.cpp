#include "engine/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <unistd.h>

#include "engine/version.hpp"
#include "templates/campaign_estimate.hpp"
#include "templates/utf8.hpp"

namespace loa::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

HttpServerOptions HttpServerOptions::from(const Config& c) {
  HttpServerOptions o;
  o.host = c.http_host();
  o.port = c.http_port();
  o.max_connections = static_cast<std::size_t>(c.http.max_connections);
  o.header_limit = static_cast<std::uint32_t>(c.http.header_limit_bytes);
  o.body_limit = static_cast<std::uint64_t>(c.http.body_limit_bytes);
  o.read_timeout = std::chrono::milliseconds(c.http.read_timeout_ms);
  o.header_timeout = std::chrono::milliseconds(c.http.header_timeout_ms);
  o.max_connections_per_client = static_cast<std::size_t>(c.http.max_connections_per_client);
  o.reserved_connections = static_cast<std::size_t>(c.http.reserved_connections);
  o.linger = std::chrono::milliseconds(c.http.linger_ms);
  o.upload_spool_limit = static_cast<std::uint64_t>(c.http.upload_spool_limit_bytes);
  o.refusal_log.lines_per_interval = static_cast<std::size_t>(c.http.refusal_log_lines);
  o.refusal_log.interval = std::chrono::milliseconds(c.http.refusal_log_interval_ms);
  return o;
}

void HttpServerOptions::fit_to(std::uint64_t open_files) {
  const std::uint64_t beside = kDescriptorsBesideConnections + reserved_connections;
  const std::uint64_t room = open_files > beside ? open_files - beside : 1;
  if (max_connections > room) max_connections = static_cast<std::size_t>(room);
}

HttpResponse make_response(unsigned status, std::string body, std::string content_type) {
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::server, std::string("loa/") + kVersion);
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

namespace {

// A JSON string's contents: quotes and backslashes escaped, control characters dropped, and
// bytes that are not UTF-8 (a client's path may hold any) shown as U+FFFD, so the answer
// stays valid JSON whatever the client sent.
void append_json_text(std::string& out, std::string_view text) {
  while (!text.empty()) {
    const std::size_t bad = templates::find_invalid_utf8(text);
    for (char c : text.substr(0, bad)) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    if (bad == std::string_view::npos) return;
    out += "\uFFFD";
    text.remove_prefix(bad + 1);
  }
}

std::string json_error(std::string_view message) {
  std::string out = R"({"error":")";
  append_json_text(out, message);
  return out + "\"}";
}

// The refusals that clients read: Vietnamese first (the department's officers read them),
// then the English that tools and logs match on.
HttpResponse body_too_large(std::uint64_t limit) {
  return make_response(
      413, json_error("Nội dung gửi lên quá lớn: tối đa " + templates::group_digits(limit, '.') +
                      " byte (request body too large)"));
}
HttpResponse busy() {
  return make_response(503, json_error("Máy chủ đang bận, xin thử lại sau ít phút "
                                       "(too many connections)"));
}

HttpResponse uploads_full() {
  auto res = make_response(503, json_error("Máy chủ đang nhận nhiều tệp cùng lúc, xin thử lại "
                                           "sau ít phút (too many uploads in progress)"));
  res.set(http::field::retry_after, "60");
  return res;
}

constexpr std::string_view kConnectionRoute = "(connection)";

}  // namespace

// One connection: read a request, hand it to its route, write the answer, repeat.
class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer> server, Admission admission,
          std::optional<asio::ip::address> client)
      : stream_(std::move(socket)),
        server_(std::move(server)),
        admission_(admission),
        client_(std::move(client)) {}
  ~Session() {
    release_spool();
    if (!closed_) server_->session_closed(this, refused(), client_);
  }

  bool refused() const {
    return admission_ == Admission::kRefuseFull || admission_ == Admission::kRefuseClient;
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->refused()) {
        self->keep_alive_ = false;
        self->linger_ = true;  // the client may have sent its request already
        return self->write(busy());
      }
      self->read();
    });
  }

  // Shutdown: an idle connection closes now, a busy one after its response. One that has
  // begun to send a request counts as busy: closing it would lose that request.
  void close_when_idle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      const bool receiving =
          !self->busy_ && !self->lingering_ && self->parser_ && self->parser_->got_some();
      if (self->busy_ || receiving) {
        self->keep_alive_ = false;
      } else {
        self->close();
      }
    });
  }

  void force_close() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  void read() {
    busy_ = false;
    route_.clear();
    if (server_->stopping_) return close();
    parser_.emplace();
    parser_->header_limit(server_->options_.header_limit);
    // The body limit depends on the route (uploads have their own): it is set once the
    // header is read. Beast checks Content-Length against it when the header completes.
    parser_->body_limit(boost::none);
    // One deadline for the whole header block, however it trickles in: a client that sends a
    // byte every few seconds (slowloris) is cut at header_timeout, not kept for ever.
    stream_.expires_after(
        std::min(server_->options_.header_timeout, server_->options_.read_timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  // The route label of the request being read, once its header is known.
  std::string route() const { return route_.empty() ? std::string(kConnectionRoute) : route_; }

  // Answers a refusal and closes the connection, lingering to read the rest of the request.
  void refuse(RefusalReason reason, std::string_view detail, HttpResponse res) {
    server_->refusals_.refused(route(), reason, detail);
    busy_ = true;
    keep_alive_ = false;
    linger_ = true;
    write(std::move(res));
  }

  // A failed read: quietly close, or answer what was wrong and close.
  void read_failed(error_code ec) {
    if (ec == beast::error::timeout && parser_ && parser_->got_some() &&
        !parser_->is_header_done()) {
      server_->refusals_.refused(kConnectionRoute, RefusalReason::kHeaderTimeout,
                                 "the header block did not arrive in time");
      return close();
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::eof)
      return close();
    if (ec == http::error::body_limit)
      return refuse(RefusalReason::kBodyTooLarge, "request body too large",
                    body_too_large(body_limit_));
    if (ec == http::error::header_limit)
      return refuse(RefusalReason::kHeaderTooLarge, "request header fields too large",
                    make_response(431, json_error("Phần đầu của yêu cầu quá lớn "
                                                  "(request header fields too large)")));
    if (ec != http::error::partial_message &&
        ec.category() == http::make_error_code(http::error::bad_target).category())
      return refuse(
          RefusalReason::kMalformed, ec.message(),
          make_response(
              400, json_error("Yêu cầu không hợp lệ (malformed request: " + ec.message() + ")")));
    return close();
  }

  void on_header(error_code ec, std::size_t) {
    if (ec) return read_failed(ec);
    busy_ = true;
    std::string_view target = parser_->get().target();
    route_ = server_->route_label(target.substr(0, target.find('?')));
    if (admission_ == Admission::kProbesOnly) {
      if (!server_->is_probe(target.substr(0, target.find('?'))))
        return refuse(RefusalReason::kTooManyConnections, "only probes on a reserved slot", busy());
      keep_alive_ = false;  // free the reserved slot after the probe
    }
    const HttpUploadRoute* upload = server_->upload_for(parser_->get());
    body_limit_ = upload ? upload->body_limit : server_->options_.body_limit;
    if (auto length = parser_->content_length(); length && *length > body_limit_)
      return read_failed(http::error::body_limit);
    parser_->body_limit(body_limit_);
    if (upload) return start_upload(*upload);
    continue_if_expected(parser_->get(), [self = shared_from_this()] {
      self->stream_.expires_after(self->server_->options_.read_timeout);
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       beast::bind_front_handler(&Session::on_read, self));
    });
  }

  // A client that sent `Expect: 100-continue` waits for this before sending the body.
  template <class Next>
  void continue_if_expected(const HttpRequest& head, Next next) {
    if (!beast::iequals(head[http::field::expect], "100-continue")) return next();
    auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    stream_.expires_after(server_->options_.read_timeout);
    http::async_write(stream_, *interim,
                      [self = shared_from_this(), interim, next](error_code ec, std::size_t) {
                        if (ec) return self->close();
                        next();
                      });
  }

  void on_read(error_code ec, std::size_t) {
    if (ec) return read_failed(ec);
    request_ = parser_->release();
    keep_alive_ = keep_alive_ && request_.keep_alive();
    stream_.expires_never();  // the route decides how long it takes; shutdown bounds it
    server_->dispatch(request_, make_respond());
  }

  HttpRespond make_respond() {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    std::string_view target = request_.target();
    std::string path(target.substr(0, target.find('?')));
    return [self = shared_from_this(), answered, path = std::move(path)](HttpResponse res) {
      if (answered->exchange(true)) {
        spdlog::error("http: a route answered twice; the second answer is dropped");
        return;
      }
      if (self->server_->observer_) self->server_->observer_(path, res.result_int());
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->write(std::move(res));
      });
    };
  }

  // Upload routes: admit on the header, then stream the body into a spool file, with the
  // read timeout applied to each read (an idle limit) rather than to the whole upload.
  void start_upload(const HttpUploadRoute& route) {
    request_ = parser_->get();  // the header block; the body stays empty
    keep_alive_ = keep_alive_ && request_.keep_alive();
    if (route.admit) {
      if (auto refusal = route.admit(request_)) {
        // The body is still on its way: linger so that the client reads the refusal.
        keep_alive_ = false;
        linger_ = true;
        return write(std::move(*refusal));
      }
    }
    // Every upload in progress holds its size (or its limit, when the size is not announced)
    // against http.upload_spool_limit_bytes: six uploads at once spooled 888 MB before.
    const std::uint64_t size = parser_->content_length().value_or(route.body_limit);
    if (!server_->reserve_spool(size))
      return refuse(RefusalReason::kUploadsFull, "http.upload_spool_limit_bytes reached",
                    uploads_full());
    spool_reserved_ = size;
    upload_ = &route;
    upload_parser_.emplace(std::move(*parser_));
    parser_.reset();
    upload_parser_->body_limit(route.body_limit);
    static std::atomic<std::uint64_t> sequence{0};
    error_code ec;
    std::filesystem::create_directories(route.spool_dir, ec);
    upload_file_ = route.spool_dir / ("upload-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(++sequence) + ".part");
    upload_parser_->get().body().open(upload_file_.c_str(), beast::file_mode::write, ec);
    if (ec) {
      spdlog::error("http: cannot spool an upload to {}: {}", upload_file_.string(),
                    ec.message());
      keep_alive_ = false;
      linger_ = true;
      return write(make_response(500, json_error("Không lưu được tệp tải lên "
                                                 "(cannot store the upload)")));
    }
    continue_if_expected(request_, [self = shared_from_this()] { self->read_upload(); });
  }

  void read_upload() {
    stream_.expires_after(server_->options_.read_timeout);
    http::async_read_some(stream_, buffer_, *upload_parser_,
                          beast::bind_front_handler(&Session::on_upload_read, shared_from_this()));
  }

  void on_upload_read(error_code ec, std::size_t) {
    if (!ec && !upload_parser_->is_done()) return read_upload();
    error_code ignored;
    upload_parser_->get().body().close();
    upload_parser_.reset();
    if (ec) {
      std::filesystem::remove(upload_file_, ignored);
      return read_failed(ec);
    }
    stream_.expires_never();
    upload_->handle(request_, upload_file_, make_respond());
  }

  void write(HttpResponse res) {
    if (server_->stopping_) keep_alive_ = false;
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(res));
    stream_.expires_after(server_->options_.read_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(error_code ec, std::size_t) {
    response_.reset();
    if (ec) return close();
    release_spool();
    if (!keep_alive_) return linger_ ? linger() : close();
    upload_ = nullptr;
    read();
  }

  // After a refusal that left part of the request unread: half-close (the client sees the
  // end of the answer), then read and discard until the client closes or `linger` runs out.
  // Closing at once with unread bytes would make the kernel send a reset, which can destroy
  // the answer in the client's receive buffer before it is read: the 413 becomes
  // "connection reset by peer". Apache and nginx linger the same way (lingering_close).
  void linger() {
    busy_ = false;
    lingering_ = true;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // One deadline for all the draining. A connection refused for the caps lingers briefly:
    // a flood of them must not hold descriptors for long.
    stream_.expires_after(refused() ? std::min(server_->options_.linger, kRefusedLinger)
                                    : server_->options_.linger);
    drain();
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kDrainChunk),
                            [self = shared_from_this()](error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  // Closing ends the connection's accounting at once, even if a route still holds the
  // session to answer later: shutdown's grace period must not wait on such a route.
  void close() {
    if (closed_) return;
    closed_ = true;
    release_spool();
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    server_->session_closed(this, refused(), client_);
  }

  void release_spool() {
    server_->release_spool(spool_reserved_);
    spool_reserved_ = 0;
  }

  static constexpr std::size_t kDrainChunk = 64 * 1024;
  static constexpr std::chrono::milliseconds kRefusedLinger{1000};

  beast::tcp_stream stream_;
  std::shared_ptr<HttpServer> server_;
  Admission admission_;
  std::optional<asio::ip::address> client_;  // admitted: counted in per_client_ while open
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::request_parser<http::file_body>> upload_parser_;
  const HttpUploadRoute* upload_ = nullptr;
  std::uint64_t body_limit_ = 0;
  std::uint64_t spool_reserved_ = 0;  // held against upload_spool_limit while uploading
  std::string route_;                 // route_label() of the request, once its header is read
  std::filesystem::path upload_file_;
  HttpRequest request_;
  std::shared_ptr<HttpResponse> response_;
  bool busy_ = false;
  bool keep_alive_ = true;
  bool linger_ = false;  // close by lingering (a refusal left the request unread)
  bool lingering_ = false;
  bool closed_ = false;
};

std::shared_ptr<HttpServer> HttpServer::create(asio::io_context& io, HttpServerOptions options) {
  return std::shared_ptr<HttpServer>(new HttpServer(io, std::move(options)));
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options)
    : io_(io),
      options_(std::move(options)),
      acceptor_(asio::make_strand(io)),
      grace_timer_(acceptor_.get_executor()),
      flush_timer_(acceptor_.get_executor()),
      refusals_(options_.refusal_log) {}

void HttpServer::route(http::verb method, std::string path, HttpRoute handler) {
  routes_[std::move(path)][method] = std::move(handler);
}

void HttpServer::probe_route(http::verb method, std::string path, HttpRoute handler) {
  probe_paths_.insert(path);
  route(method, std::move(path), std::move(handler));
}

bool HttpServer::is_probe(std::string_view path) const { return probe_paths_.contains(path); }

std::string HttpServer::route_label(std::string_view path) const {
  if (routes_.contains(std::string(path))) return std::string(path);
  for (const auto& [key, _] : uploads_)
    if (key.first == path) return key.first;
  for (auto p = prefix_routes_.rbegin(); p != prefix_routes_.rend(); ++p)
    if (path.starts_with(p->first)) return p->first;
  return "(unrouted)";
}

bool HttpServer::reserve_spool(std::uint64_t bytes) {
  std::uint64_t now = spooling_.load();
  do {
    if (bytes > options_.upload_spool_limit || now > options_.upload_spool_limit - bytes)
      return false;
  } while (!spooling_.compare_exchange_weak(now, now + bytes));
  return true;
}

void HttpServer::release_spool(std::uint64_t bytes) {
  if (bytes) spooling_.fetch_sub(bytes);
}

void HttpServer::route_prefix(std::string prefix, HttpRoute handler) {
  prefix_routes_[std::move(prefix)] = std::move(handler);
}

void HttpServer::upload_route(http::verb method, std::string path, HttpUploadRoute upload) {
  uploads_[{std::move(path), method}] = std::move(upload);
}

void HttpServer::observe(std::function<void(const std::string&, unsigned)> observer) {
  observer_ = std::move(observer);
}

const HttpUploadRoute* HttpServer::upload_for(const HttpRequest& head) const {
  if (uploads_.empty()) return nullptr;
  std::string_view target = head.target();
  auto it = uploads_.find({std::string(target.substr(0, target.find('?'))), head.method()});
  return it == uploads_.end() ? nullptr : &it->second;
}

void HttpServer::start() {
  error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  tcp::endpoint endpoint;
  if (ec) {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port));
    endpoint = *results.begin();
  } else {
    endpoint = tcp::endpoint(address, options_.port);
  }
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    self->accept();
    self->flush_refusals();
  });
}

// Ends the refusal log's intervals on time, so that "… and N more" is logged even when the
// flood stops.
void HttpServer::flush_refusals() {
  flush_timer_.expires_after(options_.refusal_log.interval);
  flush_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->stopping_) return;
    self->refusals_.flush();
    self->flush_refusals();
  });
}

HttpServer::Admission HttpServer::admit(const asio::ip::address& client) {
  std::lock_guard lock(sessions_mutex_);
  auto& from_client = per_client_[client];
  if (from_client >= options_.max_connections_per_client) {
    if (from_client == 0) per_client_.erase(client);
    return Admission::kRefuseClient;
  }
  if (admitted_ >= options_.max_connections + options_.reserved_connections) {
    if (from_client == 0) per_client_.erase(client);
    return Admission::kRefuseFull;
  }
  ++from_client;
  return admitted_++ >= options_.max_connections ? Admission::kProbesOnly : Admission::kServe;
}

void HttpServer::accept() {
  acceptor_.async_accept(
      asio::make_strand(io_), [self = shared_from_this()](error_code ec, tcp::socket socket) {
        if (self->stopping_ || !self->acceptor_.is_open()) return;
        if (ec) {
          self->refusals_.refused("(accept)", RefusalReason::kAcceptFailed, ec.message());
          // Out of descriptors or similar: wait a moment instead of spinning.
          self->grace_timer_.expires_after(std::chrono::milliseconds(100));
          self->grace_timer_.async_wait([self](error_code e) {
            if (!e && !self->stopping_) self->accept();
          });
          return;
        }
        error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        if (peer_ec) return self->accept();  // gone already
        auto admission = self->admit(peer.address());
        std::optional<asio::ip::address> client;
        if (admission == Admission::kServe || admission == Admission::kProbesOnly) {
          client = peer.address();
        } else {
          const bool from_client = admission == Admission::kRefuseClient;
          self->refusals_.refused(
              kConnectionRoute,
              from_client ? RefusalReason::kTooManyFromClient : RefusalReason::kTooManyConnections,
              from_client ? "http.max_connections_per_client reached"
                          : "http.max_connections and the reserved connections are all taken");
          // Refused connections answer 503 and linger briefly; beyond kMaxRefusing of them
          // at once a flood gets no answer, so that it cannot use up the descriptors.
          if (self->refusing_.load() >= kMaxRefusing) {
            error_code ignored;
            socket.close(ignored);
            return self->accept();
          }
        }
        auto session = std::make_shared<Session>(std::move(socket), self, admission, client);
        self->session_opened(session, !client);
        session->run();
        self->accept();
      });
}

void HttpServer::session_opened(const std::shared_ptr<Session>& s, bool refused) {
  std::lock_guard lock(sessions_mutex_);
  sessions_[s.get()] = s;
  ++connections_;
  if (refused) ++refusing_;
}

void HttpServer::session_closed(Session* s, bool refused,
                                const std::optional<asio::ip::address>& client) {
  std::function<void()> done;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(s);
    --connections_;
    if (refused) --refusing_;
    if (client) {
      --admitted_;
      if (auto it = per_client_.find(*client); it != per_client_.end() && --it->second == 0)
        per_client_.erase(it);
    }
    if (stopping_ && sessions_.empty()) done = std::move(on_drained_);
  }
  if (done) {
    asio::post(acceptor_.get_executor(), [self = shared_from_this(), done = std::move(done)] {
      self->grace_timer_.cancel();
      done();
    });
  }
}

void HttpServer::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this(), grace,
                                            done = std::move(done)]() mutable {
    if (self->stopping_.exchange(true)) return;
    error_code ignored;
    self->acceptor_.close(ignored);
    self->flush_timer_.cancel();
    self->refusals_.flush(RefusalLog::Clock::now(), true);
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(self->sessions_mutex_);
      for (auto& [_, weak] : self->sessions_)
        if (auto s = weak.lock()) live.push_back(std::move(s));
      if (live.empty()) {
        if (done) asio::post(self->acceptor_.get_executor(), std::move(done));
        return;
      }
      self->on_drained_ = std::move(done);
    }
    spdlog::info("http: stopping; {} connection(s) open, up to {} ms to finish", live.size(),
                 grace.count());
    for (auto& s : live) s->close_when_idle();
    self->grace_timer_.expires_after(grace);
    self->grace_timer_.async_wait([self](error_code ec) {
      if (ec) return;
      std::vector<std::shared_ptr<Session>> left;
      {
        std::lock_guard lock(self->sessions_mutex_);
        for (auto& [_, weak] : self->sessions_)
          if (auto s = weak.lock()) left.push_back(std::move(s));
      }
      if (!left.empty())
        spdlog::warn("http: grace period over; closing {} connection(s)", left.size());
      for (auto& s : left) s->force_close();
    });
  });
}

void HttpServer::dispatch(const HttpRequest& request, HttpRespond respond) const {
  std::string_view target = request.target();
  std::string path(target.substr(0, target.find('?')));
  auto it = routes_.find(path);
  if (it == routes_.end()) {
    // The longest prefix route that covers the path, if any.
    for (auto p = prefix_routes_.rbegin(); p != prefix_routes_.rend(); ++p) {
      if (!path.starts_with(p->first)) continue;
      try {
        p->second(request, respond);
      } catch (const std::exception& e) {
        spdlog::error("http: {} {} failed: {}", std::string(request.method_string()), path,
                      e.what());
        respond(make_response(500, json_error("internal error")));
      }
      return;
    }
    return respond(make_response(404, json_error("no such path: " + path)));
  }
  auto handler = it->second.find(request.method());
  if (handler == it->second.end()) {
    auto res = make_response(405, json_error("method not allowed"));
    std::string allow;
    for (auto& [verb, _] : it->second)
      allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(verb));
    res.set(http::field::allow, allow);
    return respond(std::move(res));
  }
  try {
    handler->second(request, respond);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed: {}", std::string(request.method_string()), path, e.what());
    respond(make_response(500, json_error("internal error")));
  }
}

}  // namespace loa::engine
