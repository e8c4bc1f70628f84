// Zalo OA access tokens against a mock OAuth endpoint on loopback: loading what a previous run
// left, refreshing before expiry, rotating and persisting the single-use refresh token before the
// new access token is used, one refresh for many callers, a refused refresh token, and a crash
// between the refresh and its persist.
#include "adapters/zalo_token.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "adapters/zalo_zns_gateway.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/support/zalo_fixture.hpp"

namespace loa::adapters {
namespace {

using loa::test::json_response;
using loa::test::MockRequest;
using loa::test::MockResponse;
using loa::test::refresh_answer;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kTokenLifetime = 90000s;  // Zalo's expires_in (§1.4)

// Aborts every save just before the rename while `crash` is set, as a process dying there would.
class CrashingStore : public ZaloTokenStore {
 public:
  using ZaloTokenStore::ZaloTokenStore;
  std::atomic<bool> crash{true};

 protected:
  std::string before_rename(const fs::path&) const override {
    return crash ? "simulated crash before rename" : "";
  }
};

class ZaloTokenTest : public loa::test::ZaloFixture {
 protected:
  std::shared_ptr<ZaloTokens> make(std::shared_ptr<ZaloTokenStore> store = nullptr) {
    return ZaloTokens::create(io_.io().get_executor(), http_, token_settings(), std::move(store));
  }

  // Drops the last reference and waits until handlers in flight have let go of it too, so the
  // token file's lock is free for the next ZaloTokens.
  static void release(std::shared_ptr<ZaloTokens>& tokens) {
    std::weak_ptr<ZaloTokens> weak = tokens;
    tokens.reset();
    ASSERT_TRUE(test::wait_until([&] { return weak.expired(); }, test::kEventually, 2ms));
  }
};

TEST_F(ZaloTokenTest, LoadsTheFileAPreviousRunLeftAndUsesItsTokenWhileFresh) {
  write_tokens("AT-previous", "RT-previous", 10h);
  auto tokens = make();
  const ZaloTokenResult r = token_of(*tokens);
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.access_token, "AT-previous");
  EXPECT_TRUE(refreshes().empty());
  EXPECT_EQ(tokens->stats().refreshes, 0u);
}

TEST_F(ZaloTokenTest, RefreshesWithinTheMarginBeforeExpiryAndRotatesTheRefreshToken) {
  write_tokens("AT-1", "RT-1/+=&", 2h);  // characters the form body must percent-encode
  on_oauth([](const MockRequest&) { return refresh_answer("AT-2", "RT-2"); });
  auto tokens = make();

  ASSERT_EQ(token_of(*tokens).access_token, "AT-1");  // 2 h left, margin 1 h: still good
  EXPECT_TRUE(refreshes().empty());

  clock_.advance(61min);  // 59 min left: inside the margin
  const ZaloTokenResult r = token_of(*tokens);
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.access_token, "AT-2");

  const auto seen = refreshes();
  ASSERT_EQ(seen.size(), 1u);
  const MockRequest& req = seen[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v4/oa/access_token");
  EXPECT_EQ(req.header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.header("secret_key"), loa::test::kAppSecret);
  EXPECT_EQ(req.header("Authorization"), "");
  EXPECT_EQ(req.body,
            "app_id=4291763606161179100&grant_type=refresh_token&refresh_token=RT-1%2F%2B%3D%26");

  // Rotated and persisted: the new single-use refresh token, the new expiry, mode 0600.
  EXPECT_EQ(
      loa::test::read_file(token_file()),
      loa::test::token_file_text("AT-2", "RT-2", clock_.unix_seconds() + kTokenLifetime.count()));
  EXPECT_EQ(loa::test::file_mode(token_file()), 0600u);
  EXPECT_FALSE(fs::exists(token_file().string() + ".tmp"));

  // The next refresh spends the new refresh token, not the old one.
  on_oauth([](const MockRequest&) { return refresh_answer("AT-3", "RT-3"); });
  clock_.advance(kTokenLifetime - 30min);
  ASSERT_EQ(token_of(*tokens).access_token, "AT-3");
  ASSERT_EQ(refreshes().size(), 2u);
  EXPECT_EQ(loa::test::form_field(refreshes()[1].body, "refresh_token"), "RT-2");
}

TEST_F(ZaloTokenTest, TheNewRefreshTokenIsOnDiskBeforeTheNewAccessTokenIsSent) {
  write_tokens("AT-old", "RT-old", 10min);  // inside the margin: the first send refreshes
  on_oauth([](const MockRequest&) { return refresh_answer("AT-new", "RT-new"); });
  std::mutex m;
  std::vector<std::string> file_when_used;
  on_send([&](const MockRequest& r) {
    std::lock_guard lock(m);
    file_when_used.push_back(r.header("access_token") + " " + loa::test::read_file(token_file()));
    return json_response(R"({"error":0,"message":"Success","data":{"msg_id":"z1"}})");
  });
  auto tokens = make();
  ZaloZnsGateway zns(io_.io().get_executor(), ZaloApiSettings{mock_.url("/message/template")},
                     http_, tokens);
  const auto results = send(zns, {{"42", "zalo_zns", "+84912345678", "",
                                   R"({"template_id":"7788","template_data":{}})", 1}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, SendClass::kAccepted) << results[0].reason;
  std::lock_guard lock(m);
  ASSERT_EQ(file_when_used.size(), 1u);
  EXPECT_EQ(file_when_used[0],
            "AT-new " + loa::test::token_file_text("AT-new", "RT-new",
                                                   clock_.unix_seconds() + kTokenLifetime.count()));
}

TEST_F(ZaloTokenTest, ConcurrentCallersShareOneRefresh) {
  write_tokens("AT-1", "RT-1", 5min);
  on_oauth([](const MockRequest&) {
    MockResponse r = refresh_answer("AT-2", "RT-2");
    r.delay = 200ms;  // so that every caller arrives while it is in flight
    return r;
  });
  auto tokens = make();
  constexpr int kCallers = 25;
  std::vector<std::future<ZaloTokenResult>> futures;
  for (int i = 0; i < kCallers; ++i) {
    auto p = std::make_shared<std::promise<ZaloTokenResult>>();
    futures.push_back(p->get_future());
    tokens->async_access_token([p](ZaloTokenResult r) { p->set_value(std::move(r)); });
  }
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(loa::test::kZaloWait), std::future_status::ready);
    EXPECT_EQ(f.get().access_token, "AT-2");
  }
  EXPECT_EQ(refreshes().size(), 1u);
  EXPECT_EQ(tokens->stats().refreshes, 1u);
}

TEST_F(ZaloTokenTest, InvalidateRefreshesOnceAndIgnoresTokensAlreadyReplaced) {
  write_tokens("AT-1", "RT-1", 10h);
  on_oauth([](const MockRequest&) { return refresh_answer("AT-2", "RT-2"); });
  auto tokens = make();
  tokens->invalidate("AT-1");
  EXPECT_EQ(token_of(*tokens).access_token, "AT-2");
  tokens->invalidate("AT-1");  // a late auth error for the old token
  EXPECT_EQ(token_of(*tokens).access_token, "AT-2");
  EXPECT_EQ(refreshes().size(), 1u);
}

// One row per way Zalo can refuse the refresh token (§1.4 says it is single-use, so a spent or
// expired one is refused); the reason must tell the operator what to do, naming the file.
TEST_F(ZaloTokenTest, ARefusedRefreshTokenIsAClearAuthErrorUntilTheFileChanges) {
  struct Row {
    const char* name;
    std::string answer;
  };
  const Row rows[] = {
      {"v4 code",
       R"({"error":-14014,"error_name":"Invalid refresh token","error_description":"Invalid refresh token"})"},
      {"message only", R"({"error":-14019,"message":"Refresh token is expired"})"},
      {"snake case", R"({"error":-1,"error_description":"refresh_token not found"})"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    write_tokens("AT-1", "RT-spent", 0s);
    on_oauth([&](const MockRequest& r) {
      return loa::test::form_field(r.body, "refresh_token") == "RT-spent"
                 ? json_response(row.answer)
                 : refresh_answer("AT-after", "RT-after");
    });
    auto tokens = make();
    const std::size_t before = refreshes().size();
    const ZaloTokenResult r = token_of(*tokens);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.failure, SendClass::kAuth);
    EXPECT_NE(r.reason.find("rejected the refresh token in " + token_file().string()),
              std::string::npos)
        << r.reason;
    EXPECT_NE(r.reason.find("re-authorise"), std::string::npos) << r.reason;
    EXPECT_EQ(r.reason.find("RT-spent"), std::string::npos) << "a token leaked: " << r.reason;

    // Asking again, even after the cool-down, sends the dead token nowhere.
    clock_.advance(10min);
    EXPECT_EQ(token_of(*tokens).reason, r.reason);
    EXPECT_EQ(refreshes().size(), before + 1);

    // The operator re-authorises and writes the file: picked up without a restart.
    write_tokens("", "RT-reauthorised", 0s);
    const ZaloTokenResult after = token_of(*tokens);
    EXPECT_EQ(after.access_token, "AT-after") << after.reason;
    EXPECT_EQ(loa::test::form_field(refreshes().back().body, "refresh_token"), "RT-reauthorised");
    release(tokens);
  }
}

TEST_F(ZaloTokenTest, OtherRefusalsAndOutagesAreClassified) {
  const AnswerRow rows[] = {
      {"bad app secret", json_response(R"({"error":-14003,"error_name":"Invalid parameter"})"),
       SendClass::kAuth, "check app_id and app_secret"},
      {"5xx", json_response("oops", 502), SendClass::kRetryable, "http 502"},
      {"429", json_response("{}", 429), SendClass::kThrottled, "http 429"},
      {"not json", json_response("<html>", 200), SendClass::kRetryable, "unexpected answer"},
      {"400 not json", json_response("bad", 400), SendClass::kAuth, "unexpected answer"},
  };
  for (const AnswerRow& row : rows) {
    SCOPED_TRACE(row.name);
    write_tokens("AT-1", "RT-1", 0s);
    on_oauth([&](const MockRequest&) { return row.answer; });
    auto tokens = make();
    const ZaloTokenResult r = token_of(*tokens);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.failure, row.expected) << r.reason;
    EXPECT_NE(r.reason.find(row.reason_part), std::string::npos) << r.reason;
    EXPECT_EQ(loa::test::read_file(token_file()),
              loa::test::token_file_text("AT-1", "RT-1", clock_.unix_seconds()));
    release(tokens);
  }
}

TEST_F(ZaloTokenTest, AfterAFailedRefreshCallersWaitOutTheCooldown) {
  write_tokens("AT-1", "RT-1", 0s);
  on_oauth([](const MockRequest&) { return json_response("busy", 503); });
  auto tokens = make();
  EXPECT_EQ(token_of(*tokens).failure, SendClass::kRetryable);
  EXPECT_EQ(token_of(*tokens).failure, SendClass::kRetryable);
  EXPECT_EQ(refreshes().size(), 1u);  // the second answer came from memory
  on_oauth([](const MockRequest&) { return refresh_answer("AT-2", "RT-2"); });
  clock_.advance(31s);
  EXPECT_EQ(token_of(*tokens).access_token, "AT-2");
  EXPECT_EQ(refreshes().size(), 2u);
}

TEST_F(ZaloTokenTest, ACrashBetweenRefreshAndPersistKeepsTheOldFileAndSaysSo) {
  write_tokens("AT-old", "RT-old", 0s);
  const std::string old_file = loa::test::read_file(token_file());
  on_oauth([](const MockRequest&) { return refresh_answer("AT-new", "RT-new"); });
  auto store = std::make_shared<CrashingStore>(token_file());
  auto tokens = make(store);

  const ZaloTokenResult r = token_of(*tokens);
  EXPECT_FALSE(r.ok());  // the new access token is not handed out unsaved
  EXPECT_EQ(r.failure, SendClass::kAuth);
  EXPECT_NE(r.reason.find(token_file().string()), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("simulated crash before rename"), std::string::npos) << r.reason;
  EXPECT_EQ(r.reason.find("RT-new"), std::string::npos) << "a token leaked: " << r.reason;
  EXPECT_EQ(loa::test::read_file(token_file()), old_file);
  EXPECT_FALSE(fs::exists(token_file().string() + ".tmp"));
  EXPECT_EQ(tokens->stats().persist_failures, 1u);

  // Still alive: the next caller finishes the save, without spending another refresh.
  store->crash = false;
  const ZaloTokenResult again = token_of(*tokens);
  EXPECT_EQ(again.access_token, "AT-new") << again.reason;
  EXPECT_EQ(refreshes().size(), 1u);
  EXPECT_EQ(loa::test::read_file(token_file()),
            loa::test::token_file_text("AT-new", "RT-new",
                                       clock_.unix_seconds() + kTokenLifetime.count()));
}

TEST_F(ZaloTokenTest, AfterACrashBeforePersistTheRestartedProcessAsksForReauthorisation) {
  write_tokens("AT-old", "RT-old", 0s);
  const std::string old_file = loa::test::read_file(token_file());
  // Zalo honours each refresh token once (§1.4).
  std::mutex m;
  std::set<std::string> spent;
  on_oauth([&](const MockRequest& r) {
    std::lock_guard lock(m);
    if (!spent.insert(loa::test::form_field(r.body, "refresh_token")).second) {
      return json_response(R"({"error":-14014,"error_name":"Invalid refresh token"})");
    }
    return refresh_answer("AT-new", "RT-new");
  });
  auto tokens = make(std::make_shared<CrashingStore>(token_file()));
  EXPECT_FALSE(token_of(*tokens).ok());
  release(tokens);  // the process dies with RT-new only in memory
  EXPECT_EQ(loa::test::read_file(token_file()), old_file);

  tokens = make();  // the next start loads the old file
  const ZaloTokenResult r = token_of(*tokens);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.failure, SendClass::kAuth);
  EXPECT_NE(
      r.reason.find("re-authorise the OA and write the new tokens to " + token_file().string()),
      std::string::npos)
      << r.reason;
  EXPECT_EQ(loa::test::read_file(token_file()), old_file);
}

TEST_F(ZaloTokenTest, TheFileIsWrittenWithMode0600WhateverItWasBefore) {
  write_tokens("AT-1", "RT-1", 0s);
  ASSERT_EQ(::chmod(token_file().c_str(), 0644), 0);
  on_oauth([](const MockRequest&) { return refresh_answer("AT-2", "RT-2"); });
  auto tokens = make();
  ASSERT_TRUE(token_of(*tokens).ok());
  EXPECT_EQ(loa::test::file_mode(token_file()), 0600u);
}

TEST_F(ZaloTokenTest, StartUpRefusesAMissingOrBrokenFileNamingIt) {
  const std::pair<const char*, const char*> rows[] = {
      {"missing", nullptr},
      {"not json", "access_token=abc"},
      {"no refresh token", R"({"access_token":"AT","expires_at":1})"},
      {"bad expiry", R"({"refresh_token":"RT","expires_at":"soon"})"},
  };
  for (const auto& [name, text] : rows) {
    SCOPED_TRACE(name);
    fs::remove(token_file());
    if (text != nullptr) loa::test::write_file(token_file(), text);
    try {
      make();
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(token_file().string()), std::string::npos) << e.what();
    }
  }
}

TEST_F(ZaloTokenTest, AFileWithOnlyARefreshTokenRefreshesOnFirstUse) {
  loa::test::write_file(token_file(), R"({"refresh_token":"RT-bootstrap"})");
  on_oauth([](const MockRequest&) { return refresh_answer("AT-1", "RT-1"); });
  auto tokens = make();
  EXPECT_EQ(token_of(*tokens).access_token, "AT-1");
  EXPECT_EQ(loa::test::form_field(refreshes().at(0).body, "refresh_token"), "RT-bootstrap");
}

TEST_F(ZaloTokenTest, OneOwnerPerTokenFile) {
  write_tokens("AT-1", "RT-1", 10h);
  auto first = make();
  EXPECT_THROW(make(), std::runtime_error);  // a second owner would spend the same token

  // Adapters of one process share one ZaloTokens per file.
  release(first);
  auto a = ZaloTokens::open(io_.io().get_executor(), http_, token_settings());
  auto b = ZaloTokens::open(io_.io().get_executor(), http_, token_settings());
  EXPECT_EQ(a, b);
  auto other = token_settings();
  other.app_id = "another-app";
  EXPECT_THROW(ZaloTokens::open(io_.io().get_executor(), http_, other), std::invalid_argument);
}

}  // namespace
}  // namespace loa::adapters
