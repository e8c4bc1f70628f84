// The campaign model without a store: files, times, quiet hours, rounds, lifecycle rules.
#include "campaigns/campaign.hpp"

#include <gtest/gtest.h>

namespace loa::campaigns {
namespace {

TimePoint at(const char* text) { return parse_time(text).value(); }

const char* kGood = R"(
[campaign]
name = "bhyt-2026-12"
topic = "Hỗ trợ bảo hiểm y tế"
template = "health_insurance"
audience = 'category = "near_poor"'
channels = ["zalo_zns", "sms"]
start_at = "2026-12-01T08:00:00+07:00"
end_at = "2026-12-31T20:00:00+07:00"
recurrence = "weekly"
quiet_hours = "21:30-06:30"
frequency_cap = 2
budget_vnd = 5000000
[campaign.variables]
deadline = "31/12/2026"
)";

TEST(LocalTime, ParsesAndFormatsVietnamTime) {
  EXPECT_EQ(format_time(at("2026-12-01T08:00:00+07:00")), "2026-12-01T08:00:00+07:00");
  EXPECT_EQ(at("2026-12-01T01:00:00Z"), at("2026-12-01T08:00:00+07:00"));
  EXPECT_EQ(at("2026-12-01 08:00"), at("2026-12-01T08:00:00+07:00"));
  EXPECT_EQ(at("2026-12-01"), at("2026-12-01T00:00:00+07:00"));
  for (const char* bad : {"2026-13-01", "2026-02-30", "yesterday", "2026-12-01T25:00",
                          "2026-12-01T08:00:00+0700"})
    EXPECT_FALSE(parse_time(bad).has_value()) << bad;
}

TEST(QuietHoursTest, AcrossMidnight) {
  QuietHours q;  // 21:00-07:00, the default (DESIGN.md 3.6)
  EXPECT_TRUE(q.contains(at("2026-12-01T22:00:00+07:00")));
  EXPECT_TRUE(q.contains(at("2026-12-01T06:59:00+07:00")));
  EXPECT_FALSE(q.contains(at("2026-12-01T07:00:00+07:00")));
  EXPECT_FALSE(q.contains(at("2026-12-01T20:59:00+07:00")));
  EXPECT_EQ(q.next_allowed(at("2026-12-01T23:15:00+07:00")), at("2026-12-02T07:00:00+07:00"));
  EXPECT_EQ(q.next_allowed(at("2026-12-01T05:00:00+07:00")), at("2026-12-01T07:00:00+07:00"));
  EXPECT_EQ(q.next_allowed(at("2026-12-01T12:00:00+07:00")), at("2026-12-01T12:00:00+07:00"));
  EXPECT_EQ(q.open_minutes_per_day(), 14 * 60);
  EXPECT_EQ(QuietHours::parse("12:00-13:30")->describe(), "12:00-13:30");
  EXPECT_FALSE(QuietHours::parse("9pm-7am").has_value());
}

TEST(CampaignFile, ReadsEveryField) {
  Campaign c = parse_campaign_text(kGood, "c.toml");
  EXPECT_EQ(c.name, "bhyt-2026-12");
  EXPECT_EQ(c.topic, "Hỗ trợ bảo hiểm y tế");
  EXPECT_EQ(c.channels, (std::vector<std::string>{"zalo_zns", "sms"}));
  EXPECT_EQ(c.recurrence, Recurrence::kWeekly);
  EXPECT_EQ(c.quiet_hours.describe(), "21:30-06:30");
  EXPECT_EQ(c.frequency_cap, 2);
  EXPECT_EQ(c.budget_vnd, 5000000);
  ASSERT_EQ(c.variables.size(), 1u);
  EXPECT_EQ(c.variables[0].second, "31/12/2026");
}

struct BadFile {
  const char* label;
  std::string from;
  std::string to;
  const char* expected;
};

class CampaignFileErrors : public ::testing::TestWithParam<BadFile> {};

TEST_P(CampaignFileErrors, NameFileLineAndKey) {
  std::string text = kGood;
  const auto& b = GetParam();
  const auto pos = text.find(b.from);
  ASSERT_NE(pos, std::string::npos) << b.label;
  text.replace(pos, b.from.size(), b.to);
  try {
    parse_campaign_text(text, "c.toml");
    ADD_FAILURE() << b.label << ": accepted";
  } catch (const CampaignError& e) {
    EXPECT_NE(std::string(e.what()).find(b.expected), std::string::npos)
        << b.label << ": " << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CampaignFileErrors,
    ::testing::Values(
        BadFile{"end before start", "2026-12-31T20:00:00+07:00", "2026-11-30T20:00:00+07:00",
                "c.toml:9: campaign.end_at (2026-11-30T20:00:00+07:00) must be after"},
        BadFile{"no end", "end_at = \"2026-12-31T20:00:00+07:00\"\n", "",
                "missing key 'campaign.end_at'"},
        BadFile{"bad time", "2026-12-01T08:00:00+07:00", "1/12/2026",
                "c.toml:8: key 'campaign.start_at': '1/12/2026' is not a time"},
        BadFile{"unknown channel", "\"sms\"]", "\"telegram\"]",
                "c.toml:7: unknown channel 'telegram'"},
        BadFile{"unknown key", "frequency_cap = 2", "frequncy_cap = 2",
                "c.toml:12: unknown key 'campaign.frequncy_cap'"},
        BadFile{"bad recurrence", "\"weekly\"", "\"hourly\"",
                "key 'campaign.recurrence' must be none, daily, weekly or monthly"},
        BadFile{"bad quiet hours", "21:30-06:30", "late", "campaign.quiet_hours"},
        BadFile{"both audience and segment", "channels =", "segment = \"x\"\nchannels =",
                "either campaign.audience or campaign.segment"}),
    [](const ::testing::TestParamInfo<BadFile>& param) {
      std::string name = param.param.label;
      for (auto& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

TEST(Rounds, RecurrenceStopsBeforeTheEnd) {
  Campaign c = parse_campaign_text(kGood, "c.toml");
  EXPECT_EQ(round_due(c, 1), at("2026-12-01T08:00:00+07:00"));
  EXPECT_EQ(round_due(c, 2), at("2026-12-08T08:00:00+07:00"));
  EXPECT_EQ(round_due(c, 5), at("2026-12-29T08:00:00+07:00"));
  EXPECT_FALSE(round_due(c, 6).has_value());  // 2027-01-05 is past end_at
  c.recurrence = Recurrence::kNone;
  EXPECT_FALSE(round_due(c, 2).has_value());
  c.recurrence = Recurrence::kMonthly;
  c.start_at = at("2026-01-31T09:00:00+07:00");
  c.end_at = at("2026-12-31T00:00:00+07:00");
  EXPECT_EQ(round_due(c, 2), at("2026-02-28T09:00:00+07:00"));  // no 31 February
  EXPECT_EQ(round_due(c, 3), at("2026-03-31T09:00:00+07:00"));
}

TEST(Lifecycle, OnlyTheDocumentedTransitions) {
  using S = CampaignState;
  EXPECT_TRUE(transition_allowed(S::kDraft, S::kScheduled));
  EXPECT_TRUE(transition_allowed(S::kScheduled, S::kRunning));
  EXPECT_TRUE(transition_allowed(S::kRunning, S::kPaused));
  EXPECT_TRUE(transition_allowed(S::kPaused, S::kRunning));
  EXPECT_TRUE(transition_allowed(S::kRunning, S::kCompleted));
  EXPECT_TRUE(transition_allowed(S::kRunning, S::kCancelled));
  EXPECT_FALSE(transition_allowed(S::kDraft, S::kRunning));
  EXPECT_FALSE(transition_allowed(S::kCompleted, S::kRunning));
  EXPECT_FALSE(transition_allowed(S::kCancelled, S::kScheduled));
  EXPECT_FALSE(transition_allowed(S::kDraft, S::kCompleted));
}

}  // namespace
}  // namespace loa::campaigns
