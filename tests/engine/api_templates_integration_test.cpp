// The template endpoints' read side (engine/api_templates.cpp) over real loopback HTTP and a
// real SQLite store: the library and one template in a template file's shape, roles, 404.
#include <gtest/gtest.h>

#include "tests/support/api_fixture.hpp"

namespace loa::engine {
namespace {

using loa::test::ApiServer;
using loa::test::json_of;

class ApiTemplates : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.db().exec(
        "INSERT INTO templates(key, topic, description, source_file, revision) VALUES "
        "('bhyt_nhac_han', 'Bảo hiểm y tế', 'Nhắc gia hạn thẻ BHYT', 'templates.toml', 2),"
        "('lu_lut', 'Thiên tai', '', 'templates.toml', 1);"
        "INSERT INTO template_variants(template_key, language, channel, body, zns_template_id, "
        "zns_params) VALUES "
        "('bhyt_nhac_han', 'vi', 'sms', 'Thẻ BHYT của hộ {{name}} sắp hết hạn.', '', '[]'),"
        "('bhyt_nhac_han', 'rad', 'sms', '', '', '[]'),"
        "('bhyt_nhac_han', 'vi', 'zalo_zns', '', '248123', "
        "'[{\"name\":\"ho_ten\",\"value\":\"{{name}}\",\"max_chars\":30}]'),"
        "('lu_lut', 'vi', 'sms', 'Cảnh báo lũ tại {{commune}}.', '', '[]');");
    viewer_ = api_.token(ApiRole::kViewer, "xem");
  }
  ApiServer api_;
  std::string viewer_;
};

TEST_F(ApiTemplates, ListsTheLibraryInKeyOrder) {
  auto r = api_.call("GET", "/api/v1/templates", viewer_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json_of(r);
  const auto& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("key").as_string(), "bhyt_nhac_han");
  EXPECT_EQ(items[0].at("topic").as_string(), "Bảo hiểm y tế");
  EXPECT_EQ(items[0].at("revision").as_int64(), 2);
  EXPECT_EQ(items[1].at("key").as_string(), "lu_lut");
  EXPECT_TRUE(body.at("next_cursor").is_null());
  EXPECT_EQ(api_.call("GET", "/api/v1/templates", "").status, 401);
}

TEST_F(ApiTemplates, ShowsOneTemplateWithItsVariants) {
  auto r = api_.call("GET", "/api/v1/templates/bhyt_nhac_han", viewer_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = json_of(r);
  int sms_vi = 0, sms_rad = 0, zns = 0;
  for (const auto& v : t.at("variants").as_array()) {
    const std::string lang(v.at("language").as_string());
    const std::string channel(v.at("channel").as_string());
    if (channel == "sms" && lang == "vi") {
      ++sms_vi;
      EXPECT_EQ(v.at("text").as_string(), "Thẻ BHYT của hộ {{name}} sắp hết hạn.");
      EXPECT_FALSE(v.at("awaiting_translation").as_bool());
    } else if (channel == "sms" && lang == "rad") {
      ++sms_rad;
      EXPECT_TRUE(v.at("awaiting_translation").as_bool());
    } else if (channel == "zalo_zns") {
      ++zns;
      EXPECT_EQ(v.at("zns_template_id").as_string(), "248123");
      EXPECT_EQ(v.at("zns_params").at(0).at("name").as_string(), "ho_ten");
      EXPECT_EQ(v.at("zns_params").at(0).at("max_chars").as_int64(), 30);
    }
  }
  EXPECT_EQ(sms_vi + sms_rad + zns, 3);
  EXPECT_EQ(sms_vi, 1);
  EXPECT_EQ(zns, 1);
  auto missing = api_.call("GET", "/api/v1/templates/khong_co", viewer_);
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(json_of(missing).at("error").as_string().find("khong_co"), std::string::npos);
}

TEST_F(ApiTemplates, DeletesUnlessACampaignBeyondDraftUsesIt) {
  const auto op = api_.token(ApiRole::kOperator, "điều hành");
  api_.db().exec(
      "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) VALUES "
      "(1, 'bhyt-2026', 'bhyt_nhac_han', 'sms', '2026-11-01T08:00:00+07:00', "
      "'2026-12-01T08:00:00+07:00', 'running'),"
      "(2, 'lu-nhap', 'lu_lut', 'sms', '2026-11-01T08:00:00+07:00', '2026-12-01T08:00:00+07:00', "
      "'draft');");
  EXPECT_EQ(api_.call("DELETE", "/api/v1/templates/lu_lut", viewer_).status, 403);
  auto used = api_.call("DELETE", "/api/v1/templates/bhyt_nhac_han", op);
  EXPECT_EQ(used.status, 409) << used.body;
  EXPECT_EQ(json_of(used).at("campaigns").at(0).as_string(), "bhyt-2026");
  EXPECT_EQ(api_.call("GET", "/api/v1/templates/bhyt_nhac_han", viewer_).status, 200);
  // A draft does not hold a template.
  auto gone = api_.call("DELETE", "/api/v1/templates/lu_lut", op);
  ASSERT_EQ(gone.status, 200) << gone.body;
  EXPECT_EQ(api_.call("GET", "/api/v1/templates/lu_lut", viewer_).status, 404);
  EXPECT_EQ(api_.call("DELETE", "/api/v1/templates/lu_lut", op).status, 404);
}

}  // namespace
}  // namespace loa::engine
