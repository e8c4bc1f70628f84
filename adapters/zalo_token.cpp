#include "adapters/zalo_token.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "adapters/http_client.hpp"
#include "adapters/zalo_json.hpp"

namespace loa::adapters {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

constexpr std::size_t kMaxTokenFileBytes = 64 * 1024;
// When an answer carries no usable expires_in, assume the shortest lifetime integrators have
// reported (Chatwoot's client defaults to 3600 s), so the token is renewed early, not late.
constexpr std::chrono::seconds kDefaultLifetime{3600};
// Integrators report this code for "Invalid refresh token" on the v4 OAuth endpoint
// [UNVERIFIED: not in reference/vietnam-channels.md]; the answer's text is checked as well.
constexpr long long kInvalidRefreshTokenCode = -14014;

std::string errno_text(int e) { return std::strerror(e); }

std::string describe(std::string_view step, const fs::path& file, int e) {
  return std::string(step) + " " + file.string() + ": " + errno_text(e);
}

// Writes all of `text`, retrying short writes and EINTR.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string serialize(const ZaloTokenSet& t) {
  json::object o;
  o["access_token"] = t.access_token;
  o["refresh_token"] = t.refresh_token;
  o["expires_at"] =
      std::chrono::duration_cast<std::chrono::seconds>(t.expires_at.time_since_epoch()).count();
  return json::serialize(o) + "\n";
}

// A value of an application/x-www-form-urlencoded body: RFC 3986 unreserved characters stay,
// everything else is percent-encoded.
std::string form_encode(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

int lock_token_file(const fs::path& token_file) {
  const fs::path lock = token_file.string() + ".lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("zalo tokens: " + describe("open", lock, errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) {
      throw std::runtime_error("zalo tokens: " + token_file.string() +
                               " is in use by another loa process or ZaloTokens (lock " +
                               lock.string() + "); a single-use refresh token must have one owner");
    }
    throw std::runtime_error("zalo tokens: " + describe("lock", lock, e));
  }
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ZaloTokenStore

ZaloTokenStore::ZaloTokenStore(fs::path path) : path_(std::move(path)) {}

std::optional<ZaloTokenSet> ZaloTokenStore::load(std::string& error) const {
  const std::string where = "zalo token file " + path_.string() + ": ";
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    error = where + "cannot be read (" + errno_text(errno) + ")";
    return std::nullopt;
  }
  std::string text(kMaxTokenFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxTokenFileBytes) {
    error = where + "larger than " + std::to_string(kMaxTokenFileBytes) + " bytes";
    return std::nullopt;
  }
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) {
    error = where + "not a JSON object";
    return std::nullopt;
  }
  ZaloTokenSet out;
  const json::value* refresh = zalo_json::member(&doc, "refresh_token");
  if (refresh == nullptr || !refresh->is_string() || refresh->as_string().empty()) {
    error = where + "$.refresh_token must be a non-empty string";
    return std::nullopt;
  }
  out.refresh_token = std::string(refresh->as_string());
  if (const json::value* access = zalo_json::member(&doc, "access_token")) {
    if (!access->is_string()) {
      error = where + "$.access_token must be a string";
      return std::nullopt;
    }
    out.access_token = std::string(access->as_string());
  }
  if (const json::value* at = zalo_json::member(&doc, "expires_at")) {
    auto seconds = zalo_json::integer(at);
    if (!seconds || *seconds < 0) {
      error = where + "$.expires_at must be unix seconds";
      return std::nullopt;
    }
    out.expires_at = Clock::time_point(std::chrono::seconds(*seconds));
  }
  return out;
}

std::string ZaloTokenStore::save(const ZaloTokenSet& tokens) const {
  const fs::path temporary = path_.string() + ".tmp";
  const std::string text = serialize(tokens);
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return describe("create", temporary, errno);
  auto abandon = [&](std::string what) {
    ::unlink(temporary.c_str());
    return what;
  };
  // fchmod as well: the mode given to open() is only used when the file is new.
  if (::fchmod(fd, 0600) != 0 || !write_all(fd, text) || ::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    return abandon(describe("write", temporary, e));
  }
  if (::close(fd) != 0) return abandon(describe("close", temporary, errno));
  if (std::string e = before_rename(temporary); !e.empty()) {
    return abandon("save " + path_.string() + ": " + e);
  }
  if (::rename(temporary.c_str(), path_.c_str()) != 0) {
    return abandon(describe("rename to", path_, errno));
  }
  // The rename itself is durable only once the directory is synced.
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return describe("open directory", dir, errno);
  if (::fsync(dfd) != 0) {
    const int e = errno;
    ::close(dfd);
    return describe("fsync directory", dir, e);
  }
  ::close(dfd);
  return {};
}

// ---------------------------------------------------------------------------------------------
// ZaloTokenSettings

ZaloTokenSettings ZaloTokenSettings::from(const SettingsReader& s) {
  ZaloTokenSettings out;
  out.token_file = s.required("token_file");
  out.app_id = s.required("app_id");
  out.app_secret = s.required("app_secret");
  out.oauth_url = s.url("oauth_url", out.oauth_url);
  out.refresh_margin = s.milliseconds("refresh_margin_ms", out.refresh_margin);
  out.timeout = s.milliseconds("oauth_timeout_ms", out.timeout);
  out.failure_cooldown = s.milliseconds("refresh_failure_cooldown_ms", out.failure_cooldown);
  return out;
}

// ---------------------------------------------------------------------------------------------
// ZaloTokens

struct ZaloTokens::State {
  State(asio::any_io_executor e, std::shared_ptr<HttpClient> h, ZaloTokenSettings s,
        std::shared_ptr<ZaloTokenStore> st)
      : ex(e),
        strand(asio::make_strand(e)),
        http(std::move(h)),
        settings(std::move(s)),
        store(std::move(st)) {}

  const asio::any_io_executor ex;
  const asio::strand<asio::any_io_executor> strand;
  const std::shared_ptr<HttpClient> http;
  const ZaloTokenSettings settings;
  const std::shared_ptr<ZaloTokenStore> store;
  int lock_fd = -1;

  // On `strand` only.
  ZaloTokenSet current;                     // what the file holds
  std::optional<ZaloTokenSet> unpersisted;  // refreshed, not yet saved: never handed out
  bool stale = false;                       // current.access_token was invalidated
  bool refreshing = false;
  std::vector<Done> waiters;
  std::string rejected_refresh_token;  // Zalo refused it: do not send it again
  std::optional<ZaloTokenResult> last_failure;
  Clock::time_point failed_at{};

  std::atomic<std::uint64_t> refreshes{0}, persist_failures{0};

  Clock::time_point now() const { return settings.clock ? settings.clock() : Clock::now(); }

  std::string file() const { return store->path().string(); }

  bool usable(Clock::time_point t) const {
    return !current.access_token.empty() && !stale &&
           t + settings.refresh_margin < current.expires_at;
  }

  void reply(Done done, ZaloTokenResult r) {
    asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  void complete(const ZaloTokenResult& r) {
    std::vector<Done> ready;
    ready.swap(waiters);
    for (Done& d : ready) reply(std::move(d), r);
  }

  void fail_all(SendClass c, std::string reason) {
    ZaloTokenResult r;
    r.failure = c;
    r.reason = std::move(reason);
    complete(r);
  }

  void remember_failure(const ZaloTokenResult& r) {
    last_failure = r;
    failed_at = now();
  }

  // Saves `next`; on success it becomes current. Returns the failure to report, if any.
  std::optional<ZaloTokenResult> adopt(const ZaloTokenSet& next) {
    if (std::string e = store->save(next); !e.empty()) {
      ++persist_failures;
      unpersisted = next;
      ZaloTokenResult r;
      r.failure = SendClass::kAuth;
      r.reason = "zalo tokens refreshed but not saved (" + e +
                 "); the new refresh token is only in memory and loa retries the save; if loa "
                 "stops first, re-authorise the OA and write the new tokens to " +
                 file();
      return r;
    }
    unpersisted.reset();
    current = next;
    stale = false;
    last_failure.reset();
    return std::nullopt;
  }

  ZaloTokenResult success() const {
    ZaloTokenResult r;
    r.access_token = current.access_token;
    return r;
  }

  void begin_refresh(const std::shared_ptr<ZaloTokens>& self);
  void on_refresh_answer(boost::system::error_code ec, const HttpResponse& res,
                         const std::string& spent);
};

ZaloTokens::ZaloTokens(asio::any_io_executor ex, std::shared_ptr<HttpClient> http,
                       ZaloTokenSettings settings, std::shared_ptr<ZaloTokenStore> store) {
  if (!http) throw std::invalid_argument("zalo tokens: no http client");
  if (settings.app_id.empty() || settings.app_secret.empty()) {
    throw std::invalid_argument("zalo tokens: app_id and app_secret are required");
  }
  if (!store) store = std::make_shared<ZaloTokenStore>(settings.token_file);
  state_ = std::make_unique<State>(std::move(ex), std::move(http), std::move(settings),
                                   std::move(store));
  state_->lock_fd = lock_token_file(state_->store->path());
  std::string error;
  auto loaded = state_->store->load(error);
  if (!loaded) {
    ::close(state_->lock_fd);
    throw std::runtime_error(error + "; authorise the OA and write its tokens there");
  }
  state_->current = std::move(*loaded);
}

ZaloTokens::~ZaloTokens() {
  if (state_ && state_->lock_fd >= 0) ::close(state_->lock_fd);
}

std::shared_ptr<ZaloTokens> ZaloTokens::create(asio::any_io_executor ex,
                                               std::shared_ptr<HttpClient> http,
                                               ZaloTokenSettings settings,
                                               std::shared_ptr<ZaloTokenStore> store) {
  return std::shared_ptr<ZaloTokens>(
      new ZaloTokens(std::move(ex), std::move(http), std::move(settings), std::move(store)));
}

std::shared_ptr<ZaloTokens> ZaloTokens::open(asio::any_io_executor ex,
                                             std::shared_ptr<HttpClient> http,
                                             ZaloTokenSettings settings) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<ZaloTokens>> by_file;
  const std::string key = fs::weakly_canonical(fs::absolute(settings.token_file)).string();
  std::lock_guard lock(mutex);
  if (auto it = by_file.find(key); it != by_file.end()) {
    if (auto existing = it->second.lock()) {
      if (existing->state_->settings.app_id != settings.app_id) {
        throw std::invalid_argument("zalo tokens: " + key + " is already used with another app_id");
      }
      return existing;
    }
  }
  auto made = create(std::move(ex), std::move(http), std::move(settings));
  by_file[key] = made;
  return made;
}

const fs::path& ZaloTokens::token_file() const { return state_->store->path(); }

ZaloTokenStats ZaloTokens::stats() const {
  return {state_->refreshes.load(), state_->persist_failures.load()};
}

void ZaloTokens::invalidate(std::string access_token) {
  asio::post(state_->strand, [self = shared_from_this(), token = std::move(access_token)] {
    State& st = *self->state_;
    if (!token.empty() && token == st.current.access_token) st.stale = true;
  });
}

void ZaloTokens::async_access_token(Done done) {
  asio::post(state_->strand, [self = shared_from_this(), done = std::move(done)]() mutable {
    State& st = *self->state_;
    if (st.unpersisted) {
      // The spent refresh token is still in the file: finish the save before anything else.
      if (auto failure = st.adopt(*st.unpersisted)) {
        st.reply(std::move(done), *failure);
        return;
      }
    }
    if (st.usable(st.now())) {
      st.reply(std::move(done), st.success());
      return;
    }
    st.waiters.push_back(std::move(done));
    if (!st.refreshing) st.begin_refresh(self);
  });
}

// On the strand, with callers waiting.
void ZaloTokens::State::begin_refresh(const std::shared_ptr<ZaloTokens>& self) {
  // Tokens an operator wrote since (re-authorisation) are picked up here, without a restart.
  std::string ignored;
  if (auto on_disk = store->load(ignored);
      on_disk && on_disk->refresh_token != current.refresh_token) {
    current = std::move(*on_disk);
    stale = false;
    last_failure.reset();
  }
  const Clock::time_point t = now();
  if (usable(t)) {
    complete(success());
    return;
  }
  if (last_failure && (current.refresh_token == rejected_refresh_token ||
                       t < failed_at + settings.failure_cooldown)) {
    complete(*last_failure);
    return;
  }
  HttpRequest req;
  req.method = "POST";
  req.url = settings.oauth_url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"secret_key", settings.app_secret}};
  req.body = "app_id=" + form_encode(settings.app_id) +
             "&grant_type=refresh_token&refresh_token=" + form_encode(current.refresh_token);
  req.timeout = settings.timeout;
  refreshing = true;
  ++refreshes;
  http->async_request(
      std::move(req),
      asio::bind_executor(strand, [self, spent = current.refresh_token](
                                      boost::system::error_code ec, HttpResponse res) {
        self->state_->on_refresh_answer(ec, res, spent);
      }));
}

// On the strand.
void ZaloTokens::State::on_refresh_answer(boost::system::error_code ec, const HttpResponse& res,
                                          const std::string& spent) {
  refreshing = false;
  auto fail = [&](SendClass c, std::string reason) {
    ZaloTokenResult r;
    r.failure = c;
    r.reason = std::move(reason);
    remember_failure(r);
    complete(r);
  };
  if (ec) return fail(SendClass::kRetryable, "zalo token refresh: " + ec.message());
  if (res.status == 429) return fail(SendClass::kThrottled, "zalo token refresh: http 429");
  if (res.status >= 500) {
    return fail(SendClass::kRetryable, "zalo token refresh: http " + std::to_string(res.status));
  }
  boost::system::error_code jec;
  const json::value doc = json::parse(res.body, jec);
  if (jec || !doc.is_object()) {
    // A 2xx without JSON says nothing about the refresh token; anything else refuses us.
    const bool ok_status = res.status >= 200 && res.status < 300;
    return fail(ok_status ? SendClass::kRetryable : SendClass::kAuth,
                "zalo token refresh: unexpected answer (http " + std::to_string(res.status) + ")");
  }
  const std::string access = zalo_json::first_text(doc, {"access_token"});
  if (access.empty()) {
    const auto code = zalo_json::integer(zalo_json::member(&doc, "error"));
    const std::string said = zalo_json::sanitize(
        zalo_json::first_text(doc, {"error_description", "error_name", "message", "error_reason"}),
        {spent, settings.app_secret});
    const std::string what =
        (code ? std::to_string(*code) : std::string("no code")) + (said.empty() ? "" : " " + said);
    const bool refresh_token_refused = (code && *code == kInvalidRefreshTokenCode) ||
                                       zalo_json::contains_nocase(said, "refresh token") ||
                                       zalo_json::contains_nocase(said, "refresh_token");
    if (refresh_token_refused) {
      rejected_refresh_token = spent;
      const std::string reauthorise = "re-authorise the OA and write the new tokens to " + file();
      return fail(SendClass::kAuth, "zalo rejected the refresh token in " + file() + " (" + what +
                                        "): " + reauthorise);
    }
    return fail(SendClass::kAuth,
                "zalo token refresh refused (" + what + "): check app_id and app_secret");
  }
  ZaloTokenSet next;
  next.access_token = access;
  // Zalo rotates the refresh token on every refresh; should an answer lack one, the old one is
  // all there is.
  next.refresh_token = zalo_json::first_text(doc, {"refresh_token"});
  if (next.refresh_token.empty()) next.refresh_token = spent;
  const auto lifetime = zalo_json::integer(zalo_json::member(&doc, "expires_in"));
  next.expires_at =
      now() + (lifetime && *lifetime > 0 ? std::chrono::seconds(*lifetime) : kDefaultLifetime);
  if (auto failure = adopt(next)) {
    complete(*failure);
    return;
  }
  complete(success());
}

}  // namespace loa::adapters
