#include "engine/gateways.hpp"

#include "adapters/registry.hpp"

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

adapters::SimulatorSettings simulator_settings(const SimulatorConfig& c) {
  adapters::SimulatorSettings s;
  s.latency = std::chrono::milliseconds(c.latency_ms);
  s.receipt_delay = std::chrono::milliseconds(c.receipt_delay_ms);
  s.reply_delay = s.receipt_delay + std::chrono::seconds(1);
  s.transient_failure_rate = c.transient_failure_rate;
  s.permanent_failure_rate = c.permanent_failure_rate;
  s.unreachable_rate = c.unreachable_rate;
  s.throttled_rate = c.throttled_rate;
  s.delivered_share = c.delivered_share;
  s.reply_rate = c.reply_rate;
  return s;
}

std::shared_ptr<adapters::Gateway> make_gateway(const Config& config, const std::string& route,
                                                boost::asio::any_io_executor executor,
                                                adapters::GatewayEvents* events,
                                                std::shared_ptr<RedisClient> redis,
                                                std::shared_ptr<adapters::HttpClient> http) {
  const RouteGatewayConfig& gw = route_gateway(config, route);
  if (gw.type == "simulator") {
    std::shared_ptr<adapters::SimulatorLedger> ledger;
    if (config.dispatcher.simulator_ledger == "redis")
      ledger = std::make_shared<RedisLedger>(std::move(redis), route);
    try {
      return std::make_shared<adapters::Simulator>(executor, simulator_settings(gw.simulator),
                                                   ledger, events);
    } catch (const std::invalid_argument& e) {
      throw ConfigError("routes." + route + ".simulator: " + e.what());
    }
  }
  adapters::GatewaySettings::Values values(gw.options.begin(), gw.options.end());
  adapters::GatewayContext context{executor, std::move(http), events, route, nullptr};
  try {
    return adapters::make_gateway(gw.type, adapters::GatewaySettings(std::move(values)), context);
  } catch (const adapters::GatewayConfigError& e) {
    throw ConfigError("routes." + route + ".options." + e.key() + ": " + e.detail());
  }
}

}  // namespace loa::engine
