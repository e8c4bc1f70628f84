// Test helpers for the Zalo adapters (header-only): one mock server on loopback playing both
// Zalo hosts (the OAuth endpoint at /v4/oa/access_token, anything else a send endpoint), a token
// file in a temporary directory, a clock the test moves, and a blocking send.
#pragma once

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/gateway.hpp"
#include "adapters/http_client.hpp"
#include "adapters/zalo_token.hpp"
#include "tests/support/mock_gateway.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::test {

inline constexpr std::string_view kOAuthPath = "/v4/oa/access_token";
inline constexpr std::string_view kAppId = "4291763606161179100";
inline constexpr std::string_view kAppSecret = "app-secret-Kx9";
inline constexpr auto kZaloWait = std::chrono::seconds(10);  // only reached when a test fails

// A wall clock that moves only when told to; starts at 2025-03-01T00:00:00Z.
class TestClock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  time_point now() const { return time_point(std::chrono::milliseconds(now_ms_.load())); }
  void advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }
  long long unix_seconds() const { return now_ms_.load() / 1000; }

 private:
  std::atomic<long long> now_ms_{1740787200000LL};
};

inline MockResponse json_response(const std::string& body, unsigned status = 200) {
  MockResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = body;
  return r;
}

// What a successful refresh answers (reference §1.4): expires_in as a string, as Zalo sends it.
inline MockResponse refresh_answer(const std::string& access, const std::string& refresh,
                                   const std::string& expires_in = "90000") {
  return json_response(R"({"access_token":")" + access + R"(","refresh_token":")" + refresh +
                       R"(","expires_in":")" + expires_in + R"("})");
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline unsigned file_mode(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// The token file's JSON, as ZaloTokenStore writes it.
inline std::string token_file_text(const std::string& access, const std::string& refresh,
                                   long long expires_at) {
  boost::json::object o;
  o["access_token"] = access;
  o["refresh_token"] = refresh;
  o["expires_at"] = expires_at;
  return boost::json::serialize(o) + "\n";
}

// A form field of an application/x-www-form-urlencoded body, undecoded; "" when absent.
inline std::string form_field(const std::string& body, const std::string& name) {
  std::istringstream in(body);
  std::string pair;
  while (std::getline(in, pair, '&')) {
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
  }
  return {};
}

class ZaloFixture : public ::testing::Test {
 protected:
  using Handler = std::function<MockResponse(const MockRequest&)>;

  static void SetUpTestSuite() { ::setenv("no_proxy", "127.0.0.1,localhost", 1); }

  ZaloFixture()
      : mock_([this](const MockRequest& r) {
          Handler h;
          {
            std::lock_guard lock(mutex_);
            h = r.target == kOAuthPath ? oauth_ : send_;
          }
          return h ? h(r) : json_response(R"({"error":-1,"message":"no handler"})", 200);
        }),
        http_(adapters::HttpClient::create(io_.io())) {}

  void on_oauth(Handler h) {
    std::lock_guard lock(mutex_);
    oauth_ = std::move(h);
  }
  void on_send(Handler h) {
    std::lock_guard lock(mutex_);
    send_ = std::move(h);
  }

  std::filesystem::path token_file() const { return dir_ / "zalo-oa-tokens.json"; }

  // A token file as a previous run left it: the access token expires in `valid_for`.
  void write_tokens(const std::string& access, const std::string& refresh,
                    std::chrono::seconds valid_for) {
    write_file(token_file(),
               token_file_text(access, refresh, clock_.unix_seconds() + valid_for.count()));
  }

  adapters::ZaloTokenSettings token_settings() {
    adapters::ZaloTokenSettings s;
    s.token_file = token_file();
    s.app_id = std::string(kAppId);
    s.app_secret = std::string(kAppSecret);
    s.oauth_url = mock_.url(kOAuthPath);
    s.refresh_margin = std::chrono::hours(1);
    s.timeout = std::chrono::seconds(5);
    s.failure_cooldown = std::chrono::seconds(30);
    s.clock = [this] { return clock_.now(); };
    return s;
  }

  std::vector<MockRequest> requests_to(std::string_view target_prefix) const {
    std::vector<MockRequest> out;
    for (auto& r : mock_.requests()) {
      if (r.target.rfind(target_prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }
  std::vector<MockRequest> refreshes() const { return requests_to(kOAuthPath); }

  adapters::ZaloTokenResult token_of(adapters::ZaloTokens& tokens) {
    auto promise = std::make_shared<std::promise<adapters::ZaloTokenResult>>();
    auto future = promise->get_future();
    tokens.async_access_token(
        [promise](adapters::ZaloTokenResult r) { promise->set_value(std::move(r)); });
    if (future.wait_for(kZaloWait) != std::future_status::ready) {
      ADD_FAILURE() << "no token answer";
      return {};
    }
    return future.get();
  }

  std::vector<adapters::SendResult> send(adapters::Gateway& gateway,
                                         std::vector<adapters::OutboundMessage> batch) {
    auto promise = std::make_shared<std::promise<std::vector<adapters::SendResult>>>();
    auto future = promise->get_future();
    gateway.async_send(std::move(batch), [promise](std::vector<adapters::SendResult> r) {
      promise->set_value(std::move(r));
    });
    if (future.wait_for(kZaloWait) != std::future_status::ready) {
      ADD_FAILURE() << "no send answer";
      return {};
    }
    return future.get();
  }

  // A token file valid for 10 h, and an OAuth endpoint that answers refresh n with AT-<n+1> and
  // RT-<n+1>: what a gateway test starts from.
  std::shared_ptr<adapters::ZaloTokens> rotating_tokens() {
    write_tokens("AT-1", "RT-1", std::chrono::hours(10));
    on_oauth([this](const MockRequest&) {
      const int n = ++rotations_ + 1;
      return refresh_answer("AT-" + std::to_string(n), "RT-" + std::to_string(n));
    });
    return adapters::ZaloTokens::create(io_.io().get_executor(), http_, token_settings());
  }

  // An answer of the mock and the class and reason it must come back as.
  struct AnswerRow {
    const char* name;
    MockResponse answer;
    adapters::SendClass expected;
    const char* reason_part;
  };

  struct ErrorRow {
    int code;
    std::string message;
    adapters::SendClass expected;
  };
  // Sends one message per row (make(i) for row i) to a mock that answers the row's Zalo error,
  // and checks the class, the code in the reason, and that only kAuth refreshed and resent once.
  void expect_error_rows(adapters::Gateway& gateway, std::string_view send_path,
                         const std::function<adapters::OutboundMessage(int)>& make,
                         const std::vector<ErrorRow>& rows) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const ErrorRow& row = rows[i];
      SCOPED_TRACE(std::to_string(row.code) + " " + row.message);
      on_send([&](const MockRequest&) {
        return json_response(R"({"error":)" + std::to_string(row.code) + R"(,"message":")" +
                             row.message + R"("})");
      });
      const std::size_t sends = requests_to(send_path).size();
      const std::size_t refreshed = refreshes().size();
      const auto results = send(gateway, {make(static_cast<int>(i))});
      ASSERT_EQ(results.size(), 1u);
      EXPECT_EQ(results[0].outcome, row.expected) << results[0].reason;
      EXPECT_NE(results[0].reason.find("zalo " + std::to_string(row.code) + ": "),
                std::string::npos)
          << results[0].reason;
      EXPECT_TRUE(results[0].provider_id.empty());
      const bool auth = row.expected == adapters::SendClass::kAuth;
      EXPECT_EQ(requests_to(send_path).size() - sends, auth ? 2u : 1u);
      EXPECT_EQ(refreshes().size() - refreshed, auth ? 1u : 0u);
    }
  }

  TempDir dir_;
  TestClock clock_;
  std::atomic<int> rotations_{0};
  std::mutex mutex_;
  Handler oauth_;  // guarded by mutex_
  Handler send_;   // guarded by mutex_
  MockGateway mock_;
  IoThreads io_{2};
  std::shared_ptr<adapters::HttpClient> http_;  // before io_ goes
};

}  // namespace loa::test
