// The template endpoints (engine/api_templates.cpp) over real loopback HTTP and a real SQLite
// store: the library and one template, create and replace (PUT) with `loa templates load`'s
// validation and errors naming the JSON Pointer and text position, preview with Vietnamese text,
// SMS encodings and segments, delete, roles and 404s.
#include <gtest/gtest.h>

#include <SQLiteCpp/Statement.h>

#include <boost/json/serialize.hpp>

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


// ---- PUT ----------------------------------------------------------------------------------------

namespace json = boost::json;

std::string body_of(const json::value& v) { return json::serialize(v); }

int count_rows(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement q(db, sql);
  q.executeStep();
  return q.getColumn(0).getInt();
}

TEST_F(ApiTemplates, PutCreatesThenReplacesAndKeepsDiacritics) {
  const auto op = api_.token(ApiRole::kOperator, "điều hành");
  // "Kính gửi" written decomposed (NFD: i + U+0301, u + U+031B + U+0309): stored as NFC.
  const json::object created{
      {"topic", "Nhắc lịch tiêm chủng"},
      {"sms", json::object{{"vi", "Ki\xcc\x81nh gu\xcc\x9b\xcc\x89i {{name}}: tiêm chủng tại "
                                  "trạm y tế xã {{area.commune}}."},
                           {"rad", ""}}},
      {"zalo_zns",
       json::object{{"vi", json::object{{"template_id", "301122"},
                                        {"params", json::object{{"ho_ten",
                                                                 json::object{{"value", "{{name}}"},
                                                                              {"max_chars", 30}}},
                                                                {"xa", "{{area.commune}}"}}}}}}}};
  auto r = api_.call("PUT", "/api/v1/templates/tiem_chung", op, body_of(created));
  ASSERT_EQ(r.status, 201) << r.body;
  auto t = json_of(r);
  EXPECT_EQ(t.at("outcome").as_string(), "created");
  EXPECT_EQ(t.at("revision").as_int64(), 1);
  EXPECT_EQ(t.at("topic").as_string(), "Nhắc lịch tiêm chủng");
  EXPECT_EQ(t.at("source_file").as_string(), "api:điều hành");
  // The empty rad text awaits translation: a warning, not an error.
  bool awaiting_warning = false;
  for (const auto& w : t.at("warnings").as_array())
    awaiting_warning = awaiting_warning || (w.at("kind").as_string() == "awaiting_translation" &&
                                            w.at("path").as_string() == "/sms/rad");
  EXPECT_TRUE(awaiting_warning) << r.body;

  auto shown = json_of(api_.call("GET", "/api/v1/templates/tiem_chung", viewer_));
  int checked = 0;
  for (const auto& v : shown.at("variants").as_array()) {
    if (v.at("channel").as_string() == "sms" && v.at("language").as_string() == "vi") {
      EXPECT_EQ(v.at("text").as_string(),
                "Kính gửi {{name}}: tiêm chủng tại trạm y tế xã {{area.commune}}.");
      ++checked;
    }
    if (v.at("channel").as_string() == "zalo_zns") {
      EXPECT_EQ(v.at("zns_template_id").as_string(), "301122");
      EXPECT_EQ(v.at("zns_params").as_array().size(), 2u);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2) << shown;

  // The same again: unchanged, same revision, no new audit row.
  r = api_.call("PUT", "/api/v1/templates/tiem_chung", op, body_of(created));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("outcome").as_string(), "unchanged");
  EXPECT_EQ(json_of(r).at("revision").as_int64(), 1);

  // A replacement is the whole template: zalo_zns and rad are gone.
  const json::object replaced{
      {"topic", "Nhắc lịch tiêm chủng"},
      {"sms", json::object{{"vi", "Mời hộ {{name}} đưa trẻ đi tiêm chủng."}}}};
  r = api_.call("PUT", "/api/v1/templates/tiem_chung", op, body_of(replaced));
  ASSERT_EQ(r.status, 200) << r.body;
  t = json_of(r);
  EXPECT_EQ(t.at("outcome").as_string(), "updated");
  EXPECT_EQ(t.at("revision").as_int64(), 2);
  ASSERT_EQ(t.at("variants").as_array().size(), 1u);
  EXPECT_EQ(t.at("variants").at(0).at("text").as_string(), "Mời hộ {{name}} đưa trẻ đi tiêm chủng.");
  EXPECT_EQ(count_rows(api_.db(),
                       "SELECT count(*) FROM template_variants WHERE template_key = 'tiem_chung'"),
            1);
  EXPECT_EQ(count_rows(api_.db(),
                       "SELECT count(*) FROM audit_log WHERE action = 'templates.put' AND "
                       "subject = 'template:tiem_chung' AND actor = 'api:điều hành'"),
            2);
}

TEST_F(ApiTemplates, PutRefusesAnInvalidTemplateNamingPathAndPosition) {
  const auto op = api_.token(ApiRole::kOperator);
  struct Case {
    std::string body;
    std::string path;
    std::size_t line, column;  // 0: no position in a text
    std::string says;
  };
  const std::vector<Case> cases = {
      // An unknown variable, at its position in the text (1-based characters, after "Xin chào ").
      {R"({"sms":{"vi":"Xin chào {{nmae}}"}})", "/sms/vi", 1, 10, "nmae"},
      // A section never closed, in the second line of the Ê Đê text.
      {R"({"sms":{"vi":"Chào {{name}}","rad":"Kkuh mơak\n{{#is_poor}}hộ nghèo"}})", "/sms/rad", 2,
       1, "is_poor"},
      // A ZNS parameter name with a diacritic and a space.
      {R"({"zalo_zns":{"vi":{"template_id":"301122","params":{"Tên chủ hộ":"{{name}}"}}}})",
       "/zalo_zns/vi/params/Tên chủ hộ", 0, 0, "Tên chủ hộ"},
      // Too long for the route: more than 3 SMS segments for every sample household.
      {R"({"sms":{"vi":")" + std::string(300, 'a') + std::string(250, 'b') + R"( {{name}}"}})",
       "/sms/vi", 0, 0, "segments"},
      // Not a language code.
      {R"({"sms":{"Tiếng Việt":"Chào {{name}}"}})", "/sms/Tiếng Việt", 0, 0, "language code"},
      // Wrong types and unknown fields, by JsonFields.
      {R"({"sms":{"vi":42}})", "/sms/vi", 0, 0, "expected a string"},
      {R"({"smss":{"vi":"Chào"}})", "/smss", 0, 0, "unknown field"},
      {R"({"zalo_zns":{"vi":{"template_id":"1","params":{"xa":{"max_chars":5}}}}})",
       "/zalo_zns/vi/params/xa/value", 0, 0, "missing required field"},
      {R"({"topic":"Không có kênh"})", "/", 0, 0, "at least one"},
      {R"({"sms":)", "/", 0, 0, "malformed JSON"},
  };
  for (const Case& c : cases) {
    auto r = api_.call("PUT", "/api/v1/templates/moi", op, c.body);
    ASSERT_EQ(r.status, 400) << c.body << " -> " << r.body;
    auto e = json_of(r);
    EXPECT_EQ(e.at("path").as_string(), c.path) << r.body;
    EXPECT_NE(e.at("error").as_string().find(c.says), json::string::npos) << r.body;
    if (c.line != 0) {
      EXPECT_EQ(e.at("line").as_int64(), static_cast<std::int64_t>(c.line)) << r.body;
      EXPECT_EQ(e.at("column").as_int64(), static_cast<std::int64_t>(c.column)) << r.body;
    }
  }
  // Nothing was written, and a bad replacement leaves the stored template as it was.
  EXPECT_EQ(api_.call("GET", "/api/v1/templates/moi", viewer_).status, 404);
  auto r = api_.call("PUT", "/api/v1/templates/lu_lut", op, R"({"sms":{"vi":"Lũ {{nmae}}"}})");
  ASSERT_EQ(r.status, 400) << r.body;
  auto kept = json_of(api_.call("GET", "/api/v1/templates/lu_lut", viewer_));
  EXPECT_EQ(kept.at("revision").as_int64(), 1);
  EXPECT_EQ(kept.at("variants").at(0).at("text").as_string(), "Cảnh báo lũ tại {{commune}}.");
  // A key outside [a-z0-9_] is refused before the body is read.
  r = api_.call("PUT", "/api/v1/templates/L%C5%A9-l%E1%BB%A5t", op, R"({"sms":{"vi":"x"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(json_of(r).at("error").as_string().find("Lũ-lụt"), json::string::npos) << r.body;
}

TEST_F(ApiTemplates, PutNeedsTheOperatorRole) {
  const std::string body = R"({"sms":{"vi":"Chào {{name}}"}})";
  EXPECT_EQ(api_.call("PUT", "/api/v1/templates/chao", viewer_, body).status, 403);
  EXPECT_EQ(api_.call("PUT", "/api/v1/templates/chao", "", body).status, 401);
  EXPECT_EQ(api_.call("GET", "/api/v1/templates/chao", viewer_).status, 404);
  EXPECT_EQ(api_.call("PUT", "/api/v1/templates/chao", api_.token(ApiRole::kAdmin), body).status,
            201);
}

// ---- Preview ------------------------------------------------------------------------------------

TEST_F(ApiTemplates, PreviewsAHouseholdPerLanguageWithEncodingAndSegments) {
  const auto op = api_.token(ApiRole::kOperator);
  ASSERT_EQ(api_.call("PUT", "/api/v1/templates/the_bhyt", op,
                      R"({"sms":{"vi":"Kính gửi {{name}}: thẻ BHYT của hộ sắp hết hạn, xin liên hệ UBND xã {{area.commune}}.","rad":""},
                          "zalo_oa":{"vi":"Hộ {{name}} gọi {{campaign.hotline}}"}})")
                .status,
            201);
  auto r = api_.call("POST", "/api/v1/templates/the_bhyt/preview", viewer_,
                     R"({"household":{"name":"Nguyễn Thị Hường","language":"vi","commune":"Ea Tu"},
                         "languages":["vi","rad"],"variables":{"hotline":"0262 3 852 123"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = json_of(r);
  EXPECT_TRUE(p.at("ok").as_bool()) << r.body;
  const auto& households = p.at("households").as_array();
  ASSERT_EQ(households.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& h = households[i];
    EXPECT_EQ(h.at("name").as_string(), "Nguyễn Thị Hường");
    EXPECT_EQ(h.at("origin").as_string(), "request");
    const auto& messages = h.at("messages").as_array();
    ASSERT_EQ(messages.size(), 2u) << h;  // sms, zalo_oa
    const auto& sms = messages[0];
    EXPECT_EQ(sms.at("channel").as_string(), "sms");
    // 82 characters: with diacritics UCS-2 needs 2 segments (67 each); without, one GSM-7
    // segment, so the auto route sends it without diacritics.
    const auto& accented = sms.at("forms").at("with_diacritics");
    EXPECT_EQ(accented.at("text").as_string(),
              "Kính gửi Nguyễn Thị Hường: thẻ BHYT của hộ sắp hết hạn, xin liên hệ UBND xã Ea Tu.");
    EXPECT_EQ(accented.at("encoding").as_string(), "ucs2");
    EXPECT_EQ(accented.at("units").as_int64(), 82);
    EXPECT_EQ(accented.at("segments").as_int64(), 2);
    EXPECT_EQ(accented.at("cost_vnd").as_int64(), 1600);
    const auto& plain = sms.at("forms").at("without_diacritics");
    EXPECT_EQ(plain.at("text").as_string(),
              "Kinh gui Nguyen Thi Huong: the BHYT cua ho sap het han, xin lien he UBND xa Ea Tu.");
    EXPECT_EQ(plain.at("encoding").as_string(), "gsm7");
    EXPECT_EQ(plain.at("segments").as_int64(), 1);
    EXPECT_EQ(sms.at("text").as_string(), plain.at("text").as_string());
    EXPECT_TRUE(sms.at("sms").at("unaccented").as_bool());
    EXPECT_EQ(sms.at("sms").at("encoding").as_string(), "gsm7");
    EXPECT_EQ(sms.at("units").as_int64(), 1);
    EXPECT_EQ(sms.at("cost_vnd").as_int64(), 800);
    EXPECT_EQ(sms.at("language").as_string(), "vi");
    const auto& oa = messages[1];
    EXPECT_EQ(oa.at("channel").as_string(), "zalo_oa");
    EXPECT_EQ(oa.at("text").as_string(), "Hộ Nguyễn Thị Hường gọi 0262 3 852 123");
  }
  // Rendered as vi, then as rad: the rad text awaits translation, so the household gets vi.
  EXPECT_EQ(households[0].at("language").as_string(), "vi");
  EXPECT_TRUE(households[0].at("messages").at(0).at("fallback_reason").is_null());
  EXPECT_EQ(households[1].at("language").as_string(), "rad");
  EXPECT_EQ(households[1].at("messages").at(0).at("requested_language").as_string(), "rad");
  EXPECT_EQ(households[1].at("messages").at(0).at("fallback_reason").as_string(),
            "awaiting translation");
  EXPECT_EQ(p.at("estimate").at("messages").as_int64(), 4);
  EXPECT_EQ(p.at("estimate").at("cost_vnd").as_int64(), 1600);  // 2 SMS; Zalo OA is free here
}

TEST_F(ApiTemplates, PreviewsBuiltInSamplesAndRefusesBadInput) {
  // The store has no households: the built-in samples, each language first.
  auto r = api_.call("POST", "/api/v1/templates/lu_lut/preview", viewer_, R"({"sample":3})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = json_of(r);
  ASSERT_EQ(p.at("households").as_array().size(), 3u);
  EXPECT_EQ(p.at("households").at(1).at("name").as_string(), "H'Ƀlơi Mlô");
  EXPECT_EQ(p.at("households").at(1).at("origin").as_string(), "built-in sample");
  EXPECT_EQ(p.at("revision").as_int64(), 1);
  // No body at all: one sample household.
  r = api_.call("POST", "/api/v1/templates/lu_lut/preview", viewer_, "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("households").as_array().size(), 1u);

  r = api_.call("POST", "/api/v1/templates/khong_co/preview", viewer_, "{}");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(json_of(r).at("error").as_string().find("khong_co"), json::string::npos);
  EXPECT_EQ(api_.call("POST", "/api/v1/templates/lu_lut/preview", "", "{}").status, 401);

  struct Case {
    std::string body, path;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"contact":"DL-99-0000001"})", "/contact"},
           {R"({"contact":"1","sample":2})", "/sample"},
           {R"({"sample":0})", "/sample"},
           {R"({"sample":51})", "/sample"},
           {R"({"languages":["vi","Ê Đê"]})", "/languages/1"},
           {R"({"household":{"name":"A","tuoi":3}})", "/household/tuoi"},
           {R"({"variables":{"hotline":1}})", "/variables/hotline"},
           {R"({"mau":1})", "/mau"},
       }) {
    r = api_.call("POST", "/api/v1/templates/lu_lut/preview", viewer_, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(json_of(r).at("path").as_string(), c.path) << c.body << " -> " << r.body;
  }
}

}  // namespace
}  // namespace loa::engine
