// `loa routes` and `loa routes rate ROUTE UNITS`: what waits on each route's queues in Redis,
// and the route's rate limit, changed live for every dispatcher (DESIGN.md 3.3). The limit
// set here lasts until a dispatcher starts again with its configured one.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <thread>

#include "engine/cli.hpp"
#include "engine/rate_limiter.hpp"
#include "engine/redis_client.hpp"
#include "engine/route_queue.hpp"

namespace loa::engine::cli {
namespace {

namespace asio = boost::asio;

// The Redis the daemon uses: the configured one, or the socket of the one it spawns in its
// data directory (which must be running: the daemon is up).
RedisEndpoint daemon_redis(const Config& config) {
  RedisEndpoint e = config.redis_endpoint;
  if (e.kind == RedisEndpoint::Kind::kSpawn) {
    e.kind = RedisEndpoint::Kind::kUnix;
    e.path = (std::filesystem::absolute(config.daemon.data_dir) / "redis" / "redis.sock").string();
  }
  return e;
}

// Runs `work` with a connected client on a private io_context; Redis errors become one line.
template <class Work>
void with_redis(const Config& config, Work work) {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  RedisClientOptions o = RedisClientOptions::from(config.redis, daemon_redis(config));
  o.reconnect_max = std::chrono::milliseconds(200);
  auto client = RedisClient::create(io, o);
  client->start();
  try {
    work(io, client);
  } catch (...) {
    client->close();
    guard.reset();
    runner.join();
    throw;
  }
  client->close();
  guard.reset();
  runner.join();
}

[[noreturn]] void unreachable(const Config& config, const std::string& why) {
  throw std::runtime_error("cannot reach Redis at " + daemon_redis(config).describe() + " (" +
                           why + "); is `loa serve` running?");
}

}  // namespace

void register_route_commands(CLI::App& app, Context& ctx) {
  auto* routes = app.add_subcommand(
      "routes", "Route queues in Redis: what waits, and the rate limit (change it live)");
  routes->callback([&ctx, routes] {
    if (!routes->get_subcommands().empty()) return;
    const Config& config = ctx.config();
    with_redis(config, [&config](asio::io_context& io, std::shared_ptr<RedisClient> client) {
      std::cout << std::left << std::setw(10) << "route" << std::setw(11) << "gateway"
                << std::right << std::setw(8) << "rate" << std::setw(7) << "burst"
                << std::setw(10) << "waiting" << std::setw(10) << "priority" << std::setw(10)
                << "delayed" << std::setw(9) << "leased" << std::setw(9) << "results"
                << "\n";
      for (const char* route : kRouteNames) {
        RouteQueue queue(client, route);
        auto [ec, d] = asio::co_spawn(io, queue.depth(), asio::use_future).get();
        if (ec) unreachable(config, ec.message());
        RedisReply limit = client->async_exec({"HMGET", RateLimiter::key(route), "rate", "burst"},
                                              asio::use_future)
                               .get();
        auto field = [&limit](std::size_t i) {
          return i < limit.elements.size() && !limit.elements[i].is_nil() ? limit.elements[i].str
                                                                          : std::string("-");
        };
        std::string rate = field(0);
        if (rate == "0") rate = "none";
        std::cout << std::left << std::setw(10) << route << std::setw(11)
                  << route_gateway(config, route).type << std::right << std::setw(8) << rate
                  << std::setw(7) << field(1) << std::setw(10) << with_commas(d.waiting)
                  << std::setw(10) << with_commas(d.priority) << std::setw(10)
                  << with_commas(d.delayed) << std::setw(9) << with_commas(d.leased)
                  << std::setw(9) << with_commas(d.results) << "\n";
      }
      std::cout << "(rate: units per second, SMS segments or messages; '-': not set in Redis "
                   "yet; waiting counts priority, delayed and leased messages too)\n";
    });
    ctx.exit_code = kExitOk;
  });

  auto route = std::make_shared<std::string>();
  auto units = std::make_shared<int>(0);
  auto burst = std::make_shared<int>(0);
  auto* rate = routes->add_subcommand(
      "rate", "Set a route's rate limit now, for every dispatcher (until they restart)");
  rate->add_option("ROUTE", *route, "sms, zalo_zns or zalo_oa")
      ->required()
      ->check(CLI::IsMember({"sms", "zalo_zns", "zalo_oa"}));
  rate->add_option("UNITS", *units, "Units per second (SMS segments, or messages); 0: no limit")
      ->required()
      ->check(CLI::Range(0, 100000));
  rate->add_option("--burst", *burst, "Units that may go at once (default: the route's burst)")
      ->check(CLI::Range(1, 100000));
  rate->callback([&ctx, route, units, burst] {
    const Config& config = ctx.config();
    const int b = *burst > 0 ? *burst : route_gateway(config, *route).burst;
    with_redis(config, [&](asio::io_context& io, std::shared_ptr<RedisClient> client) {
      RouteQueue queue(client, *route);
      auto ec = asio::co_spawn(io, queue.set_rate(*units, b), asio::use_future).get();
      if (ec) unreachable(config, ec.message());
    });
    std::cout << "route " << *route << ": "
              << (*units == 0 ? std::string("no limit")
                              : std::to_string(*units) + " units/s, burst " + std::to_string(b))
              << " (live for every dispatcher; the configured rate returns when they restart)\n";
    ctx.exit_code = kExitOk;
  });
}

}  // namespace loa::engine::cli
