#include "campaigns/reply_rules.hpp"

#include <array>

#include "templates/text_fold.hpp"

namespace loa::campaigns {
namespace {

constexpr std::array<std::string_view, 4> kOptOut = {"TU CHOI", "TUCHOI", "HUY", "STOP"};
constexpr std::array<std::string_view, 4> kOptIn = {"DK", "DANG KY", "START", "DANGKY"};
constexpr std::array<std::string_view, 2> kHelp = {"HOI", "HELP"};

// `text` equals `word`, or begins with it followed by a space.
bool leads_with(std::string_view text, std::string_view word) {
  return text == word ||
         (text.size() > word.size() && text.substr(0, word.size()) == word &&
          text[word.size()] == ' ');
}

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string fold_reply_text(std::string_view utf8) {
  std::string out = templates::fold_text(utf8);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
  // Punctuation people end a keyword with.
  while (!out.empty() && (out.back() == '.' || out.back() == '!' || out.back() == '?' ||
                          out.back() == ',' || out.back() == ' '))
    out.pop_back();
  return out;
}

std::string_view to_string(ReplyIntent intent) {
  switch (intent) {
    case ReplyIntent::kOptOut:
      return "opt_out";
    case ReplyIntent::kOptIn:
      return "opt_in";
    case ReplyIntent::kHelp:
      return "help";
    case ReplyIntent::kRule:
      return "rule";
    case ReplyIntent::kInbox:
      return "inbox";
  }
  return "inbox";
}

ReplyRules ReplyRules::parse(std::string_view spec) {
  ReplyRules out;
  std::size_t from = 0;
  while (from <= spec.size()) {
    std::size_t semi = spec.find(';', from);
    if (semi == std::string_view::npos) semi = spec.size();
    const std::string_view item = trim(spec.substr(from, semi - from));
    from = semi + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      throw ReplyRulesError("", "rule '" + std::string(item) +
                                    "' must be name=keyword:WORD or name=regex:PATTERN");
    Rule rule;
    rule.name = std::string(trim(item.substr(0, eq)));
    if (!is_identifier(rule.name))
      throw ReplyRulesError(rule.name, "rule name '" + rule.name +
                                           "' must be letters, digits and '_' only");
    for (const auto& r : out.rules_)
      if (r.name == rule.name)
        throw ReplyRulesError(rule.name, "rule '" + rule.name + "' is defined twice");
    const std::string_view body = trim(item.substr(eq + 1));
    const std::size_t colon = body.find(':');
    const std::string_view kind = colon == std::string_view::npos ? body : body.substr(0, colon);
    const std::string_view value = colon == std::string_view::npos ? "" : body.substr(colon + 1);
    if (kind == "regex") {
      rule.regex = true;
      rule.pattern = std::string(value);
      if (rule.pattern.empty())
        throw ReplyRulesError(rule.name, "rule '" + rule.name + "': empty regular expression");
      try {
        rule.compiled = std::make_shared<const std::regex>(rule.pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw ReplyRulesError(rule.name, "rule '" + rule.name + "': bad regular expression '" +
                                             rule.pattern + "': " + e.what());
      }
    } else if (kind == "keyword") {
      std::size_t at = 0;
      while (at <= value.size()) {
        std::size_t bar = value.find('|', at);
        if (bar == std::string_view::npos) bar = value.size();
        std::string word = fold_reply_text(value.substr(at, bar - at));
        if (!word.empty()) rule.keywords.push_back(std::move(word));
        at = bar + 1;
      }
      if (rule.keywords.empty())
        throw ReplyRulesError(rule.name, "rule '" + rule.name + "': no keyword");
    } else {
      throw ReplyRulesError(rule.name, "rule '" + rule.name + "': kind '" + std::string(kind) +
                                           "' is neither keyword nor regex");
    }
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

ReplyClassification ReplyRules::classify(std::string_view text) const {
  const std::string folded = fold_reply_text(text);
  ReplyClassification c;
  for (auto word : kOptOut)
    if (leads_with(folded, word)) {
      c.intent = ReplyIntent::kOptOut;
      return c;
    }
  for (auto word : kOptIn)
    if (leads_with(folded, word)) {
      c.intent = ReplyIntent::kOptIn;
      return c;
    }
  for (auto word : kHelp)
    if (folded == word) {
      c.intent = ReplyIntent::kHelp;
      return c;
    }
  for (const auto& rule : rules_) {
    if (rule.regex) {
      std::smatch m;
      if (std::regex_match(folded, m, *rule.compiled)) {
        c.intent = ReplyIntent::kRule;
        c.rule = rule.name;
        c.answer = m.size() > 1 && m[1].matched ? m[1].str() : folded;
        return c;
      }
      continue;
    }
    for (const auto& word : rule.keywords)
      if (folded == word) {
        c.intent = ReplyIntent::kRule;
        c.rule = rule.name;
        c.answer = folded;
        return c;
      }
  }
  return c;
}

}  // namespace loa::campaigns
