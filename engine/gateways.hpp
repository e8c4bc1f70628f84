// Builds each route's gateway from the configuration (routes.<route>.gateway), for the
// dispatching roles of the daemon, through the adapters' registry (adapters/registry.hpp): the
// simulator from its typed settings (routes.<route>.simulator.*), every other type from the
// route's [routes.<route>.options].
//
// RedisLedger is the simulator's shared memory of the ids it accepted: a hash per route,
// loa:{route}:sim:seen (id -> times accepted), so that several dispatcher processes behave
// like one gateway that honours idempotency keys, and tests can count duplicates.
//
// Thread-safety: make_gateway from one thread; RedisLedger is safe from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>

#include "adapters/gateway.hpp"
#include "adapters/http_client.hpp"
#include "adapters/simulator.hpp"
#include "engine/config.hpp"
#include "engine/redis_client.hpp"

namespace loa::engine {

class RedisLedger : public adapters::SimulatorLedger {
 public:
  RedisLedger(std::shared_ptr<RedisClient> redis, std::string route);
  static std::string key(std::string_view route);
  void async_record(std::vector<std::string> ids,
                    std::function<void(std::vector<long long> counts)> done) override;

 private:
  std::shared_ptr<RedisClient> redis_;
  std::string key_;
};

// Reads every enabled route's gateway settings as make_gateway and the webhooks would, and
// builds nothing, so that `loa config check` and the daemon's first step report a bad option
// (a clear-text password, a missing url or dlr_token) at once. Throws ConfigError naming
// routes.<route>.options.<key>.
void check_gateways(const Config& config);

// Throws ConfigError naming the route and key for an unknown type or a bad setting.
std::shared_ptr<adapters::Gateway> make_gateway(const Config& config, const std::string& route,
                                                boost::asio::any_io_executor executor,
                                                adapters::GatewayEvents* events,
                                                std::shared_ptr<RedisClient> redis,
                                                std::shared_ptr<adapters::HttpClient> http);

}  // namespace loa::engine
