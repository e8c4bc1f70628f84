#include "tests/support/api_fixture.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <future>

#include "engine/store.hpp"

namespace loa::test {

ApiServer::ApiServer() : ApiServer(Options{}) {}

ApiServer::ApiServer(Options options) : config_(engine::load_config_text("", "test", false)) {
  config_.daemon.data_dir = (dir_ / "data").string();
  std::filesystem::create_directories(config_.daemon.data_dir);
  db_ = std::make_unique<SQLite::Database>(
      engine::open_store(config_.store_path(), engine::StoreMode::kReadWrite));
  engine::migrate(*db_);
  engine::api::RouterOptions ro;
  ro.store_path = config_.store_path();
  ro.spool_dir = dir_ / "data" / "uploads";
  ro.upload_limit = options.upload_limit;
  router_ = engine::api::Router::create(ro);
  options.add(*router_, engine::api::Services{config_, io_.io(), options.redis, clock_, {}});
  options.http.port = 0;
  server_ = engine::HttpServer::create(io_.io(), options.http);
  router_->mount(*server_);
  server_->start();
}

ApiServer::~ApiServer() {
  std::promise<void> done;
  server_->shutdown(std::chrono::milliseconds(1000), [&] { done.set_value(); });
  done.get_future().wait_for(std::chrono::seconds(10));
  router_->stop();
}

std::string ApiServer::token(engine::ApiRole role, const std::string& name) {
  return engine::create_token(*db_, role, name.empty() ? std::string(engine::to_string(role)) : name,
                              "test")
      .secret;
}

HttpResult ApiServer::call(const std::string& method, const std::string& target,
                           const std::string& token, const std::string& body) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  return http_request(port(), method, target, body, headers, 30000);
}

boost::json::value json_of(const HttpResult& result) {
  boost::system::error_code ec;
  auto v = boost::json::parse(result.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << result.body;
  return ec ? boost::json::value() : v;
}

}  // namespace loa::test
