// Tests for templates/rendered_message and templates/campaign_estimate: one household on one
// channel (language, encoding, segments, cost, errors), and the estimate by route and language.
#include "templates/rendered_message.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "templates/campaign_estimate.hpp"
#include "templates/template_file.hpp"
#include "templates/variables.hpp"

namespace loa::templates {
namespace {

TemplateDef library_template(const std::string& toml) {
  TemplateFile file = parse_template_file(toml, "t.toml");
  EXPECT_TRUE(file.issues.empty()) << (file.issues.empty() ? "" : file.issues[0].describe());
  EXPECT_EQ(file.templates.size(), 1u);
  return std::move(file.templates.front());
}

const char* const kToml = R"(
[templates.bhyt.sms]
vi = "Kính gửi {{name}}: hộ cận nghèo được hỗ trợ tiền đóng bảo hiểm y tế. Liên hệ UBND {{area.commune}}."
rad = ""
[templates.bhyt.zalo_zns.vi]
template_id = "231456"
[templates.bhyt.zalo_zns.vi.params]
ten = { value = "{{name}}", max_chars = 12 }
xa = "{{area.commune}}"
[templates.bhyt.zalo_oa]
vi = "Kính gửi {{name}}\n{{#is_poor}}Hộ nghèo{{/is_poor}}"
)";

RouteTable priced_routes() {
  RouteTable routes;
  routes.sms.price_vnd = 800;
  routes.zalo_zns.price_vnd = 200;
  routes.zalo_oa.price_vnd = 50;
  return routes;
}

Value context_of(const HouseholdVariables& household) {
  auto context = make_context(household, sample_campaign());
  EXPECT_TRUE(context.ok());
  return std::move(context).value();
}

TEST(RenderMessageTest, SmsAutoUnaccentedWhenItSaves) {
  const TemplateDef definition = library_template(kToml);
  const HouseholdVariables vi = sample_households()[0];  // Phạm Thị Hương, vi
  const RenderedMessage message = render_message(definition, Channel::kSms, context_of(vi),
                                                 vi.language, FallbackChain(), priced_routes());
  ASSERT_TRUE(message.ok()) << message.errors.front();
  EXPECT_EQ(message.route, "sms");
  EXPECT_EQ(message.language.language, "vi");
  EXPECT_FALSE(message.language.fell_back());
  ASSERT_TRUE(message.sms.has_value());
  // 98 UTF-16 units (2 segments) with diacritics; 98 septets (1 segment) without.
  EXPECT_TRUE(message.sms->unaccented);
  EXPECT_EQ(message.text,
            "Kinh gui Pham Thi Huong: ho can ngheo duoc ho tro tien dong bao hiem y te. Lien he "
            "UBND Xa Ia Lop.");
  EXPECT_EQ(message.units, 1u);
  EXPECT_EQ(message.cost_vnd, 800);
}

TEST(RenderMessageTest, SmsFallsBackAndKeepsEdeLetters) {
  const TemplateDef definition = library_template(kToml);
  const HouseholdVariables rad = sample_households()[1];  // H'Ƀlơi Mlô, rad
  const RenderedMessage message = render_message(definition, Channel::kSms, context_of(rad),
                                                 rad.language, FallbackChain(), priced_routes());
  ASSERT_TRUE(message.ok()) << message.errors.front();
  EXPECT_EQ(message.language.language, "vi");
  EXPECT_EQ(message.language.requested, "rad");
  EXPECT_EQ(message.language.reason, FallbackReason::kAwaitingTranslation);
  ASSERT_TRUE(message.sms.has_value());
  EXPECT_FALSE(message.sms->unaccented);  // Ƀ would be lost
  EXPECT_NE(message.text.find("H'Ƀlơi Mlô"), std::string::npos);
  EXPECT_EQ(message.units, 2u);
  EXPECT_EQ(message.cost_vnd, 1600);
}

TEST(RenderMessageTest, ZnsParameters) {
  const TemplateDef definition = library_template(kToml);
  const HouseholdVariables jra = sample_households()[3];  // Rơ Lan H'Nơi, jra
  const RenderedMessage message = render_message(definition, Channel::kZaloZns, context_of(jra),
                                                 jra.language, FallbackChain(), priced_routes());
  ASSERT_TRUE(message.ok()) << message.errors.front();
  EXPECT_EQ(message.zns_template_id, "231456");
  ASSERT_EQ(message.zns_data.size(), 2u);
  EXPECT_EQ(message.zns_data[0], (std::pair<std::string, std::string>{"ten", "Rơ Lan H'Nơi"}));
  EXPECT_EQ(message.zns_data[1], (std::pair<std::string, std::string>{"xa", "Xã Ea Yiêng"}));
  EXPECT_EQ(message.language.reason, FallbackReason::kNoVariant);
  EXPECT_EQ(message.units, 1u);
  EXPECT_EQ(message.cost_vnd, 200);
}

TEST(RenderMessageTest, ZnsParameterOverItsLimitIsAnError) {
  const TemplateDef definition = library_template(kToml);
  const HouseholdVariables vi = sample_households()[0];  // "Phạm Thị Hương": 14 > 12
  const RenderedMessage message = render_message(definition, Channel::kZaloZns, context_of(vi),
                                                 vi.language, FallbackChain(), priced_routes());
  ASSERT_FALSE(message.ok());
  EXPECT_TRUE(message.over_limit);
  EXPECT_EQ(message.errors.front(), "ZNS parameter 'ten' is 14 characters; its limit is 12");
  EXPECT_EQ(message.units, 0u);
  EXPECT_EQ(message.cost_vnd, 0);
}

TEST(RenderMessageTest, OaTextAndSections) {
  const TemplateDef definition = library_template(kToml);
  const HouseholdVariables rad = sample_households()[1];  // poor
  const RenderedMessage message = render_message(definition, Channel::kZaloOa, context_of(rad),
                                                 rad.language, FallbackChain(), priced_routes());
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message.text, "Kính gửi H'Ƀlơi Mlô\nHộ nghèo");
  EXPECT_EQ(message.cost_vnd, 50);
}

TEST(RenderMessageTest, TooLongForTheRoute) {
  const TemplateDef definition = library_template(kToml);
  HouseholdVariables rad = sample_households()[1];
  rad.name = "H'Ƀlơi " + std::string(200, 'x');  // cannot be unaccented; 4+ UCS-2 segments
  const RenderedMessage message = render_message(definition, Channel::kSms, context_of(rad),
                                                 rad.language, FallbackChain(), priced_routes());
  ASSERT_FALSE(message.ok());
  EXPECT_TRUE(message.over_limit);
  EXPECT_NE(message.errors.front().find("route 'sms' allows 3"), std::string::npos);
}

TEST(RenderMessageTest, NoVariantAnywhere) {
  const TemplateDef definition = library_template("[templates.x.sms]\nrad = \"Ƀuôn\"\n");
  const RenderedMessage message =
      render_message(definition, Channel::kSms, context_of(sample_households()[3]), "jra",
                     FallbackChain(), priced_routes());
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.errors.front(), "template 'x' has no sms variant in jra → vi");
}

TEST(RenderMessageTest, ValuesAreCleanedAndInvalidUtf8IsAnError) {
  const TemplateDef definition = library_template(kToml);
  HouseholdVariables household = sample_households()[0];
  household.name = "Phạm\u200B Thị\x07 Hương";
  std::size_t removed = 0;
  auto context = make_context(household, sample_campaign(), &removed);
  ASSERT_TRUE(context.ok());
  EXPECT_EQ(removed, 2u);
  const RenderedMessage message = render_message(definition, Channel::kZaloOa, *context, "vi",
                                                 FallbackChain(), priced_routes());
  EXPECT_EQ(message.text, "Kính gửi Phạm Thị Hương\n");

  household.name = "Ph\xE1\xBA";  // truncated UTF-8
  const auto bad = make_context(household, sample_campaign());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("variable 'name': invalid UTF-8"), std::string::npos)
      << bad.error().message;
}

// The planner refills one context household after household (fill_context); every render must
// be what a fresh make_context gives, also after a household whose values were refused and for
// attributes that one household has and the next has not.
TEST(RenderMessageTest, RefilledContextRendersAsAFreshOne) {
  const Template every = Template::compile(
                             "{{name}}|{{household_code}}|{{language}}|{{ethnicity}}|{{category}}|"
                             "{{category_label}}|{{#is_poor}}P{{/is_poor}}{{#is_near_poor}}N"
                             "{{/is_near_poor}}{{#has_zalo}}Z{{/has_zalo}}|{{area.province}}|"
                             "{{area.commune}}|{{area.village}}|{{area.district}}|{{attr.so_the}}|"
                             "{{campaign.name}}|{{campaign.hotline}}")
                             .value();
  auto campaign = campaign_context(sample_campaign());
  ASSERT_TRUE(campaign.ok());
  std::vector<HouseholdVariables> households = sample_households();
  households[0].attributes = {{"so_the", "DK-123"}};
  HouseholdVariables broken = households[1];
  broken.name = "Ph\xE1\xBA";  // truncated UTF-8
  households.insert(households.begin() + 1, broken);

  Value reused;
  for (const HouseholdVariables& h : households) {
    const auto fresh = make_context(h, campaign.value());
    const auto failure = fill_context(reused, h, campaign.value());
    ASSERT_EQ(fresh.ok(), !failure.has_value()) << h.id;
    if (failure) {
      EXPECT_EQ(failure->message, fresh.error().message);
      continue;
    }
    EXPECT_EQ(every.render(reused), every.render(fresh.value())) << h.id;
  }
  EXPECT_EQ(every.render(reused).find("DK-123"), std::string::npos);  // not carried over
}

// ---- Campaign estimate -------------------------------------------------------------------------

TEST(CampaignEstimateTest, SumsByRouteAndLanguage) {
  const std::vector<PricedMessage> messages = {
      {"sms", "vi", 1, 800},      {"sms", "vi", 3, 2400},     {"sms", "rad", 2, 1600},
      {"zalo_zns", "vi", 1, 200}, {"zalo_zns", "vi", 1, 200}, {"sms", "vi", 1, 800},
  };
  const CampaignEstimate estimate = estimate_campaign(messages);
  ASSERT_EQ(estimate.lines.size(), 3u);
  EXPECT_EQ(estimate.lines[0], (EstimateLine{"sms", "rad", 1, 2, 1600}));
  EXPECT_EQ(estimate.lines[1], (EstimateLine{"sms", "vi", 3, 5, 4000}));
  EXPECT_EQ(estimate.lines[2], (EstimateLine{"zalo_zns", "vi", 2, 2, 400}));
  ASSERT_EQ(estimate.routes.size(), 2u);
  EXPECT_EQ(estimate.routes[0], (EstimateLine{"sms", "", 4, 7, 5600}));
  EXPECT_EQ(estimate.routes[1], (EstimateLine{"zalo_zns", "", 2, 2, 400}));
  EXPECT_EQ(estimate.messages, 6u);
  EXPECT_EQ(estimate.units, 9u);
  EXPECT_EQ(estimate.cost_vnd, 6000);
  EXPECT_EQ(estimate.unsendable, 0u);
}

TEST(CampaignEstimateTest, EmptyAndPaged) {
  const CampaignEstimate empty = estimate_campaign(std::span<const PricedMessage>());
  EXPECT_TRUE(empty.lines.empty());
  EXPECT_EQ(empty.cost_vnd, 0);
  // Page by page gives the same as all at once.
  EstimateBuilder builder;
  for (int page = 0; page < 3; ++page) {
    for (int i = 0; i < 1000; ++i) builder.add(PricedMessage{"sms", "vi", 2, 1600});
  }
  const CampaignEstimate paged = builder.result();
  EXPECT_EQ(paged.units, 6000u);
  EXPECT_EQ(paged.cost_vnd, 4'800'000);
}

TEST(CampaignEstimateTest, FromRenderedMessages) {
  const TemplateDef definition = library_template(kToml);
  const RouteTable routes = priced_routes();
  std::vector<RenderedMessage> rendered;
  for (const HouseholdVariables& household : sample_households()) {
    for (const Channel channel : kAllChannels) {
      rendered.push_back(render_message(definition, channel, context_of(household),
                                        household.language, FallbackChain(), routes));
    }
  }
  const CampaignEstimate estimate = estimate_campaign(rendered);
  // ZNS for "Phạm Thị Hương" is over its 12-character limit: not counted.
  EXPECT_EQ(estimate.unsendable, 1u);
  EXPECT_EQ(estimate.messages, 11u);
  for (const EstimateLine& line : estimate.lines) EXPECT_EQ(line.language, "vi");
}

TEST(FormatVndTest, GroupsThousandsTheVietnameseWay) {
  EXPECT_EQ(format_vnd(0), "0");
  EXPECT_EQ(format_vnd(800), "800");
  EXPECT_EQ(format_vnd(2400), "2.400");
  EXPECT_EQ(format_vnd(1234567), "1.234.567");
  EXPECT_EQ(format_vnd(-1000), "-1.000");
  EXPECT_EQ(format_vnd(INT64_MIN), "-9.223.372.036.854.775.808");
}

}  // namespace
}  // namespace loa::templates
