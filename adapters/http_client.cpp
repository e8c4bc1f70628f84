#include "adapters/http_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/append.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace loa::adapters {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class HttpCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "loa.http"; }
  std::string message(int ev) const override {
    switch (static_cast<HttpErrc>(ev)) {
      case HttpErrc::kTimeout:
        return "http request timed out";
      case HttpErrc::kConnect:
        return "http connection failed";
      case HttpErrc::kTls:
        return "tls handshake or verification failed";
      case HttpErrc::kResolve:
        return "host name did not resolve";
      case HttpErrc::kTooLarge:
        return "http response too large";
      case HttpErrc::kClosed:
        return "http client closed";
      case HttpErrc::kOther:
        return "http transport error";
      case HttpErrc::kInvalidRequest:
        return "invalid http request";
      case HttpErrc::kBusy:
        return "too many http requests in flight";
      case HttpErrc::kNoAnswer:
        return "connection closed after the request was sent, before any answer";
    }
    return "unknown http error";
  }
};

HttpErrc classify(CURLcode rc, bool too_large) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return HttpErrc::kTimeout;
    case CURLE_COULDNT_CONNECT:
      return HttpErrc::kConnect;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return HttpErrc::kResolve;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return HttpErrc::kTls;
    case CURLE_FILESIZE_EXCEEDED:
      return HttpErrc::kTooLarge;
    // Our write and header callbacks return short only when the response outgrew the cap
    // (or memory ran out, which stays kOther).
    case CURLE_WRITE_ERROR:
      return too_large ? HttpErrc::kTooLarge : HttpErrc::kOther;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return HttpErrc::kInvalidRequest;
    default:
      return HttpErrc::kOther;
  }
}

// RFC 9110 5.6.2: token = 1*tchar.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    const bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// curl sends header lines verbatim, so a CR or LF would smuggle in a header of its own.
bool is_field_value(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// "scheme://authority" of a URL, lowercased: requests with the same origin share curl's
// per-host connections (a different spelling of one host only splits the admission count;
// curl's own CURLMOPT_MAX_HOST_CONNECTIONS still holds).
std::string origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  const auto end = url.find_first_of("/?#", scheme == std::string_view::npos ? 0 : scheme + 3);
  std::string o(url.substr(0, end));
  for (char& c : o) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return o;
}

// Empty when the request may be handed to curl, else why not.
std::string invalid(const HttpRequest& r) {
  if (!is_token(r.method)) return "bad method";
  if (r.url.empty() || !is_field_value(r.url)) return "bad url";
  if (r.timeout.count() <= 0) return "timeout must be positive";
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name) || !is_field_value(value)) return "bad header " + name;
  }
  return {};
}

// One request from async_request to its completion.
// The handler is move-constructed in, never assigned: Boost 1.81's any_completion_handler
// move-assignment recurses without end (fixed in 1.82).
struct Transfer {
  Transfer(HttpRequest r, HttpClient::Handler h, asio::any_completion_executor w, std::size_t cap)
      : request(std::move(r)), handler(std::move(h)), work(std::move(w)), limit(cap) {}
  ~Transfer() { curl_slist_free_all(header_list); }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Counts n more bytes of response against the cap; false once it is exceeded.
  bool take(std::size_t n) {
    if (n > limit - received) {
      too_large = true;
      return false;
    }
    received += n;
    return true;
  }

  HttpRequest request;
  HttpClient::Handler handler;
  asio::any_completion_executor work;  // the handler's executor, kept busy until completion
  // When the request must have completed: set on arrival, so that waiting for a connection
  // (State::Origin) counts against HttpRequest::timeout as waiting inside curl did.
  std::chrono::steady_clock::time_point deadline;
  std::string origin;  // scheme://authority, the key of its State::Origin
  HttpResponse response;
  curl_slist* header_list = nullptr;
  std::array<char, CURL_ERROR_SIZE> error{};
  const std::size_t limit;
  std::size_t received = 0;  // header and body bytes
  bool too_large = false;
  int sends = 0;  // times libcurl was about to send the request (HttpRequest::at_most_once)
};

// A descriptor curl asked us to watch. A connection's socket is opened by us (the
// open-socket callback) and closed by us (the close-socket callback); any other descriptor
// (the threaded resolver's wake-up socketpair) is watched through a dup of curl's fd, so its
// number can never be reused under us, and dropped when curl says CURL_POLL_REMOVE.
struct Watch {
  Watch(asio::posix::stream_descriptor d, curl_socket_t f, bool c)
      : descriptor(std::move(d)), fd(f), connection(c) {}

  asio::posix::stream_descriptor descriptor;
  const curl_socket_t fd;  // curl's number for it
  const bool connection;
  int wanted = 0;        // CURL_POLL_IN and/or CURL_POLL_OUT
  bool reading = false;  // a wait_read is pending
  bool writing = false;  // a wait_write is pending
  bool closed = false;   // never touch the descriptor again
};

}  // namespace

const boost::system::error_category& http_category() {
  static const HttpCategory category;
  return category;
}

boost::system::error_code make_error_code(HttpErrc e) {
  return {static_cast<int>(e), http_category()};
}

std::string_view HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

// Everything curl touches. It lives as long as any handler of its own is pending (they hold
// it), so the HttpClient may go at any time. The atomics are read from any thread; every member
// after them is used only on `strand` (or in the destructor, when nothing else can run).
struct HttpClient::State : std::enable_shared_from_this<State> {
  State(asio::io_context& io, const HttpClientOptions& o)
      : options(o), io_ex(io.get_executor()), strand(asio::make_strand(io)), timer(strand) {}
  ~State() { shutdown(); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void init();
  void submit(std::unique_ptr<Transfer> t);
  bool begin(std::unique_ptr<Transfer> t);
  void release(const std::string& origin) noexcept;
  void complete(std::unique_ptr<Transfer> t, error_code ec);
  void shutdown() noexcept;

  bool configure(CURL* easy, Transfer& t);
  CURL* take_easy();
  void recycle_easy(CURL* easy);
  void act(curl_socket_t fd, int flags) noexcept;
  void finish_done() noexcept;
  void arm(const std::shared_ptr<Watch>& w);
  void on_ready(const std::shared_ptr<Watch>& w, int direction, error_code ec) noexcept;
  void drop(Watch& w) noexcept;
  void arm_timer(std::chrono::steady_clock::time_point at);
  void on_timer_fired(std::uint64_t generation, error_code ec) noexcept;

  // libcurl's callbacks: nothing may throw through them.
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp) noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* userp) noexcept;
  static curl_socket_t on_open(void* clientp, curlsocktype purpose,
                               curl_sockaddr* address) noexcept;
  static int on_close(void* clientp, curl_socket_t fd) noexcept;
  static int on_prereq(void* clientp, char* peer, char* local, int peer_port,
                       int local_port) noexcept;
  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* userp) noexcept;
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* userp) noexcept;

  const HttpClientOptions options;
  std::atomic<bool> closed{false};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::size_t> peak_connections{0};

  const asio::io_context::executor_type io_ex;
  asio::strand<asio::io_context::executor_type> strand;
  // curl's one timeout (CURLMOPT_TIMERFUNCTION). curl moves it on every request (each
  // transfer has its own deadline), and re-arming an Asio timer costs a timerfd_settime
  // system call whenever it becomes the earliest timer (a fifth of the client's CPU in a
  // profile of BM_HttpFanout). So `timer` is re-armed only when curl's deadline moves
  // earlier than it; when it fires before curl's deadline, it is set again for that.
  asio::steady_timer timer;
  std::optional<std::chrono::steady_clock::time_point> due;  // curl's deadline; none: no timeout
  bool timer_armed = false;  // a wait on `timer` is pending, for `armed_at`
  std::chrono::steady_clock::time_point armed_at;
  std::uint64_t timer_generation = 0;  // of the latest wait: earlier ones were superseded
  bool timeout_posted = false;  // a 0 ms timeout is posted to the strand and has not run yet
  CURLM* multi = nullptr;
  bool stopping = false;  // shutdown() has begun: arm nothing more
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::vector<CURL*> idle_easy;  // reset handles, kept for their TLS session cache

  // Admission per origin: at most Origin::cap of an origin's transfers are in the
  // multi handle at once; the rest wait here, in arrival order, and the next one is added as
  // soon as one finishes (its connection is then idle in curl's cache, so it is reused at
  // once). Without this, the surplus waited in curl's own pending list, which (curl 7.88)
  // wakes one waiter per finished transfer through a 0 ms timer; a woken waiter that loses
  // the idle connection to a newer transfer goes back to sleep, so the number of transfers
  // actually in flight decays towards one, whatever the connection cap (see the commit).
  struct Origin {
    std::size_t active = 0;  // its transfers in the multi handle
    std::size_t cap = 0;     // at most this many active: set by the latest request
    std::deque<std::unique_ptr<Transfer>> waiting;
  };
  std::unordered_map<std::string, Origin> origins;
};

void HttpClient::State::init() {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  multi = curl_multi_init();
  if (!multi) throw std::runtime_error("curl_multi_init failed");
  bool ok = true;
  auto set = [&](CURLMoption option, auto value) {
    ok = ok && curl_multi_setopt(multi, option, value) == CURLM_OK;
  };
  set(CURLMOPT_SOCKETFUNCTION, static_cast<curl_socket_callback>(&State::on_socket));
  set(CURLMOPT_SOCKETDATA, this);
  set(CURLMOPT_TIMERFUNCTION, static_cast<curl_multi_timer_callback>(&State::on_timer));
  set(CURLMOPT_TIMERDATA, this);
  // The per-origin cap is the admission's (State::Origin), which may be a request's own;
  // curl's per-host cap only keeps any one host within the total.
  set(CURLMOPT_MAX_HOST_CONNECTIONS, options.max_total_connections);
  set(CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
  // The idle cache would otherwise grow to four times the number of handles added.
  set(CURLMOPT_MAXCONNECTS, options.max_total_connections);
  if (!ok) throw std::runtime_error("curl_multi_setopt failed");
}

bool HttpClient::State::configure(CURL* easy, Transfer& t) {
  const HttpRequest& r = t.request;
  for (const auto& [name, value] : r.headers) {
    // "Name;" is curl's spelling of a header with an empty value ("Name:" would remove it).
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* next = curl_slist_append(t.header_list, line.c_str());
    if (!next) return false;
    t.header_list = next;
  }
  const bool has_expect = std::any_of(r.headers.begin(), r.headers.end(),
                                      [](const auto& h) { return iequals(h.first, "Expect"); });
  if (!has_expect) {
    curl_slist* next = curl_slist_append(t.header_list, "Expect:");
    if (!next) return false;
    t.header_list = next;
  }

  bool ok = true;
  auto set = [&](CURLoption option, auto value) {
    ok = ok && curl_easy_setopt(easy, option, value) == CURLE_OK;
  };
  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");  // never file://, ftp://, ...
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_NOSIGNAL, 1L);
  // What is left of the request's timeout after any wait for a connection (at least 1 ms).
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      t.deadline - std::chrono::steady_clock::now());
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(1, left.count())));
  set(CURLOPT_USERAGENT, options.user_agent.c_str());
  set(CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_response_bytes));
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);  // a proxy's CONNECT answer is not the response
  set(CURLOPT_HTTPHEADER, t.header_list);
  set(CURLOPT_ERRORBUFFER, t.error.data());
  set(CURLOPT_WRITEFUNCTION, static_cast<curl_write_callback>(&State::on_body));
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_HEADERFUNCTION, static_cast<curl_write_callback>(&State::on_header));
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  set(CURLOPT_OPENSOCKETFUNCTION, static_cast<curl_opensocket_callback>(&State::on_open));
  set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(this));
  set(CURLOPT_CLOSESOCKETFUNCTION, static_cast<curl_closesocket_callback>(&State::on_close));
  set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
  if (r.at_most_once) {
    set(CURLOPT_PREREQFUNCTION, static_cast<curl_prereq_callback>(&State::on_prereq));
    set(CURLOPT_PREREQDATA, static_cast<void*>(&t));
  }
  // Proxies: CURLOPT_PROXY stays unset, so libcurl reads http_proxy, https_proxy, all_proxy
  // and no_proxy from the environment.
  if (r.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (r.method == "GET" && r.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    // The body stays in the Transfer until completion, so curl need not copy it.
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    set(CURLOPT_POSTFIELDS, r.body.data());
    if (r.method != "POST") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  return ok;
}

CURL* HttpClient::State::take_easy() {
  if (idle_easy.empty()) return curl_easy_init();
  CURL* easy = idle_easy.back();
  idle_easy.pop_back();
  return easy;
}

void HttpClient::State::recycle_easy(CURL* easy) {
  // curl_easy_reset keeps the handle's TLS session cache; connections live in the multi.
  curl_easy_reset(easy);
  if (idle_easy.size() < static_cast<std::size_t>(options.max_total_connections)) {
    idle_easy.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

void HttpClient::State::submit(std::unique_ptr<Transfer> t) {
  if (closed.load() || !multi) {
    t->response.detail = "closed";
    return complete(std::move(t), HttpErrc::kClosed);
  }
  if (std::string why = invalid(t->request); !why.empty()) {
    t->response.detail = std::move(why);
    return complete(std::move(t), HttpErrc::kInvalidRequest);
  }
  t->origin = origin_of(t->request.url);
  Origin& o = origins[t->origin];
  const auto total = static_cast<std::size_t>(options.max_total_connections);
  o.cap = t->request.max_connections > 0
              ? std::min(t->request.max_connections, total)
              : std::min(static_cast<std::size_t>(options.max_connections_per_host), total);
  if (o.active >= o.cap) {
    o.waiting.push_back(std::move(t));
    return;
  }
  ++o.active;
  const std::string origin = t->origin;
  if (!begin(std::move(t))) release(origin);
}

// Hands an admitted transfer to curl; false when it could not be (it is then completed with
// the reason). Never touches `origins`: the caller keeps the admission count.
bool HttpClient::State::begin(std::unique_ptr<Transfer> t) {
  auto fail = [this](std::unique_ptr<Transfer> failed, HttpErrc e, std::string detail) {
    failed->response.detail = std::move(detail);
    complete(std::move(failed), e);
    return false;
  };
  if (std::chrono::steady_clock::now() >= t->deadline) {
    return fail(std::move(t), HttpErrc::kTimeout, "timed out waiting for a connection");
  }
  CURL* easy = take_easy();
  if (!easy) return fail(std::move(t), HttpErrc::kOther, "curl_easy_init failed");
  if (!configure(easy, *t)) {
    recycle_easy(easy);
    return fail(std::move(t), HttpErrc::kOther, "curl_easy_setopt failed");
  }
  transfers.emplace(easy, std::move(t));
  if (const CURLMcode mc = curl_multi_add_handle(multi, easy); mc != CURLM_OK) {
    auto node = transfers.extract(easy);
    recycle_easy(easy);
    return fail(std::move(node.mapped()), HttpErrc::kOther, curl_multi_strerror(mc));
  }
  return true;
}

// One of the origin's admitted transfers is over: admit the next ones that wait, in order.
void HttpClient::State::release(const std::string& origin) noexcept {
  auto it = origins.find(origin);
  if (it == origins.end()) return;
  Origin& o = it->second;
  if (o.active > 0) --o.active;
  try {
    while (!stopping && multi && o.active < o.cap && !o.waiting.empty()) {
      std::unique_ptr<Transfer> next = std::move(o.waiting.front());
      o.waiting.pop_front();
      ++o.active;
      if (!begin(std::move(next))) --o.active;
    }
  } catch (...) {  // out of memory completing a waiter: its handler is lost with it
  }
  if (o.active == 0 && o.waiting.empty()) origins.erase(it);
}

void HttpClient::State::complete(std::unique_ptr<Transfer> t, error_code ec) {
  in_flight.fetch_sub(1);
  // Posted through the io_context (never inline), then dispatched to the handler's own
  // executor; t->work keeps that executor busy until the post has taken over.
  asio::post(io_ex, asio::append(std::move(t->handler), ec, std::move(t->response)));
}

void HttpClient::State::act(curl_socket_t fd, int flags) noexcept {
  if (!multi) return;
  int running = 0;
  curl_multi_socket_action(multi, fd, flags, &running);
  finish_done();
}

void HttpClient::State::finish_done() noexcept {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode rc = msg->data.result;  // msg is invalid once the handle is removed
    curl_multi_remove_handle(multi, easy);
    auto node = transfers.extract(easy);
    if (node.empty()) {  // not ours: cannot happen, but never leak a handle
      curl_easy_cleanup(easy);
      continue;
    }
    std::unique_ptr<Transfer> t = std::move(node.mapped());
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    t->response.status = status;
    // Read before the handle is recycled: the request bytes curl wrote (headers, and a small
    // body sent with them) and the body bytes it uploaded.
    long request_bytes = 0;
    curl_off_t body_bytes = 0;
    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_bytes);
    curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &body_bytes);
    const auto body = static_cast<curl_off_t>(t->request.body.size());
    const bool sent_whole = request_bytes > 0 && (body_bytes >= body || request_bytes > body);
    recycle_easy(easy);
    std::string origin;
    std::swap(origin, t->origin);
    error_code ec;
    if (rc != CURLE_OK) {
      ec = classify(rc, t->too_large);
      // Empty reply or a reset while reading, with nothing of an answer: did the request get
      // out whole first? Then the server may have acted on it, and the caller must know.
      if (status == 0 && sent_whole && (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR))
        ec = HttpErrc::kNoAnswer;
      // An at-most-once request that went out once and got no answer: libcurl's own re-send was
      // stopped here, or refused by a server now gone. Never "connection refused" (not sent).
      if (t->request.at_most_once && t->sends > 0 && status == 0 && ec != HttpErrc::kTimeout) {
        ec = HttpErrc::kNoAnswer;
      }
      try {
        t->response.detail = t->error[0] != '\0' ? t->error.data() : curl_easy_strerror(rc);
      } catch (...) {  // out of memory: the code says enough
      }
    }
    try {
      complete(std::move(t), ec);
    } catch (...) {  // post failed (out of memory): the handler is lost with the transfer
    }
    release(origin);  // its connection is idle in curl's cache now: the next request takes it
  }
}

void HttpClient::State::arm(const std::shared_ptr<Watch>& w) {
  if (stopping || w->closed) return;
  // The descriptor's executor is the strand, so these handlers run there.
  if ((w->wanted & CURL_POLL_IN) && !w->reading) {
    w->reading = true;
    w->descriptor.async_wait(
        asio::posix::descriptor_base::wait_read,
        [self = shared_from_this(), w](error_code ec) { self->on_ready(w, CURL_CSELECT_IN, ec); });
  }
  if ((w->wanted & CURL_POLL_OUT) && !w->writing) {
    w->writing = true;
    w->descriptor.async_wait(
        asio::posix::descriptor_base::wait_write,
        [self = shared_from_this(), w](error_code ec) { self->on_ready(w, CURL_CSELECT_OUT, ec); });
  }
}

void HttpClient::State::on_ready(const std::shared_ptr<Watch>& w, int direction,
                                 error_code ec) noexcept {
  const bool in = direction == CURL_CSELECT_IN;
  (in ? w->reading : w->writing) = false;
  if (w->closed || !multi) return;  // curl closed the socket: the fd may be someone else's now
  try {
    if (ec == asio::error::operation_aborted) {
      // Cancelled on CURL_POLL_REMOVE; curl may have asked again since.
      arm(w);
      return;
    }
    if (!(w->wanted & (in ? CURL_POLL_IN : CURL_POLL_OUT))) return;  // interest moved on
    if (ec) {
      // The wait itself failed (readiness, hang-ups included, completes without error): let
      // curl look, but do not re-arm, so an error that persists cannot spin; curl re-arms
      // through on_socket if it still cares, and the transfer's timeout ends it otherwise.
      act(w->fd, CURL_CSELECT_ERR);
      return;
    }
    act(w->fd, direction);
    arm(w);  // as long as curl still wants this direction (it may have closed the socket)
  } catch (...) {
    // Out of memory arming a wait: curl's timeouts still end the transfer.
  }
}

void HttpClient::State::drop(Watch& w) noexcept {
  w.closed = true;
  w.wanted = 0;
  error_code ignored;
  w.descriptor.close(ignored);  // pending waits complete with operation_aborted
}

int HttpClient::State::on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) noexcept {
  auto* s = static_cast<State*>(userp);
  try {
    auto it = s->watches.find(fd);
    if (what == CURL_POLL_REMOVE) {
      if (it == s->watches.end()) return 0;
      std::shared_ptr<Watch> w = it->second;
      w->wanted = 0;
      if (w->connection) {
        // Idle in the connection cache, or about to be closed: a pending wait must not keep
        // the client alive, nor fire on a connection curl is not watching.
        error_code ignored;
        w->descriptor.cancel(ignored);
      } else {
        s->watches.erase(it);  // curl closes its own fd after this; ours is a dup
        s->drop(*w);
      }
      return 0;
    }
    if (s->stopping) return 0;
    std::shared_ptr<Watch> w;
    if (it != s->watches.end()) {
      w = it->second;
    } else {
      const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (dup < 0) return -1;
      asio::posix::stream_descriptor d(s->strand);
      error_code ec;
      d.assign(dup, ec);
      if (ec) {
        ::close(dup);
        return -1;
      }
      w = std::make_shared<Watch>(std::move(d), fd, false);
      s->watches.emplace(fd, w);
    }
    w->wanted = what & (CURL_POLL_IN | CURL_POLL_OUT);
    s->arm(w);
    return 0;
  } catch (...) {
    return -1;  // libcurl fails the transfers on this socket
  }
}

int HttpClient::State::on_timer(CURLM*, long timeout_ms, void* userp) noexcept {
  auto* s = static_cast<State*>(userp);
  if (s->stopping) return 0;
  try {
    const auto now = std::chrono::steady_clock::now();
    if (timeout_ms < 0) {  // nothing in flight: no wait may keep the io_context busy
      s->due.reset();
      if (s->timer_armed) {
        ++s->timer_generation;
        s->timer_armed = false;
        s->timer.cancel();
      }
      return 0;
    }
    s->due = now + std::chrono::milliseconds(timeout_ms);
    if (timeout_ms == 0) {
      // Even a 0 ms timeout must not call curl from inside its own callback: it runs from a
      // handler on the strand. curl asks for 0 ms on every transfer added (each request when
      // connections are reused), so that one is a plain post, not a timer: an expired timer
      // still waits for the reactor (timerfd updates and an epoll round), a post does not.
      // One post at a time is enough: it lets curl act on everything that is due.
      if (!s->timeout_posted) {
        s->timeout_posted = true;
        asio::post(s->strand, [self = s->shared_from_this()] {
          self->timeout_posted = false;
          self->act(CURL_SOCKET_TIMEOUT, 0);
        });
      }
      return 0;
    }
    if (!s->timer_armed || s->armed_at > *s->due) s->arm_timer(*s->due);
    return 0;
  } catch (...) {
    return -1;
  }
}

void HttpClient::State::arm_timer(std::chrono::steady_clock::time_point at) {
  timer.expires_at(at);  // a pending wait completes with operation_aborted, superseded
  const std::uint64_t generation = ++timer_generation;
  timer_armed = true;
  armed_at = at;
  timer.async_wait([self = shared_from_this(), generation](error_code ec) {
    self->on_timer_fired(generation, ec);
  });
}

void HttpClient::State::on_timer_fired(std::uint64_t generation, error_code ec) noexcept {
  if (generation != timer_generation) return;  // superseded by a later arm_timer
  timer_armed = false;
  if (ec || stopping || !due) return;  // cancelled at shutdown, or curl has no timeout now
  try {
    if (std::chrono::steady_clock::now() < *due) {
      arm_timer(*due);  // curl moved its deadline later since this wait was armed
      return;
    }
  } catch (...) {  // out of memory arming the wait: act now rather than never
  }
  act(CURL_SOCKET_TIMEOUT, 0);
}

// Called on the connection, just before the request goes out: a second call for one transfer is
// libcurl's silent re-send, and aborting it fails the transfer (CURLE_ABORTED_BY_CALLBACK).
int HttpClient::State::on_prereq(void* clientp, char*, char*, int, int) noexcept {
  auto* t = static_cast<Transfer*>(clientp);
  return ++t->sends > 1 ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

curl_socket_t HttpClient::State::on_open(void* clientp, curlsocktype purpose,
                                         curl_sockaddr* address) noexcept {
  auto* s = static_cast<State*>(clientp);
  if (purpose != CURLSOCKTYPE_IPCXN || s->stopping) return CURL_SOCKET_BAD;
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  try {
    asio::posix::stream_descriptor d(s->strand);
    error_code ec;
    d.assign(fd, ec);
    if (ec) {
      ::close(fd);
      return CURL_SOCKET_BAD;
    }
    auto w = std::make_shared<Watch>(std::move(d), fd, true);
    // A leftover under this number would be a dup whose original curl closed unannounced.
    if (auto it = s->watches.find(fd); it != s->watches.end()) {
      s->drop(*it->second);
      s->watches.erase(it);
    }
    s->watches.emplace(fd, std::move(w));
  } catch (...) {
    return CURL_SOCKET_BAD;  // `d` (or the Watch) closed the fd
  }
  const std::size_t open = s->open_connections.fetch_add(1) + 1;
  std::size_t peak = s->peak_connections.load();
  while (open > peak && !s->peak_connections.compare_exchange_weak(peak, open)) {
  }
  return fd;
}

int HttpClient::State::on_close(void* clientp, curl_socket_t fd) noexcept {
  auto* s = static_cast<State*>(clientp);
  auto it = s->watches.find(fd);
  if (it == s->watches.end() || !it->second->connection) return ::close(fd) == 0 ? 0 : 1;
  std::shared_ptr<Watch> w = std::move(it->second);
  s->watches.erase(it);
  s->drop(*w);
  s->open_connections.fetch_sub(1);
  return 0;
}

std::size_t HttpClient::State::on_body(char* data, std::size_t size, std::size_t n,
                                       void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  const std::size_t len = size * n;
  if (!t->take(len)) return 0;  // CURLE_WRITE_ERROR, reported as kTooLarge
  try {
    t->response.body.append(data, len);
  } catch (...) {
    return 0;
  }
  return len;
}

std::size_t HttpClient::State::on_header(char* data, std::size_t size, std::size_t n,
                                         void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  const std::size_t len = size * n;
  if (!t->take(len)) return 0;
  try {
    const std::string_view raw(data, len);
    auto& headers = t->response.headers;
    if (raw.starts_with("HTTP/")) {
      headers.clear();  // a new response (after 100 Continue, say): keep the final one's
    } else if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) {
      if (!headers.empty()) {  // an obsolete folded continuation line
        headers.back().second += ' ';
        headers.back().second += trim(raw);
      }
    } else if (const auto colon = raw.find(':'); colon != std::string_view::npos) {
      headers.emplace_back(std::string(trim(raw.substr(0, colon))),
                           std::string(trim(raw.substr(colon + 1))));
    }
  } catch (...) {
    return 0;
  }
  return len;
}

void HttpClient::State::shutdown() noexcept {
  if (!multi) return;
  stopping = true;
  for (auto& [easy, t] : transfers) {
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    try {
      t->response.detail = "closed";
      complete(std::move(t), HttpErrc::kClosed);
    } catch (...) {
    }
  }
  transfers.clear();
  for (auto& [origin, o] : origins) {
    for (auto& t : o.waiting) {
      try {
        t->response.detail = "closed";
        complete(std::move(t), HttpErrc::kClosed);
      } catch (...) {
      }
    }
  }
  origins.clear();
  curl_multi_cleanup(multi);  // closes the cached connections through on_close
  multi = nullptr;
  for (CURL* easy : idle_easy) curl_easy_cleanup(easy);
  idle_easy.clear();
  timer.cancel();
  for (auto& [fd, w] : watches) drop(*w);
  watches.clear();
}

std::shared_ptr<HttpClient> HttpClient::create(boost::asio::io_context& io,
                                               HttpClientOptions options) {
  if (options.max_connections_per_host <= 0 || options.max_total_connections <= 0 ||
      options.max_response_bytes == 0 || options.max_in_flight == 0) {
    throw std::invalid_argument("http client options: limits must be positive");
  }
  return std::shared_ptr<HttpClient>(new HttpClient(io, std::move(options)));
}

HttpClient::HttpClient(boost::asio::io_context& io, HttpClientOptions options)
    : io_(io), options_(std::move(options)), state_(std::make_shared<State>(io, options_)) {
  state_->init();
}

HttpClient::~HttpClient() { close(); }

void HttpClient::start(HttpRequest request, Handler handler) {
  auto work = asio::prefer(asio::get_associated_executor(handler, io_.get_executor()),
                           asio::execution::outstanding_work.tracked);
  auto t = std::make_unique<Transfer>(std::move(request), std::move(handler), std::move(work),
                                      options_.max_response_bytes);
  t->deadline = std::chrono::steady_clock::now() + t->request.timeout;
  State& s = *state_;
  s.requests.fetch_add(1);
  if (s.in_flight.fetch_add(1) >= options_.max_in_flight) {
    s.rejected.fetch_add(1);
    t->response.detail = "max_in_flight reached";
    return s.complete(std::move(t), HttpErrc::kBusy);
  }
  if (s.closed.load()) {
    t->response.detail = "closed";
    return s.complete(std::move(t), HttpErrc::kClosed);
  }
  asio::post(s.strand,
             [state = state_, t = std::move(t)]() mutable { state->submit(std::move(t)); });
}

void HttpClient::close() {
  if (state_->closed.exchange(true)) return;
  asio::post(state_->strand, [state = state_] { state->shutdown(); });
}

HttpClientStats HttpClient::stats() const {
  HttpClientStats st;
  st.requests = state_->requests.load();
  st.rejected = state_->rejected.load();
  st.in_flight = state_->in_flight.load();
  st.open_connections = state_->open_connections.load();
  st.peak_connections = state_->peak_connections.load();
  return st;
}

}  // namespace loa::adapters
