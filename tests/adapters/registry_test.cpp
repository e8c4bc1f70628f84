// The gateway registry and GatewaySettings: every type is listed and builds, unknown types and
// bad settings are errors that name the route and the key, secrets come only from the
// environment or a file.
#include "adapters/registry.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <map>

#include "adapters/http_client.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::adapters {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  GatewayContext context(std::string route = "sms") {
    GatewayContext c;
    c.executor = io_.get_executor();
    c.http = http_;
    c.route = std::move(route);
    return c;
  }

  boost::asio::io_context io_;
  std::shared_ptr<HttpClient> http_ = HttpClient::create(io_);
};

// The message of `build`'s GatewayConfigError, or a failure.
template <class Build>
std::string error_of(Build build) {
  try {
    build();
  } catch (const GatewayConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no GatewayConfigError";
  return {};
}

// The least settings each type needs, its secrets in the variable `secret_env`.
std::map<std::string, GatewaySettings::Values> least_settings(const std::string& secret_env,
                                                              const std::string& token_file) {
  const GatewaySettings::Values zalo = {{"token_file", token_file},
                                        {"app_id", "4291763606161179100"},
                                        {"app_secret_env", secret_env}};
  return {
      {"zalo_zns", zalo},
      {"zalo_oa", zalo},
      {"simulator", {}},
      {"http", {{"url", "http://127.0.0.1:9/send"}}},
      {"esms",
       {{"api_key_env", secret_env}, {"secret_key_env", secret_env}, {"brandname", "SoLDTBXH"}}},
      {"kannel",
       {{"url", "http://127.0.0.1:9/cgi-bin/sendsms"},
        {"username", "loa"},
        {"password_env", secret_env}}},
  };
}

TEST_F(RegistryTest, ListsEveryType) {
  EXPECT_EQ(gateway_types(), (std::vector<std::string>{"simulator", "http", "esms", "kannel",
                                                      "zalo_zns", "zalo_oa"}));
}

TEST_F(RegistryTest, EveryTypeBuildsFromItsSettings) {
  ::setenv("LOA_TEST_REGISTRY_SECRET", "s3cret", 1);
  test::TempDir dir;
  const std::string tokens = (dir / "zalo-tokens.json").string();
  test::write_file(tokens, "{\"access_token\":\"AT\",\"refresh_token\":\"RT\","
                           "\"expires_at\":4102444800}\n");
  std::filesystem::permissions(tokens, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  const auto minimal = least_settings("LOA_TEST_REGISTRY_SECRET", tokens);
  for (const std::string& type : gateway_types()) {
    SCOPED_TRACE(type);
    ASSERT_TRUE(minimal.contains(type)) << "add a row for the new gateway type";
    auto gateway = make_gateway(type, GatewaySettings(minimal.at(type)), context());
    ASSERT_TRUE(gateway);
    EXPECT_EQ(gateway->type(), type);
    gateway->close();
  }
  ::unsetenv("LOA_TEST_REGISTRY_SECRET");
}

TEST_F(RegistryTest, UnknownTypeNamesTheRouteAndTheKnownTypes) {
  try {
    make_gateway("smpp", GatewaySettings{}, context("sms_viettel"));
    FAIL() << "no error";
  } catch (const GatewayConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "route 'sms_viettel': gateway setting 'gateway': unknown gateway type 'smpp' "
              "(known: simulator, http, esms, kannel, zalo_zns, zalo_oa)");
    EXPECT_EQ(e.route(), "sms_viettel");
    EXPECT_EQ(e.key(), "gateway");
  }
  EXPECT_NE(error_of([] {
              make_webhooks("smpp", GatewaySettings{}, "sms_viettel");
            }).find("route 'sms_viettel'"),
            std::string::npos);
}

TEST_F(RegistryTest, SimulatorTakesItsSettings) {
  auto gateway = make_gateway("simulator",
                              GatewaySettings{{"latency_ms", "5"},
                                              {"receipt_delay_ms", "10"},
                                              {"reply_delay_ms", "20"},
                                              {"transient_failure_rate", "0.1"},
                                              {"permanent_failure_rate", "0.05"},
                                              {"unreachable_rate", "0.05"},
                                              {"throttled_rate", "0.01"},
                                              {"delivered_share", "0.9"},
                                              {"reply_rate", "0.2"},
                                              {"seed", "42"}},
                              context());
  EXPECT_EQ(gateway->type(), "simulator");
  EXPECT_FALSE(make_webhooks("simulator", GatewaySettings{}, "sms").receipt);

  struct Row {
    GatewaySettings::Values settings;
    std::string message;
  };
  const std::vector<Row> rows = {
      {{{"reply_rate", "1.5"}},
       "route 'zalo': gateway setting 'reply_rate': must lie in [0, 1], got 1.5"},
      {{{"latency_ms", "soon"}},
       "route 'zalo': gateway setting 'latency_ms': expected an integer, got 'soon'"},
      {{{"permanent_failure_rate", "0.6"}, {"transient_failure_rate", "0.6"}},
       "route 'zalo': gateway setting 'transient_failure_rate': simulator settings: failure rates "
       "must sum to at most 1"},
      {{{"latency", "5"}},
       "route 'zalo': gateway setting 'latency': not a setting of gateway type 'simulator'"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(error_of([&] {
                make_gateway("simulator", GatewaySettings(row.settings), context("zalo"));
              }),
              row.message);
  }
}

// The check `loa config check` and the daemon's first step run: what make_gateway would refuse,
// refused without building anything, naming the route and the key.
TEST(GatewaySettingsCheckTest, RefusesWhatMakeGatewayWouldAtOnce) {
  ::setenv("LOA_TEST_CHECK_SECRET", "s3cret", 1);
  const GatewaySettings::Values kannel = {{"url", "http://127.0.0.1:9/cgi-bin/sendsms"},
                                          {"username", "loa"},
                                          {"password_env", "LOA_TEST_CHECK_SECRET"}};
  auto with = [](GatewaySettings::Values v, const std::string& key, const std::string& value) {
    if (value.empty())
      v.erase(key);
    else
      v[key] = value;
    return v;
  };
  struct Row {
    std::string type;
    GatewaySettings::Values settings;
    std::string message;  // empty: accepted
  };
  const std::vector<Row> rows = {
      {"kannel", kannel, ""},
      {"kannel", with(with(kannel, "password_env", ""), "password", "hunter2"),
       "route 'sms': gateway setting 'password': secrets are never read from the "
       "configuration; set password_env (an environment variable) or password_file"},
      {"kannel", with(kannel, "url", ""), "route 'sms': gateway setting 'url': is required"},
      {"kannel", with(kannel, "dlr_url", "http://127.0.0.1:8080/webhooks/sms/receipt"),
       "route 'sms': gateway setting 'dlr_token': is required: set dlr_token_env (an "
       "environment variable) or dlr_token_file"},
      {"kannel", with(kannel, "pasword", "x"),
       "route 'sms': gateway setting 'pasword': not a setting of gateway type 'kannel'"},
      {"http", {}, "route 'sms': gateway setting 'url': is required"},
      {"esms",
       {{"brandname", "SoLDTBXH"}, {"secret_key_env", "LOA_TEST_CHECK_SECRET"}},
       "route 'sms': gateway setting 'api_key': is required: set api_key_env (an environment "
       "variable) or api_key_file"},
      {"simulator",
       {{"reply_rate", "2"}},
       "route 'sms': gateway setting 'reply_rate': must lie in [0, 1], got 2"},
      // No token file is read: the check builds nothing.
      {"zalo_zns",
       {{"token_file", "/nonexistent/tokens.json"},
        {"app_id", "1"},
        {"app_secret_env", "LOA_TEST_CHECK_SECRET"}},
       ""},
      {"zalo_oa",
       {{"token_file", "/x"}, {"app_id", "1"}, {"app_secret", "plain"}},
       "route 'sms': gateway setting 'app_secret': secrets are never read from the "
       "configuration; set app_secret_env (an environment variable) or app_secret_file"},
      {"zalo_oa",
       {{"token_file", "/x"},
        {"app_id", "1"},
        {"app_secret_env", "LOA_TEST_CHECK_SECRET"},
        {"tokenfile", "/x"}},
       "route 'sms': gateway setting 'tokenfile': not a setting of gateway type 'zalo_oa'"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.type + " " + row.message);
    if (row.message.empty()) {
      EXPECT_NO_THROW(check_gateway_settings(row.type, GatewaySettings(row.settings), "sms"));
    } else {
      EXPECT_EQ(
          error_of([&] { check_gateway_settings(row.type, GatewaySettings(row.settings), "sms"); }),
          row.message);
    }
  }
  ::unsetenv("LOA_TEST_CHECK_SECRET");
}

// Each adapter's table lists what it reads: its documented defaults, written out, are read and
// accepted on top of the least settings the type needs.
TEST(GatewaySettingsCheckTest, EveryTypeListsItsOptionKeys) {
  ::setenv("LOA_TEST_CHECK_SECRET", "s3cret", 1);
  // No token file is read: the check builds nothing.
  const auto minimal = least_settings("LOA_TEST_CHECK_SECRET", "/nonexistent/tokens.json");
  for (const std::string& type : gateway_types()) {
    SCOPED_TRACE(type);
    ASSERT_TRUE(minimal.contains(type)) << "add a row for the new gateway type";
    const auto options = gateway_options(type);
    EXPECT_EQ(options.empty(), type == "simulator");  // its settings are loa's typed keys
    GatewaySettings::Values all = minimal.at(type);
    for (const GatewayOption& o : options) {
      EXPECT_FALSE(o.doc.empty()) << o.key;
      if (!o.default_value.empty()) all.emplace(std::string(o.key), std::string(o.default_value));
    }
    EXPECT_NO_THROW(check_gateway_settings(type, GatewaySettings(all), "sms"));
  }
  ::unsetenv("LOA_TEST_CHECK_SECRET");
}

TEST(GatewaySettingsTest, AccessorsNameTheKey) {
  const GatewaySettings s{{"url", "http://h"},   {"empty", ""},         {"n", "42"},
                          {"bad_n", "4x"},       {"x", "0.25"},         {"flag", "yes"},
                          {"bad_flag", "maybe"}, {"mode", "form"},      {"header.A", "1"},
                          {"header.B", "2"},     {"headers", "not one"}};
  EXPECT_EQ(s.require("url"), "http://h");
  EXPECT_EQ(error_of([&] { s.require("missing"); }), "gateway setting 'missing': is required");
  EXPECT_EQ(error_of([&] { s.require("empty"); }), "gateway setting 'empty': is required");
  EXPECT_EQ(s.get("missing", "fallback"), "fallback");
  EXPECT_EQ(s.integer("n", 0), 42);
  EXPECT_EQ(s.integer("missing", 7), 7);
  EXPECT_EQ(error_of([&] { s.integer("bad_n", 0); }),
            "gateway setting 'bad_n': expected an integer, got '4x'");
  EXPECT_EQ(error_of([&] { s.integer("n", 0, 0, 10); }),
            "gateway setting 'n': must lie in [0, 10], got 42");
  EXPECT_DOUBLE_EQ(s.number("x", 0), 0.25);
  EXPECT_TRUE(s.boolean("flag", false));
  EXPECT_EQ(error_of([&] { s.boolean("bad_flag", false); }),
            "gateway setting 'bad_flag': expected true or false, got 'maybe'");
  EXPECT_EQ(s.choice("mode", "json", {"json", "form"}), "form");
  EXPECT_EQ(error_of([&] {
              s.choice("url", "json", {"json", "form"});
            }),
            "gateway setting 'url': expected one of json, form, got 'http://h'");
  EXPECT_EQ(s.with_prefix("header."),
            (std::vector<std::pair<std::string, std::string>>{{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(s.unread(), (std::vector<std::string>{"headers"}));
}

TEST(GatewaySettingsTest, SecretsComeOnlyFromTheEnvironmentOrAFile) {
  loa::test::TempDir dir;
  loa::test::write_file(dir / "token", "file-token\r\n");
  loa::test::write_file(dir / "blank", "\n");
  ::setenv("LOA_TEST_TOKEN", "env-token", 1);
  ::setenv("LOA_TEST_EMPTY", "", 1);
  struct Row {
    GatewaySettings::Values settings;
    std::string value;    // when it succeeds
    std::string message;  // when it fails
  };
  const std::vector<Row> rows = {
      {{{"token_env", "LOA_TEST_TOKEN"}}, "env-token", ""},
      {{{"token_file", (dir / "token").string()}}, "file-token", ""},
      {{},
       "",
       "gateway setting 'token': is required: set token_env (an environment variable) or "
       "token_file"},
      {{{"token", "plain"}},
       "",
       "gateway setting 'token': secrets are never read from the configuration; set token_env (an "
       "environment variable) or token_file"},
      {{{"token_env", "LOA_TEST_UNSET"}},
       "",
       "gateway setting 'token': environment variable 'LOA_TEST_UNSET' (token_env) is not set or "
       "empty"},
      {{{"token_env", "LOA_TEST_EMPTY"}},
       "",
       "gateway setting 'token': environment variable 'LOA_TEST_EMPTY' (token_env) is not set or "
       "empty"},
      {{{"token_file", (dir / "nope").string()}},
       "",
       "gateway setting 'token': cannot read token_file '" + (dir / "nope").string() + "'"},
      {{{"token_file", (dir / "blank").string()}},
       "",
       "gateway setting 'token': token_file '" + (dir / "blank").string() + "' is empty"},
      {{{"token_env", "LOA_TEST_TOKEN"}, {"token_file", (dir / "token").string()}},
       "",
       "gateway setting 'token': set either token_env or token_file, not both"},
  };
  for (const Row& row : rows) {
    const GatewaySettings s(row.settings);
    if (row.message.empty()) {
      EXPECT_EQ(s.secret("token"), row.value);
    } else {
      EXPECT_EQ(error_of([&] { s.secret("token"); }), row.message);
    }
  }
  EXPECT_EQ(GatewaySettings{}.optional_secret("token"), std::nullopt);
  ::unsetenv("LOA_TEST_TOKEN");
  ::unsetenv("LOA_TEST_EMPTY");
}

}  // namespace
}  // namespace loa::adapters
