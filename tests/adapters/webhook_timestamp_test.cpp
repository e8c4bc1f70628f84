// Gateway timestamps out of system_clock's range (fuzz findings, tests/fuzz/corpus/
// webhook_kannel/finding_ts_overflow.txt, webhook_zalo/finding_timestamp_overflow.json and
// webhook_esms/finding_receiver_time_overflow.txt): a huge time is bad input, never a signed
// overflow. Kannel's ts and eSMS's receiverTime then fall back to the time of receipt (as a
// malformed one always did); a Zalo body timestamp is left unset and a Zalo timestamp header
// is refused, as for one that is not a number.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "adapters/esms_gateway.hpp"
#include "adapters/form_encoding.hpp"
#include "adapters/kannel_gateway.hpp"
#include "adapters/webhook.hpp"
#include "adapters/zalo_webhook.hpp"

namespace loa::adapters {
namespace {

using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WebhookTimestamp, UnixTimesBeyondTheClockAreRefused) {
  EXPECT_EQ(from_unix_seconds(1795684187), Clock::time_point(seconds(1795684187)));
  EXPECT_EQ(from_unix_milliseconds(1795684187123), Clock::time_point(milliseconds(1795684187123)));
  EXPECT_EQ(from_unix_seconds(0), Clock::time_point{});
  const long long max_s = std::chrono::duration_cast<seconds>(Clock::duration::max()).count();
  const long long max_ms = std::chrono::duration_cast<milliseconds>(Clock::duration::max()).count();
  EXPECT_TRUE(from_unix_seconds(max_s));
  EXPECT_TRUE(from_unix_milliseconds(max_ms));
  EXPECT_FALSE(from_unix_seconds(max_s + 1));
  EXPECT_FALSE(from_unix_milliseconds(max_ms + 1));
  EXPECT_FALSE(from_unix_seconds(17641164401));  // the Kannel finding
  EXPECT_FALSE(from_unix_milliseconds(1764164400001000));  // the Zalo finding
  EXPECT_FALSE(from_unix_seconds(-1));
  EXPECT_FALSE(from_unix_seconds(-9223372036854775807LL - 1));
  EXPECT_FALSE(from_unix_milliseconds(9223372036854775807LL));
}

TEST(WebhookTimestamp, KannelReplyWithAHugeTsIsTakenAtItsReceipt) {
  KannelSettings s;
  s.mo_token = "M1";
  WebhookRequest request;
  const std::string base = "/hooks/kannel/mo?token=M1&from=%2B84912345679&text=T%E1%BB%AB&ts=";
  for (const char* ts : {"17641164401", "9223372036854775807", "-9223372036854775808"}) {
    SCOPED_TRACE(ts);
    request.target = base + ts;
    const auto before = Clock::now();
    const auto r = KannelGateway::parse_reply(s, request);
    ASSERT_EQ(r.verdict, WebhookVerdict::kEvent) << r.reason;
    EXPECT_GE(r.event->at, before);
    EXPECT_LE(r.event->at, Clock::now());
    EXPECT_EQ(r.event->text, "Từ");
  }
  request.target = base + "1795684187";
  const auto r = KannelGateway::parse_reply(s, request);
  ASSERT_EQ(r.verdict, WebhookVerdict::kEvent) << r.reason;
  EXPECT_EQ(r.event->at, Clock::time_point(seconds(1795684187)));
}

TEST(WebhookTimestamp, EsmsReplyAfter2262IsTakenAtItsReceipt) {
  EsmsSettings s;
  s.mo_private_key = "pk-123";
  WebhookRequest request;
  const auto target = [&](const std::string& time) {
    const std::string sign = EsmsGateway::mo_signature("8079", "sms-1", "x", time, "pk-123");
    return "/webhooks/sms/reply?sender=84912345678&content=x&cpid=8079&smsid=sms-1&sign=" +
           percent_encode(sign) + "&receiverTime=" + time;
  };
  request.target = target("28261126213000");
  const auto before = Clock::now();
  const auto late = EsmsGateway::parse_reply(s, request);
  ASSERT_EQ(late.verdict, WebhookVerdict::kEvent) << late.reason;
  EXPECT_GE(late.event->at, before);
  EXPECT_LE(late.event->at, Clock::now());

  request.target = target("20261126213000");  // 21:30 in Vietnam is 14:30 UTC
  const auto ok = EsmsGateway::parse_reply(s, request);
  ASSERT_EQ(ok.verdict, WebhookVerdict::kEvent) << ok.reason;
  EXPECT_EQ(ok.event->at, Clock::time_point(seconds(1795703400)));
}

TEST(WebhookTimestamp, ZaloBodyTimestampBeyondTheClockIsLeftUnset) {
  const ZaloWebhookEvent e = ZaloWebhook::parse(
      R"({"app_id":"4321012345678901234","event_name":"user_received_message",)"
      R"("timestamp":"1764164400001000","msg_id":"m-1"})");
  ASSERT_TRUE(e.error.empty()) << e.error;
  ASSERT_TRUE(e.receipt);
  EXPECT_EQ(e.receipt->at, Clock::time_point{});

  const ZaloWebhookEvent ok = ZaloWebhook::parse(
      R"({"event_name":"user_received_message","timestamp":"1764164400001","msg_id":"m-1"})");
  ASSERT_TRUE(ok.receipt);
  EXPECT_EQ(ok.receipt->at, Clock::time_point(milliseconds(1764164400001)));
}

}  // namespace
}  // namespace loa::adapters
