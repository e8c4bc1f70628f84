// What gateway adapter tests share: an io_context on threads and an HttpClient to build adapters
// with, a blocking send() that waits for a batch's one answer, messages, and environment
// variables that hold a test's secrets for its lifetime. Header-only.
//
// Thread-safety: one harness per test; send() may be called from the test's thread only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "adapters/gateway.hpp"
#include "adapters/http_client.hpp"
#include "adapters/registry.hpp"
#include "tests/support/mock_gateway.hpp"
#include "tests/support/redis_fixture.hpp"

namespace loa::test {

class GatewayHarness {
 public:
  static constexpr auto kWait = std::chrono::seconds(10);  // only reached when a test fails

  GatewayHarness() {
    // Loopback must never go through a proxy from the environment the tests run in.
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);
    http_ = adapters::HttpClient::create(io_.io());
  }
  ~GatewayHarness() { http_->close(); }

  adapters::GatewayContext context(std::string route = "sms") {
    adapters::GatewayContext c;
    c.executor = io_.io().get_executor();
    c.http = http_;
    c.route = std::move(route);
    return c;
  }

  // Sends and waits for the answer; an empty vector (and a test failure) if none comes.
  std::vector<adapters::SendResult> send(adapters::Gateway& gateway,
                                         std::vector<adapters::OutboundMessage> batch) {
    auto promise = std::make_shared<std::promise<std::vector<adapters::SendResult>>>();
    auto future = promise->get_future();
    gateway.async_send(std::move(batch), [promise](std::vector<adapters::SendResult> results) {
      promise->set_value(std::move(results));
    });
    if (future.wait_for(kWait) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within " << kWait.count() << " s";
      return {};
    }
    return future.get();
  }

  adapters::SendResult send_one(adapters::Gateway& gateway, adapters::OutboundMessage m) {
    auto results = send(gateway, {std::move(m)});
    if (results.size() != 1) {
      ADD_FAILURE() << results.size() << " results for one message";
      return {};
    }
    return results.front();
  }

 private:
  IoThreads io_{2};
  std::shared_ptr<adapters::HttpClient> http_;
};

// A row of a classification table: the gateway's answer, and the result it must give.
struct AnswerRow {
  unsigned status;
  std::string body;
  adapters::SendClass outcome;
  std::string provider_id;
  std::string reason;
};

// A table row's expectations of one result.
inline void expect_result(const adapters::SendResult& r, adapters::SendClass outcome,
                          const std::string& provider_id, const std::string& reason) {
  EXPECT_EQ(r.outcome, outcome) << adapters::to_string(r.outcome) << ": " << r.reason;
  EXPECT_EQ(r.provider_id, provider_id);
  EXPECT_EQ(r.reason, reason);
}

// A parsed delivery report against a table row: the verdict, then the refusal's reason, or the
// receipt's ids, outcome and reason.
inline void expect_receipt(const adapters::WebhookResult<adapters::DeliveryReceipt>& r,
                           adapters::WebhookVerdict verdict, const std::string& message_id,
                           const std::string& provider_id, bool delivered,
                           const std::string& reason) {
  EXPECT_EQ(r.verdict, verdict) << adapters::to_string(r.verdict) << ": " << r.reason;
  ASSERT_EQ(r.event.has_value(), verdict == adapters::WebhookVerdict::kEvent);
  if (!r.event) {
    EXPECT_EQ(r.reason, reason);
    return;
  }
  EXPECT_EQ(r.event->message_id, message_id);
  EXPECT_EQ(r.event->provider_id, provider_id);
  EXPECT_EQ(r.event->delivered, delivered);
  EXPECT_EQ(r.event->reason, reason);
}

inline adapters::OutboundMessage sms(std::string id, std::string phone, std::string text) {
  adapters::OutboundMessage m;
  m.id = std::move(id);
  m.channel = "sms";
  m.phone = std::move(phone);
  m.body = std::move(text);
  return m;
}

inline MockResponse answer(unsigned status, std::string body = {}) {
  MockResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// A gateway's callback as the webhook server would hand it over: a GET, or a POST with a body.
inline adapters::WebhookRequest webhook(std::string target, std::string content_type = {},
                                        std::string body = {}) {
  adapters::WebhookRequest r;
  r.method = body.empty() ? "GET" : "POST";
  r.target = std::move(target);
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

// Sets an environment variable for its lifetime (tests' secrets), then unsets it.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
};

}  // namespace loa::test
