// Two-way on a real, migrated SQLite store (issue [7/10]): duplicate and out-of-order receipts
// with their delivery history, orphaned receipts, replies through their rules (opt-out cancels
// the household's queued bulk messages and is confirmed once in its language by the fallback
// chain; help; a poll answer; the inbox; an unknown sender), and the inbox's list, filters,
// assign, answer and close.
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include "campaigns/inbox.hpp"
#include "campaigns/outbox_event.hpp"
#include "campaigns/reply_handler.hpp"
#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::campaigns {
namespace {

using Kind = OutboxEvent::Kind;
const TimePoint kNow = *parse_time("2026-12-01T09:00:00+07:00");

class TwoWay : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(
        engine::open_store(dir_ / "loa.db", engine::StoreMode::kReadWrite));
    engine::migrate(*db_);
    db_->exec(
        "INSERT INTO campaigns(name, template_key, channels, start_at, end_at, state, variables) "
        "VALUES ('bhyt', 't', 'sms', '2026-12-01T08:00:00+07:00', '2026-12-31T20:00:00+07:00', "
        "'running', 'reply_number=8079');"
        "INSERT INTO rounds(campaign_id, number, due_at, state) SELECT id, 1, "
        "'2026-12-01T08:00:00+07:00', 'expanded' FROM campaigns WHERE name = 'bhyt';"
        "INSERT INTO templates(key) VALUES ('xac_nhan_tu_choi'), ('huong_dan_hoi');"
        "INSERT INTO template_variants(template_key, language, channel, body) VALUES "
        "('xac_nhan_tu_choi', 'vi', 'sms', 'Đã ngừng gửi tin. Muốn nhận lại, soạn DK gửi "
        "{{campaign.reply_number}}.'), ('xac_nhan_tu_choi', 'rad', 'sms', ''), "
        "('huong_dan_hoi', 'vi', 'sms', 'Bà con nhắn câu hỏi, cán bộ sẽ trả lời.')");
    campaign_ = db_->execAndGet("SELECT id FROM campaigns WHERE name = 'bhyt'").getInt64();
    settings_.rules = ReplyRules::parse("poll=regex:^([1-3])$");
  }

  long long add_household(const std::string& phone, const std::string& language = "vi",
                          const std::string& commune = "Ea Tu") {
    SQLite::Statement st(*db_,
                         "INSERT INTO households(name, phone_e164, language, commune, category) "
                         "VALUES ('Y Bhăm Niê', ?, ?, ?, 'poor')");
    st.bind(1, phone);
    st.bind(2, language);
    st.bind(3, commune);
    st.exec();
    return db_->getLastInsertRowid();
  }
  // A message of a round of its own (a household gets one message per round).
  long long add_message(long long household, const std::string& state,
                        const std::string& priority = "bulk") {
    SQLite::Statement round(*db_,
                            "INSERT INTO rounds(campaign_id, number, due_at, state) SELECT ?1, "
                            "MAX(number) + 1, '2026-12-01T08:00:00+07:00', 'expanded' FROM rounds "
                            "WHERE campaign_id = ?1");
    round.bind(1, static_cast<std::int64_t>(campaign_));
    round.exec();
    const std::int64_t round_id = db_->getLastInsertRowid();
    SQLite::Statement st(
        *db_,
        "INSERT INTO outbox(round_id, campaign_id, household_id, phone_e164, channel, route, "
        "language, body, units, cost_vnd, priority, state, expires_at, created_at, updated_at) "
        "SELECT r.id, r.campaign_id, ?1, h.phone_e164, 'sms', 'sms', 'vi', 'Xin chào', 1, 800, ?2, "
        "?3, '2026-12-31T20:00:00+07:00', '2026-12-01T08:00:00+07:00', 'x' FROM rounds r, "
        "households h WHERE r.id = ?4 AND h.id = ?1");
    st.bind(1, static_cast<std::int64_t>(household));
    st.bind(2, priority);
    st.bind(3, state);
    st.bind(4, round_id);
    st.exec();
    return db_->getLastInsertRowid();
  }
  // Stores the events and runs the reply rules in one transaction, as the results consumer.
  ReplyEffects apply(const std::vector<OutboxEvent>& events, int* orphans = nullptr) {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    OutboxEventApplier applier(*db_);
    applier.apply(events);
    if (orphans) *orphans = applier.orphans();
    auto fx = handle_new_replies(*db_, settings_, kNow);
    tx.commit();
    return fx;
  }
  static OutboxEvent receipt(Kind kind, long long id, long long at_ms) {
    OutboxEvent e;
    e.kind = kind;
    e.message_id = id;
    e.at_ms = at_ms;
    e.provider_id = "gw-" + std::to_string(id);
    return e;
  }
  static OutboxEvent reply(const std::string& phone, const std::string& text,
                           const std::string& provider_id) {
    OutboxEvent e;
    e.kind = Kind::kReply;
    e.route = "sms";
    e.phone = phone;
    e.text = text;
    e.provider_id = provider_id;
    e.at_ms = 1796083260000;
    return e;
  }
  long long count(const std::string& sql) { return db_->execAndGet(sql).getInt64(); }
  std::string text(const std::string& sql) { return db_->execAndGet(sql).getString(); }

  test::TempDir dir_;
  std::unique_ptr<SQLite::Database> db_;
  long long campaign_ = 0;
  ReplySettings settings_;
};

TEST_F(TwoWay, DuplicateAndOutOfOrderReceiptsKeepPrecedenceAndHistory) {
  const long long h = add_household("+84912345678");
  const long long m = add_message(h, "queued");
  const long long sent_at = 1796083200000, delivered_at = 1796083203500;
  // The receipt beats its `sent`; then the `sent`, a duplicate receipt, a late failure.
  apply({receipt(Kind::kDelivered, m, delivered_at)});
  apply({receipt(Kind::kSent, m, sent_at), receipt(Kind::kDelivered, m, delivered_at)});
  apply({receipt(Kind::kDelivered, m, delivered_at + 999)});  // webhook retried
  apply({receipt(Kind::kUndelivered, m, delivered_at + 5000)});
  apply({receipt(Kind::kSent, m, sent_at + 10)});  // a very late duplicate `sent`
  const std::string id = std::to_string(m);
  EXPECT_EQ(text("SELECT state FROM outbox WHERE id = " + id), "delivered");
  EXPECT_EQ(text("SELECT delivered_at FROM outbox WHERE id = " + id), "2026-12-01T00:00:03.500Z");
  EXPECT_EQ(text("SELECT sent_at FROM outbox WHERE id = " + id), "2026-12-01T00:00:00.000Z");
  // Each kind once, the failure after delivery included; time-to-delivery from the history.
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_history WHERE message_id = " + id), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_history WHERE message_id = " + id +
                  " AND event = 'undelivered'"),
            1);
  EXPECT_EQ(count("SELECT CAST(ROUND((julianday(d.at) - julianday(s.at)) * 86400000) AS INTEGER) "
                  "FROM delivery_history d JOIN delivery_history s ON s.message_id = d.message_id "
                  "WHERE d.event = 'delivered' AND s.event = 'sent' AND d.message_id = " + id),
            3500);
}

TEST_F(TwoWay, AReceiptForAnUnknownMessageIsCountedAsOrphaned) {
  int orphans = 0;
  apply({receipt(Kind::kDelivered, 987654, 1796083200000)}, &orphans);
  EXPECT_EQ(orphans, 1);
  apply({receipt(Kind::kUndelivered, 0, 1796083200000)}, &orphans);  // an id we never gave
  EXPECT_EQ(orphans, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM orphan_receipts"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_history"), 0);
}

TEST_F(TwoWay, AnOptOutCancelsQueuedBulkMessagesAndIsConfirmedOnceInItsLanguage) {
  const long long h = add_household("+84912345678", "rad");
  const long long delivered = add_message(h, "delivered");
  const long long queued = add_message(h, "queued");
  const long long planned = add_message(h, "planned");
  const long long other = add_message(add_household("+84987654321"), "queued");
  // The gateway writes the sender without '+': it is normalised to match.
  auto fx = apply({reply("84912345678", "  từ  chối ", "mo-1")});
  ASSERT_EQ(fx.opted_out, std::vector<std::int64_t>{h});
  ASSERT_EQ(fx.dropped.size(), 2u);
  EXPECT_EQ(fx.dropped[0].message_id, queued);
  EXPECT_EQ(fx.dropped[0].route, "sms");
  EXPECT_EQ(fx.dropped[0].campaign_id, campaign_);
  EXPECT_EQ(fx.dropped[1].message_id, planned);
  EXPECT_TRUE(fx.warnings.empty()) << fx.warnings.front();
  auto state = [&](long long id) {
    return text("SELECT state || ':' || last_error FROM outbox WHERE id = " + std::to_string(id));
  };
  EXPECT_EQ(state(queued), "cancelled:opted out by reply");
  EXPECT_EQ(state(planned), "cancelled:opted out by reply");
  EXPECT_EQ(state(delivered), "delivered:");
  EXPECT_EQ(state(other), "queued:");
  EXPECT_EQ(count("SELECT opt_out_sms + opt_out_zalo FROM households WHERE id = " +
                  std::to_string(h)),
            2);
  // One confirmation, in the priority lane, in Vietnamese (the rad variant awaits its
  // translators), with the campaign's reply number.
  const std::string inbox_messages =
      "FROM outbox o JOIN campaigns c ON c.id = o.campaign_id WHERE c.name = 'inbox'";
  EXPECT_EQ(count("SELECT COUNT(*) " + inbox_messages), 1);
  EXPECT_EQ(text("SELECT o.priority || '|' || o.state || '|' || o.route || '|' || o.phone_e164 "
                 "|| '|' || o.language || '|' || o.body " + inbox_messages),
            "reply|planned|sms|+84912345678|vi|Đã ngừng gửi tin. Muốn nhận lại, soạn DK gửi 8079.");
  EXPECT_EQ(text("SELECT status || ' ' || rule FROM replies"), "handled opt_out");

  // Again, in capitals and by STOP: already opted out, so no second confirmation.
  fx = apply({reply("+84912345678", "TỪ CHỐI", "mo-2"), reply("0912345678", "stop", "mo-3")});
  EXPECT_TRUE(fx.opted_out.empty());
  EXPECT_EQ(count("SELECT COUNT(*) " + inbox_messages), 1);
  // The same webhook delivered twice is one reply.
  apply({reply("84912345678", "TỪ CHỐI", "mo-2")});
  EXPECT_EQ(count("SELECT COUNT(*) FROM replies"), 3);
}

// "ĐĂNG KÝ" after an opt-out answers the household's last message, the opt-out confirmation of
// the built-in `inbox` campaign, which has no reply number: the number comes from the route,
// else replies.reply_number, and with none the sentence is phrased without it.
TEST_F(TwoWay, AnOptInConfirmationNeverNamesAnEmptyNumber) {
  db_->exec(
      "INSERT INTO templates(key) VALUES ('xac_nhan_dang_ky'), ('bare');"
      "INSERT INTO template_variants(template_key, language, channel, body) VALUES "
      "('xac_nhan_dang_ky', 'vi', 'sms', 'Sẽ nhận lại tin. Muốn ngừng nhận, "
      "{{#campaign.reply_number}}soạn TU CHOI gửi {{campaign.reply_number}}"
      "{{/campaign.reply_number}}{{^campaign.reply_number}}xin trả lời TU CHOI"
      "{{/campaign.reply_number}}.'), "
      "('bare', 'vi', 'sms', 'Muốn ngừng nhận, soạn TU CHOI gửi {{campaign.reply_number}}.')");
  const std::string confirmations =
      "SELECT group_concat(o.body, '|') FROM outbox o JOIN campaigns c ON c.id = o.campaign_id "
      "WHERE c.name = 'inbox' AND o.body LIKE 'Sẽ nhận lại%' ORDER BY o.id";
  // Each round: opt out (confirmed by the inbox campaign), then opt in, answering that.
  auto round_trip = [&](const std::string& phone, const std::string& tag) {
    add_message(add_household(phone), "delivered");
    apply({reply(phone, "TU CHOI", tag + "-out")});
    return apply({reply(phone, "ĐĂNG KÝ", tag + "-in")});
  };
  auto fx = round_trip("+84912000001", "a");
  EXPECT_EQ(fx.opted_in.size(), 1u);
  EXPECT_TRUE(fx.warnings.empty()) << fx.warnings.front();
  EXPECT_EQ(text("SELECT c.name FROM replies r JOIN campaigns c ON c.id = r.campaign_id "
                 "WHERE r.provider_id = 'a-in'"),
            "inbox");
  EXPECT_EQ(text(confirmations), "Sẽ nhận lại tin. Muốn ngừng nhận, xin trả lời TU CHOI.");

  settings_.reply_number = "8000";
  round_trip("+84912000002", "b");
  settings_.route_reply_numbers["sms"] = "8079";
  round_trip("+84912000003", "c");
  EXPECT_EQ(text(confirmations),
            "Sẽ nhận lại tin. Muốn ngừng nhận, xin trả lời TU CHOI.|"
            "Sẽ nhận lại tin. Muốn ngừng nhận, soạn TU CHOI gửi 8000.|"
            "Sẽ nhận lại tin. Muốn ngừng nhận, soạn TU CHOI gửi 8079.");

  // A template that names the number bare, with none known: not sent, and said why.
  settings_ = ReplySettings{};
  settings_.optin_template = "bare";
  fx = round_trip("+84912000004", "d");
  EXPECT_EQ(fx.opted_in.size(), 1u);  // the opt-in itself holds
  EXPECT_EQ(fx.messages_queued, 0);
  ASSERT_EQ(fx.warnings.size(), 1u);
  EXPECT_NE(fx.warnings[0].find("routes.sms.reply_number"), std::string::npos) << fx.warnings[0];
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE body LIKE '%gửi .%'"), 0);
}

TEST_F(TwoWay, HelpPollInboxAndUnknownSenders) {
  const long long h = add_household("+84912345678");
  add_message(h, "delivered");
  auto fx = apply({reply("+84912345678", "hỏi", "a"), reply("+84912345678", "2", "b"),
                   reply("+84912345678", "3", "c"),
                   reply("+84912345678", "Khi nào được nhận tiền hỗ trợ ạ?", "d"),
                   reply("+84333444555", "Tôi là ai?", "e")});
  EXPECT_EQ(fx.processed, 5);
  EXPECT_EQ(fx.to_inbox, 2);
  EXPECT_EQ(fx.unknown_senders, 1);
  EXPECT_EQ(fx.messages_queued, 1);  // the help auto-reply
  EXPECT_EQ(text("SELECT group_concat(status || ':' || rule, ',') FROM (SELECT * FROM replies "
                 "ORDER BY id)"),
            "handled:help,handled:rule:poll,handled:rule:poll,open:inbox,open:inbox");
  // The last poll answer counts, against the campaign that reached the household.
  EXPECT_EQ(text("SELECT answer || '@' || campaign_id FROM reply_answers"),
            "3@" + std::to_string(campaign_));
  // The unknown sender is a contact now, marked unknown, and can be answered.
  EXPECT_EQ(count("SELECT COUNT(*) FROM households WHERE unknown = 1 AND phone_e164 = "
                  "'+84333444555' AND source = 'reply'"),
            1);
  auto waiting = list_inbox(*db_, {});
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_TRUE(waiting[0].unknown_sender || waiting[1].unknown_sender);
}

TEST_F(TwoWay, TheInboxListsFiltersAssignsAnswersAndCloses) {
  const long long a = add_household("+84912345678", "vi", "Ea Tu");
  const long long b = add_household("+84987654321", "vi", "Hòa Thắng");
  add_message(a, "delivered");
  apply({reply("+84912345678", "Khi nào được nhận tiền?", "q1"),
         reply("+84987654321", "Thủ tục thẻ BHYT thế nào?", "q2")});
  EXPECT_EQ(list_inbox(*db_, {}).size(), 2u);
  InboxFilter by_area;
  by_area.area = "Hòa Thắng";
  auto in_area = list_inbox(*db_, by_area);
  ASSERT_EQ(in_area.size(), 1u);
  EXPECT_EQ(in_area[0].household_id, b);
  InboxFilter by_campaign;
  by_campaign.campaign = "bhyt";
  auto in_campaign = list_inbox(*db_, by_campaign);
  ASSERT_EQ(in_campaign.size(), 1u);
  const std::int64_t q1 = in_campaign[0].id;
  EXPECT_EQ(in_campaign[0].household_id, a);

  assign_reply(*db_, q1, "lan", kNow);
  InboxFilter mine;
  mine.assigned_to = "lan";
  ASSERT_EQ(list_inbox(*db_, mine).size(), 1u);
  const auto message =
      answer_reply(*db_, q1, "Tháng 12 ạ. Xin cảm ơn.", "lan", templates::RouteTable{}, kNow);
  auto item = find_inbox_item(*db_, q1);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->status, "answered");
  EXPECT_EQ(item->answer_message_id, message);
  EXPECT_EQ(item->answer_state, "planned");
  EXPECT_EQ(text("SELECT priority || '|' || channel || '|' || route || '|' || phone_e164 || '|' "
                 "|| body FROM outbox WHERE id = " + std::to_string(message)),
            "reply|sms|sms|+84912345678|Tháng 12 ạ. Xin cảm ơn.");
  // The statistics count the answer as planned, in the household's area, like a bulk message.
  EXPECT_EQ(count("SELECT COALESCE(SUM(s.planned), 0) FROM stats_summary s JOIN campaigns c ON "
                  "c.id = s.campaign_id WHERE c.name = 'inbox' AND s.commune = 'Ea Tu'"),
            1);
  InboxFilter answered;
  answered.statuses = {"answered"};
  EXPECT_EQ(list_inbox(*db_, answered).size(), 1u);
  close_reply(*db_, q1, "lan", kNow);
  EXPECT_EQ(find_inbox_item(*db_, q1)->status, "closed");
  EXPECT_EQ(list_inbox(*db_, {}).size(), 1u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'inbox.%'"), 3);

  EXPECT_THROW(answer_reply(*db_, 999, "x", "lan", {}, kNow), InboxError);
  EXPECT_THROW(answer_reply(*db_, q1, "  ", "lan", {}, kNow), InboxError);
  try {
    answer_reply(*db_, q1, std::string(600, 'a'), "lan", {}, kNow);
    ADD_FAILURE() << "a 4-segment answer was queued";
  } catch (const InboxError& e) {
    EXPECT_NE(std::string(e.what()).find("reply " + std::to_string(q1)), std::string::npos);
  }
}

}  // namespace
}  // namespace loa::campaigns
