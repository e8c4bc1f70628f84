// The replies.* configuration keys: defaults, a file's rules, and a bad rule refused at start-up
// with an error naming the key and the rule.
#include <gtest/gtest.h>

#include "engine/config.hpp"
#include "engine/template_settings.hpp"

namespace loa::engine {
namespace {

TEST(ReplyConfig, DefaultsAndRulesFromAFile) {
  Config d = load_config_text("", "t.toml", false);
  EXPECT_EQ(d.replies.optout_template, "xac_nhan_tu_choi");
  EXPECT_EQ(d.replies.help_template, "huong_dan_hoi");
  EXPECT_EQ(reply_settings(d).rules.classify("2").rule, "poll");

  Config c = load_config_text(
      "[replies]\nrules = \"poll=regex:^([1-3])$;visit=keyword:GAP CAN BO\"\n"
      "help_template = \"hoi_dap\"\n",
      "t.toml", false);
  const auto s = reply_settings(c);
  EXPECT_EQ(s.help_template, "hoi_dap");
  EXPECT_EQ(s.rules.classify("gặp cán bộ").rule, "visit");
  EXPECT_EQ(s.rules.classify("5").intent, campaigns::ReplyIntent::kInbox);
}

TEST(ReplyConfig, ABadRegexNamesTheKeyAndTheRule) {
  try {
    load_config_text("[replies]\nrules = \"poll=regex:^([1-3]$\"\n", "t.toml", false);
    FAIL() << "a bad regular expression was accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("key 'replies.rules'"), std::string::npos) << what;
    EXPECT_NE(what.find("rule 'poll'"), std::string::npos) << what;
    EXPECT_NE(what.find("bad regular expression '^([1-3]$'"), std::string::npos) << what;
  }
  ::setenv("LOA_REPLIES_RULES", "x=nonsense", 1);
  EXPECT_THROW(load_config_text("", "t.toml"), ConfigError);
  ::unsetenv("LOA_REPLIES_RULES");
}

}  // namespace
}  // namespace loa::engine
