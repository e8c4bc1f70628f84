// The REST API's endpoints against the real daemon (role all): a real Redis, a real SQLite
// file, the simulator gateway and real HTTP on loopback. Each group checks its role rules
// and its error bodies; the OpenAPI test calls every documented operation.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "engine/api_tokens.hpp"
#include "engine/daemon.hpp"
#include "engine/store.hpp"
#include "tests/support/api_fixture.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

namespace json = boost::json;
using loa::test::fixtures_dir;
using loa::test::http_request;
using loa::test::HttpResult;
using loa::test::json_of;
using loa::test::loa_binary;
using loa::test::PrivateRedis;
using loa::test::run_command;
using loa::test::source_dir;
using loa::test::TempDir;

// The first households of the sample list: a small audience.
constexpr const char* kFew =
    R"(household_code in ("DL-06-0000001", "DL-01-0000002", "DL-14-0000003", "DL-15-0000004"))";

class ApiEndpoints : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    redis_ = new PrivateRedis;
    Config c = load_config_text("", "test", false);
    c.daemon.data_dir = (dir_->path() / "data").string();
    c.daemon.threads = 2;
    c.http.listen = "127.0.0.1:0";
    c.http.shutdown_grace_ms = 2000;
    c.redis.url = redis_->unix_url();
    c.redis_endpoint = RedisEndpoint::parse(c.redis.url);
    // Every SMS fails for good at the gateway (never accepted), so retries can be tested.
    c.routes.sms.gateway.simulator.transient_failure_rate = 0;
    c.routes.sms.gateway.simulator.permanent_failure_rate = 1.0;
    c.routes.sms.gateway.simulator.latency_ms = 1;
    c.dispatcher.idle_ms = 50;
    daemon_ = new Daemon(c, Role::kAll);
    daemon_->start();
    ASSERT_EQ(loa("templates load " + (source_dir() / "ops/examples/templates.toml").string())
                  .exit_code,
              0);
    auto db = open_store(dir_->path() / "data" / "loa.db", StoreMode::kReadWrite);
    admin_ = new std::string(create_token(db, ApiRole::kAdmin, "quản trị", "test").secret);
    op_ = new std::string(create_token(db, ApiRole::kOperator, "điều hành", "test").secret);
    viewer_ = new std::string(create_token(db, ApiRole::kViewer, "xem", "test").secret);
  }
  static void TearDownTestSuite() {
    daemon_->stop();
    daemon_->wait();
    delete daemon_;
    delete redis_;
    delete dir_;
    delete admin_;
    delete op_;
    delete viewer_;
  }
  static test::CommandResult loa(const std::string& args) {
    return run_command("LOA_DAEMON_DATA_DIR=" + (dir_->path() / "data").string() + " " +
                       loa_binary().string() + " " + args);
  }
  static HttpResult call(const std::string& method, const std::string& target,
                         const std::string& token, const std::string& body = "",
                         const std::string& type = "application/json",
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) headers.emplace_back("Content-Type", type);
    return http_request(daemon_->http_port(), method, target, body, headers, 60000);
  }
  static std::string sample_csv() {
    std::ifstream in(fixtures_dir() / "households-sample.csv", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void import_sample() {
    static bool done = false;
    if (done) return;
    auto r = call("POST", "/api/v1/contacts/import?name=households-sample.csv", *op_, sample_csv(),
                  "text/csv");
    ASSERT_EQ(r.status, 200) << r.body;
    done = true;
  }
  static json::value campaign_body(const std::string& name) {
    return json::object{{"name", name},
                        {"topic", "Hỗ trợ bảo hiểm y tế"},
                        {"template", "ho_tro_bhyt"},
                        {"audience", kFew},
                        {"channels", json::array{"sms"}},
                        {"start_at", "2026-01-01T08:00:00+07:00"},
                        {"end_at", "2030-01-01T08:00:00+07:00"},
                        {"quiet_hours", "03:00-03:01"},
                        {"variables", json::object{{"hotline", "0262 3852 xxx"}}}};
  }
  // Polls a campaign until `done` holds for its funnel.
  template <class Done>
  static json::value wait_funnel(const std::string& name, Done done) {
    json::value last;
    if (!test::wait_until([&] {
          last = json_of(call("GET", "/api/v1/campaigns/" + name, *viewer_));
          return last.is_object() && done(last.at("funnel"));
        }))
      ADD_FAILURE() << "funnel never reached the state: " << json::serialize(last);
    return last;
  }

  static TempDir* dir_;
  static PrivateRedis* redis_;
  static Daemon* daemon_;
  static std::string* admin_;
  static std::string* op_;
  static std::string* viewer_;
};
TempDir* ApiEndpoints::dir_ = nullptr;
PrivateRedis* ApiEndpoints::redis_ = nullptr;
Daemon* ApiEndpoints::daemon_ = nullptr;
std::string* ApiEndpoints::admin_ = nullptr;
std::string* ApiEndpoints::op_ = nullptr;
std::string* ApiEndpoints::viewer_ = nullptr;

// The import's `name` becomes part of the report's file name: a NUL would cut it, a '/' or
// '\\' would leave the reports folder, bytes that are not UTF-8 would make a name no one can
// read. Each is refused with 400 naming the parameter.
TEST_F(ApiEndpoints, ImportNamesAreFileNames) {
  const std::string csv = sample_csv();
  for (const char* name :
       {"a%00b.csv", "..%2Fx.csv", "a%5Cb.csv", "%FF.csv", "a%0Ab.csv", "..", ""}) {
    auto r = call("POST", std::string("/api/v1/contacts/import?dry_run=true&name=") + name, *op_,
                  csv, "text/csv");
    EXPECT_EQ(r.status, 400) << name << ": " << r.body;
    EXPECT_EQ(json_of(r).at("parameter"), "name") << name;
  }
  auto ok = call("POST", "/api/v1/contacts/import?dry_run=true&name=H%E1%BB%99%20ngh%C3%A8o.csv",
                 *op_, csv, "text/csv");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(std::string(json_of(ok).at("report").as_string()).find("Hộ nghèo-dry-run.csv"),
            std::string::npos);
}

TEST_F(ApiEndpoints, ContactsImportListSearchOptOut) {
  const std::string csv = sample_csv();
  // A viewer may not import, and is refused before the body is read.
  EXPECT_EQ(call("POST", "/api/v1/contacts/import", *viewer_, csv, "text/csv").status, 403);
  // A dry run reports like the CLI and writes nothing.
  auto dry = call("POST", "/api/v1/contacts/import?dry_run=true&name=sample.csv", *op_, csv, "text/csv");
  ASSERT_EQ(dry.status, 200) << dry.body;
  auto d = json_of(dry);
  EXPECT_EQ(d.at("dry_run"), true);
  EXPECT_GE(d.at("rows").as_int64(), 3000);
  EXPECT_GT(d.at("rejected").as_int64(), 0);
  EXPECT_EQ(d.at("accepted").as_int64() + d.at("rejected").as_int64(), d.at("rows").as_int64());
  EXPECT_FALSE(d.at("issues").as_array().empty());
  EXPECT_TRUE(d.at("issues").as_array()[0].as_object().contains("line"));
  EXPECT_FALSE(d.at("issues").as_array()[0].at("advice").as_string().empty());
  // The reports' places under the data directory, not the server's absolute paths.
  const std::string report(d.at("report").as_string());
  EXPECT_TRUE(report.starts_with("reports/import-")) << report;
  EXPECT_TRUE(std::filesystem::exists(dir_->path() / "data" / report)) << report;
  const std::string report_xlsx(d.at("report_xlsx").as_string());
  EXPECT_TRUE(report_xlsx.starts_with("reports/import-")) << report_xlsx;
  EXPECT_TRUE(std::filesystem::exists(dir_->path() / "data" / report_xlsx)) << report_xlsx;

  // The CLI's own dry run of the same file finds the same numbers.
  auto cli = loa("contacts import --dry-run " + (fixtures_dir() / "households-sample.csv").string());
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  std::smatch m;
  // Vietnamese by default: "bị loại", numbers grouped with dots.
  ASSERT_TRUE(std::regex_search(cli.output, m, std::regex(R"(bị loại\s+([0-9.]+))"))) << cli.output;
  EXPECT_EQ(std::regex_replace(m[1].str(), std::regex("\\."), ""),
            std::to_string(d.at("rejected").as_int64()));

  import_sample();
  // A second import of the same file changes nothing.
  auto again = json_of(call("POST", "/api/v1/contacts/import", *op_, csv, "text/csv"));
  EXPECT_EQ(again.at("unchanged"), again.at("accepted"));
  EXPECT_EQ(again.at("inserted"), 0);
  // A bad column map names the parameter.
  auto bad_map = call("POST", "/api/v1/contacts/import?map=Nonsense", *op_, csv, "text/csv");
  EXPECT_EQ(bad_map.status, 400);
  EXPECT_EQ(json_of(bad_map).at("parameter"), "map");
  // A legacy 8-bit file is read as Windows-1258; a header that maps to nothing refuses the
  // whole file, in the reader's language.
  auto latin = call("POST", "/api/v1/contacts/import", *op_,
                    "M\xe3 h\xf4,S\xf4 \xf0i\xean tho\xe1i\n1,2\n", "text/csv");
  EXPECT_EQ(latin.status, 422) << latin.body;
  EXPECT_NE(json_of(latin).at("error").as_string().find("Dòng tiêu đề không dùng được: line 1"),
            json::string::npos)
      << latin.body;
  auto latin_en =
      call("POST", "/api/v1/contacts/import", *op_, "M\xe3 h\xf4,S\xf4 \xf0i\xean tho\xe1i\n1,2\n",
           "text/csv", {{"Accept-Language", "en-US,en;q=0.9,vi;q=0.8"}});
  EXPECT_EQ(latin_en.status, 422) << latin_en.body;
  EXPECT_NE(json_of(latin_en).at("error").as_string().find("unusable header row: line 1"),
            json::string::npos)
      << latin_en.body;

  // List pages by id; search by phone in any spelling, by code, by name.
  auto page = json_of(call("GET", "/api/v1/contacts?limit=2", *viewer_));
  ASSERT_EQ(page.at("items").as_array().size(), 2u);
  ASSERT_TRUE(page.at("next_cursor").is_string());
  auto next = json_of(call("GET", "/api/v1/contacts?limit=2&cursor=" +
                                      std::string(page.at("next_cursor").as_string()),
                                  *viewer_));
  EXPECT_GT(next.at("items").as_array()[0].at("id").as_int64(),
            page.at("items").as_array()[1].at("id").as_int64());
  auto by_phone = json_of(call("GET", "/api/v1/contacts?q=0363%20709%20137", *viewer_));
  ASSERT_EQ(by_phone.at("items").as_array().size(), 1u);
  const auto& household = by_phone.at("items").as_array()[0];
  EXPECT_EQ(household.at("household_code"), "DL-01-0000002");
  EXPECT_EQ(household.at("name"), "Trần Hồng Nga");
  EXPECT_EQ(household.at("phone"), "+84363709137");
  auto by_name = json_of(call("GET", "/api/v1/contacts?q=H%E1%BB%93ng%20Nga", *viewer_));
  EXPECT_GE(by_name.at("items").as_array().size(), 1u);
  // Without accents, in capitals, or with accents in capitals: the same households.
  for (const char* q : {"hong%20nga", "HONG%20NGA", "H%E1%BB%92NG%20NGA", "tran%20hong"}) {
    auto folded = json_of(call("GET", std::string("/api/v1/contacts?q=") + q, *viewer_));
    bool found = false;
    for (const auto& h : folded.at("items").as_array())
      found |= h.at("household_code") == "DL-01-0000002";
    EXPECT_TRUE(found) << q;
    if (std::string_view(q) != "tran%20hong") {
      EXPECT_EQ(folded.at("items").as_array().size(), by_name.at("items").as_array().size()) << q;
    }
  }
  auto filtered = json_of(call("GET", "/api/v1/contacts?limit=500&filter=" +
                                          std::string("category%20%3D%20%22poor%22"),
                                      *viewer_));
  for (const auto& h : filtered.at("items").as_array()) EXPECT_EQ(h.at("category"), "poor");
  auto bad_filter = call("GET", "/api/v1/contacts?filter=categroy%20%3D%201", *viewer_);
  EXPECT_EQ(bad_filter.status, 400);
  EXPECT_EQ(json_of(bad_filter).at("parameter"), "filter");
  EXPECT_NE(json_of(bad_filter).at("error").as_string().find("column 1"), json::string::npos);

  // Opt-out: operator only; SMS only here.
  const std::string id = std::to_string(household.at("id").as_int64());
  EXPECT_EQ(call("POST", "/api/v1/contacts/" + id + "/opt-out", *viewer_).status, 403);
  auto bad = call("POST", "/api/v1/contacts/" + id + "/opt-out", *op_, R"({"channels":["fax"]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("path"), "/channels/0");
  auto out = call("POST", "/api/v1/contacts/" + id + "/opt-out", *op_, R"({"channels":["sms"]})");
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(json_of(out).at("opt_out_sms"), true);
  EXPECT_EQ(json_of(out).at("opt_out_zalo"), false);
  EXPECT_EQ(call("POST", "/api/v1/contacts/999999/opt-out", *op_).status, 404);
  auto back = call("POST", "/api/v1/contacts/" + id + "/opt-out", *op_, R"({"opt_out":false})");
  EXPECT_EQ(json_of(back).at("opt_out_sms"), false);
}

TEST_F(ApiEndpoints, SegmentsCountAndPreview) {
  import_sample();
  auto bad = call("PUT", "/api/v1/segments/ede-poor", *op_, R"({"expression":"category = "})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("path"), "/expression");
  EXPECT_EQ(call("PUT", "/api/v1/segments/ede-poor", *viewer_,
                 R"({"expression":"category = \"poor\""})")
                .status,
            403);
  auto saved = call("PUT", "/api/v1/segments/poor", *op_, R"({"expression":"category = \"poor\""})");
  ASSERT_EQ(saved.status, 200) << saved.body;
  const auto households = json_of(saved).at("households").as_int64();
  EXPECT_GT(households, 0);
  auto count = json_of(call("GET", "/api/v1/segments/poor/count", *viewer_));
  EXPECT_EQ(count.at("households").as_int64(), households);
  EXPECT_EQ(count.at("by_category").at("poor").as_int64(), households);
  auto adhoc = json_of(call("GET", "/api/v1/audience/count?segment=poor", *viewer_));
  EXPECT_EQ(adhoc.at("households").as_int64(), households);
  auto preview = json_of(call("GET", "/api/v1/segments/poor/preview?limit=3", *viewer_));
  ASSERT_EQ(preview.at("items").as_array().size(), 3u);
  for (const auto& h : preview.at("items").as_array()) EXPECT_EQ(h.at("category"), "poor");
  EXPECT_EQ(call("GET", "/api/v1/segments/none/count", *viewer_).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/segments/poor", *op_).status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/segments/poor", *op_).status, 404);
}

TEST_F(ApiEndpoints, CampaignLifecycleMessagesAndRetry) {
  import_sample();
  // Bad input names its path.
  json::value body = campaign_body("api-bhyt");
  body.as_object()["channels"] = json::array{"sms", "fax"};
  auto bad = call("POST", "/api/v1/campaigns", *op_, json::serialize(body));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("path"), "/channels/1");
  body = campaign_body("api-bhyt");
  body.as_object()["audience"] = "categroy = 1";
  bad = call("POST", "/api/v1/campaigns", *op_, json::serialize(body));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("path"), "/audience");
  body = campaign_body("api-bhyt");
  body.as_object()["budjet"] = 5;
  EXPECT_EQ(json_of(call("POST", "/api/v1/campaigns", *op_, json::serialize(body))).at("path"),
            "/budjet");
  body = campaign_body("api-bhyt");
  EXPECT_EQ(call("POST", "/api/v1/campaigns", *viewer_, json::serialize(body)).status, 403);

  // Validate without creating, create, change the draft, validate it.
  auto v = call("POST", "/api/v1/campaigns/validate", *op_, json::serialize(body));
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(json_of(v).at("valid"), true);
  EXPECT_EQ(json_of(v).at("estimate").at("households"), 4);
  EXPECT_EQ(call("GET", "/api/v1/campaigns/api-bhyt", *viewer_).status, 404);
  auto created = call("POST", "/api/v1/campaigns", *op_, json::serialize(body));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json_of(created).at("state"), "draft");
  EXPECT_EQ(json_of(created).at("topic"), "Hỗ trợ bảo hiểm y tế");
  EXPECT_EQ(call("POST", "/api/v1/campaigns", *op_, json::serialize(body)).status, 409);
  auto patched = call("PATCH", "/api/v1/campaigns/api-bhyt", *op_, R"({"budget_vnd": 1})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json_of(patched).at("budget_vnd"), 1);
  // Over budget: launch is refused with its problems, and nothing changes.
  auto refused = call("POST", "/api/v1/campaigns/api-bhyt/launch", *op_);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_FALSE(json_of(refused).at("problems").as_array().empty());
  ASSERT_EQ(call("PATCH", "/api/v1/campaigns/api-bhyt", *op_, R"({"budget_vnd": 0})").status, 200);
  auto est = json_of(call("POST", "/api/v1/campaigns/api-bhyt/validate", *op_));
  EXPECT_EQ(est.at("valid"), true);
  const auto messages = est.at("estimate").at("messages").as_int64();
  EXPECT_GT(messages, 0);

  // Launch; the daemon expands the round, the simulator refuses every SMS for good.
  EXPECT_EQ(call("POST", "/api/v1/campaigns/api-bhyt/launch", *viewer_).status, 403);
  auto launched = call("POST", "/api/v1/campaigns/api-bhyt/launch", *op_);
  ASSERT_EQ(launched.status, 200) << launched.body;
  EXPECT_EQ(json_of(launched).at("state"), "scheduled");
  EXPECT_EQ(call("PATCH", "/api/v1/campaigns/api-bhyt", *op_, R"({"topic":"x"})").status, 409);
  EXPECT_EQ(call("DELETE", "/api/v1/campaigns/api-bhyt", *op_).status, 409);
  wait_funnel("api-bhyt", [messages](const json::value& f) {
    return f.at("failed").as_int64() == messages;
  });

  // Messages: by campaign and status, by phone; bad values name their parameter.
  auto failed = json_of(call("GET", "/api/v1/messages?campaign=api-bhyt&status=failed", *viewer_));
  ASSERT_EQ(static_cast<std::int64_t>(failed.at("items").as_array().size()), messages);
  const auto& first = failed.at("items").as_array()[0];
  EXPECT_EQ(first.at("campaign"), "api-bhyt");
  EXPECT_TRUE(first.at("sent_at").is_null());
  auto by_phone = json_of(call(
      "GET", "/api/v1/messages?phone=" + std::string(first.at("phone").as_string()).replace(0, 1, "%2B"),
      *viewer_));
  EXPECT_EQ(by_phone.at("items").as_array().size(), 1u);
  EXPECT_EQ(json_of(call("GET", "/api/v1/messages?status=lost", *viewer_)).at("parameter"), "status");
  EXPECT_EQ(json_of(call("GET", "/api/v1/messages?phone=123", *viewer_)).at("parameter"), "phone");
  EXPECT_EQ(call("GET", "/api/v1/messages/" + std::to_string(first.at("id").as_int64()), *viewer_)
                .status,
            200);

  // Retry: operator only; every failed message goes again, and fails again.
  EXPECT_EQ(call("POST", "/api/v1/messages/retry", *viewer_, R"({"campaign":"api-bhyt"})").status,
            403);
  auto bad_retry = call("POST", "/api/v1/messages/retry", *op_, R"({"campaign":"api-bhyt","ids":["x"]})");
  EXPECT_EQ(json_of(bad_retry).at("path"), "/ids/0");
  auto retried = call("POST", "/api/v1/messages/retry", *op_, R"({"campaign":"api-bhyt"})");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(json_of(retried).at("retried").as_int64(), messages);
  EXPECT_EQ(json_of(retried).at("skipped_sent"), 0);
  wait_funnel("api-bhyt", [messages](const json::value& f) {
    return f.at("failed").as_int64() == messages;
  });
  auto again = json_of(call("GET", "/api/v1/messages?campaign=api-bhyt&status=failed", *viewer_));
  for (const auto& m : again.at("items").as_array()) EXPECT_GE(m.at("attempts").as_int64(), 1);

  // Pause, resume, cancel; then the lifecycle refuses.
  auto paused = call("POST", "/api/v1/campaigns/api-bhyt/pause", *op_);
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(json_of(paused).at("state"), "paused");
  EXPECT_EQ(json_of(call("POST", "/api/v1/campaigns/api-bhyt/resume", *op_)).at("state"), "running");
  EXPECT_EQ(json_of(call("POST", "/api/v1/campaigns/api-bhyt/cancel", *op_)).at("state"), "cancelled");
  EXPECT_EQ(call("POST", "/api/v1/campaigns/api-bhyt/pause", *op_).status, 409);
  EXPECT_EQ(call("POST", "/api/v1/messages/retry", *op_, R"({"campaign":"api-bhyt"})").status, 409);

  // Lists, and a draft may be deleted.
  auto list = json_of(call("GET", "/api/v1/campaigns?state=cancelled", *viewer_));
  ASSERT_EQ(list.at("items").as_array().size(), 1u);
  EXPECT_EQ(list.at("items").as_array()[0].at("funnel").at("total").as_int64(), messages);
  EXPECT_EQ(json_of(call("GET", "/api/v1/campaigns?state=lost", *viewer_)).at("parameter"), "state");
  body = campaign_body("api-draft");
  ASSERT_EQ(call("POST", "/api/v1/campaigns", *op_, json::serialize(body)).status, 201);
  EXPECT_EQ(call("DELETE", "/api/v1/campaigns/api-draft", *viewer_).status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/campaigns/api-draft", *op_).status, 204);
  EXPECT_EQ(call("GET", "/api/v1/campaigns/api-draft", *op_).status, 404);
}

TEST_F(ApiEndpoints, RoutesShowQueuesBreakersAndTakeARate) {
  auto all = call("GET", "/api/v1/routes", *viewer_);
  ASSERT_EQ(all.status, 200) << all.body;
  const json::value routes = json_of(all);
  const auto& items = routes.at("items").as_array();
  EXPECT_EQ(items.size(), std::size(kRouteNames));
  const auto& sms = items[0];
  EXPECT_EQ(sms.at("route"), "sms");
  EXPECT_EQ(sms.at("gateway"), "simulator");
  EXPECT_TRUE(sms.at("queue").as_object().contains("waiting"));
  EXPECT_TRUE(sms.at("breaker").is_string());  // this process dispatches sms
  EXPECT_EQ(call("GET", "/api/v1/routes/fax", *viewer_).status, 404);
  EXPECT_EQ(call("PUT", "/api/v1/routes/sms/rate", *op_, R"({"rate":7})").status, 403);
  auto bad = call("PUT", "/api/v1/routes/sms/rate", *admin_, R"({"rate":-1})");
  EXPECT_EQ(json_of(bad).at("path"), "/rate");
  auto set = call("PUT", "/api/v1/routes/sms/rate", *admin_, R"({"rate":7,"burst":2})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(json_of(set).at("rate"), 7);
  EXPECT_EQ(json_of(set).at("burst"), 2);
  EXPECT_EQ(redis_->command("HGET loa:{sms}:limit rate"), "7");
}

// The value of one series in a scrape, or -1 when it is absent.
double series(const std::string& scrape, const std::string& name_and_labels) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name_and_labels + " ", 0) == 0) return std::stod(line.substr(name_and_labels.size() + 1));
  return -1;
}

// /metrics from the running daemon: the series exist without a token, and they move.
TEST_F(ApiEndpoints, MetricsMoveWithTheTraffic) {
  import_sample();
  auto before = http_request(daemon_->http_port(), "GET", "/metrics");
  ASSERT_EQ(before.status, 200);
  EXPECT_NE(before.header("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_GE(series(before.body, R"(loa_queue_depth{route="sms",queue="waiting"})"), 0);
  EXPECT_GE(series(before.body, "loa_store_writer_queue"), 0);
  const double failed_before =
      std::max(0.0, series(before.body, R"(loa_send_failures_total{route="sms",class="permanent"})"));
  const double committed_before = series(before.body, "loa_store_writer_committed_total");
  ASSERT_GE(committed_before, 0);

  // Zalo first (the simulator delivers most, a second later), SMS always fails for good.
  json::value body = campaign_body("api-metrics");
  body.as_object()["channels"] = json::array{"zalo_zns", "sms"};
  ASSERT_EQ(call("POST", "/api/v1/campaigns", *op_, json::serialize(body)).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/campaigns/api-metrics/launch", *op_).status, 200);
  wait_funnel("api-metrics", [](const json::value& f) {
    return f.at("planned").as_int64() + f.at("queued").as_int64() + f.at("sent").as_int64() == 0 &&
           f.at("total").as_int64() > 0;
  });
  EXPECT_EQ(http_request(daemon_->http_port(), "GET", "/webhooks/sms/receipt").status, 404);
  std::string after;
  test::wait_until([&] {
    after = http_request(daemon_->http_port(), "GET", "/metrics").body;
    return series(after, R"(loa_delivery_latency_seconds_count{route="zalo_zns"})") > 0;
  });
  EXPECT_GT(series(after, R"(loa_delivery_latency_seconds_count{route="zalo_zns"})"), 0) << after;
  EXPECT_GT(series(after, R"(loa_delivery_latency_seconds_bucket{route="zalo_zns",le="+Inf"})"), 0);
  EXPECT_GT(series(after, R"(loa_sends_total{route="zalo_zns",outcome="sent"})"), 0) << after;
  EXPECT_GT(series(after, R"(loa_send_duration_seconds_count{route="zalo_zns"})"), 0);
  EXPECT_GT(series(after, "loa_store_writer_committed_total"), committed_before);
  EXPECT_GE(series(after, R"(loa_api_requests_total{status="200"})"), 2);
  EXPECT_EQ(series(after, R"(loa_webhook_requests_total{route="sms",kind="receipt",status="404"})"), 1);
  // Households without Zalo went by SMS, which the simulator refuses for good. (A message can
  // also fail without a gateway's refusal: a simulated STOP reply opts its household out, and
  // the dispatcher then stops the message, which is not a send failure.)
  const auto failed = json_of(call("GET", "/api/v1/messages?campaign=api-metrics&status=failed",
                                   *viewer_));
  bool refused_by_sms = false;
  for (const auto& m : failed.at("items").as_array())
    refused_by_sms |= m.at("route").as_string() == "sms" &&
                      m.at("last_error").as_string().starts_with("simulated: invalid number");
  if (refused_by_sms) {
    EXPECT_GT(series(after, R"(loa_send_failures_total{route="sms",class="permanent"})"),
              failed_before)
        << json::serialize(failed);
  }
}

// The OpenAPI document stays true: every documented operation answers (with a role high
// enough, no route is missing: never "no such path" nor 405), and each names its role.
TEST_F(ApiEndpoints, EveryDocumentedOperationAnswers) {
  auto doc = json_of(call("GET", "/api/v1/openapi.json", ""));
  const auto& paths = doc.at("paths").as_object();
  int operations = 0;
  int role_checked = 0;
  for (const auto& [path, item] : paths) {
    for (const auto& [verb, op] : item.as_object()) {
      ++operations;
      std::string target = "/api/v1" + std::string(path);
      target = std::regex_replace(target, std::regex(R"(\{route\})"), "sms");
      target = std::regex_replace(target, std::regex(R"(\{[a-z_]+\})"), "doc-probe");
      std::string method(verb);
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      // A harmless body: operations that need one refuse it with 400, naming what is missing.
      auto r = call(method, target, *admin_, method == "GET" || method == "DELETE" ? "" : "{}");
      EXPECT_NE(r.status, 405) << method << " " << target;
      EXPECT_NE(r.status, 0) << method << " " << target << ": " << r.error;
      if (r.status == 404) {
        EXPECT_EQ(json_of(r).at("error").as_string().find("no such path"), json::string::npos)
            << method << " " << target << ": " << r.body;
      }
      EXPECT_LT(r.status, 500) << method << " " << target << ": " << r.body;
      if (std::string(path) != "/openapi.json") {
        EXPECT_TRUE(op.as_object().contains("x-loa-role")) << path;
        // Without a token, every operation but the document is refused.
        EXPECT_EQ(call(method, target, "").status, 401) << method << " " << target;
        // And a token one role below the operation's minimum is refused with 403, before the
        // handler runs (so nothing is read or written for it).
        const std::string role(op.as_object().at("x-loa-role").as_string());
        const std::string* below = role == "admin" ? op_ : role == "operator" ? viewer_ : nullptr;
        if (below) {
          ++role_checked;
          EXPECT_EQ(call(method, target, *below).status, 403) << method << " " << target;
        } else {
          EXPECT_EQ(role, "viewer") << method << " " << target;
        }
      }
    }
  }
  EXPECT_GE(operations, 25);
  EXPECT_GE(role_checked, 10);  // the write operations and the admin ones
  // And an undocumented path does not answer.
  EXPECT_EQ(call("GET", "/api/v1/undocumented", *admin_).status, 404);
}

}  // namespace
}  // namespace loa::engine
