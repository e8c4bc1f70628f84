// Reply keywords and rules (campaigns/reply_rules.hpp): the opt-out, opt-in and help keywords
// in every spelling households type (diacritics or not, precomposed or combining marks, any
// case, extra spaces, a full stop), the order of the rules, and configurable rules.
#include "campaigns/reply_rules.hpp"

#include <gtest/gtest.h>

namespace loa::campaigns {
namespace {

TEST(FoldReplyText, RemovesDiacriticsCaseAndExtraSpace) {
  EXPECT_EQ(fold_reply_text("  từ   chối! "), "TU CHOI");
  EXPECT_EQ(fold_reply_text("TỪ CHỐI"), "TU CHOI");
  // Combining marks (a "tổ hợp" keyboard): u + U+031B horn + U+0300 grave.
  EXPECT_EQ(fold_reply_text("tu\xCC\x9B\xCC\x80 cho\xCC\x82\xCC\x81i"), "TU CHOI");
  EXPECT_EQ(fold_reply_text("Đăng ký"), "DANG KY");
  EXPECT_EQ(fold_reply_text("đăng\tký\n"), "DANG KY");
  EXPECT_EQ(fold_reply_text("ĐK"), "DK");
  EXPECT_EQ(fold_reply_text("hỏi"), "HOI");
  EXPECT_EQ(fold_reply_text("\xC2\xA0STOP\xC2\xA0"), "STOP");  // no-break spaces
  EXPECT_EQ(fold_reply_text("ab\xFF" "c"), "ABC");             // an invalid byte is dropped
  EXPECT_EQ(fold_reply_text(""), "");
}

struct Case {
  const char* text;
  ReplyIntent intent;
};

TEST(ReplyRules, KeywordsInEverySpelling) {
  const ReplyRules rules;
  const Case cases[] = {
      {"TU CHOI", ReplyIntent::kOptOut},        {"tu choi", ReplyIntent::kOptOut},
      {"Từ chối", ReplyIntent::kOptOut},        {"TỪ CHỐI", ReplyIntent::kOptOut},
      {"  từ    CHỐI  ", ReplyIntent::kOptOut}, {"tuchoi", ReplyIntent::kOptOut},
      {"Từ chối nhận tin", ReplyIntent::kOptOut}, {"HUY", ReplyIntent::kOptOut},
      {"Hủy", ReplyIntent::kOptOut},            {"huỷ.", ReplyIntent::kOptOut},
      {"stop", ReplyIntent::kOptOut},           {"Stop!", ReplyIntent::kOptOut},
      {"DK", ReplyIntent::kOptIn},              {"dk", ReplyIntent::kOptIn},
      {"ĐK", ReplyIntent::kOptIn},              {"đăng ký", ReplyIntent::kOptIn},
      {"ĐĂNG KÝ", ReplyIntent::kOptIn},         {"Dang  Ky", ReplyIntent::kOptIn},
      {"START", ReplyIntent::kOptIn},           {"start", ReplyIntent::kOptIn},
      {"HOI", ReplyIntent::kHelp},              {"hỏi", ReplyIntent::kHelp},
      {"HỎI", ReplyIntent::kHelp},              {" Hỏi? ", ReplyIntent::kHelp},
      {"help", ReplyIntent::kHelp},
      // A question that starts with "hỏi" is for an operator, not the auto-reply.
      {"Hỏi thủ tục làm thẻ BHYT", ReplyIntent::kInbox},
      // Words that merely begin like a keyword are not keywords.
      {"Huyện Krông Búk", ReplyIntent::kInbox}, {"Stopping by", ReplyIntent::kInbox},
      {"DKy", ReplyIntent::kInbox},             {"Cảm ơn cán bộ", ReplyIntent::kInbox},
      {"", ReplyIntent::kInbox},
  };
  for (const auto& c : cases)
    EXPECT_EQ(rules.classify(c.text).intent, c.intent) << "'" << c.text << "'";
}

TEST(ReplyRules, OptOutWinsOverEveryOtherRule) {
  // A configured rule for the very same word never swallows a STOP.
  const auto rules = ReplyRules::parse("mine=keyword:STOP|HOI");
  EXPECT_EQ(rules.classify("stop").intent, ReplyIntent::kOptOut);
  EXPECT_EQ(rules.classify("hỏi").intent, ReplyIntent::kHelp);
}

TEST(ReplyRules, ConfiguredRulesByRegexAndKeyword) {
  const auto rules = ReplyRules::parse(" poll=regex:^([1-3])$ ; visit=keyword:Gặp cán bộ|GAP CB;");
  ASSERT_EQ(rules.rules().size(), 2u);
  auto c = rules.classify(" 2 ");
  EXPECT_EQ(c.intent, ReplyIntent::kRule);
  EXPECT_EQ(c.rule, "poll");
  EXPECT_EQ(c.answer, "2");
  EXPECT_EQ(rules.classify("4").intent, ReplyIntent::kInbox);
  c = rules.classify("gặp   cán bộ");
  EXPECT_EQ(c.intent, ReplyIntent::kRule);
  EXPECT_EQ(c.rule, "visit");
  EXPECT_EQ(rules.classify("gap cb").rule, "visit");
}

TEST(ReplyRules, BadSpecsNameTheRule) {
  struct Bad {
    const char* spec;
    const char* rule;
    const char* says;
  };
  const Bad bad[] = {
      {"poll=regex:([1-3]", "poll", "bad regular expression '([1-3]'"},
      {"poll=regex:", "poll", "empty regular expression"},
      {"poll=glob:*", "poll", "kind 'glob' is neither keyword nor regex"},
      {"poll", "", "must be name=keyword:WORD or name=regex:PATTERN"},
      {"p-1=keyword:X", "p-1", "letters, digits and '_'"},
      {"a=keyword:X;a=keyword:Y", "a", "defined twice"},
      {"a=keyword: | ", "a", "no keyword"},
  };
  for (const auto& b : bad) {
    try {
      ReplyRules::parse(b.spec);
      ADD_FAILURE() << b.spec << " was accepted";
    } catch (const ReplyRulesError& e) {
      EXPECT_EQ(e.rule(), b.rule) << b.spec;
      EXPECT_NE(std::string(e.what()).find(b.says), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace loa::campaigns
