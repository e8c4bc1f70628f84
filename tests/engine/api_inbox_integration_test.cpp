// The inbox endpoints (engine/api_inbox.cpp) over real loopback HTTP and a real SQLite store:
// roles, filters and keyset pages, assign, reply (an outbox row of the inbox campaign in the
// priority lane, recorded as the token's actor) and close, and the error bodies.
#include <gtest/gtest.h>

#include <SQLiteCpp/Statement.h>

#include <boost/json/serialize.hpp>

#include "tests/support/api_fixture.hpp"

namespace loa::engine {
namespace {

namespace json = boost::json;
using loa::test::ApiServer;
using loa::test::json_of;

class ApiInbox : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.db().exec(
        "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) VALUES "
        "(7, 'lu-lut', 't', 'sms', '2026-11-01T08:00:00+07:00', '2026-12-01T08:00:00+07:00', 'running');"
        "INSERT INTO households(id, name, phone_e164, language, province, commune) VALUES "
        "(11, 'Y Nuê Êban', '+84912345678', 'vi', 'Đắk Lắk', 'Ea Tu'),"
        "(12, 'H Lan Niê', '+84987654321', 'vi', 'Đắk Lắk', 'Hòa Thắng');"
        "INSERT INTO replies(id, route, household_id, campaign_id, phone, text, provider_id, "
        "received_at, status, rule) VALUES "
        "(1, 'sms', 11, 7, '+84912345678', 'Khi nào có gạo?', 'mo-1', '2026-11-20T08:00:00+07:00', 'open', 'inbox'),"
        "(2, 'sms', 12, NULL, '+84987654321', 'Cảm ơn cán bộ', 'mo-2', '2026-11-21T08:00:00+07:00', 'open', 'inbox'),"
        "(3, 'sms', 12, 7, '+84987654321', 'TU CHOI', 'mo-3', '2026-11-22T08:00:00+07:00', 'handled', 'opt_out'),"
        "(4, 'sms', 11, 7, '+84912345678', 'Xin hỏi đường đến xã', 'mo-4', '2026-11-23T08:00:00+07:00', 'open', 'inbox');");
    viewer_ = api_.token(ApiRole::kViewer, "xem");
    op_ = api_.token(ApiRole::kOperator, "điều hành");
  }
  std::vector<std::int64_t> ids(const json::value& page) {
    std::vector<std::int64_t> out;
    for (const auto& i : page.at("items").as_array()) out.push_back(i.at("id").as_int64());
    return out;
  }
  ApiServer api_;
  std::string viewer_, op_;
};

TEST_F(ApiInbox, ListsNewestFirstWithFiltersAndPages) {
  auto all = api_.call("GET", "/api/v1/inbox", viewer_);
  ASSERT_EQ(all.status, 200) << all.body;
  auto body = json_of(all);
  EXPECT_EQ(ids(body), (std::vector<std::int64_t>{4, 2, 1}));  // handled is not waiting
  EXPECT_EQ(body.at("counts").at("open").as_int64(), 3);
  EXPECT_EQ(body.at("counts").at("handled").as_int64(), 1);
  const auto& first = body.at("items").at(0);
  EXPECT_EQ(first.at("text").as_string(), "Xin hỏi đường đến xã");
  EXPECT_EQ(first.at("campaign").as_string(), "lu-lut");
  EXPECT_EQ(first.at("phone").as_string(), "+84912345678");
  EXPECT_EQ(first.at("area").at("commune").as_string(), "Ea Tu");

  EXPECT_EQ(ids(json_of(api_.call("GET", "/api/v1/inbox?campaign=lu-lut", viewer_))),
            (std::vector<std::int64_t>{4, 1}));
  EXPECT_EQ(ids(json_of(api_.call("GET", "/api/v1/inbox?area=H%C3%B2a%20Th%E1%BA%AFng", viewer_))),
            (std::vector<std::int64_t>{2}));
  EXPECT_EQ(ids(json_of(api_.call("GET", "/api/v1/inbox?status=handled,open", viewer_))),
            (std::vector<std::int64_t>{4, 3, 2, 1}));

  // Pages of two: the cursor carries on, the last page has no next_cursor.
  auto p1 = json_of(api_.call("GET", "/api/v1/inbox?limit=2", viewer_));
  EXPECT_EQ(ids(p1), (std::vector<std::int64_t>{4, 2}));
  ASSERT_TRUE(p1.at("next_cursor").is_string());
  auto p2 = json_of(api_.call(
      "GET", "/api/v1/inbox?limit=2&cursor=" + std::string(p1.at("next_cursor").as_string()),
      viewer_));
  EXPECT_EQ(ids(p2), (std::vector<std::int64_t>{1}));
  EXPECT_TRUE(p2.at("next_cursor").is_null());

  auto bad = api_.call("GET", "/api/v1/inbox?status=pending", viewer_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("parameter").as_string(), "status");
  EXPECT_EQ(api_.call("GET", "/api/v1/inbox?limit=0", viewer_).status, 400);
  EXPECT_EQ(api_.call("GET", "/api/v1/inbox", "").status, 401);
}

TEST_F(ApiInbox, ShowsOneReplyOr404) {
  auto one = api_.call("GET", "/api/v1/inbox/2", viewer_);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(json_of(one).at("household_name").as_string(), "H Lan Niê");
  EXPECT_EQ(api_.call("GET", "/api/v1/inbox/99", viewer_).status, 404);
  EXPECT_EQ(api_.call("GET", "/api/v1/inbox/abc", viewer_).status, 404);
}

TEST_F(ApiInbox, ViewersCannotAct) {
  EXPECT_EQ(api_.call("POST", "/api/v1/inbox/1/assign", viewer_, R"({"operator":"lan"})").status, 403);
  EXPECT_EQ(api_.call("POST", "/api/v1/inbox/1/reply", viewer_, R"({"text":"x"})").status, 403);
  EXPECT_EQ(api_.call("POST", "/api/v1/inbox/1/close", viewer_).status, 403);
  auto one = json_of(api_.call("GET", "/api/v1/inbox/1", viewer_));
  EXPECT_EQ(one.at("status").as_string(), "open");
}

TEST_F(ApiInbox, AssignReplyAndClose) {
  auto assigned = api_.call("POST", "/api/v1/inbox/1/assign", op_, R"({"operator":"Lan"})");
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  EXPECT_EQ(json_of(assigned).at("status").as_string(), "assigned");
  EXPECT_EQ(ids(json_of(api_.call("GET", "/api/v1/inbox?assignee=Lan", viewer_))),
            (std::vector<std::int64_t>{1}));

  auto replied = api_.call("POST", "/api/v1/inbox/1/reply", op_,
                           R"({"text":"Gạo sẽ được phát vào thứ Hai tại nhà văn hoá thôn."})");
  ASSERT_EQ(replied.status, 200) << replied.body;
  auto r = json_of(replied);
  EXPECT_EQ(r.at("reply").at("status").as_string(), "answered");
  const std::int64_t message = r.at("message").at("id").as_int64();
  EXPECT_EQ(r.at("message").at("route").as_string(), "sms");
  EXPECT_EQ(r.at("message").at("channel").as_string(), "sms");

  // The answer waits in the outbox: the inbox campaign, the priority lane, the household's phone.
  SQLite::Statement st(api_.db(),
                       "SELECT c.name, o.priority, o.phone_e164, o.household_id, o.state FROM outbox o "
                       "JOIN campaigns c ON c.id = o.campaign_id WHERE o.id = ?");
  st.bind(1, message);
  ASSERT_TRUE(st.executeStep());
  EXPECT_EQ(st.getColumn(0).getString(), "inbox");
  EXPECT_EQ(st.getColumn(1).getString(), "reply");
  EXPECT_EQ(st.getColumn(2).getString(), "+84912345678");
  EXPECT_EQ(st.getColumn(3).getInt64(), 11);
  EXPECT_EQ(st.getColumn(4).getString(), "planned");
  // Recorded as the token's actor.
  SQLite::Statement audit(api_.db(), "SELECT COUNT(*) FROM audit_log WHERE actor = 'api:điều hành'");
  ASSERT_TRUE(audit.executeStep());
  EXPECT_GE(audit.getColumn(0).getInt64(), 1);

  auto closed = api_.call("POST", "/api/v1/inbox/1/close", op_);
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(json_of(closed).at("status").as_string(), "closed");
  EXPECT_EQ(ids(json_of(api_.call("GET", "/api/v1/inbox", viewer_))),
            (std::vector<std::int64_t>{4, 2}));
}

TEST_F(ApiInbox, ErrorBodiesNameTheField) {
  auto missing = api_.call("POST", "/api/v1/inbox/1/reply", op_, "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json_of(missing).at("path").as_string(), "/text");
  auto wrong = api_.call("POST", "/api/v1/inbox/1/assign", op_, R"({"operator":3})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(json_of(wrong).at("path").as_string(), "/operator");
  auto unknown = api_.call("POST", "/api/v1/inbox/1/reply", op_, R"({"text":"a","cc":"b"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json_of(unknown).at("path").as_string(), "/cc");
  auto empty = api_.call("POST", "/api/v1/inbox/1/reply", op_, R"({"text":""})");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(json_of(empty).at("path").as_string(), "/text");
  // A reply a rule handled is not in the inbox: 409.
  auto handled = api_.call("POST", "/api/v1/inbox/3/assign", op_, R"({"operator":"Lan"})");
  EXPECT_EQ(handled.status, 409) << handled.body;
  EXPECT_EQ(api_.call("POST", "/api/v1/inbox/99/close", op_).status, 404);
}

}  // namespace
}  // namespace loa::engine
