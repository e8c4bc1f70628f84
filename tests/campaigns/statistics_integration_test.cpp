// Statistics against a constructed outbox with known counts, in a real migrated SQLite store:
// the planner's page writes and the results applier keep the summary (no scans), the queries
// return the known funnel, breakdowns and percentiles, and the migration's backfill of the
// same outbox gives the same figures as the incremental counting.
#include "campaigns/statistics.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "campaigns/outbox_event.hpp"
#include "campaigns/planner.hpp"
#include "campaigns/stats_summary.hpp"
#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::campaigns {
namespace {

using Kind = OutboxEvent::Kind;

constexpr long long kSentMs = 1796083200000;  // 2026-12-01T00:00:00Z (07:00 local)

class Statistics : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(
        engine::open_store(dir_ / "loa.db", engine::StoreMode::kReadWrite));
    engine::migrate(*db_);
    db_->exec(
        "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) VALUES "
        "(7, 'Thẻ BHYT 2027', 't', 'zalo_zns,sms', '2026-12-01T08:00:00+07:00', "
        "'2026-12-31T20:00:00+07:00', 'running');"
        "INSERT INTO rounds(id, campaign_id, number, due_at) VALUES (1, 7, 1, "
        "'2026-12-01T08:00:00+07:00')");
    campaign_.id = 7;
    campaign_.name = "Thẻ BHYT 2027";
    campaign_.end_at = *parse_time("2026-12-31T20:00:00+07:00");
    round_.id = 1;
    round_.campaign_id = 7;
  }

  // Households 1..n in `commune` (legacy district `district`), all Viettel, poor, Vietnamese.
  std::vector<std::int64_t> households(int n, const std::string& commune,
                                       const std::string& district, const std::string& category,
                                       const std::string& language = "vi") {
    std::vector<std::int64_t> ids;
    SQLite::Statement st(*db_,
                         "INSERT INTO households(phone_e164, carrier, language, category, "
                         "commune, district) VALUES (?, 'viettel', ?, ?, ?, ?)");
    for (int i = 0; i < n; ++i) {
      st.reset();
      st.bind(1, "+8498" + std::to_string(1000000 + next_phone_++));
      st.bind(2, language);
      st.bind(3, category);
      st.bind(4, commune);
      st.bind(5, district);
      st.exec();
      ids.push_back(db_->getLastInsertRowid());
    }
    return ids;
  }

  // Plans the households through write_page, as the planner does, on `day` (local).
  std::vector<long long> plan(const std::vector<std::int64_t>& ids, const std::string& channel,
                              const std::string& commune, const std::string& district,
                              const std::string& category, const std::string& day,
                              const std::string& language = "vi") {
    PlanPage page;
    page.stats_keys.push_back(
        StatsKey{0, {}, channel, channel, "viettel", commune, district, language, category});
    for (auto id : ids) {
      PlannedMessage m;
      m.household_id = id;
      m.phone_e164 = db_->execAndGet("SELECT phone_e164 FROM households WHERE id = " +
                                     std::to_string(id))
                         .getString();
      m.channel = channel;
      m.fallback = channel == "zalo_zns" ? "sms" : "";
      m.route = channel;
      m.language = language;
      m.body = "Xin chào";
      m.units = 1;
      m.cost_vnd = channel == "sms" ? 800 : 200;
      m.stats_key = 0;
      page.messages.push_back(m);
      page.last_household_id = id;
    }
    const long long before = db_->execAndGet("SELECT COALESCE(MAX(id), 0) FROM outbox").getInt64();
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    write_page(*db_, campaign_, round_, page, *parse_time(day + "T09:00:00+07:00"));
    tx.commit();
    std::vector<long long> out;
    SQLite::Statement st(*db_, "SELECT id FROM outbox WHERE id > ? ORDER BY id");
    st.bind(1, static_cast<std::int64_t>(before));
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
  }

  void apply(const std::vector<OutboxEvent>& events) {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    apply_outbox_events(*db_, events);
    tx.commit();
  }
  static OutboxEvent event(Kind kind, long long id, long long at_ms, std::string reason = "") {
    OutboxEvent e;
    e.kind = kind;
    e.message_id = id;
    e.attempts = 1;
    e.at_ms = at_ms;
    e.provider_id = "gw-" + std::to_string(id);
    e.reason = std::move(reason);
    return e;
  }

  StatsQuery december() const { return {"2026-12-01", "2026-12-31", std::nullopt}; }

  test::TempDir dir_;
  std::unique_ptr<SQLite::Database> db_;
  Campaign campaign_;
  Round round_;
  int next_phone_ = 0;
};

TEST_F(Statistics, KnownFunnelBreakdownsAndPercentiles) {
  auto ea_kao_h = households(20, "Xã Ea Kao", "Buôn Ma Thuột", "poor");
  auto tan_lap_h = households(10, "Phường Tân Lập", "Buôn Ma Thuột", "near_poor");
  auto krong_buk_h = households(5, "Xã Krông Búk", "Krông Búk", "poor", "rad");
  auto ea_kao = plan(ea_kao_h, "sms", "Xã Ea Kao", "Buôn Ma Thuột", "poor", "2026-12-01");
  auto tan_lap =
      plan(tan_lap_h, "zalo_zns", "Phường Tân Lập", "Buôn Ma Thuột", "near_poor", "2026-12-01");
  auto krong_buk =
      plan(krong_buk_h, "sms", "Xã Krông Búk", "Krông Búk", "poor", "2026-12-02", "rad");
  ASSERT_EQ(ea_kao.size(), 20u);
  ASSERT_EQ(tan_lap.size(), 10u);
  ASSERT_EQ(krong_buk.size(), 5u);

  // Planning alone: 35 planned, nothing else.
  auto total = statistics_total(*db_, december());
  EXPECT_EQ(total.counters.planned, 35);
  EXPECT_EQ(total.counters.sent, 0);

  std::vector<OutboxEvent> events;
  // Ea Kao: 16 sent; 10 delivered (6 after 1.5 s, 4 after 40 s), 2 undelivered, 4 still sent;
  // 2 failed "http 400: bad number", 1 cancelled "opted out", 1 expired.
  for (int i = 0; i < 16; ++i) events.push_back(event(Kind::kSent, ea_kao[i], kSentMs));
  for (int i = 0; i < 6; ++i)
    events.push_back(event(Kind::kDelivered, ea_kao[i], kSentMs + 1500));
  for (int i = 6; i < 10; ++i)
    events.push_back(event(Kind::kDelivered, ea_kao[i], kSentMs + 40000));
  events.push_back(event(Kind::kUndelivered, ea_kao[10], kSentMs + 5000, "DLR: hết hạn"));
  events.push_back(event(Kind::kUndelivered, ea_kao[11], kSentMs + 5000, "DLR: hết hạn"));
  events.push_back(event(Kind::kFailed, ea_kao[16], kSentMs, "http 400: bad number"));
  events.push_back(event(Kind::kFailed, ea_kao[17], kSentMs, "http 400: bad number"));
  events.push_back(event(Kind::kCancelled, ea_kao[18], kSentMs, "opted out"));
  events.push_back(event(Kind::kExpired, ea_kao[19], kSentMs, "end_at"));
  // Tân Lập (Zalo first): 4 unreachable move to SMS, then 3 of those are sent and delivered
  // over SMS after 3 s; the other 6 are sent and delivered over Zalo after 1.5 s.
  for (int i = 0; i < 4; ++i)
    events.push_back(event(Kind::kFailed, tan_lap[i], kSentMs, "unreachable: no Zalo account"));
  for (int i = 0; i < 3; ++i) {
    events.push_back(event(Kind::kSent, tan_lap[i], kSentMs + 10000));
    events.push_back(event(Kind::kDelivered, tan_lap[i], kSentMs + 13000));
  }
  for (int i = 4; i < 10; ++i) {
    events.push_back(event(Kind::kSent, tan_lap[i], kSentMs));
    events.push_back(event(Kind::kDelivered, tan_lap[i], kSentMs + 1500));
  }
  // Krông Búk: a delivery receipt that beats its `sent` (counted sent once, not timed), and
  // a reply from that household.
  events.push_back(event(Kind::kDelivered, krong_buk[0], kSentMs + 2000));
  events.push_back(event(Kind::kSent, krong_buk[0], kSentMs));
  OutboxEvent reply;
  reply.kind = Kind::kReply;
  reply.message_id = krong_buk[0];
  reply.at_ms = kSentMs + 60000;
  reply.route = "sms";
  reply.provider_id = "mo-1";
  reply.text = "Cho tôi hỏi về thẻ BHYT";
  events.push_back(reply);
  // Split into three batches, as the results consumer would, the last one twice (redelivery).
  const std::size_t third = events.size() / 3;
  apply({events.begin(), events.begin() + third});
  apply({events.begin() + third, events.begin() + 2 * third});
  apply({events.begin() + 2 * third, events.end()});
  apply({events.begin() + 2 * third, events.end()});

  total = statistics_total(*db_, december());
  const auto& c = total.counters;
  EXPECT_EQ(c.planned, 35);
  EXPECT_EQ(c.sent, 16 + 3 + 6 + 1);
  EXPECT_EQ(c.delivered, 10 + 3 + 6 + 1);
  EXPECT_EQ(c.failed, 4);
  EXPECT_EQ(c.expired, 1);
  EXPECT_EQ(c.cancelled, 1);
  EXPECT_EQ(c.opted_out, 1);
  EXPECT_EQ(c.fallback, 4);
  EXPECT_EQ(c.replied, 1);
  // The fallback rows keep the price they were planned with (the enqueuer, not run here,
  // prices them again for their new channel).
  EXPECT_EQ(c.cost_vnd, 16 * 800 + 3 * 200 + 6 * 200 + 1 * 800);
  ASSERT_EQ(c.failures.size(), 2u);
  EXPECT_EQ(c.failures.at("DLR: hết hạn"), 2);
  EXPECT_EQ(c.failures.at("http 400: bad number"), 2);
  // Timed deliveries: 12 at 1.5 s and 1 at 2 s (the receipt that beat its sent, timed when
  // the sent arrives), 3 at 3 s, 4 at 40 s: 20. p50: the 10th, in the 1-2 s bucket (13 there)
  // -> 1 + 10/13 s.
  ASSERT_TRUE(total.p50_seconds);
  EXPECT_NEAR(*total.p50_seconds, 1.0 + 10.0 / 13.0, 1e-9);
  // p95: the 19th; 16 below the 30-60 s bucket (4 there) -> 30 + 30 * 3/4 s.
  EXPECT_NEAR(*total.p95_seconds, 30.0 + 30.0 * 3.0 / 4.0, 1e-9);

  // By area: commune or ward, and the legacy district.
  auto by_commune = statistics_by(*db_, december(), Breakdown::kCommune);
  ASSERT_EQ(by_commune.size(), 3u);
  EXPECT_EQ(by_commune[0].group, "Phường Tân Lập");
  EXPECT_EQ(by_commune[0].counters.delivered, 9);
  EXPECT_EQ(by_commune[0].counters.fallback, 4);
  EXPECT_EQ(by_commune[1].group, "Xã Ea Kao");
  EXPECT_EQ(by_commune[1].counters.planned, 20);
  EXPECT_EQ(by_commune[1].counters.delivered, 10);
  EXPECT_EQ(by_commune[1].counters.failed, 4);
  EXPECT_EQ(by_commune[1].counters.failures.at("http 400: bad number"), 2);
  EXPECT_EQ(by_commune[2].group, "Xã Krông Búk");
  EXPECT_EQ(by_commune[2].counters.replied, 1);
  auto by_district = statistics_by(*db_, december(), Breakdown::kDistrict);
  ASSERT_EQ(by_district.size(), 2u);
  EXPECT_EQ(by_district[0].group, "Buôn Ma Thuột");
  EXPECT_EQ(by_district[0].counters.planned, 30);

  // By channel: the fallback's SMS sends count under sms, its plan under zalo_zns.
  auto by_channel = statistics_by(*db_, december(), Breakdown::kChannel);
  ASSERT_EQ(by_channel.size(), 2u);
  EXPECT_EQ(by_channel[0].group, "sms");
  EXPECT_EQ(by_channel[0].counters.planned, 25);
  EXPECT_EQ(by_channel[0].counters.delivered, 10 + 3 + 1);
  EXPECT_EQ(by_channel[1].group, "zalo_zns");
  EXPECT_EQ(by_channel[1].counters.planned, 10);
  EXPECT_EQ(by_channel[1].counters.delivered, 6);

  // By day, language, category (with its Vietnamese label), carrier and campaign (its name).
  auto by_day = statistics_by(*db_, december(), Breakdown::kDay);
  ASSERT_EQ(by_day.size(), 2u);
  EXPECT_EQ(by_day[0].group, "2026-12-01");
  EXPECT_EQ(by_day[0].counters.planned, 30);
  EXPECT_EQ(by_day[1].group, "2026-12-02");
  EXPECT_EQ(by_day[1].counters.planned, 5);
  auto by_language = statistics_by(*db_, december(), Breakdown::kLanguage);
  ASSERT_EQ(by_language.size(), 2u);
  EXPECT_EQ(by_language[0].group, "rad");
  EXPECT_EQ(by_language[0].counters.delivered, 1);
  auto by_category = statistics_by(*db_, december(), Breakdown::kCategory);
  ASSERT_EQ(by_category.size(), 2u);
  EXPECT_EQ(by_category[0].group, "near_poor");
  EXPECT_EQ(by_category[0].label, "Hộ cận nghèo");
  EXPECT_EQ(by_category[1].label, "Hộ nghèo");
  EXPECT_EQ(by_category[1].counters.planned, 25);
  auto by_campaign = statistics_by(*db_, december(), Breakdown::kCampaign);
  ASSERT_EQ(by_campaign.size(), 1u);
  EXPECT_EQ(by_campaign[0].label, "Thẻ BHYT 2027");
  EXPECT_EQ(by_campaign[0].counters.planned, 35);
  auto by_carrier = statistics_by(*db_, december(), Breakdown::kCarrier);
  ASSERT_EQ(by_carrier.size(), 1u);
  EXPECT_EQ(by_carrier[0].group, "viettel");

  // Ranges: one day, a campaign, another campaign, no data.
  EXPECT_EQ(statistics_total(*db_, {"2026-12-02", "2026-12-02", std::nullopt}).counters.planned, 5);
  EXPECT_EQ(statistics_total(*db_, {"2026-12-01", "2026-12-31", 7}).counters.planned, 35);
  EXPECT_EQ(statistics_total(*db_, {"2026-12-01", "2026-12-31", 8}).counters.planned, 0);
  EXPECT_EQ(statistics_total(*db_, {"2027-01-01", "2027-06-30", std::nullopt}).counters.planned,
            0);
  EXPECT_FALSE(statistics_total(*db_, {"2027-01-01", "2027-06-30", std::nullopt}).p50_seconds);

  // Cancelling counts too: Krông Búk's 4 planned messages and the Tân Lập one that moved to
  // SMS and was never sent are cancelled; the 4 Ea Kao messages still `sent` stay.
  transition(*db_, 7, CampaignState::kCancelled, "test", "");
  EXPECT_EQ(statistics_total(*db_, december()).counters.cancelled, 1 + 5);
  EXPECT_EQ(statistics_by(*db_, december(), Breakdown::kCommune)[2].counters.cancelled, 4);

  // The migration's backfill of this same outbox gives the same figures as the counting
  // (queued aside: the backfill infers it, and no enqueuer ran here).
  auto before_total = statistics_total(*db_, december());
  auto before_communes = statistics_by(*db_, december(), Breakdown::kCommune);
  auto before_days = statistics_by(*db_, december(), Breakdown::kDay);
  std::ifstream in(test::source_dir() / "engine/migrations/0010_statistics.sql");
  std::stringstream sql;
  sql << in.rdbuf();
  const std::string text = sql.str();
  const auto backfill = text.find("-- Backfill");
  ASSERT_NE(backfill, std::string::npos);
  db_->exec("DELETE FROM stats_failures; DELETE FROM stats_summary;");
  db_->exec(text.substr(backfill));
  auto same = [](const StatsRow& a, const StatsRow& b) {
    const auto& x = a.counters;
    const auto& y = b.counters;
    EXPECT_EQ(a.group, b.group);
    EXPECT_EQ(x.planned, y.planned) << a.group;
    EXPECT_EQ(x.sent, y.sent) << a.group;
    EXPECT_EQ(x.delivered, y.delivered) << a.group;
    EXPECT_EQ(x.failed, y.failed) << a.group;
    EXPECT_EQ(x.expired, y.expired) << a.group;
    EXPECT_EQ(x.cancelled, y.cancelled) << a.group;
    EXPECT_EQ(x.fallback, y.fallback) << a.group;
    EXPECT_EQ(x.replied, y.replied) << a.group;
    EXPECT_EQ(x.opted_out, y.opted_out) << a.group;
    EXPECT_EQ(x.cost_vnd, y.cost_vnd) << a.group;
    EXPECT_EQ(x.ttd, y.ttd) << a.group;
    EXPECT_EQ(x.failures, y.failures) << a.group;
  };
  same(before_total, statistics_total(*db_, december()));
  auto after_communes = statistics_by(*db_, december(), Breakdown::kCommune);
  ASSERT_EQ(after_communes.size(), before_communes.size());
  for (std::size_t i = 0; i < after_communes.size(); ++i)
    same(before_communes[i], after_communes[i]);
  auto after_days = statistics_by(*db_, december(), Breakdown::kDay);
  ASSERT_EQ(after_days.size(), before_days.size());
  for (std::size_t i = 0; i < after_days.size(); ++i) same(before_days[i], after_days[i]);
}

TEST_F(Statistics, BadRangesNameTheParameter) {
  try {
    statistics_total(*db_, {"2026-13-01", "2026-12-31", std::nullopt});
    FAIL() << "no error";
  } catch (const StatisticsError& e) {
    EXPECT_STREQ(e.what(), "from: '2026-13-01' is not a date (YYYY-MM-DD)");
  }
  EXPECT_THROW(statistics_total(*db_, {"2026-12-01", "1/1/2027", std::nullopt}), StatisticsError);
  try {
    statistics_by(*db_, {"2026-12-31", "2026-12-01", std::nullopt}, Breakdown::kDay);
    FAIL() << "no error";
  } catch (const StatisticsError& e) {
    EXPECT_STREQ(e.what(), "to: 2026-12-01 is before from (2026-12-31)");
  }
  EXPECT_EQ(parse_breakdown("commune"), Breakdown::kCommune);
  EXPECT_FALSE(parse_breakdown("province"));
}

TEST(DeliveryPercentile, InterpolatesInsideABucket) {
  std::array<long long, kDeliveryBuckets> h{};
  EXPECT_FALSE(delivery_percentile(h, 0.5));
  h[0] = 10;  // all within the first second
  EXPECT_NEAR(*delivery_percentile(h, 0.5), 0.5, 1e-9);
  h = {};
  h[kDeliveryBuckets - 1] = 3;  // beyond a day: the bound
  EXPECT_EQ(*delivery_percentile(h, 0.95), 86400.0);
  EXPECT_EQ(delivery_bucket(0), 0u);
  EXPECT_EQ(delivery_bucket(1000), 0u);
  EXPECT_EQ(delivery_bucket(1001), 1u);
  EXPECT_EQ(delivery_bucket(86400001), kDeliveryBuckets - 1);
}

TEST(SummaryReason, KeepsEightyCharactersNotBytes) {
  const std::string vi(100, 'a');
  EXPECT_EQ(summary_reason(vi).size(), 80u);
  std::string d;
  for (int i = 0; i < 90; ++i) d += "đ";  // two bytes each
  EXPECT_EQ(summary_reason(d).size(), 160u);
  EXPECT_EQ(parse_iso_ms("2026-12-01T00:00:00.123Z"), kSentMs + 123);
  EXPECT_EQ(parse_iso_ms("2026-12-01T07:00:00+07:00"), kSentMs);
}

}  // namespace
}  // namespace loa::campaigns
