// The REST API framework over real loopback HTTP and a real SQLite file: bearer tokens and
// roles, routing errors, JSON errors naming their path, pagination bounds, body limits and
// streamed uploads. The endpoint groups have tests of their own (api_<group>_integration_test).
#include "engine/api.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "tests/support/api_fixture.hpp"

namespace loa::engine {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using loa::test::ApiServer;
using loa::test::http_request;
using loa::test::json_of;

// Test endpoints that exercise the framework's helpers the way endpoint groups use them.
void add_probe_endpoints(api::Router& router, const api::Services& services) {
  api::add_endpoints(router, services);
  router.add({http::verb::post, "/probe/campaigns", ApiRole::kOperator, "Probe: JSON fields",
              R"json({"responses":{"201":{"description":"echo"}}})json", [](api::Request& req) {
                api::JsonFields body(req.json_body(), "");
                const std::string name = body.required_string("name");
                json::object echo{{"name", name}};
                if (auto audience = body.optional_object("audience")) {
                  if (auto filter = audience->optional_string("filter")) echo["filter"] = *filter;
                  audience->finish();
                }
                if (auto n = body.optional_int("budget_vnd", 0, 1'000'000'000)) echo["budget"] = *n;
                if (auto ch = body.optional_strings("channels")) echo["channels"] = ch->size();
                body.finish();
                return api::Response::json(echo, 201);
              }});
  router.add({http::verb::get, "/probe/items", ApiRole::kViewer, "Probe: pagination",
              R"json({"responses":{"200":{"description":"ids"}}})json", [](api::Request& req) {
                const api::Page page = req.page();
                json::array items;
                std::int64_t last = 0;
                for (std::int64_t id = page.after + 1; id <= 7 && static_cast<std::int64_t>(items.size()) < page.limit; ++id) {
                  items.push_back(json::object{{"id", id}});
                  last = id;
                }
                return api::Response::json(api::paged(std::move(items), page, last));
              }});
  router.add({http::verb::get, "/probe/things/{name}", ApiRole::kViewer, "Probe: a path parameter",
              R"json({"responses":{"200":{"description":"the name"}}})json", [](api::Request& req) {
                return api::Response::json(json::object{{"name", req.param("name")}});
              }});
  router.add({http::verb::post, "/probe/upload", ApiRole::kOperator, "Probe: a streamed upload",
              R"json({"responses":{"200":{"description":"bytes received"}}})json",
              [](api::Request& req) {
                std::ifstream in(req.upload, std::ios::binary);
                std::stringstream ss;
                ss << in.rdbuf();
                return api::Response::json(json::object{
                    {"bytes", ss.str().size()}, {"head", ss.str().substr(0, 10)}});
              },
              true});
}

ApiServer::Options probe_options() {
  ApiServer::Options o;
  o.add = add_probe_endpoints;
  o.http.body_limit = 4096;
  o.upload_limit = 1 << 20;
  return o;
}

TEST(ApiTest, TokensAndRoles) {
  ApiServer api(probe_options());
  const auto viewer = api.token(ApiRole::kViewer, "xem");
  const auto op = api.token(ApiRole::kOperator, "điều hành");

  auto none = api.call("GET", "/api/v1/whoami", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.header("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(json_of(none).at("error"), "missing Authorization: Bearer <token>");

  auto bad = api.call("GET", "/api/v1/whoami", viewer.substr(0, viewer.size() - 1) + "x");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(json_of(bad).at("error"), "unknown or revoked token");
  auto basic = http_request(api.port(), "GET", "/api/v1/whoami", "",
                            {{"Authorization", "Basic dXNlcjpwYXNz"}});
  EXPECT_EQ(basic.status, 401);

  auto me = api.call("GET", "/api/v1/whoami", op);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json_of(me).at("name"), "điều hành");
  EXPECT_EQ(json_of(me).at("role"), "operator");

  // A viewer may read but not change.
  auto refused = api.call("POST", "/api/v1/probe/campaigns", viewer, R"json({"name":"x"})json");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(json_of(refused).at("error").as_string().find("operator"), json::string::npos);
  EXPECT_EQ(api.call("POST", "/api/v1/probe/campaigns", op, R"json({"name":"x"})json").status, 201);

  // Only the hash is kept; a revoked token stops working at once.
  SQLite::Statement st(api.db(), "SELECT token_hash FROM api_tokens WHERE name = 'xem'");
  ASSERT_TRUE(st.executeStep());
  EXPECT_EQ(st.getColumn(0).getString(), sha256_hex(viewer));
  EXPECT_EQ(api.db().execAndGet("SELECT count(*) FROM api_tokens WHERE token_hash LIKE 'loa_%'")
                .getInt(),
            0);
  EXPECT_EQ(api.call("GET", "/api/v1/whoami", viewer).status, 200);
  EXPECT_EQ(revoke_token(api.db(), "xem", "test"), 1);
  EXPECT_EQ(api.call("GET", "/api/v1/whoami", viewer).status, 401);
}

TEST(ApiTest, UnknownPathsAndMethods) {
  ApiServer api(probe_options());
  const auto t = api.token(ApiRole::kAdmin);
  EXPECT_EQ(api.call("GET", "/api/v1/nope", t).status, 404);
  EXPECT_EQ(api.call("GET", "/api/v1/nope", "").status, 404);
  auto wrong = api.call("DELETE", "/api/v1/whoami", t);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("Allow"), "GET");
  auto named = api.call("GET", "/api/v1/probe/things/H%E1%BB%99%20ngh%C3%A8o", t);
  ASSERT_EQ(named.status, 200);
  EXPECT_EQ(json_of(named).at("name"), "Hộ nghèo");
}

TEST(ApiTest, JsonErrorsNameTheirPath) {
  ApiServer api(probe_options());
  const auto t = api.token(ApiRole::kOperator);
  struct Case {
    std::string body;
    std::string path;
    std::string error_part;
  } cases[] = {
      {R"({"name": "x",)", "/", "malformed JSON"},
      {"", "/", "JSON object"},
      {R"([1,2])", "/", "expected an object"},
      {R"({})", "/name", "missing required field"},
      {R"json({"name": 5})json", "/name", "expected a string, got an integer"},
      {R"json({"name":"x","audience":{"filter":["a"]}})json", "/audience/filter", "expected a string"},
      {R"json({"name":"x","audience":"poor"})json", "/audience", "expected an object"},
      {R"json({"name":"x","audience":{"filtr":"a"}})json", "/audience/filtr", "unknown field"},
      {R"json({"name":"x","budget_vnd":-1})json", "/budget_vnd", "between 0 and"},
      {R"json({"name":"x","budget_vnd":1.5})json", "/budget_vnd", "expected an integer"},
      {R"json({"name":"x","channels":["sms",3]})json", "/channels/1", "expected a string"},
      {R"json({"name":"x","a/b~c":1})json", "/a~1b~0c", "unknown field"},
  };
  for (const auto& c : cases) {
    auto r = api.call("POST", "/api/v1/probe/campaigns", t, c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    auto j = json_of(r);
    EXPECT_EQ(j.at("path"), json::value(c.path)) << c.body << " -> " << r.body;
    EXPECT_NE(j.at("error").as_string().find(c.error_part), json::string::npos)
        << c.body << " -> " << r.body;
  }
  auto ok = api.call("POST", "/api/v1/probe/campaigns", t,
                     R"json({"name":"bhyt","audience":{"filter":"category = \"poor\""},"budget_vnd":5,"channels":["sms"]})json");
  EXPECT_EQ(ok.status, 201) << ok.body;
  // Bodies are capped (413) and the server goes on.
  EXPECT_EQ(api.call("POST", "/api/v1/probe/campaigns", t,
                     R"({"name":")" + std::string(8000, 'x') + R"("})")
                .status,
            413);
  EXPECT_EQ(api.call("GET", "/api/v1/whoami", t).status, 200);
}

TEST(ApiTest, PaginationIsBounded) {
  ApiServer api(probe_options());
  const auto t = api.token(ApiRole::kViewer);
  auto first = json_of(api.call("GET", "/api/v1/probe/items?limit=3", t));
  EXPECT_EQ(first.at("items").as_array().size(), 3u);
  ASSERT_TRUE(first.at("next_cursor").is_string());
  auto second = json_of(api.call(
      "GET", "/api/v1/probe/items?limit=5&cursor=" + std::string(first.at("next_cursor").as_string()), t));
  EXPECT_EQ(second.at("items").as_array().size(), 4u);
  EXPECT_EQ(second.at("items").as_array()[0].at("id"), 4);
  EXPECT_TRUE(second.at("next_cursor").is_null());
  for (const char* q : {"limit=0", "limit=501", "limit=abc", "limit="}) {
    auto r = api.call("GET", std::string("/api/v1/probe/items?") + q, t);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(json_of(r).at("parameter"), "limit") << q;
  }
  auto r = api.call("GET", "/api/v1/probe/items?cursor=zz", t);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r).at("parameter"), "cursor");
}

// Files left in the upload spool (<data>/uploads).
std::size_t spooled_files(const ApiServer& api) {
  const auto spool = api.dir() / "data" / "uploads";
  if (!std::filesystem::exists(spool)) return 0;
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(spool),
                                                std::filesystem::directory_iterator()));
}

TEST(ApiTest, UploadsAreStreamedAndAuthorisedFirst) {
  ApiServer api(probe_options());
  const auto op = api.token(ApiRole::kOperator);
  const auto viewer = api.token(ApiRole::kViewer);
  // Larger than the JSON body limit (4 KiB), within the upload limit (1 MiB).
  const std::string csv = "Mã hộ,Số điện thoại\n" + std::string(200000, 'x');
  auto ok = http_request(api.port(), "POST", "/api/v1/probe/upload", csv,
                         {{"Authorization", "Bearer " + op}, {"Content-Type", "text/csv"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json_of(ok).at("bytes").to_number<std::size_t>(), csv.size());
  EXPECT_EQ(json_of(ok).at("head"), json::value(csv.substr(0, 10)));
  // Refused on the header, before the body: no token, the wrong role.
  EXPECT_EQ(http_request(api.port(), "POST", "/api/v1/probe/upload", csv).status, 401);
  EXPECT_EQ(http_request(api.port(), "POST", "/api/v1/probe/upload", csv,
                         {{"Authorization", "Bearer " + viewer}})
                .status,
            403);
  EXPECT_EQ(http_request(api.port(), "POST", "/api/v1/probe/upload", std::string(2 << 20, 'y'),
                         {{"Authorization", "Bearer " + op}})
                .status,
            413);
  // Expect: 100-continue is answered, then the body is read.
  auto raw = loa::test::raw_exchange(
      api.port(), "POST /api/v1/probe/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + op +
                      "\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde");
  EXPECT_NE(raw.find("HTTP/1.1 100 Continue"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\"bytes\":5"), std::string::npos) << raw;
  // Spool files are removed once handled.
  EXPECT_EQ(spooled_files(api), 0u);
}

// An upload over the limit gets its 413, in Vietnamese, never a connection reset: the server
// answers on the header and then reads (and drops) what the client still sends, instead of
// closing on unread bytes, which makes the kernel send a reset that can destroy the answer.
// Both an upload route (1 MiB) and a JSON route (4 KiB), 2 MiB and 300 MB, with and without
// Expect: 100-continue, 50 times each; and clients that send their whole body before reading.
TEST(ApiTest, AnUploadOverTheLimitGetsItsVietnamese413NeverAReset) {
  ApiServer api(probe_options());
  const auto op = api.token(ApiRole::kOperator);
  struct Case {
    const char* target;
    std::uint64_t bytes;
    bool expect;
    bool whole_body_first;
  };
  std::vector<Case> cases;
  for (const char* target : {"/api/v1/probe/upload", "/api/v1/probe/campaigns"})
    for (std::uint64_t bytes : {std::uint64_t{2} << 20, std::uint64_t{300'000'000}})
      for (bool expect : {false, true}) cases.push_back({target, bytes, expect, false});
  // A client that sends all 300 MB before it reads: far more than loopback's socket buffers
  // hold (tcp_rmem 32 MiB), so the server must read it all, or the client is reset mid-send.
  for (bool expect : {false, true})
    cases.push_back({"/api/v1/probe/upload", 300'000'000, expect, true});
  for (const auto& c : cases) {
    int refused = 0;
    for (int i = 0; i < 50; ++i) {
      const std::string head =
          std::string("POST ") + c.target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + op +
          "\r\nContent-Type: text/csv\r\nContent-Length: " + std::to_string(c.bytes) + "\r\n" +
          (c.expect ? "Expect: 100-continue\r\n" : "") + "\r\n";
      auto r = loa::test::send_upload(api.port(), head, c.bytes, c.whole_body_first);
      if (r.status != 413) {
        ADD_FAILURE() << c.target << " " << c.bytes << " bytes, expect " << c.expect
                      << ", whole body first " << c.whole_body_first << ", try " << i << ": status "
                      << r.status << " (" << r.error << ")";
        break;
      }
      ++refused;
      if (i == 0) {
        auto j = json_of(r);
        const std::string error(j.at("error").as_string());
        EXPECT_TRUE(error.starts_with("Nội dung gửi lên quá lớn: tối đa ")) << error;
        EXPECT_NE(error.find(c.target == std::string("/api/v1/probe/upload") ? "1.048.576 byte"
                                                                             : "4.096 byte"),
                  std::string::npos)
            << error;
      }
    }
    EXPECT_EQ(refused, 50) << c.target << " " << c.bytes << " expect " << c.expect
                           << " whole body first " << c.whole_body_first;
  }
  // A client that sends its whole body before it reads (tests/support http_request does).
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(http_request(api.port(), "POST", "/api/v1/probe/upload", std::string(2 << 20, 'y'),
                           {{"Authorization", "Bearer " + op}})
                  .status,
              413)
        << "try " << i;
  // The server went on, and nothing was left in the spool.
  EXPECT_EQ(api.call("GET", "/api/v1/whoami", op).status, 200);
  EXPECT_EQ(spooled_files(api), 0u);
}

TEST(ApiTest, OpenApiDocumentIsPublicAndCarriesRoles) {
  ApiServer api(probe_options());
  auto r = api.call("GET", "/api/v1/openapi.json", "");
  ASSERT_EQ(r.status, 200);
  auto doc = json_of(r);
  EXPECT_EQ(doc.at("openapi"), "3.0.3");
  const auto& op = doc.at("paths").at("/probe/things/{name}").at("get");
  EXPECT_EQ(op.at("x-loa-role"), "viewer");
  EXPECT_EQ(op.at("parameters").as_array()[0].at("name"), "name");
  EXPECT_TRUE(op.at("responses").as_object().contains("401"));
  EXPECT_TRUE(op.at("responses").as_object().contains("403"));
  // A route without a documented 2xx answer cannot be added.
  EXPECT_THROW(api.router().add({http::verb::get, "/x", ApiRole::kViewer, "x", R"json({})json",
                                 [](api::Request&) { return api::Response{}; }}),
               std::invalid_argument);
}

}  // namespace
}  // namespace loa::engine
