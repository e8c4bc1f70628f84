// GET /api/v1/stats and /api/v1/reports over real loopback HTTP and a real SQLite file: the
// token is required, the figures are those of the summary, and bad parameters get a 400 (404
// for an unknown campaign) naming the parameter.
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "campaigns/stats_summary.hpp"
#include "tests/support/api_fixture.hpp"

namespace loa::engine {
namespace {

using campaigns::StatsDeltas;
using campaigns::StatsKey;
using test::ApiServer;
using test::json_of;

class ApiStats : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& db = api_.db();
    db.exec(
        "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) VALUES "
        "(3, 'bhyt-2027', 't', 'sms', '2027-01-01T08:00:00+07:00', "
        "'2027-06-30T20:00:00+07:00', 'running')");
    SQLite::Transaction tx(db);
    StatsDeltas d;
    auto& a = d.at(StatsKey{3, "2027-01-05", "sms", "sms", "viettel", "Xã Ea Kao",
                            "Buôn Ma Thuột", "vi", "poor"});
    a.planned = 100, a.sent = 95, a.delivered = 90, a.failed = 5, a.cost_vnd = 95 * 800;
    a.failures["http 400"] = 5;
    a.ttd[1] = 90;
    auto& b = d.at(StatsKey{3, "2027-02-10", "zalo_zns", "zalo_zns", "", "Phường Tân Lập", "",
                            "rad", "near_poor"});
    b.planned = 40, b.sent = 40, b.delivered = 38;
    d.apply(db);
    tx.commit();
    viewer_ = api_.token(ApiRole::kViewer);
  }
  ApiServer api_;
  std::string viewer_;
};

TEST_F(ApiStats, NeedsAToken) {
  EXPECT_EQ(api_.call("GET", "/api/v1/stats", "").status, 401);
  EXPECT_EQ(api_.call("GET", "/api/v1/stats", "wrong").status, 401);
  EXPECT_EQ(api_.call("GET", "/api/v1/reports", "").status, 401);
  EXPECT_EQ(api_.call("POST", "/api/v1/stats", viewer_).status, 405);
}

TEST_F(ApiStats, FunnelAndBreakdownsForARange) {
  auto r = api_.call("GET", "/api/v1/stats?from=2027-01-01&to=2027-06-30&by=commune,day",
                     viewer_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json_of(r).as_object();
  EXPECT_EQ(body.at("from").as_string(), "2027-01-01");
  const auto& total = body.at("total").as_object();
  EXPECT_EQ(total.at("planned").as_int64(), 140);
  EXPECT_EQ(total.at("delivered").as_int64(), 128);
  EXPECT_EQ(total.at("failed_by_reason").at("http 400").as_int64(), 5);
  EXPECT_NEAR(total.at("time_to_delivery_p50_s").as_double(), 1.5, 1e-9);
  const auto& communes = body.at("by").at("commune").as_array();
  ASSERT_EQ(communes.size(), 2u);
  EXPECT_EQ(communes[1].at("group").as_string(), "Xã Ea Kao");
  EXPECT_EQ(communes[1].at("delivered").as_int64(), 90);
  EXPECT_EQ(body.at("by").at("day").as_array().size(), 2u);

  // A day, a campaign by name, and an empty range (no timed delivery: null percentiles).
  r = api_.call("GET", "/api/v1/stats?from=2027-02-10&to=2027-02-10&campaign=bhyt-2027", viewer_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("total").at("planned").as_int64(), 40);
  EXPECT_EQ(json_of(r).at("campaign").as_int64(), 3);
  r = api_.call("GET", "/api/v1/stats?from=2028-01-01&to=2028-01-02", viewer_);
  EXPECT_TRUE(json_of(r).at("total").at("time_to_delivery_p50_s").is_null());
}

TEST_F(ApiStats, BadParametersAreNamed) {
  auto r = api_.call("GET", "/api/v1/stats?from=2027-13-01", viewer_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r).at("parameter").as_string(), "from");
  r = api_.call("GET", "/api/v1/stats?from=2027-02-01&to=2027-01-01", viewer_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r).at("parameter").as_string(), "to");
  r = api_.call("GET", "/api/v1/stats?by=commune,province", viewer_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r).at("parameter").as_string(), "by");
  EXPECT_NE(json_of(r).at("error").as_string().find("'province'"), std::string::npos);
  r = api_.call("GET", "/api/v1/stats?campaign=nope", viewer_);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json_of(r).at("parameter").as_string(), "campaign");
  r = api_.call("GET", "/api/v1/reports?format=pdf", viewer_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r).at("parameter").as_string(), "format");
}

TEST_F(ApiStats, ReportsAsCsvAndXlsx) {
  auto r = api_.call("GET", "/api/v1/reports?from=2027-01-01&to=2027-06-30", viewer_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_NE(r.body.find("Xã/Phường,Xã Ea Kao,100,"), std::string::npos);
  r = api_.call("GET", "/api/v1/reports?from=2027-01-01&to=2027-06-30&format=xlsx", viewer_);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  EXPECT_EQ(r.body.substr(0, 2), "PK");  // a zip
  EXPECT_GT(r.body.size(), 4000u);
  // Nothing is left behind in the data dir's spool.
  const auto spool = std::filesystem::path(api_.config().daemon.data_dir) / "reports";
  EXPECT_TRUE(!std::filesystem::exists(spool) || std::filesystem::is_empty(spool));
}

}  // namespace
}  // namespace loa::engine
