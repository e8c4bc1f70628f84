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
  return o;
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
std::string json_error(std::string_view message) {
  std::string out = R"({"error":")";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"}";
}
}  // namespace

// One connection: read a request, hand it to its route, write the answer, repeat.
class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer> server, bool reject)
      : stream_(std::move(socket)), server_(std::move(server)), reject_(reject) {}
  ~Session() {
    if (!closed_) server_->session_closed(this);
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reject_) {
        self->keep_alive_ = false;
        return self->write(make_response(503, json_error("too many connections")));
      }
      self->read();
    });
  }

  // Shutdown: an idle connection closes now, a busy one after its response.
  void close_when_idle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->busy_) {
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
    if (server_->stopping_) return close();
    parser_.emplace();
    parser_->header_limit(server_->options_.header_limit);
    // The body limit depends on the route (uploads have their own): it is set once the
    // header is read. Beast checks Content-Length against it when the header completes.
    parser_->body_limit(boost::none);
    stream_.expires_after(server_->options_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  // A failed read: quietly close, or answer what was wrong and close.
  void read_failed(error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::eof)
      return close();
    busy_ = true;
    keep_alive_ = false;
    if (ec == http::error::body_limit)
      return write(make_response(413, json_error("request body too large")));
    if (ec == http::error::header_limit)
      return write(make_response(431, json_error("request header fields too large")));
    if (ec != http::error::partial_message &&
        ec.category() == http::make_error_code(http::error::bad_target).category())
      return write(make_response(400, json_error("malformed request: " + ec.message())));
    return close();
  }

  void on_header(error_code ec, std::size_t) {
    if (ec) return read_failed(ec);
    busy_ = true;
    const HttpUploadRoute* upload = server_->upload_for(parser_->get());
    const std::uint64_t limit = upload ? upload->body_limit : server_->options_.body_limit;
    if (auto length = parser_->content_length(); length && *length > limit)
      return read_failed(http::error::body_limit);
    parser_->body_limit(limit);
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
    http::async_write(stream_, *interim,
                      [self = shared_from_this(), interim, next](error_code ec, std::size_t) {
                        if (ec) return self->close();
                        next();
                      });
  }

  void on_read(error_code ec, std::size_t) {
    if (ec) return read_failed(ec);
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    stream_.expires_never();  // the route decides how long it takes; shutdown bounds it
    server_->dispatch(request_, make_respond());
  }

  HttpRespond make_respond() {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    return [self = shared_from_this(), answered](HttpResponse res) {
      if (answered->exchange(true)) {
        spdlog::error("http: a route answered twice; the second answer is dropped");
        return;
      }
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->write(std::move(res));
      });
    };
  }

  // Upload routes: admit on the header, then stream the body into a spool file, with the
  // read timeout applied to each read (an idle limit) rather than to the whole upload.
  void start_upload(const HttpUploadRoute& route) {
    request_ = parser_->get();  // the header block; the body stays empty
    keep_alive_ = request_.keep_alive();
    if (route.admit) {
      if (auto refusal = route.admit(request_)) {
        keep_alive_ = false;
        return write(std::move(*refusal));
      }
    }
    upload_ = &route;
    upload_parser_.emplace(std::move(*parser_));
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
      return write(make_response(500, json_error("cannot store the upload")));
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
    if (ec || !keep_alive_) return close();
    read();
  }

  // Closing ends the connection's accounting at once, even if a route still holds the
  // session to answer later: shutdown's grace period must not wait on such a route.
  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    server_->session_closed(this);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<HttpServer> server_;
  bool reject_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::request_parser<http::file_body>> upload_parser_;
  const HttpUploadRoute* upload_ = nullptr;
  std::filesystem::path upload_file_;
  HttpRequest request_;
  std::shared_ptr<HttpResponse> response_;
  bool busy_ = false;
  bool keep_alive_ = true;
  bool closed_ = false;
};

std::shared_ptr<HttpServer> HttpServer::create(asio::io_context& io, HttpServerOptions options) {
  return std::shared_ptr<HttpServer>(new HttpServer(io, std::move(options)));
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options)
    : io_(io),
      options_(std::move(options)),
      acceptor_(asio::make_strand(io)),
      grace_timer_(acceptor_.get_executor()) {}

void HttpServer::route(http::verb method, std::string path, HttpRoute handler) {
  routes_[std::move(path)][method] = std::move(handler);
}

void HttpServer::route_prefix(std::string prefix, HttpRoute handler) {
  prefix_routes_[std::move(prefix)] = std::move(handler);
}

void HttpServer::upload_route(http::verb method, std::string path, HttpUploadRoute upload) {
  uploads_[{std::move(path), method}] = std::move(upload);
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
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void HttpServer::accept() {
  acceptor_.async_accept(
      asio::make_strand(io_), [self = shared_from_this()](error_code ec, tcp::socket socket) {
        if (self->stopping_ || !self->acceptor_.is_open()) return;
        if (ec) {
          spdlog::warn("http: accept failed: {}", ec.message());
          // Out of descriptors or similar: wait a moment instead of spinning.
          self->grace_timer_.expires_after(std::chrono::milliseconds(100));
          self->grace_timer_.async_wait([self](error_code e) {
            if (!e && !self->stopping_) self->accept();
          });
          return;
        }
        const bool reject = self->connections_.load() >= self->options_.max_connections;
        auto session = std::make_shared<Session>(std::move(socket), self, reject);
        self->session_opened(session);
        session->run();
        self->accept();
      });
}

void HttpServer::session_opened(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(sessions_mutex_);
  sessions_[s.get()] = s;
  ++connections_;
}

void HttpServer::session_closed(Session* s) {
  std::function<void()> done;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(s);
    --connections_;
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
