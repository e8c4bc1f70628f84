// What a household's reply asks for, decided by its text (issue [7/10]): the rules run in this
// order and the first that matches wins.
//   1. opt-out (TU CHOI, TỪ CHỐI, HUY, HỦY, STOP) and opt-in (DK, ĐĂNG KÝ, DANG KY, START)
//      keywords, before anything else, so that an auto-reply never swallows a STOP;
//   2. help (HOI, HỎI, HELP): the auto-reply template;
//   3. configurable rules (config key `replies.rules`), by keyword or regular expression, e.g.
//      poll answers 1/2/3 recorded against the campaign;
//   4. everything else goes to the operator inbox.
//
// Matching is on the folded text (fold_reply_text): diacritics removed, Đ/đ made D, upper
// case, runs of white space made one space, trimmed, and trailing punctuation (. ! ? ,)
// dropped; so "  từ   chối!" matches TU CHOI. An opt-out or opt-in keyword matches the whole
// text or its first words ("TU CHOI NHAN TIN"); a help keyword only the whole text, so that a
// question that starts with "Hỏi ..." reaches an operator.
//
// A rule spec (`replies.rules`) is a list separated by ';' of `name=keyword:WORD[|WORD...]` or
// `name=regex:PATTERN` (ECMAScript, matched against the whole folded text; the answer
// recorded is its first capture group, else the whole folded text). Names are identifiers
// (letters, digits, '_'). Example: "poll=regex:^([1-3])$;visit=keyword:GAP CAN BO".
//
// Thread-safety: ReplyRules is immutable after parse(); classify() is safe from any thread.
#pragma once

#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {

// Diacritics-, case- and space-insensitive form of a reply: templates::fold_text() in upper
// case, without the punctuation people end a keyword with ("Từ chối!" -> "TU CHOI").
std::string fold_reply_text(std::string_view utf8);

enum class ReplyIntent { kOptOut, kOptIn, kHelp, kRule, kInbox };
std::string_view to_string(ReplyIntent intent);

struct ReplyClassification {
  ReplyIntent intent = ReplyIntent::kInbox;
  std::string rule;    // kRule: the rule's name
  std::string answer;  // kRule: what to record (capture group or folded text)
};

// A bad spec: `rule` names the rule (or is empty for the list itself).
class ReplyRulesError : public std::runtime_error {
 public:
  ReplyRulesError(std::string rule, const std::string& what)
      : std::runtime_error(what), rule_(std::move(rule)) {}
  const std::string& rule() const { return rule_; }

 private:
  std::string rule_;
};

class ReplyRules {
 public:
  struct Rule {
    std::string name;
    bool regex = false;
    std::vector<std::string> keywords;  // folded
    std::string pattern;
    std::shared_ptr<const std::regex> compiled;
  };

  ReplyRules() = default;
  // Throws ReplyRulesError naming the rule and what is wrong with it.
  static ReplyRules parse(std::string_view spec);

  ReplyClassification classify(std::string_view text) const;
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

}  // namespace loa::campaigns
