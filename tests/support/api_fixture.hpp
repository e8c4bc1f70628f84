// The REST API for tests (engine/api.hpp): a real HttpServer on loopback with the API router
// mounted over a real, migrated SQLite file, and helpers to make tokens and call endpoints.
// Without Redis by default; give it a RedisClient for endpoints that read the route queues.
#pragma once

#include <SQLiteCpp/Database.h>

#include <functional>
#include <memory>
#include <string>

#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/redis_fixture.hpp"

namespace loa::test {

class ApiServer {
 public:
  using AddEndpoints = std::function<void(engine::api::Router&, const engine::api::Services&)>;
  struct Options {
    AddEndpoints add = engine::api::add_endpoints;  // the real endpoints by default
    std::shared_ptr<engine::RedisClient> redis;
    engine::HttpServerOptions http;
    std::uint64_t upload_limit = 64ull * 1024 * 1024;
  };
  ApiServer();
  explicit ApiServer(Options options);
  ~ApiServer();

  std::uint16_t port() const { return server_->port(); }
  // A new token of that role (its name is the role unless given).
  std::string token(engine::ApiRole role, const std::string& name = "");
  SQLite::Database& db() { return *db_; }  // a connection of the test's own
  engine::Config& config() { return config_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  boost::asio::io_context& io() { return io_.io(); }
  engine::api::Router& router() { return *router_; }

  HttpResult call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "");

 private:
  TempDir dir_;
  engine::Config config_;
  IoThreads io_{2};
  std::unique_ptr<SQLite::Database> db_;
  engine::SystemClock clock_;
  std::shared_ptr<engine::HttpServer> server_;
  std::shared_ptr<engine::api::Router> router_;
};

// The JSON body of a result (a failed parse fails the test and gives null).
boost::json::value json_of(const HttpResult& result);

}  // namespace loa::test
