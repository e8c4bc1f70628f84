// Outcome events applied to a real, migrated SQLite store: every precedence rule, unknown ids,
// idempotence, replies matched to households and campaigns, and the funnel over the result.
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include "campaigns/funnel.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::campaigns {
namespace {

using Kind = OutboxEvent::Kind;

class OutboxEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(
        engine::open_store(dir_ / "loa.db", engine::StoreMode::kReadWrite));
    engine::migrate(*db_);
    campaign_ = add_campaign("tet-2027");
  }

  long long add_campaign(const std::string& name) {
    SQLite::Statement st(*db_,
                         "INSERT INTO campaigns(name, template_key, channels, start_at, end_at, "
                         "state) VALUES (?, 't', 'sms', '2026-12-01T08:00:00+07:00', "
                         "'2026-12-31T20:00:00+07:00', 'running')");
    st.bind(1, name);
    st.exec();
    const long long id = db_->getLastInsertRowid();
    SQLite::Statement r(*db_,
                        "INSERT INTO rounds(campaign_id, number, due_at, state) VALUES "
                        "(?, 1, '2026-12-01T08:00:00+07:00', 'expanded')");
    r.bind(1, static_cast<std::int64_t>(id));
    r.exec();
    return id;
  }
  long long round_of(long long campaign) {
    return db_->execAndGet("SELECT id FROM rounds WHERE campaign_id = " + std::to_string(campaign))
        .getInt64();
  }
  long long add_household(const std::string& phone, const std::string& zalo = "") {
    SQLite::Statement st(*db_,
                         "INSERT INTO households(phone_e164, zalo_user_id) VALUES (NULLIF(?, ''), "
                         "NULLIF(?, ''))");
    st.bind(1, phone);
    st.bind(2, zalo);
    st.exec();
    return db_->getLastInsertRowid();
  }
  // An outbox row in `state`, as the planner and dispatcher would have left it.
  long long add_message(const std::string& state, long long household = 0, long long campaign = 0,
                        const std::string& created = "2026-12-01T08:00:00+07:00") {
    if (!household) household = add_household("");
    if (!campaign) campaign = campaign_;
    SQLite::Statement st(
        *db_,
        "INSERT INTO outbox(round_id, campaign_id, household_id, channel, route, language, body, "
        "units, cost_vnd, state, expires_at, created_at, updated_at) VALUES (?, ?, ?, 'sms', "
        "'sms', 'vi', 'Xin chào', 1, 800, ?, '2026-12-31T20:00:00+07:00', ?, 'before')");
    st.bind(1, static_cast<std::int64_t>(round_of(campaign)));
    st.bind(2, static_cast<std::int64_t>(campaign));
    st.bind(3, static_cast<std::int64_t>(household));
    st.bind(4, state);
    st.bind(5, created);
    st.exec();
    return db_->getLastInsertRowid();
  }
  int apply(const std::vector<OutboxEvent>& events) {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    const int n = apply_outbox_events(*db_, events);
    tx.commit();
    return n;
  }
  std::string column(long long id, const std::string& name) {
    auto v = db_->execAndGet("SELECT " + name + " FROM outbox WHERE id = " + std::to_string(id));
    return v.isNull() ? "NULL" : v.getString();
  }
  std::string state(long long id) { return column(id, "state"); }
  long long count(const std::string& sql) { return db_->execAndGet(sql).getInt64(); }

  static OutboxEvent event(Kind kind, long long id, std::string reason = "") {
    OutboxEvent e;
    e.kind = kind;
    e.message_id = id;
    e.attempts = 1;
    e.at_ms = 1796083200123;  // 2026-12-01T00:00:00.123Z
    e.provider_id = "gw-" + std::to_string(id);
    e.reason = std::move(reason);
    return e;
  }
  static OutboxEvent reply(std::string phone, std::string zalo, std::string provider_id,
                           long long message_id = 0) {
    OutboxEvent e;
    e.kind = Kind::kReply;
    e.message_id = message_id;
    e.at_ms = 1796083260000;
    e.route = phone.empty() ? "zalo_oa" : "sms";
    e.phone = std::move(phone);
    e.zalo_user = std::move(zalo);
    e.provider_id = std::move(provider_id);
    e.text = "Cho tôi hỏi thủ tục làm thẻ BHYT";
    return e;
  }

  test::TempDir dir_;
  std::unique_ptr<SQLite::Database> db_;
  long long campaign_ = 0;
};

struct Precedence {
  std::string from;
  Kind kind;
  std::string to;  // == from: the event is ignored
};

TEST_F(OutboxEvents, EveryPrecedenceRule) {
  const std::vector<Precedence> cases = {
      // sent: only from planned|queued; a late sent never overwrites an outcome.
      {"planned", Kind::kSent, "sent"},
      {"queued", Kind::kSent, "sent"},
      {"sent", Kind::kSent, "sent"},
      {"failed", Kind::kSent, "failed"},
      {"expired", Kind::kSent, "expired"},
      {"cancelled", Kind::kSent, "cancelled"},
      // delivered: a real receipt wins over anything but itself.
      {"planned", Kind::kDelivered, "delivered"},
      {"queued", Kind::kDelivered, "delivered"},
      {"sent", Kind::kDelivered, "delivered"},
      {"failed", Kind::kDelivered, "delivered"},
      {"expired", Kind::kDelivered, "delivered"},
      {"cancelled", Kind::kDelivered, "delivered"},
      {"delivered", Kind::kDelivered, "delivered"},
      // undelivered: failed, from planned (the receipt beat its sent), queued or sent.
      {"planned", Kind::kUndelivered, "failed"},
      {"queued", Kind::kUndelivered, "failed"},
      {"sent", Kind::kUndelivered, "failed"},
      {"delivered", Kind::kUndelivered, "delivered"},
      {"failed", Kind::kUndelivered, "failed"},
      {"expired", Kind::kUndelivered, "expired"},
      {"cancelled", Kind::kUndelivered, "cancelled"},
      // failed, expired, cancelled: only what was not yet sent.
      {"planned", Kind::kFailed, "failed"},
      {"queued", Kind::kFailed, "failed"},
      {"sent", Kind::kFailed, "sent"},
      {"delivered", Kind::kFailed, "delivered"},
      {"expired", Kind::kFailed, "expired"},
      {"cancelled", Kind::kFailed, "cancelled"},
      {"planned", Kind::kExpired, "expired"},
      {"queued", Kind::kExpired, "expired"},
      {"sent", Kind::kExpired, "sent"},
      {"delivered", Kind::kExpired, "delivered"},
      {"failed", Kind::kExpired, "failed"},
      {"cancelled", Kind::kExpired, "cancelled"},
      {"planned", Kind::kCancelled, "cancelled"},
      {"queued", Kind::kCancelled, "cancelled"},
      {"sent", Kind::kCancelled, "sent"},
      {"delivered", Kind::kCancelled, "delivered"},
      {"failed", Kind::kCancelled, "failed"},
      {"expired", Kind::kCancelled, "expired"},
      // unknown (sent, no receipt in time): only a receipt moves it, delivered or failed.
      {"unknown", Kind::kDelivered, "delivered"},
      {"unknown", Kind::kUndelivered, "failed"},
      {"unknown", Kind::kSent, "unknown"},
      {"unknown", Kind::kFailed, "unknown"},
      {"unknown", Kind::kExpired, "unknown"},
      {"unknown", Kind::kCancelled, "unknown"},
  };
  for (const auto& c : cases) {
    const long long id = add_message(c.from);
    // A delivered row here already has its sent_at (the sent event was applied).
    if (c.from == "delivered")
      db_->exec("UPDATE outbox SET sent_at = 'x' WHERE id = " + std::to_string(id));
    const std::string what = c.from + " + " + std::string(to_string(c.kind));
    const int changed = apply({event(c.kind, id, "why")});
    EXPECT_EQ(state(id), c.to) << what;
    EXPECT_EQ(changed, c.to == c.from ? 0 : 1) << what;
    EXPECT_EQ(column(id, "updated_at") != "before", c.to != c.from) << what;
    // Applying it again changes nothing: redelivery from the stream is harmless.
    EXPECT_EQ(apply({event(c.kind, id, "why")}), 0) << what << " (again)";
  }
}

TEST_F(OutboxEvents, EachKindRecordsItsDetails) {
  const long long sent = add_message("queued");
  auto s = event(Kind::kSent, sent);
  s.attempts = 3;
  ASSERT_EQ(apply({s}), 1);
  EXPECT_EQ(column(sent, "provider_id"), "gw-" + std::to_string(sent));
  EXPECT_EQ(column(sent, "attempts"), "3");
  EXPECT_EQ(column(sent, "sent_at"), "2026-12-01T00:00:00.123Z");
  EXPECT_EQ(column(sent, "delivered_at"), "NULL");
  EXPECT_EQ(column(sent, "updated_at").size(), std::string("2026-12-01T00:00:00.123Z").size());

  auto d = event(Kind::kDelivered, sent);
  d.at_ms += 4000;
  ASSERT_EQ(apply({d}), 1);
  EXPECT_EQ(column(sent, "delivered_at"), "2026-12-01T00:00:04.123Z");
  EXPECT_EQ(column(sent, "sent_at"), "2026-12-01T00:00:00.123Z");

  const long long failed = add_message("planned");
  auto f = event(Kind::kFailed, failed, "http 400: bad number");
  f.attempts = 1;
  f.provider_id.clear();
  ASSERT_EQ(apply({f}), 1);
  EXPECT_EQ(column(failed, "last_error"), "http 400: bad number");
  EXPECT_EQ(column(failed, "attempts"), "1");
  EXPECT_EQ(column(failed, "provider_id"), "");

  const long long undelivered = add_message("sent");
  ASSERT_EQ(apply({event(Kind::kUndelivered, undelivered, "")}), 1);
  EXPECT_EQ(column(undelivered, "last_error"), "undelivered");

  const long long expired = add_message("queued");
  ASSERT_EQ(apply({event(Kind::kExpired, expired, "end_at passed")}), 1);
  EXPECT_EQ(column(expired, "last_error"), "end_at passed");
}

TEST_F(OutboxEvents, AReceiptThatBeatsItsSentKeepsDeliveredAndGainsTheSendDetails) {
  const long long id = add_message("queued");
  auto sent = event(Kind::kSent, id);
  sent.attempts = 2;
  auto delivered = event(Kind::kDelivered, id);
  delivered.provider_id.clear();  // some receipts carry only our id
  delivered.at_ms += 1000;
  ASSERT_EQ(apply({delivered}), 1);
  EXPECT_EQ(state(id), "delivered");
  EXPECT_EQ(column(id, "sent_at"), "NULL");
  ASSERT_EQ(apply({sent}), 1);  // late: fills in, never downgrades
  EXPECT_EQ(state(id), "delivered");
  EXPECT_EQ(column(id, "provider_id"), "gw-" + std::to_string(id));
  EXPECT_EQ(column(id, "attempts"), "2");
  EXPECT_EQ(column(id, "sent_at"), "2026-12-01T00:00:00.123Z");
  EXPECT_EQ(column(id, "delivered_at"), "2026-12-01T00:00:01.123Z");
  EXPECT_EQ(apply({sent, delivered}), 0);
}

// Delivery times never run backwards: a receipt stamped before its send (the gateway's clock
// behind loa's, or a receipt that raced the send's answer) is recorded at the send's time, in
// the outbox and in delivery_history, whichever event arrives first. loa's clock wins.
TEST_F(OutboxEvents, ADeliveryIsNeverBeforeItsSend) {
  struct Row {
    std::string name;
    long long receipt_offset_ms;  // the receipt's time minus the send's
    bool receipt_first;           // the receipt is applied before the sent
    std::string delivered_at;
  };
  const std::vector<Row> rows = {
      {"receipt after the send", 4000, false, "2026-12-01T00:00:04.123Z"},
      {"receipt 6 ms before the send", -6, false, "2026-12-01T00:00:00.123Z"},
      {"receipt before the send, applied first", -6, true, "2026-12-01T00:00:00.123Z"},
      {"receipt after the send, applied first", 1000, true, "2026-12-01T00:00:01.123Z"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const long long id = add_message("queued");
    auto sent = event(Kind::kSent, id);
    auto delivered = event(Kind::kDelivered, id);
    delivered.at_ms += row.receipt_offset_ms;
    if (row.receipt_first) {
      apply({delivered});
      apply({sent});
    } else {
      apply({sent});
      apply({delivered});
    }
    EXPECT_EQ(state(id), "delivered");
    EXPECT_EQ(column(id, "sent_at"), "2026-12-01T00:00:00.123Z");
    EXPECT_EQ(column(id, "delivered_at"), row.delivered_at);
    EXPECT_GE(column(id, "delivered_at"), column(id, "sent_at"));
    if (!row.receipt_first) {
      // The history has the delivery at the same, never earlier, time.
      EXPECT_EQ(db_->execAndGet("SELECT at FROM delivery_history WHERE event = 'delivered' AND "
                                "message_id = " +
                                std::to_string(id))
                    .getString(),
                row.delivered_at);
    }
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE delivered_at < sent_at"), 0);
  // No negative time to delivery in the statistics: every timed delivery is in a bucket.
  EXPECT_EQ(count("SELECT SUM(delivered) FROM stats_summary"), 4);
}

// A gateway (or a redelivered stream entry) replaying receipts for an id the outbox does not
// know adds one orphan row per receipt, not per replay.
TEST_F(OutboxEvents, ReplayedReceiptsForAnUnknownIdAreStoredOnce) {
  OutboxEventApplier applier(*db_);
  auto run = [&](const std::vector<OutboxEvent>& events) {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    applier.apply(events);
    tx.commit();
    return applier.orphans();
  };
  const auto delivered = event(Kind::kDelivered, 777001);
  const auto undelivered = event(Kind::kUndelivered, 777001, "expired at the SMSC");
  EXPECT_EQ(run({delivered}), 1);
  EXPECT_EQ(run({delivered}), 0);                 // replayed
  EXPECT_EQ(run({delivered, delivered}), 0);      // replayed twice in one batch
  EXPECT_EQ(run({undelivered, undelivered}), 1);  // another kind of receipt is kept, once
  EXPECT_EQ(count("SELECT COUNT(*) FROM orphan_receipts WHERE message_ref = '777001'"), 2);
}

TEST_F(OutboxEvents, OneBatchInOrderAndUnknownIdsIgnored) {
  const long long a = add_message("queued");
  const long long b = add_message("queued");
  const int changed =
      apply({event(Kind::kSent, a), event(Kind::kSent, 999999), event(Kind::kDelivered, a),
             event(Kind::kFailed, b, "timeout"), event(Kind::kDelivered, 0), event(Kind::kSent, -3),
             event(Kind::kUndelivered, 424242)});
  EXPECT_EQ(changed, 3);
  EXPECT_EQ(state(a), "delivered");
  EXPECT_EQ(state(b), "failed");
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), 2);
}

TEST_F(OutboxEvents, RepliesAreMatchedToTheHouseholdAndItsLatestCampaign) {
  const long long older = add_campaign("older");
  const long long h1 = add_household("+84912345678");
  const long long h2 = add_household("+84987654321", "zu-2");
  add_message("delivered", h1, older, "2026-11-01T08:00:00+07:00");
  const long long m1 = add_message("delivered", h1, campaign_, "2026-12-01T08:00:00+07:00");
  add_message("sent", h2, older);

  ASSERT_EQ(apply({reply("+84912345678", "", "mo-1"), reply("", "zu-2", "zalo-1"),
                   reply("+84900000000", "", "mo-2"), reply("+84987654321", "", "mo-3", m1)}),
            4);
  auto row = [&](const std::string& provider) {
    SQLite::Statement st(*db_,
                         "SELECT COALESCE(household_id, 0), COALESCE(campaign_id, 0), route, "
                         "text, received_at FROM replies WHERE provider_id = ?");
    st.bind(1, provider);
    EXPECT_TRUE(st.executeStep()) << provider;
    return std::tuple(st.getColumn(0).getInt64(), st.getColumn(1).getInt64(),
                      st.getColumn(2).getString(), st.getColumn(3).getString(),
                      st.getColumn(4).getString());
  };
  // By phone: the campaign of the household's latest message.
  EXPECT_EQ(row("mo-1"), std::tuple(h1, campaign_, std::string("sms"),
                                    std::string("Cho tôi hỏi thủ tục làm thẻ BHYT"),
                                    std::string("2026-12-01T00:01:00.000Z")));
  // By Zalo user.
  EXPECT_EQ(std::get<0>(row("zalo-1")), h2);
  EXPECT_EQ(std::get<1>(row("zalo-1")), older);
  // Nobody we know: kept, unmatched.
  EXPECT_EQ(std::get<0>(row("mo-2")), 0);
  EXPECT_EQ(std::get<1>(row("mo-2")), 0);
  // The message it answers wins over the phone.
  EXPECT_EQ(std::get<0>(row("mo-3")), h1);
  EXPECT_EQ(std::get<1>(row("mo-3")), campaign_);
}

TEST_F(OutboxEvents, ASharedPhoneGoesToTheHouseholdMessagedLast) {
  const long long h1 = add_household("+84911111111");
  const long long h2 = add_household("+84911111111");
  const long long other = add_campaign("other");
  add_message("delivered", h1, campaign_, "2026-12-01T08:00:00+07:00");
  add_message("delivered", h2, other, "2026-12-02T08:00:00+07:00");
  ASSERT_EQ(apply({reply("+84911111111", "", "mo-9")}), 1);
  EXPECT_EQ(count("SELECT household_id FROM replies"), h2);
  EXPECT_EQ(count("SELECT campaign_id FROM replies"), other);
}

TEST_F(OutboxEvents, ADuplicateReplyIsIgnoredButRepliesWithoutAnIdAreKept) {
  add_household("+84912345678");
  EXPECT_EQ(apply({reply("+84912345678", "", "mo-1")}), 1);
  EXPECT_EQ(apply({reply("+84912345678", "", "mo-1"), reply("+84912345678", "", "mo-1")}), 0);
  EXPECT_EQ(apply({reply("+84912345678", "", ""), reply("+84912345678", "", "")}), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replies"), 3);
}

TEST_F(OutboxEvents, TheFunnelCountsEveryStateReasonCostAndReply) {
  for (int i = 0; i < 3; ++i) add_message("planned");
  add_message("queued");
  const long long s = add_message("queued");
  const long long d1 = add_message("queued");
  const long long d2 = add_message("queued");
  const long long f1 = add_message("planned");
  const long long f2 = add_message("planned");
  const long long f3 = add_message("queued");
  const long long u = add_message("queued");
  const long long e = add_message("planned");
  const long long c = add_message("planned");
  const long long h = add_household("+84912345678");
  add_message("sent", h);
  ASSERT_EQ(apply({event(Kind::kSent, s), event(Kind::kSent, d1), event(Kind::kDelivered, d1),
                   event(Kind::kDelivered, d2), event(Kind::kFailed, f1, "timeout"),
                   event(Kind::kFailed, f2, "timeout"), event(Kind::kFailed, f3, "bad number"),
                   event(Kind::kSent, u), event(Kind::kUndelivered, u, "DLR: absent subscriber"),
                   event(Kind::kExpired, e), event(Kind::kCancelled, c),
                   reply("+84912345678", "", "mo-1")}),
            12);
  const Funnel f = campaign_funnel(*db_, campaign_);
  EXPECT_EQ(f.planned, 3);
  EXPECT_EQ(f.queued, 1);
  EXPECT_EQ(f.sent, 2);
  EXPECT_EQ(f.delivered, 2);
  EXPECT_EQ(f.failed, 4);
  EXPECT_EQ(f.expired, 1);
  EXPECT_EQ(f.cancelled, 1);
  EXPECT_EQ(f.total(), 14);
  EXPECT_EQ(f.failed_by_reason.front(), (std::pair<std::string, long long>("timeout", 2)));
  EXPECT_EQ(f.failed_by_reason.size(), 3u);
  EXPECT_NE(std::find(f.failed_by_reason.begin(), f.failed_by_reason.end(),
                      std::pair<std::string, long long>("DLR: absent subscriber", 1)),
            f.failed_by_reason.end());
  // Handed to the gateway: 2 sent, 2 delivered, 1 undelivered, at 800 each.
  EXPECT_EQ(f.cost_vnd, 5 * 800);
  EXPECT_EQ(f.replies, 1);
  const Funnel none = campaign_funnel(*db_, 424242);
  EXPECT_EQ(none.total(), 0);
  EXPECT_EQ(none.replies, 0);
}

// Found by ops/faults/crash: a daemon killed between putting a page into the route queues and
// committing its `queued` mark leaves the rows planned; after the restart the dispatchers send
// them before the enqueuer marks them again, so the enqueuer (which counts `queued` for the rows
// it finds planned) never counted them, and the report showed fewer queued than sent. The
// applier now counts the first queueing of a row it finds planned, once.
TEST_F(OutboxEvents, AnEventBeforeTheQueuedMarkCountsTheQueueingOnce) {
  const long long unmarked = add_message("planned");
  const long long fallback = add_message("planned");  // queued once already, on its first channel
  db_->exec("UPDATE outbox SET fallback_from = 'zalo_zns' WHERE id = " + std::to_string(fallback));
  const long long marked = add_message("queued");  // the enqueuer counted this one
  apply({event(Kind::kSent, unmarked), event(Kind::kSent, fallback), event(Kind::kSent, marked)});
  apply({event(Kind::kSent, unmarked), event(Kind::kDelivered, unmarked)});  // redelivered, then its receipt
  EXPECT_EQ(count("SELECT SUM(queued) FROM stats_summary"), 1);
  EXPECT_EQ(count("SELECT SUM(sent) FROM stats_summary"), 3);
  EXPECT_EQ(count("SELECT SUM(delivered) FROM stats_summary"), 1);
  EXPECT_EQ(state(unmarked), "delivered");
}

TEST_F(OutboxEvents, AnApplierReusesItsStatementsAcrossBatches) {
  std::vector<long long> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(add_message("queued"));
  OutboxEventApplier applier(*db_);
  int changed = 0;
  for (int round = 0; round < 3; ++round) {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    std::vector<OutboxEvent> batch;
    for (long long id : ids)
      batch.push_back(event(round == 0 ? Kind::kSent : Kind::kDelivered, id));
    batch.push_back(reply("", "zu-x", "r" + std::to_string(round)));
    changed += applier.apply(batch);
    tx.commit();
  }
  EXPECT_EQ(changed, 300 + 300 + 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'"), 300);
}

}  // namespace
}  // namespace loa::campaigns
