#include "engine/gateways.hpp"

#include "adapters/registry.hpp"

#include <sstream>

namespace loa::engine {

RedisLedger::RedisLedger(std::shared_ptr<RedisClient> redis, std::string route)
    : redis_(std::move(redis)), key_(key(route)) {}

std::string RedisLedger::key(std::string_view route) {
  return "loa:{" + std::string(route) + "}:sim:seen";
}

void RedisLedger::async_record(std::vector<std::string> ids,
                               std::function<void(std::vector<long long> counts)> done) {
  std::vector<RedisCommand> commands;
  commands.reserve(ids.size());
  for (auto& id : ids) commands.push_back({"HINCRBY", key_, std::move(id), "1"});
  redis_->async_exec_pipeline(
      std::move(commands),
      [done = std::move(done)](boost::system::error_code ec, RedisClient::Replies replies) {
        std::vector<long long> counts;
        if (!ec) {
          counts.reserve(replies.size());
          for (const auto& r : replies) counts.push_back(r.is_error() ? 0 : r.integer);
        }
        done(std::move(counts));  // empty on error: the simulator answers "ledger unavailable"
      });
}

namespace {

// The simulator's typed settings (routes.<route>.simulator.*) in the registry's flat form.
adapters::GatewaySettings::Values simulator_values(const SimulatorConfig& c) {
  auto real = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  return {{"latency_ms", std::to_string(c.latency_ms)},
          {"receipt_delay_ms", std::to_string(c.receipt_delay_ms)},
          {"transient_failure_rate", real(c.transient_failure_rate)},
          {"permanent_failure_rate", real(c.permanent_failure_rate)},
          {"unreachable_rate", real(c.unreachable_rate)},
          {"throttled_rate", real(c.throttled_rate)},
          {"delivered_share", real(c.delivered_share)},
          {"reply_rate", real(c.reply_rate)}};
}

// The route's settings as the registry reads them: the simulator's typed keys, or [options].
adapters::GatewaySettings::Values route_values(const RouteGatewayConfig& gw) {
  if (gw.type == "simulator") return simulator_values(gw.simulator);
  return {gw.options.begin(), gw.options.end()};
}

ConfigError route_error(const std::string& route, const RouteGatewayConfig& gw,
                        const adapters::GatewayConfigError& e) {
  const std::string section = gw.type == "simulator" ? ".simulator." : ".options.";
  return ConfigError("routes." + route + section + e.key() + ": " + e.detail());
}

}  // namespace

void check_gateways(const Config& config) {
  for (const char* route : kRouteNames) {
    if (!route_enabled(config, route)) continue;
    const RouteGatewayConfig& gw = route_gateway(config, route);
    try {
      adapters::check_gateway_settings(gw.type, adapters::GatewaySettings(route_values(gw)), route);
    } catch (const adapters::GatewayConfigError& e) {
      throw route_error(route, gw, e);
    }
  }
}

std::shared_ptr<adapters::Gateway> make_gateway(const Config& config, const std::string& route,
                                                boost::asio::any_io_executor executor,
                                                adapters::GatewayEvents* events,
                                                std::shared_ptr<RedisClient> redis,
                                                std::shared_ptr<adapters::HttpClient> http) {
  const RouteGatewayConfig& gw = route_gateway(config, route);
  adapters::GatewayContext context{executor, std::move(http), events, route, nullptr};
  if (gw.type == "simulator" && config.dispatcher.simulator_ledger == "redis")
    context.simulator_ledger = std::make_shared<RedisLedger>(std::move(redis), route);
  try {
    return adapters::make_gateway(gw.type, adapters::GatewaySettings(route_values(gw)), context);
  } catch (const adapters::GatewayConfigError& e) {
    throw route_error(route, gw, e);
  }
}

}  // namespace loa::engine
