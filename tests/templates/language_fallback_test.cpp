// Tests for templates/language_fallback: the chain (household language -> primary subtag ->
// configured chain -> default), the reasons, and the report over an audience.
#include "templates/language_fallback.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loa::templates {
namespace {

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

// A template with sms variants in the given languages ("" text = awaiting translation).
TemplateDef sms_template(const std::vector<std::pair<std::string, std::string>>& variants) {
  TemplateSource source;
  source.key = "t";
  for (const auto& [language, text] : variants) {
    VariantSource variant;
    variant.language = language;
    variant.channel = Channel::kSms;
    variant.text = text;
    source.variants.push_back(variant);
  }
  std::vector<TemplateIssue> issues;
  auto compiled = compile_template(source, issues);
  EXPECT_TRUE(compiled.has_value());
  return std::move(*compiled);
}

TEST(FallbackChainTest, DefaultIsTheProvincesChain) {
  const FallbackChain chain;
  EXPECT_EQ(chain.default_language(), "vi");
  EXPECT_EQ(chain.describe(), "rad → vi, cmo → vi, jra → vi; default vi");
  EXPECT_EQ(chain.candidates("rad"), (std::vector<std::string>{"rad", "vi"}));
  EXPECT_EQ(chain.candidates("vi"), (std::vector<std::string>{"vi"}));
  EXPECT_EQ(chain.candidates(""), (std::vector<std::string>{"vi"}));
  EXPECT_EQ(chain.candidates("km"), (std::vector<std::string>{"km", "vi"}));
  EXPECT_EQ(chain.candidates("vi-VN"), (std::vector<std::string>{"vi-VN", "vi"}));
}

struct ParseRow {
  std::string name;
  std::string chain;
  std::string default_language;
  bool ok;
  std::string candidates_of;            // when ok
  std::vector<std::string> candidates;  // when ok
  std::string error_part;               // when not ok
};

class FallbackParseTest : public testing::TestWithParam<ParseRow> {};

TEST_P(FallbackParseTest, Parses) {
  const ParseRow& row = GetParam();
  std::string error;
  const auto chain = FallbackChain::parse(row.chain, row.default_language, &error);
  if (!row.ok) {
    EXPECT_FALSE(chain.has_value());
    EXPECT_NE(error.find(row.error_part), std::string::npos) << error;
    return;
  }
  ASSERT_TRUE(chain.has_value()) << error;
  EXPECT_EQ(chain->candidates(row.candidates_of), row.candidates);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FallbackParseTest,
    testing::Values(
        ParseRow{"standard", "rad:vi,cmo:vi,jra:vi", "vi", true, "cmo", {"cmo", "vi"}, ""},
        ParseRow{"spaces", " rad : vi , cmo:vi ", "vi", true, "rad", {"rad", "vi"}, ""},
        ParseRow{"empty_chain", "", "vi", true, "rad", {"rad", "vi"}, ""},
        // A longer chain: M'nông readers may read Ê Đê before Vietnamese.
        ParseRow{"two_steps", "cmo:rad,rad:vi", "vi", true, "cmo", {"cmo", "rad", "vi"}, ""},
        ParseRow{"other_default", "rad:vi", "en", true, "rad", {"rad", "vi", "en"}, ""},
        ParseRow{"subtag_then_chain", "rad:vi", "vi", true, "rad-VN", {"rad-VN", "rad", "vi"}, ""},
        ParseRow{"not_a_pair", "rad", "vi", false, "", {}, "not a from:to pair"},
        ParseRow{"bad_code", "rad:Vietnamese", "vi", false, "", {}, "'Vietnamese' is not"},
        ParseRow{"bad_default", "", "", false, "", {}, "default language ''"},
        ParseRow{"self", "vi:vi", "vi", false, "", {}, "falls back to itself"},
        ParseRow{"twice", "rad:vi,rad:cmo", "vi", false, "", {}, "'rad' is listed twice"},
        ParseRow{"loop",
                 "rad:cmo,cmo:jra,jra:rad",
                 "vi",
                 false,
                 "",
                 {},
                 "loops: rad → cmo → jra → rad"}),
    row_name<ParseRow>);

struct ChoiceRow {
  std::string name;
  std::vector<std::pair<std::string, std::string>> variants;
  std::string household_language;
  std::string chosen;  // "" = no usable variant
  FallbackReason reason;
};

class ChooseVariantTest : public testing::TestWithParam<ChoiceRow> {};

TEST_P(ChooseVariantTest, Chooses) {
  const ChoiceRow& row = GetParam();
  const TemplateDef definition = sms_template(row.variants);
  std::string error;
  const auto chain = FallbackChain::parse("cmo:rad,rad:vi,jra:vi", "vi", &error);
  ASSERT_TRUE(chain.has_value()) << error;
  const LanguageChoice choice =
      choose_variant(definition, Channel::kSms, row.household_language, *chain);
  EXPECT_EQ(choice.language, row.chosen);
  EXPECT_EQ(choice.reason, row.reason);
  EXPECT_EQ(choice.requested, row.household_language);
  EXPECT_EQ(choice.variant != nullptr, !row.chosen.empty());
  if (choice.variant != nullptr) {
    EXPECT_EQ(choice.variant->language(), row.chosen);
  }
  // Another channel has no variants at all.
  EXPECT_EQ(choose_variant(definition, Channel::kZaloOa, row.household_language, *chain).variant,
            nullptr);
}

using R = FallbackReason;

INSTANTIATE_TEST_SUITE_P(
    Table, ChooseVariantTest,
    testing::Values(
        ChoiceRow{"own_language", {{"vi", "a"}, {"rad", "b"}}, "rad", "rad", R::kNone},
        ChoiceRow{"vietnamese", {{"vi", "a"}, {"rad", "b"}}, "vi", "vi", R::kNone},
        ChoiceRow{"awaiting_translation",
                  {{"vi", "a"}, {"rad", ""}},
                  "rad",
                  "vi",
                  R::kAwaitingTranslation},
        ChoiceRow{"no_variant", {{"vi", "a"}}, "jra", "vi", R::kNoVariant},
        ChoiceRow{"chain_step", {{"vi", "a"}, {"rad", "b"}}, "cmo", "rad", R::kNoVariant},
        ChoiceRow{"chain_two_steps",
                  {{"vi", "a"}, {"rad", ""}, {"cmo", ""}},
                  "cmo",
                  "vi",
                  R::kAwaitingTranslation},
        ChoiceRow{"no_language", {{"vi", "a"}, {"rad", "b"}}, "", "vi", R::kNoLanguage},
        ChoiceRow{"unknown_language_gets_default", {{"vi", "a"}}, "km", "vi", R::kNoVariant},
        ChoiceRow{"subtag", {{"vi", "a"}, {"rad", "b"}}, "rad-VN", "rad", R::kNoVariant},
        ChoiceRow{"nothing_usable", {{"vi", ""}, {"rad", ""}}, "rad", "", R::kAwaitingTranslation},
        ChoiceRow{"only_minority_variant", {{"rad", "b"}}, "jra", "", R::kNoVariant}),
    row_name<ChoiceRow>);

TEST(LanguageReportTest, CountsLanguagesAndFallbacks) {
  const TemplateDef definition = sms_template({{"vi", "a"}, {"rad", ""}, {"cmo", "c"}});
  const FallbackChain chain;
  LanguageReport report;
  for (const std::string language : {"vi", "vi", "vi", "rad", "rad", "cmo", "jra", ""}) {
    report.add(Channel::kSms, choose_variant(definition, Channel::kSms, language, chain));
  }
  EXPECT_EQ(report.households(Channel::kSms), 8u);
  EXPECT_EQ(report.fell_back(Channel::kSms), 4u);  // rad x2, jra, (none)
  EXPECT_EQ(report.unresolved(Channel::kSms), 0u);
  const auto languages = report.languages();
  ASSERT_EQ(languages.size(), 2u);
  EXPECT_EQ(languages[0].language, "cmo");
  EXPECT_EQ(languages[0].households, 1u);
  EXPECT_EQ(languages[1].language, "vi");
  EXPECT_EQ(languages[1].households, 7u);
  const auto fallbacks = report.fallbacks();
  ASSERT_EQ(fallbacks.size(), 3u);
  EXPECT_EQ(fallbacks[0].from, "");
  EXPECT_EQ(fallbacks[0].reason, R::kNoLanguage);
  EXPECT_EQ(fallbacks[1].from, "jra");
  EXPECT_EQ(fallbacks[1].to, "vi");
  EXPECT_EQ(fallbacks[1].reason, R::kNoVariant);
  EXPECT_EQ(fallbacks[2].from, "rad");
  EXPECT_EQ(fallbacks[2].households, 2u);
  EXPECT_EQ(fallbacks[2].reason, R::kAwaitingTranslation);
  const std::string text = report.describe();
  EXPECT_NE(text.find("sms: 8 households; cmo 1; vi 7; fell back 4"), std::string::npos) << text;
  EXPECT_NE(text.find("[rad → vi: 2, awaiting translation]"), std::string::npos) << text;
}

TEST(LanguageReportTest, CountsHouseholdsWithNothingUsable) {
  const TemplateDef definition = sms_template({{"rad", "b"}});
  LanguageReport report;
  report.add(Channel::kSms, choose_variant(definition, Channel::kSms, "vi", FallbackChain()));
  report.add(Channel::kSms, choose_variant(definition, Channel::kSms, "rad", FallbackChain()));
  EXPECT_EQ(report.unresolved(Channel::kSms), 1u);
  EXPECT_EQ(report.fell_back(Channel::kSms), 0u);
  EXPECT_NE(report.describe().find("no usable variant 1"), std::string::npos) << report.describe();
}

}  // namespace
}  // namespace loa::templates
