// The dashboard's assets over a real loopback server: embedded in the binary, Vietnamese, and
// nothing from outside loa (no URL to another host, a CSP of 'self').
#include "engine/dashboard.hpp"

#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "tests/support/http_client.hpp"
#include "tests/support/redis_fixture.hpp"

namespace loa::engine {
namespace {

using loa::test::http_request;
using loa::test::raw_exchange;

class Dashboard : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.port = 0;
    server_ = HttpServer::create(io_.io(), o);
    register_dashboard(*server_);
    server_->start();
  }
  void TearDown() override {
    std::promise<void> done;
    server_->shutdown(std::chrono::milliseconds(500), [&] { done.set_value(); });
    done.get_future().wait_for(std::chrono::seconds(5));
  }
  test::IoThreads io_{1};
  std::shared_ptr<HttpServer> server_;
};

TEST_F(Dashboard, ThePageAndItsAssetsComeFromLoaOnly) {
  const std::string page = raw_exchange(server_->port(),
                                        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_NE(page.find("HTTP/1.1 200"), std::string::npos) << page.substr(0, 200);
  EXPECT_NE(page.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
  EXPECT_NE(page.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
  EXPECT_NE(page.find("<html lang=\"vi\">"), std::string::npos);
  for (const char* text : {"Đăng nhập", "Mã truy cập", "Phễu gửi tin", "Theo xã/phường",
                           "Hộp thư đến", "Tình trạng tuyến", "Theo ngày"})
    EXPECT_NE(page.find(text), std::string::npos) << text;

  for (const char* asset : {"/dashboard/app.js", "/dashboard/style.css"}) {
    auto r = http_request(server_->port(), "GET", asset);
    EXPECT_EQ(r.status, 200) << asset;
    EXPECT_GT(r.body.size(), 1000u) << asset;
    // The only absolute URL allowed is the SVG namespace, which is a name, not a fetch.
    static const std::regex url(R"re(https?://[^\s'"`)]+)re");
    for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), url);
         it != std::sregex_iterator(); ++it)
      EXPECT_EQ(it->str(), "http://www.w3.org/2000/svg") << asset;
  }
  static const std::regex url(R"re((src|href)="([^"]*)")re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), url); it != std::sregex_iterator();
       ++it)
    EXPECT_EQ((*it)[2].str().rfind("/", 0), 0u) << "not served by loa: " << (*it)[2];
  EXPECT_EQ(http_request(server_->port(), "GET", "/dashboard/missing.js").status, 404);
}

}  // namespace
}  // namespace loa::engine
