#include "engine/daemon.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <SQLiteCpp/Statement.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>

#include "campaigns/audit.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/dispatcher.hpp"
#include "engine/dashboard.hpp"
#include "engine/dependency_watch.hpp"
#include "engine/enqueuer.hpp"
#include "engine/event_spool.hpp"
#include "engine/gateways.hpp"
#include "engine/http_server.hpp"
#include "engine/metrics.hpp"
#include "engine/open_files.hpp"
#include "engine/route_queue.hpp"
#include "engine/receipt_relay.hpp"
#include "engine/result_consumer.hpp"
#include "engine/redis_client.hpp"
#include "engine/redis_process.hpp"
#include "engine/redis_supervisor.hpp"
#include "engine/scheduler.hpp"
#include "engine/template_settings.hpp"
#include "engine/store.hpp"
#include "engine/store_writer.hpp"
#include "engine/version.hpp"
#include "engine/webhooks.hpp"

namespace loa::engine {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
namespace json = boost::json;

Role parse_role(const std::string& text) {
  if (text == "all") return Role::kAll;
  if (text == "planner") return Role::kPlanner;
  if (text == "dispatcher") return Role::kDispatcher;
  throw ConfigError("--role must be all, planner or dispatcher, got '" + text + "'");
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kAll: return "all";
    case Role::kPlanner: return "planner";
    case Role::kDispatcher: return "dispatcher";
  }
  return "?";
}

struct Daemon::Parts {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  int lock_fd = -1;
  std::unique_ptr<RedisProcess> redis_process;
  std::unique_ptr<RedisSupervisor> redis_supervisor;  // spawn mode; goes before redis_process
  DependencyWatch health;                             // what /healthz reads
  std::unique_ptr<StoreWriter> writer;
  std::shared_ptr<RedisClient> redis;
  std::shared_ptr<HttpServer> http;
  std::shared_ptr<api::Router> api;  // planning roles: the REST API under /api/v1
  std::string redis_url;
  std::mutex reader_mutex;
  std::unique_ptr<SQLite::Database> reader;  // guarded by reader_mutex
  SystemClock clock;
  std::unique_ptr<Scheduler> scheduler;
  // Dispatching roles: per route, the sink for what its gateway pushes, the gateway, and
  // its dispatcher. Declared after io, so they go before it.
  std::vector<std::unique_ptr<ReceiptRelay>> relays;
  std::vector<std::shared_ptr<adapters::Gateway>> gateways;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers;
  std::shared_ptr<adapters::HttpClient> http_client;  // shared by the gateway adapters
  // Planning roles: outbox -> queues, and results -> outbox.
  std::unique_ptr<Enqueuer> enqueuer;
  std::unique_ptr<ResultConsumer> results;
  std::thread stopper;  // runs the blocking part of a graceful shutdown

  ~Parts() {
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

namespace {

// How often the health watch samples Redis and the store: fine enough for any sensible
// daemon.unhealthy_after_ms (at least 100 ms by its bounds), cheap (two atomic reads).
constexpr auto kHealthSample = std::chrono::milliseconds(100);

void prepare_data_dir(const fs::path& dir, int& lock_fd) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw StartupError("daemon.data_dir: cannot create " + dir.string() + ": " + ec.message());
  const fs::path probe = dir / ".write-test";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, "x", 1) != 1) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw StartupError("daemon.data_dir: cannot write to " + dir.string() + ": " + why);
  }
  ::close(fd);
  fs::remove(probe, ec);
  const fs::path lock = dir / "loa.lock";
  lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0)
    throw StartupError("daemon.data_dir: cannot open " + lock.string() + ": " +
                       std::strerror(errno));
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
    throw StartupError("daemon.data_dir: another loa daemon is using " + dir.string() +
                       " (it holds " + lock.string() + ")");
}

StoreWrite audit(std::string action, std::string subject, std::string detail) {
  return {[action = std::move(action), subject = std::move(subject),
           detail = std::move(detail)](SQLite::Database& db) {
            campaigns::record_audit(db, "system", action, subject, detail);
          },
          nullptr};
}

}  // namespace

// /metrics (engine/metrics.hpp): the registry's counters and histograms, and gauges read now:
// queue depths from Redis, this process's dispatchers and store writer. No token needed.
void Daemon::add_metrics(Parts& p, bool uses_store) {
  namespace m = metrics;
  p.http->observe([](const std::string& path, unsigned status) {
    auto& reg = m::Registry::global();
    if (path.starts_with("/webhooks/")) {  // /webhooks/<route>/<kind>
      const auto a = path.find('/', 10);
      const std::string route = path.substr(10, a == std::string::npos ? a : a - 10);
      const std::string kind = a == std::string::npos ? "" : path.substr(a + 1);
      reg.counter("loa_webhook_requests_total", "Gateway callbacks received, by answer",
                  {{"route", route}, {"kind", kind}, {"status", std::to_string(status)}})
          .add();
    } else if (path.starts_with("/api/")) {
      reg.counter("loa_api_requests_total", "REST API requests, by answer",
                  {{"status", std::to_string(status)}})
          .add();
    }
  });
  Parts* parts = &p;
  p.http->route(http::verb::get, "/metrics", [parts, uses_store](const HttpRequest&,
                                                                  HttpRespond respond) {
    asio::co_spawn(
        parts->io,
        [parts, uses_store, respond]() -> asio::awaitable<void> {
          std::vector<m::GaugeSample> depth, pending, sends, store;
          const char* kDepthHelp = "Messages held in a route's queues (waiting counts all)";
          for (const char* route : kRouteNames) {
            if (!parts->redis->connected()) break;
            RouteQueue queue(parts->redis, route);
            auto op = queue.depth();
            auto [ec, d] = co_await std::move(op);
            if (ec) continue;
            for (auto [name, v] : {std::pair<const char*, long long>{"waiting", d.waiting},
                                   {"priority", d.priority},
                                   {"delayed", d.delayed},
                                   {"leased", d.leased}})
              depth.push_back({"loa_queue_depth", kDepthHelp, {{"route", route}, {"queue", name}},
                               static_cast<double>(v)});
            pending.push_back({"loa_results_pending",
                               "Results stream entries the store has not applied yet",
                               {{"route", route}},
                               static_cast<double>(d.results)});
          }
          for (const auto& d : parts->dispatchers) {
            const auto st = d->stats();
            for (auto [outcome, v] : {std::pair<const char*, long long>{"sent", st.sent},
                                      {"retried", st.retried},
                                      {"failed", st.failed},
                                      {"expired", st.expired},
                                      {"opted_out", st.opted_out},
                                      {"capped", st.capped}})
              sends.push_back({"loa_sends_total",
                               "Messages this process's dispatchers settled, by outcome",
                               {{"route", d->route()}, {"outcome", outcome}},
                               static_cast<double>(v),
                               true});
          }
          for (const auto& r : parts->relays)
            store.push_back({"loa_spool_pending",
                             "Webhook event batches in a route's spool, waiting for Redis",
                             {{"route", r->route()}},
                             static_cast<double>(r->spooled())});
          if (uses_store && parts->writer) {
            store.push_back({"loa_store_writer_queue",
                             "Writes waiting for the store writer (its lag)",
                             {},
                             static_cast<double>(parts->writer->queued())});
            store.push_back({"loa_store_writer_committed_total", "Writes the store writer committed",
                             {}, static_cast<double>(parts->writer->committed()), true});
          }
          std::vector<m::GaugeSample> all;
          for (auto* v : {&depth, &pending, &sends, &store})
            all.insert(all.end(), v->begin(), v->end());
          respond(make_response(200, m::Registry::global().expose(all),
                                "text/plain; version=0.0.4; charset=utf-8"));
          co_return;
        },
        asio::detached);
  });
}

Daemon::Daemon(Config config, Role role)
    : config_(std::move(config)), role_(role), parts_(std::make_unique<Parts>()) {}

Daemon::~Daemon() {
  if (!threads_.empty()) {
    stop();
    wait();
  }
}

std::uint16_t Daemon::http_port() const { return parts_->http ? parts_->http->port() : 0; }
std::string Daemon::redis_url() const { return parts_->redis_url; }

void Daemon::start() {
  auto& p = *parts_;
  // hiredis writes with write(2): a write to a Redis that has just died (killed, restarted)
  // raises SIGPIPE, whose default action ends the daemon without a word. Broken pipes must
  // be errors on the connection, which reconnects (issue 10, ops/faults/redis).
  ::signal(SIGPIPE, SIG_IGN);
  const bool uses_store = role_ != Role::kDispatcher;
  RedisEndpoint endpoint = config_.redis_endpoint;
  if (role_ == Role::kDispatcher && endpoint.kind == RedisEndpoint::Kind::kSpawn)
    throw StartupError(
        "redis.url: a dispatcher shares Redis with its planner, so it needs an external "
        "redis.url (redis://host:port or unix:///path), not spawn");

  // Before anything starts (Redis, the store, threads), so a bad option is reported at once.
  try {
    check_gateways(config_);
  } catch (const ConfigError& e) {
    throw StartupError(e.what());
  }
  const fs::path data_dir = config_.daemon.data_dir;
  prepare_data_dir(data_dir, p.lock_fd);
  spdlog::info("loa {} starting: role {}, data dir {}", kVersion, role_name(role_),
               fs::absolute(data_dir).string());

  if (endpoint.kind == RedisEndpoint::Kind::kSpawn) {
    RedisProcess::Options o;
    o.binary = config_.redis.server_binary;
    o.dir = fs::absolute(data_dir / "redis");
    p.redis_process = std::make_unique<RedisProcess>(o);
    try {
      p.redis_process->start();
    } catch (const RedisProcessError& e) {
      throw StartupError(std::string("redis.url = \"spawn\": ") + e.what());
    }
    endpoint.path = p.redis_process->socket_path();
    spdlog::info("redis: spawned redis-server (pid {}) on {}", p.redis_process->pid(),
                 endpoint.path);
  }
  p.redis_url = endpoint.kind == RedisEndpoint::Kind::kTcp
                    ? "redis://" + endpoint.host + ":" + std::to_string(endpoint.port)
                    : "unix://" + endpoint.path;

  if (uses_store) {
    const fs::path db_path = config_.store_path();
    try {
      auto db = open_store(db_path, StoreMode::kReadWrite, config_.store.busy_timeout_ms);
      auto report = migrate(db);
      if (!report.applied.empty())
        spdlog::info("store: migrated {} from version {} to {}", db_path.string(),
                     report.from_version, report.to_version);
      p.writer = std::make_unique<StoreWriter>(db_path, config_.store);
      p.writer->start();
      p.reader = std::make_unique<SQLite::Database>(
          open_store(db_path, StoreMode::kReadOnly, config_.store.busy_timeout_ms));
    } catch (const StoreError& e) {
      throw StartupError(std::string("store: ") + e.what());
    }
    p.writer->submit(audit("daemon.start", role_name(role_), kVersion));
    const Config& config = config_;
    p.scheduler = std::make_unique<Scheduler>(
        db_path, p.clock,
        [&config](SQLite::Database& db, const campaigns::Campaign& c) {
          return planner_settings(config, db, c);
        },
        std::chrono::seconds(1), std::chrono::seconds(config.planner.stale_after_seconds));
    campaigns::ReceiptTimeouts timeouts;
    for (const char* route : kRouteNames)
      timeouts[route] = std::chrono::hours(route_gateway(config, route).receipt_timeout_hours);
    p.scheduler->set_receipt_timeouts(std::move(timeouts));
    p.scheduler->start();
  }

  p.redis = RedisClient::create(p.io, RedisClientOptions::from(config_.redis, endpoint));
  p.redis->start();

  const std::vector<std::string> routes(std::begin(kRouteNames), std::end(kRouteNames));
  // Every role has a relay per route: gateways push receipts and replies through it, and so do
  // the webhook endpoints, which any role serves.
  // Each relay spools its webhooks' events while Redis is down (engine/event_spool.hpp).
  for (const auto& route : routes) {
    std::shared_ptr<EventSpool> spool;
    try {
      spool = std::make_shared<EventSpool>(fs::absolute(data_dir / "spool" / (route + ".spool")),
                                           static_cast<std::uint64_t>(config_.daemon.spool_max_bytes));
    } catch (const SpoolError& e) {
      throw StartupError(std::string("daemon.data_dir: ") + e.what());
    }
    p.relays.push_back(std::make_unique<ReceiptRelay>(p.io, p.redis, route, std::move(spool)));
    p.relays.back()->start();
  }
  if (role_ != Role::kPlanner) {
    p.http_client = adapters::HttpClient::create(p.io, adapters::HttpClientOptions{});
    try {
      for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& route = routes[i];
        if (!route_enabled(config_, route)) continue;
        auto gateway = make_gateway(config_, route, p.io.get_executor(), p.relays[i].get(),
                                    p.redis, p.http_client);
        auto dispatcher =
            std::make_unique<Dispatcher>(p.io, p.redis, route, gateway,
                                         DispatcherSettings::from(config_, route), p.clock);
        dispatcher->start();
        p.gateways.push_back(std::move(gateway));
        p.dispatchers.push_back(std::move(dispatcher));
      }
    } catch (const ConfigError& e) {
      throw StartupError(e.what());
    }
  }
  if (uses_store) {
    EnqueuerSettings es;
    es.page_rows = std::max(config_.planner.page_rows, 1000);
    const Config& config = config_;
    p.enqueuer = std::make_unique<Enqueuer>(
        p.io, p.redis, config_.store_path(), *p.writer, routes,
        [&config](SQLite::Database& db, const campaigns::Campaign& c) {
          return planner_settings(config, db, c);
        },
        es);
    p.enqueuer->start();
    p.results = std::make_unique<ResultConsumer>(
        p.io, RedisClientOptions::from(config_.redis, endpoint), routes, *p.writer);
    try {
      auto replies = std::make_shared<const campaigns::ReplySettings>(reply_settings(config_));
      const Clock* clock = &p.clock;
      p.results->set_reply_handler([replies, clock](SQLite::Database& db) {
        return campaigns::handle_new_replies(db, *replies, clock->now());
      });
    } catch (const ConfigError& e) {
      throw StartupError(e.what());
    }
    p.results->start();
  }

  // Raised before the server so that its connection cap fits the descriptors it can have.
  const OpenFileLimit files = raise_open_file_limit();
  HttpServerOptions http_options = HttpServerOptions::from(config_);
  http_options.fit_to(files.soft);
  spdlog::info(
      "http: open files limit {} (was {}, hard {}); at most {} connections ({} configured), {} "
      "per client, {} more for /healthz and /readyz",
      files.soft, files.before, files.hard, http_options.max_connections,
      config_.http.max_connections, http_options.max_connections_per_client,
      http_options.reserved_connections);
  if (http_options.max_connections < static_cast<std::size_t>(config_.http.max_connections))
    spdlog::warn("http: http.max_connections lowered to {} to fit the open files limit {}",
                 http_options.max_connections, files.soft);
  p.http = HttpServer::create(p.io, std::move(http_options));
  try {
    for (std::size_t i = 0; i < routes.size(); ++i)
      for (const auto& path : add_gateway_webhooks(*p.http, config_, routes[i], *p.relays[i]))
        spdlog::info("http: webhook {} for route {} ({})", path, routes[i],
                     route_gateway(config_, routes[i]).type);
  } catch (const ConfigError& e) {
    throw StartupError(e.what());
  }
  if (uses_store) register_dashboard(*p.http);  // where the API is: roles all and planner
  const std::string role = role_name(role_);
  Parts* parts = &p;
  const std::chrono::milliseconds unhealthy_after(config_.daemon.unhealthy_after_ms);
  p.http->probe_route(http::verb::get, "/healthz",
                [role, parts, unhealthy_after](const HttpRequest&, HttpRespond respond) {
                  json::object body{{"status", "alive"}, {"version", kVersion}, {"role", role}};
                  observe_dependencies(*parts);  // now, not as of the last sample
                  const auto down = parts->health.down_longer_than(unhealthy_after);
                  if (down.empty()) return respond(make_response(200, json::serialize(body)));
                  // Waiting has not helped: let systemd or the load balancer act.
                  body["status"] = "unhealthy";
                  for (const auto& d : down)
                    body[d.name] = "down for " + std::to_string(d.for_.count()) + " ms";
                  respond(make_response(503, json::serialize(body)));
                });
  p.http->probe_route(http::verb::get, "/readyz", [parts, uses_store](const HttpRequest&,
                                                                 HttpRespond respond) {
    auto body = std::make_shared<json::object>();
    bool ready = true;
    if (uses_store) {
      std::lock_guard lock(parts->reader_mutex);
      try {
        parts->reader->execAndGet("SELECT 1");
        // Reads work on a full disk; the writer's last commit tells whether writes do.
        if (auto error = parts->writer->disk_error(); !error.empty()) {
          (*body)["store"] = "failing: " + error;
          ready = false;
        } else {
          (*body)["store"] = "ok";
        }
      } catch (const std::exception& e) {
        (*body)["store"] = std::string("unreachable: ") + e.what();
        ready = false;
      }
    }
    auto answer = [body, respond](bool ok) {
      (*body)["status"] = ok ? "ready" : "unready";
      respond(make_response(ok ? 200 : 503, json::serialize(*body)));
    };
    if (!parts->redis->connected()) {
      (*body)["redis"] = "disconnected";
      return answer(false);
    }
    parts->redis->async_exec({"PING"}, [body, answer, ready](boost::system::error_code ec,
                                                              RedisReply reply) {
      const bool ok = !ec && reply.str == "PONG";
      (*body)["redis"] = ok ? std::string("ok") : "unreachable: " + (ec ? ec.message() : reply.str);
      answer(ready && ok);
    });
  });
  add_metrics(p, uses_store);
  if (uses_store) {
    api::RouterOptions ao;
    ao.store_path = config_.store_path();
    ao.busy_timeout_ms = config_.store.busy_timeout_ms;
    ao.workers = config_.http.api_workers;
    ao.spool_dir = fs::absolute(data_dir / "uploads");
    ao.upload_limit = static_cast<std::uint64_t>(config_.http.upload_limit_bytes);
    p.api = api::Router::create(ao);
    api::Services services{config_, p.io, p.redis, p.clock, {}};
    services.dispatch_of = [parts = &p](const std::string& route) -> std::optional<api::RouteDispatch> {
      for (const auto& d : parts->dispatchers) {
        if (d->route() != route) continue;
        const auto s = d->stats();
        api::RouteDispatch out;
        switch (d->breaker_state()) {
          case CircuitBreaker::State::kClosed: out.breaker = "closed"; break;
          case CircuitBreaker::State::kOpen: out.breaker = "open"; break;
          case CircuitBreaker::State::kHalfOpen: out.breaker = "half_open"; break;
        }
        out.sent = s.sent;
        out.retried = s.retried;
        out.failed = s.failed;
        out.breaker_opened = s.breaker_opened;
        return out;
      }
      return std::nullopt;
    };
    api::add_endpoints(*p.api, services);
    p.api->mount(*p.http);
  }
  try {
    p.http->start();
  } catch (const boost::system::system_error& e) {
    throw StartupError("http.listen " + config_.http.listen + ": " + e.code().message());
  }

  p.signals.async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("received {}; shutting down gracefully (send it again to force)",
                 signo == SIGINT ? "SIGINT" : "SIGTERM");
    stop();
    parts_->signals.async_wait([this](boost::system::error_code e, int) {
      if (e) return;
      spdlog::warn("second signal: stopping now");
      parts_->io.stop();
    });
  });

  const unsigned n = config_.daemon.threads > 0
                         ? static_cast<unsigned>(config_.daemon.threads)
                         : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { parts_->io.run(); });
  asio::co_spawn(p.io, watch_health(), asio::detached);
  if (p.redis_process) {
    RedisSupervisor::Options so;
    so.restart_min = std::chrono::milliseconds(config_.redis.restart_min_ms);
    so.restart_max = std::chrono::milliseconds(config_.redis.restart_max_ms);
    so.attempts = config_.redis.restart_attempts;
    so.window = std::chrono::milliseconds(config_.redis.restart_window_ms);
    p.redis_supervisor = std::make_unique<RedisSupervisor>(
        *p.redis_process, so, [this](const std::string& why) {
          // systemd (Restart=on-failure) starts the whole service again.
          spdlog::critical("redis: {}; loa stops and exits {} for systemd to restart it", why, kExitRedisLost);
          exit_code_ = kExitRedisLost;
          stop();
        });
    p.redis_supervisor->start();
  }
  spdlog::info("http: listening on http://{}:{} (/healthz, /readyz); {} io thread(s)",
               config_.http_host(), p.http->port(), n);
}

void Daemon::observe_dependencies(Parts& p) {
  p.health.observe("redis", p.redis->connected());
  if (p.writer) p.health.observe("store", p.writer->disk_error().empty());
}

asio::awaitable<void> Daemon::watch_health() {
  auto& p = *parts_;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping_) {
    observe_dependencies(p);
    timer.expires_after(kHealthSample);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Daemon::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(parts_->io, [this] { shutdown(); });
}

void Daemon::shutdown() {
  auto& p = *parts_;
  p.http->shutdown(std::chrono::milliseconds(config_.http.shutdown_grace_ms), [this] {
    // Stopping dispatchers waits for their batches in hand, which need the io threads: so
    // it runs on a thread of its own while the io_context keeps going.
    parts_->stopper = std::thread([this] {
      auto& parts = *parts_;
      if (parts.api) parts.api->stop();  // requests in hand finish
      for (auto& d : parts.dispatchers) d->stop();
      for (auto& g : parts.gateways) g->close();
      if (parts.http_client) parts.http_client->close();
      for (auto& r : parts.relays) r->stop();
      if (parts.enqueuer) parts.enqueuer->stop();
      if (parts.results) parts.results->stop();  // what is left waits in the streams
      if (parts.writer) {
        parts.writer->submit(audit("daemon.stop", role_name(role_), kVersion));
        parts.writer->flush();
      }
      for (auto& d : parts.dispatchers) {
        const auto s = d->stats();
        spdlog::info("dispatcher {}: {} sent, {} retried, {} failed, {} expired, {} opted out, "
                     "{} capped",
                     d->route(), s.sent, s.retried, s.failed, s.expired, s.opted_out, s.capped);
      }
      parts.redis->close();
      asio::post(parts.io, [this] { parts_->io.stop(); });
    });
  });
}

void Daemon::wait() {
  for (auto& t : threads_) t.join();
  threads_.clear();
  auto& p = *parts_;
  if (p.stopper.joinable()) p.stopper.join();
  for (auto& g : p.gateways) g->close();
  p.signals.cancel();
  if (p.scheduler) p.scheduler->stop();  // finishes its page; a round resumes at its cursor
  if (p.writer) {
    p.writer->stop();
    spdlog::info("store: flushed; {} write(s) committed in {} batch(es)", p.writer->committed(),
                 p.writer->batches());
  }
  if (p.redis_supervisor) p.redis_supervisor->stop();  // stops redis-server on its thread
  if (p.redis_process) {
    p.redis_process->stop();
    spdlog::info("redis: spawned redis-server stopped");
  }
  spdlog::info("loa stopped");
}

}  // namespace loa::engine
