// What the REST API's endpoint groups (engine/api_<group>.cpp) may use beside the store
// connection each request gets (api::Request::db): the configuration, the daemon's Redis
// client and io_context (for the route queues), and the clock.
//
// Thread-safety: every member is safe from the API's worker threads. `redis` may be null
// (a router without Redis, in tests of store-only endpoints): endpoints that need it answer 503.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/clock.hpp"
#include "engine/config.hpp"

namespace loa::engine {
class RedisClient;
}

namespace loa::engine::api {

// What this process's dispatcher of a route knows (the breaker lives in the dispatcher).
struct RouteDispatch {
  std::string breaker;  // closed | open | half_open
  long long sent = 0, retried = 0, failed = 0, breaker_opened = 0;
};

struct Services {
  const Config& config;
  boost::asio::io_context& io;
  std::shared_ptr<RedisClient> redis;
  const Clock& clock;
  // The route's dispatcher in this process, or nullopt (none here: role planner, or disabled).
  std::function<std::optional<RouteDispatch>(const std::string& route)> dispatch_of;
};

}  // namespace loa::engine::api
