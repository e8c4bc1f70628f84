// The configuration keys of templates: [languages] (fallback chain) and [routes.*] (SMS policy,
// segment limit, prices), with their checks.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "engine/config.hpp"

namespace loa::engine {
namespace {

TEST(TemplateConfigKeysTest, Defaults) {
  const Config c = load_config_text("", "test", false);
  EXPECT_EQ(c.languages.default_language, "vi");
  EXPECT_EQ(c.languages.fallback, "rad:vi,cmo:vi,jra:vi");
  EXPECT_EQ(c.routes.sms.policy, "auto");
  EXPECT_EQ(c.routes.sms.minority_letters, "keep");
  EXPECT_EQ(c.routes.sms.max_segments, 3);
  EXPECT_EQ(c.routes.sms.price_vnd_per_segment, 800);
  EXPECT_EQ(c.routes.zalo_zns.price_vnd_per_message, 200);
  EXPECT_EQ(c.routes.zalo_oa.price_vnd_per_message, 0);
}

TEST(TemplateConfigKeysTest, NestedRouteSections) {
  const Config c = load_config_text(
      "[languages]\ndefault = \"vi\"\nfallback = \"cmo:rad, rad:vi\"\n"
      "[routes.sms]\npolicy = \"ascii\"\nminority_letters = \"strip\"\nmax_segments = 2\n"
      "price_vnd_per_segment = 650\n"
      "[routes.zalo_zns]\nprice_vnd_per_message = 120\n",
      "loa.toml", false);
  EXPECT_EQ(c.languages.fallback, "cmo:rad, rad:vi");
  EXPECT_EQ(c.routes.sms.policy, "ascii");
  EXPECT_EQ(c.routes.sms.minority_letters, "strip");
  EXPECT_EQ(c.routes.sms.max_segments, 2);
  EXPECT_EQ(c.routes.sms.price_vnd_per_segment, 650);
  EXPECT_EQ(c.routes.zalo_zns.price_vnd_per_message, 120);
}

TEST(TemplateConfigKeysTest, EnvironmentWins) {
  ::setenv("LOA_ROUTES_SMS_POLICY", "unicode", 1);
  ::setenv("LOA_ROUTES_SMS_PRICE_VND_PER_SEGMENT", "700", 1);
  const Config c = load_config_text("[routes.sms]\npolicy = \"ascii\"\n", "loa.toml", true);
  ::unsetenv("LOA_ROUTES_SMS_POLICY");
  ::unsetenv("LOA_ROUTES_SMS_PRICE_VND_PER_SEGMENT");
  EXPECT_EQ(c.routes.sms.policy, "unicode");
  EXPECT_EQ(c.routes.sms.price_vnd_per_segment, 700);
}

struct BadRow {
  std::string name;
  std::string toml;
  std::string message_part;
};

class TemplateConfigErrorTest : public testing::TestWithParam<BadRow> {};

TEST_P(TemplateConfigErrorTest, NamesTheKey) {
  try {
    load_config_text(GetParam().toml, "loa.toml", false);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().message_part), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, TemplateConfigErrorTest,
    testing::Values(
        BadRow{"unknown_policy", "[routes.sms]\npolicy = \"gsm7\"\n",
               "loa.toml:2:10: key 'routes.sms.policy' must be one of unicode, ascii, auto, "
               "gsm7_strict"},
        BadRow{"zero_segments", "[routes.sms]\nmax_segments = 0\n",
               "key 'routes.sms.max_segments' must be between 1 and 255"},
        BadRow{"negative_price", "[routes.zalo_oa]\nprice_vnd_per_message = -1\n",
               "routes.zalo_oa.price_vnd_per_message"},
        BadRow{"unknown_route_key", "[routes.sms]\nprice = 1\n",
               "unknown key 'routes.sms.price'"},
        BadRow{"fallback_loop", "[languages]\nfallback = \"rad:cmo,cmo:rad\"\n",
               "key 'languages.fallback' / 'languages.default': the chain loops: rad → cmo → rad"},
        BadRow{"fallback_not_pairs", "[languages]\nfallback = \"rad vi\"\n",
               "'rad vi' is not a from:to pair"},
        BadRow{"bad_default", "[languages]\ndefault = \"Tiếng Việt\"\n",
               "default language 'Tiếng Việt' is not a language code"}),
    [](const testing::TestParamInfo<BadRow>& row) { return row.param.name; });

}  // namespace
}  // namespace loa::engine
