// REST: routes. Per route: its gateway, whether it is enabled, its rate limit (the value in
// Redis that every dispatcher shares), its queue depth, and, where this process dispatches
// it, the circuit breaker's state and the dispatcher's counters. An admin may change a
// route's rate live, as `loa routes rate` does.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>

#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/rate_limiter.hpp"
#include "engine/redis_client.hpp"
#include "engine/route_queue.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;
namespace asio = boost::asio;

namespace {

constexpr auto kRedisWait = std::chrono::seconds(5);

template <class T>
T wait_for(std::future<T> f) {
  if (f.wait_for(kRedisWait) != std::future_status::ready)
    throw ApiError(503, "Redis did not answer in time");
  return f.get();
}

bool known_route(const std::string& route) {
  for (const char* r : kRouteNames)
    if (route == r) return true;
  return false;
}

json::object route_json(const Services& s, const std::string& route) {
  json::object o{{"route", route},
                 {"gateway", route_gateway(s.config, route).type},
                 {"enabled", route_enabled(s.config, route)},
                 {"configured_rate", route_rate(s.config, route)}};
  if (!s.redis || !s.redis->connected()) {
    o["redis"] = "disconnected";
  } else {
    RouteQueue queue(s.redis, route);
    auto [ec, d] = wait_for(asio::co_spawn(s.io, queue.depth(), asio::use_future));
    if (ec) throw ApiError(503, "Redis: " + ec.message());
    o["queue"] = json::object{{"waiting", d.waiting}, {"priority", d.priority},
                              {"delayed", d.delayed}, {"leased", d.leased},
                              {"lanes", d.lanes},     {"results", d.results}};
    RedisReply limit = wait_for(s.redis->async_exec(
        {"HMGET", RateLimiter::key(route), "rate", "burst"}, asio::use_future));
    auto field = [&limit](std::size_t i) -> json::value {
      if (i >= limit.elements.size() || limit.elements[i].is_nil()) return nullptr;
      try {
        return std::stoll(limit.elements[i].str);
      } catch (...) {
        return nullptr;
      }
    };
    o["rate"] = field(0);  // units per second in Redis; 0 none, null not set yet
    o["burst"] = field(1);
  }
  std::optional<RouteDispatch> d = s.dispatch_of ? s.dispatch_of(route) : std::nullopt;
  if (d) {
    o["breaker"] = d->breaker;
    o["dispatcher"] = json::object{{"sent", d->sent},
                                   {"retried", d->retried},
                                   {"failed", d->failed},
                                   {"breaker_opened", d->breaker_opened}};
  } else {
    o["breaker"] = nullptr;  // not dispatched by this process
  }
  return o;
}

}  // namespace

void add_route_endpoints(Router& router, const Services& services) {
  const Services s = services;
  router.add({http::verb::get, "/routes", ApiRole::kViewer,
              "Every route: gateway, rate, queue depth, circuit breaker",
              R"json({"responses":{"200":{"description":"{items: [route]}"},"503":{"description":"Redis is unreachable"}}})json",
              [s](Request&) {
                json::array items;
                for (const char* route : kRouteNames) items.push_back(route_json(s, route));
                return Response::json(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
              }});

  router.add({http::verb::get, "/routes/{route}", ApiRole::kViewer, "One route",
              R"json({"responses":{"200":{"description":"the route"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [s](Request& req) {
                const std::string& route = req.param("route");
                if (!known_route(route)) throw ApiError(404, "no route named '" + route + "'");
                return Response::json(route_json(s, route));
              }});

  router.add({http::verb::put, "/routes/{route}/rate", ApiRole::kAdmin,
              "Change a route's rate limit now, for every dispatcher (until they restart)",
              R"json({"requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["rate"],"properties":{
                   "rate":{"type":"integer","minimum":0,"maximum":100000,"description":"units per second (SMS segments or messages); 0: no limit"},
                   "burst":{"type":"integer","minimum":1,"maximum":100000}},"additionalProperties":false}}}},
                 "responses":{"200":{"description":"the route after the change"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [s](Request& req) {
                const std::string& route = req.param("route");
                if (!known_route(route)) throw ApiError(404, "no route named '" + route + "'");
                JsonFields f(req.json_body(), "");
                const auto rate = f.optional_int("rate", 0, 100000);
                if (!rate) throw ApiError(400, "missing required field 'rate'", "/rate");
                const int burst = static_cast<int>(
                    f.optional_int("burst", 1, 100000).value_or(route_gateway(s.config, route).burst));
                f.finish();
                if (!s.redis || !s.redis->connected()) throw ApiError(503, "Redis is unreachable");
                RouteQueue queue(s.redis, route);
                auto ec = wait_for(asio::co_spawn(
                    s.io, queue.set_rate(static_cast<int>(*rate), burst), asio::use_future));
                if (ec) throw ApiError(503, "Redis: " + ec.message());
                return Response::json(route_json(s, route));
              }});
}

}  // namespace loa::engine::api
