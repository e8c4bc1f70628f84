// Config: defaults run the embedded mode; every bad input names its place and key.
#include "engine/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

std::string error_of(const std::string& toml) {
  try {
    load_config_text(toml, "bad.toml", /*apply_environment=*/false);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigTest, DefaultsRunTheEmbeddedMode) {
  Config c = load_config_text("", "defaults", false);
  EXPECT_EQ(c.redis_endpoint.kind, RedisEndpoint::Kind::kSpawn);
  EXPECT_EQ(c.store_path(), std::filesystem::path("loa-data") / "loa.db");
  EXPECT_EQ(c.http_host(), "127.0.0.1");
  EXPECT_EQ(c.http_port(), 8080);
  EXPECT_EQ(c.log.format, "text");
}

TEST(ConfigTest, ReadsEverySection) {
  Config c = load_config_text(R"(
[daemon]
data_dir = "/var/lib/loa"
threads = 4
[log]
level = "debug"
format = "json"
[redis]
url = "redis://:s3cret@10.0.0.5:6380/2"
command_timeout_ms = 500
[store]
batch_rows = 1000
[http]
listen = "0.0.0.0:9090"
body_limit_bytes = 2048
)",
                              "good.toml", false);
  EXPECT_EQ(c.daemon.threads, 4);
  EXPECT_EQ(c.log.format, "json");
  EXPECT_EQ(c.redis_endpoint.kind, RedisEndpoint::Kind::kTcp);
  EXPECT_EQ(c.redis_endpoint.host, "10.0.0.5");
  EXPECT_EQ(c.redis_endpoint.port, 6380);
  EXPECT_EQ(c.redis_endpoint.db, 2);
  EXPECT_EQ(c.redis_endpoint.password, "s3cret");
  EXPECT_EQ(c.redis.command_timeout_ms, 500);
  EXPECT_EQ(c.store.batch_rows, 1000);
  EXPECT_EQ(c.store_path(), std::filesystem::path("/var/lib/loa/loa.db"));
  EXPECT_EQ(c.http_port(), 9090);
  EXPECT_EQ(c.http.body_limit_bytes, 2048);
  // The password never reaches a description (DESIGN.md 3.10).
  EXPECT_EQ(describe_config(c).find("s3cret"), std::string::npos);
}

struct BadCase {
  const char* label;
  const char* toml;
  const char* expected;  // a substring of the error
};

class ConfigBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigBadInput, NamesTheProblem) {
  const auto& c = GetParam();
  EXPECT_NE(error_of(c.toml).find(c.expected), std::string::npos)
      << c.label << ": got '" << error_of(c.toml) << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigBadInput,
    ::testing::Values(
        BadCase{"unknown key", "[redis]\nurll = \"spawn\"\n", "bad.toml:2: unknown key 'redis.urll'"},
        BadCase{"unknown section", "[radis]\nurl = \"x\"\n", "unknown key 'radis'"},
        BadCase{"unknown top key", "verbose = true\n", "bad.toml:1: unknown key 'verbose'"},
        BadCase{"wrong type int", "[http]\nmax_connections = \"many\"\n",
                "bad.toml:2:19: key 'http.max_connections' must be an integer, got a string"},
        BadCase{"wrong type string", "[redis]\nurl = 5\n",
                "key 'redis.url' must be a string, got an integer"},
        BadCase{"section as value", "redis = 1\n", "'redis' must be a table"},
        BadCase{"out of range", "[daemon]\nthreads = -1\n",
                "key 'daemon.threads' must be between 0 and 256, got -1"},
        BadCase{"bad choice", "[log]\nformat = \"xml\"\n",
                "key 'log.format' must be one of text, json, got 'xml'"},
        BadCase{"bad url scheme", "[redis]\nurl = \"http://localhost\"\n",
                "key 'redis.url' is not a valid Redis URL ('http://localhost'): unknown scheme"},
        BadCase{"bad url", "[redis]\nurl = \"not a url\"\n", "key 'redis.url' is not a valid"},
        BadCase{"relative unix path", "[redis]\nurl = \"unix:redis.sock\"\n",
                "needs an absolute path"},
        BadCase{"bad listen", "[http]\nlisten = \"8080\"\n", "key 'http.listen' must be host:port"},
        BadCase{"bad port", "[http]\nlisten = \"127.0.0.1:99999\"\n", "bad port"},
        BadCase{"share above one", "[routes.sms.simulator]\ntransient_failure_rate = 1.5\n",
                "bad.toml:2:26: key 'routes.sms.simulator.transient_failure_rate' must be "
                "between 0 and 1"},
        BadCase{"share as text", "[routes.zalo_zns.simulator]\nreply_rate = \"often\"\n",
                "key 'routes.zalo_zns.simulator.reply_rate' must be a number, got a string"},
        BadCase{"unknown gateway", "[routes.sms]\ngateway = \"smpp\"\n",
                "key 'routes.sms.gateway' must be one of simulator"},
        BadCase{"syntax error", "[redis\nurl = 1\n", "bad.toml:1:"},
        BadCase{"min over max", "[redis]\nreconnect_min_ms = 9000\nreconnect_max_ms = 100\n",
                "'redis.reconnect_min_ms' must not exceed"}),
    [](const ::testing::TestParamInfo<BadCase>& param) {
      std::string name = param.param.label;
      for (auto& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

TEST(ConfigTest, EnvironmentOverridesTheFile) {
  ::setenv("LOA_HTTP_LISTEN", "127.0.0.1:7070", 1);
  ::setenv("LOA_REDIS_COMMAND_TIMEOUT_MS", "750", 1);
  Config c = load_config_text("[http]\nlisten = \"127.0.0.1:9000\"\n", "f.toml", true);
  EXPECT_EQ(c.http_port(), 7070);
  EXPECT_EQ(c.redis.command_timeout_ms, 750);
  ::setenv("LOA_REDIS_COMMAND_TIMEOUT_MS", "soon", 1);
  try {
    load_config_text("", "f.toml", true);
    ADD_FAILURE() << "a non-numeric override was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("environment LOA_REDIS_COMMAND_TIMEOUT_MS"),
              std::string::npos)
        << e.what();
  }
  ::unsetenv("LOA_HTTP_LISTEN");
  ::unsetenv("LOA_REDIS_COMMAND_TIMEOUT_MS");
}

TEST(ConfigTest, UnixUrlWithDatabase) {
  auto e = RedisEndpoint::parse("unix:///run/redis/redis.sock?db=3");
  EXPECT_EQ(e.kind, RedisEndpoint::Kind::kUnix);
  EXPECT_EQ(e.path, "/run/redis/redis.sock");
  EXPECT_EQ(e.db, 3);
}

TEST(ConfigTest, ReferenceListsEveryKeyWithItsVariable) {
  auto ref = config_reference();
  ASSERT_FALSE(ref.empty());
  bool found = false;
  for (const auto& k : ref) {
    EXPECT_FALSE(k.doc.empty()) << k.path;
    if (k.path == "redis.url") {
      found = true;
      EXPECT_EQ(k.env, "LOA_REDIS_URL");
      EXPECT_EQ(k.default_value, "\"spawn\"");
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace loa::engine

namespace loa::engine {
namespace {

std::string read_source_file(const std::string& relative) {
  std::ifstream in(test::source_dir() / relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The README's configuration table stays true: every key is documented there.
TEST(ConfigTest, ReadmeDocumentsEveryKey) {
  const std::string readme = read_source_file("README.md");
  ASSERT_FALSE(readme.empty());
  for (const auto& k : config_reference())
    EXPECT_NE(readme.find("| `" + k.path + "` |"), std::string::npos) << k.path;
}

TEST(ConfigTest, RoutesHaveAGatewayAndTheSimulatorIsTunedPerRoute) {
  Config c = load_config_text(
      "[routes.sms]\ngateway = \"simulator\"\nburst = 5\nrate_per_second = 0\n"
      "[routes.sms.simulator]\nlatency_ms = 7\ntransient_failure_rate = 0.25\n"
      "delivered_share = 1\n[dispatcher]\nbatch = 64\nsimulator_ledger = \"memory\"\n",
      "t.toml", false);
  EXPECT_EQ(route_gateway(c, "sms").burst, 5);
  EXPECT_EQ(c.routes.sms.rate_per_second, 0);  // 0: no limit
  EXPECT_EQ(c.routes.sms.gateway.simulator.latency_ms, 7);
  EXPECT_DOUBLE_EQ(c.routes.sms.gateway.simulator.transient_failure_rate, 0.25);
  EXPECT_DOUBLE_EQ(c.routes.sms.gateway.simulator.delivered_share, 1.0);
  EXPECT_DOUBLE_EQ(c.routes.zalo_zns.gateway.simulator.transient_failure_rate, 0.01);  // default
  EXPECT_EQ(c.dispatcher.batch, 64);
  EXPECT_EQ(c.dispatcher.simulator_ledger, "memory");
  EXPECT_THROW(route_gateway(c, "fax"), ConfigError);
  ::setenv("LOA_ROUTES_ZALO_OA_SIMULATOR_REPLY_RATE", "0.5", 1);
  EXPECT_DOUBLE_EQ(load_config_text("", "t.toml").routes.zalo_oa.gateway.simulator.reply_rate, 0.5);
  ::setenv("LOA_ROUTES_ZALO_OA_SIMULATOR_REPLY_RATE", "half", 1);
  try {
    load_config_text("", "t.toml");
    ADD_FAILURE() << "a share that is not a number was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("LOA_ROUTES_ZALO_OA_SIMULATOR_REPLY_RATE"),
              std::string::npos)
        << e.what();
  }
  ::unsetenv("LOA_ROUTES_ZALO_OA_SIMULATOR_REPLY_RATE");
}

TEST(ConfigTest, AGatewaysOwnOptionsPassThroughAsText) {
  Config c = load_config_text(
      "[routes.zalo_zns.options]\nurl = \"http://127.0.0.1:9/send\"\ntimeout_ms = 5000\n"
      "app_secret_env = \"LOA_ZALO_SECRET\"\nverify = true\n",
      "t.toml", false);
  const auto& o = c.routes.zalo_zns.gateway.options;
  EXPECT_EQ(o.at("url"), "http://127.0.0.1:9/send");
  EXPECT_EQ(o.at("timeout_ms"), "5000");
  EXPECT_EQ(o.at("app_secret_env"), "LOA_ZALO_SECRET");
  EXPECT_EQ(o.at("verify"), "true");
  EXPECT_TRUE(c.routes.sms.gateway.options.empty());
  try {
    load_config_text("[routes.sms.options.header]\nx = 1\n", "bad.toml", false);
    ADD_FAILURE() << "a nested table was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("routes.sms.options.header"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_config_text("[routes.fax.options]\nurl = \"x\"\n", "bad.toml", false),
               ConfigError);
}

TEST(ConfigTest, ExampleConfigLoads) {
  const std::string text = read_source_file("ops/loa.example.toml");
  ASSERT_FALSE(text.empty());
  Config c = load_config_text(text, "ops/loa.example.toml", false);
  EXPECT_EQ(c.log.format, "json");
}

}  // namespace
}  // namespace loa::engine
