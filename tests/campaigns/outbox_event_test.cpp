// The results stream's payload: round trips, escapes, Vietnamese text, and errors that name
// their line and field.
#include "campaigns/outbox_event.hpp"

#include <gtest/gtest.h>

namespace loa::campaigns {
namespace {

using Kind = OutboxEvent::Kind;

OutboxEvent status(Kind kind, long long id, std::string provider = "", std::string reason = "") {
  OutboxEvent e;
  e.kind = kind;
  e.message_id = id;
  e.attempts = 2;
  e.at_ms = 1796083200123;
  e.provider_id = std::move(provider);
  e.reason = std::move(reason);
  return e;
}

OutboxEvent reply(std::string text) {
  OutboxEvent e;
  e.kind = Kind::kReply;
  e.at_ms = 1796083260000;
  e.provider_id = "mo-77";
  e.route = "sms";
  e.phone = "+84912345678";
  e.text = std::move(text);
  return e;
}

TEST(OutboxEventCodec, EveryKindRoundTrips) {
  std::vector<OutboxEvent> events = {status(Kind::kSent, 1, "esms-1"),
                                     status(Kind::kFailed, 2, "", "http 400"),
                                     status(Kind::kExpired, 3, "", "end_at"),
                                     status(Kind::kCancelled, 4),
                                     status(Kind::kDelivered, 5, "esms-5"),
                                     status(Kind::kUndelivered, 6, "esms-6", "DLR 2"),
                                     reply("Cho hỏi về thẻ BHYT")};
  const std::string wire = encode_events(events);
  EXPECT_EQ(decode_events(wire), events);
  EXPECT_EQ(std::count(wire.begin(), wire.end(), '\n'), 6);
}

TEST(OutboxEventCodec, TheWireFormatIsTabSeparatedLines) {
  EXPECT_EQ(encode_events({status(Kind::kSent, 42, "p-1")}), "sent\t42\t2\t1796083200123\tp-1\t");
  auto r = reply("Xin chào");
  r.message_id = 9;
  r.zalo_user = "zu-1";
  EXPECT_EQ(encode_events({r}),
            "reply\t9\t0\t1796083260000\tmo-77\t\tsms\t+84912345678\tzu-1\tXin chào");
  EXPECT_EQ(encode_events({}), "");
  EXPECT_TRUE(decode_events("").empty());
  // A trailing newline is allowed.
  EXPECT_EQ(decode_events("sent\t42\t2\t1796083200123\tp-1\t\n").size(), 1u);
}

TEST(OutboxEventCodec, TabsNewlinesAndBackslashesAreEscaped) {
  const std::string nasty = "a\tb\nc\\d\\t not a tab\\\n\t\\";
  auto r = reply(nasty);
  r.zalo_user = "\\";
  auto s = status(Kind::kFailed, 7, "id\twith\ttabs", "line one\nline two");
  const std::string wire = encode_events({r, s});
  EXPECT_EQ(std::count(wire.begin(), wire.end(), '\n'), 1) << "one newline: between the events";
  EXPECT_EQ(std::count(wire.begin(), wire.end(), '\t'), 9 + 5);
  const auto back = decode_events(wire);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].text, nasty);
  EXPECT_EQ(back[0].zalo_user, "\\");
  EXPECT_EQ(back[1].provider_id, "id\twith\ttabs");
  EXPECT_EQ(back[1].reason, "line one\nline two");
}

TEST(OutboxEventCodec, VietnameseAndMinorityLettersRoundTripByteExactly) {
  // NFC and NFD forms, Ê Đê and M'nông letters, an emoji and a \r: none is touched.
  for (std::string text :
       {std::string("Hộ nghèo được hỗ trợ 100% mệnh giá thẻ BHYT. Đắk Lắk"),
        std::string("Ho\xcc\x9b\xcc\x83 tro\xcc\xa3 (NFD)"), std::string("Ŏ ŭ Ơ ơ Ư ư Č č Ñ ñ"),
        std::string("Cảm ơn 🙏\r\n"), std::string("")}) {
    const auto back = decode_events(encode_events({reply(text)}));
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].text, text);
  }
}

TEST(OutboxEventCodec, ManyEventsRoundTrip) {
  std::vector<OutboxEvent> events;
  for (int i = 1; i <= 5000; ++i)
    events.push_back(status(i % 2 ? Kind::kSent : Kind::kDelivered, i, "p" + std::to_string(i)));
  EXPECT_EQ(decode_events(encode_events(events)), events);
}

struct BadCase {
  std::string input;
  std::string expected;  // in the message
};

TEST(OutboxEventCodec, ErrorsNameTheLineAndField) {
  const std::string ok = "sent\t1\t1\t1000\tp\t\n";
  const std::vector<BadCase> cases = {
      {ok + "sending\t1\t1\t1000\tp\t", "line 2, field kind: unknown event kind 'sending'"},
      {ok + ok + "sent\tx\t1\t1000\tp\t", "line 3, field message_id: not a whole number: 'x'"},
      {"sent\t-4\t1\t1000\tp\t", "line 1, field message_id: negative"},
      {"sent\t1\t\t1000\tp\t", "line 1, field attempts: not a whole number: ''"},
      {"sent\t1\t1\t12e3\tp\t", "line 1, field at_ms: not a whole number: '12e3'"},
      {"sent\t1\t1\t99999999999999999999\tp\t", "line 1, field at_ms"},
      {"sent\t1\t1\t1000\tp", "line 1: a sent event has 6 fields, this one has 5"},
      {"sent\t1\t1\t1000\tp\t\textra", "line 1: a sent event has 6 fields, this one has 7"},
      {"reply\t0\t0\t1000\tp\t\tsms\t+84912345678\t", "line 1: a reply event has 10 fields"},
      {"reply\t0\t0\t1000\tp\t\tsms\t+849\tz\ta\tb", "line 1: more than 10 fields"},
      {"failed\t1\t1\t1000\tp\tbad \\x escape", "line 1, field reason: unknown escape '\\x'"},
      {"reply\t0\t0\t1000\tp\t\tsms\t+849\tz\tends in \\", "line 1, field text: ends in a lone"},
      {ok + "\n" + ok, "line 2: empty line"},
  };
  for (const auto& c : cases) {
    try {
      decode_events(c.input);
      ADD_FAILURE() << "decoded: " << c.input;
    } catch (const OutboxEventError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos)
          << "got: " << e.what() << "\nwanted: " << c.expected;
    }
  }
}

TEST(OutboxEventCodec, LongBadValuesAreShortenedInErrors) {
  try {
    decode_events(std::string(500, 'z') + "\t1\t1\t1\t\t");
    ADD_FAILURE();
  } catch (const OutboxEventError& e) {
    EXPECT_LT(std::string(e.what()).size(), 120u) << e.what();
  }
}

TEST(OutboxEventCodec, EpochMillisecondsAreFormattedInUtc) {
  EXPECT_EQ(format_epoch_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_epoch_ms(1796083200123), "2026-12-01T00:00:00.123Z");
}

}  // namespace
}  // namespace loa::campaigns
