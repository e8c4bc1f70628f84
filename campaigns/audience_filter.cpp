#include "campaigns/audience_filter.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "templates/text_fold.hpp"
#include "templates/utf8.hpp"

namespace loa::campaigns {
namespace {

using templates::find_invalid_utf8;

// ---------------------------------------------------------------------------------------------
// Text helpers

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// 1-based column of a byte offset, in code points: count the bytes that start a character.
std::size_t column_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

// Byte length of the UTF-8 character starting at s[i] (input already validated).
std::size_t char_length(std::string_view s, std::size_t i) {
  std::size_t len = 1;
  while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) ++len;
  return len;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ASCII-folded.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  constexpr std::size_t kMax = 64;
  if (a.size() > kMax || b.size() > kMax) return kMax;
  std::array<std::array<std::size_t, kMax + 1>, kMax + 1> d{};
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
          ascii_lower(a[i - 2]) == ascii_lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string suggestion(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;  // suggest only close matches
  for (const auto c : candidates) {
    const std::size_t distance = edit_distance(name, c);
    if (distance < best_distance) {
      best = c;
      best_distance = distance;
    }
  }
  if (best.empty()) return "";
  return "; did you mean '" + std::string(best) + "'?";
}

// Shows a piece of the input in a message, cut at a character boundary.
std::string excerpt(std::string_view s) {
  constexpr std::size_t kMaxBytes = 40;
  if (s.size() <= kMaxBytes) return std::string(s);
  std::size_t cut = kMaxBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

std::string_view op_text(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kContains:
      return "~";
  }
  return "=";
}

constexpr std::array<std::string_view, 6> kKeywords = {"and", "or", "not", "in", "true", "false"};
constexpr std::array<std::string_view, 3> kFunctions = {"opted_out", "has_zalo", "has_phone"};
constexpr std::string_view kAttrPrefix = "attr.";

// ---------------------------------------------------------------------------------------------
// Lexer and parser

enum class Tok : std::uint8_t {
  kEnd,
  kName,
  kString,
  kInteger,
  kLParen,
  kRParen,
  kComma,
  kDot,
  kOp
};

struct Token {
  Tok kind = Tok::kEnd;
  std::size_t offset = 0;  // byte offset in the input
  std::string_view raw;    // as written
  std::string text;        // kString: the unescaped value
  std::int64_t integer = 0;
  CompareOp op = CompareOp::kEq;
};

class Parser {
 public:
  Parser(std::string_view text, const FilterLimits& limits) : text_(text), limits_(limits) {}

  ParsedFilter run() {
    ParsedFilter result;
    if (text_.size() > limits_.max_bytes) {
      fail_at(limits_.max_bytes,
              "the filter is longer than " + std::to_string(limits_.max_bytes) + " bytes");
    } else if (const std::size_t bad = find_invalid_utf8(text_); bad != std::string_view::npos) {
      fail_at(bad, "invalid UTF-8");
    } else if (advance()) {
      if (tok_.kind == Tok::kEnd) {
        fail_at(tok_.offset, "the filter is empty; write a condition such as category = \"poor\"");
      } else if (parse_or(result.root, 0) && tok_.kind != Tok::kEnd) {
        fail_at(tok_.offset,
                "expected 'and', 'or' or the end of the filter but found " + describe_token(tok_));
      }
    }
    if (error_) {
      result.root = FilterNode{};
      result.error = std::move(error_);
    }
    return result;
  }

 private:
  bool fail_at(std::size_t offset, std::string message) {
    if (!error_) error_ = FilterError{column_at(text_, offset), std::move(message)};
    return false;
  }

  std::size_t column(const Token& t) const { return column_at(text_, t.offset); }

  static bool is_keyword(const Token& t, std::string_view keyword) {
    return t.kind == Tok::kName && iequals(t.raw, keyword);
  }

  static bool is_reserved(const Token& t) {
    return std::any_of(kKeywords.begin(), kKeywords.end(),
                       [&](std::string_view k) { return is_keyword(t, k); });
  }

  static std::string describe_token(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd:
        return "the end of the filter";
      case Tok::kString:
        return excerpt(t.raw);
      case Tok::kName:
        return (is_reserved(t) ? "keyword '" : "'") + excerpt(t.raw) + "'";
      case Tok::kInteger:
      case Tok::kLParen:
      case Tok::kRParen:
      case Tok::kComma:
      case Tok::kDot:
      case Tok::kOp:
        return "'" + excerpt(t.raw) + "'";
    }
    return "'" + excerpt(t.raw) + "'";
  }

  // Reads the next token into tok_. Returns false (with error_ set) on a lexical error.
  bool advance() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
    tok_ = Token{};
    tok_.offset = pos_;
    if (pos_ >= text_.size()) return true;
    const std::size_t start = pos_;
    const char c = text_[pos_];
    auto single = [&](Tok kind) {
      tok_.kind = kind;
      tok_.raw = text_.substr(start, 1);
      ++pos_;
      return true;
    };
    auto op = [&](CompareOp o, std::size_t len) {
      tok_.kind = Tok::kOp;
      tok_.op = o;
      tok_.raw = text_.substr(start, len);
      pos_ += len;
      return true;
    };
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    switch (c) {
      case '(':
        return single(Tok::kLParen);
      case ')':
        return single(Tok::kRParen);
      case ',':
        return single(Tok::kComma);
      case '.':
        return single(Tok::kDot);
      case '=':
        if (next == '=') return fail_at(start, "'==' is not an operator; write '='");
        return op(CompareOp::kEq, 1);
      case '!':
        if (next == '=') return op(CompareOp::kNe, 2);
        return fail_at(start, "unexpected character '!'; write 'not' or '!='");
      case '<':
        if (next == '=') return op(CompareOp::kLe, 2);
        if (next == '>') return fail_at(start, "'<>' is not an operator; write '!='");
        return op(CompareOp::kLt, 1);
      case '>':
        if (next == '=') return op(CompareOp::kGe, 2);
        return op(CompareOp::kGt, 1);
      case '~':
        return op(CompareOp::kContains, 1);
      case '"':
        return lex_string();
      case '\'':
        return fail_at(start, "unexpected character '''; strings are written in double quotes");
      default:
        break;
    }
    if (is_digit(c) || (c == '-' && is_digit(next))) return lex_integer();
    if (is_name_start(c)) {
      while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
      tok_.kind = Tok::kName;
      tok_.raw = text_.substr(start, pos_ - start);
      return true;
    }
    return fail_at(start, "unexpected character '" +
                              std::string(text_.substr(start, char_length(text_, start))) + "'");
  }

  bool lex_string() {
    const std::size_t start = pos_;
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= text_.size()) {
        return fail_at(start, "unterminated string: missing closing '\"'");
      }
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        const char e = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
        if (e == '"' || e == '\\') {
          tok_.text.push_back(e);
          pos_ += 2;
          continue;
        }
        if (pos_ + 1 >= text_.size()) {
          return fail_at(start, "unterminated string: missing closing '\"'");
        }
        return fail_at(pos_, "unknown escape '\\" +
                                 std::string(text_.substr(pos_ + 1, char_length(text_, pos_ + 1))) +
                                 "' in a string; only \\\" and \\\\ are allowed");
      }
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        return fail_at(pos_, "control character in a string");
      }
      tok_.text.push_back(c);
      ++pos_;
    }
    tok_.kind = Tok::kString;
    tok_.raw = text_.substr(start, pos_ - start);
    return true;
  }

  bool lex_integer() {
    const std::size_t start = pos_;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    // Accumulate as a negative number so that INT64_MIN fits.
    std::int64_t value = 0;
    bool overflow = false;
    while (pos_ < text_.size() && is_digit(text_[pos_])) {
      const int digit = text_[pos_] - '0';
      if (value < (std::numeric_limits<std::int64_t>::min() + digit) / 10) overflow = true;
      if (!overflow) value = value * 10 - digit;
      ++pos_;
    }
    if (pos_ < text_.size() && (is_name_char(text_[pos_]) || text_[pos_] == '.')) {
      return fail_at(start,
                     "invalid number '" + excerpt(text_.substr(start, pos_ - start + 1)) +
                         "'; only whole numbers are allowed, and text goes in double quotes");
    }
    if (!negative) {
      if (value == std::numeric_limits<std::int64_t>::min()) {
        overflow = true;  // 9223372036854775808 has no positive int64
      } else {
        value = -value;
      }
    }
    if (overflow) return fail_at(start, "integer out of range");
    tok_.kind = Tok::kInteger;
    tok_.integer = value;
    tok_.raw = text_.substr(start, pos_ - start);
    return true;
  }

  bool enter(std::size_t depth, const Token& at) {
    if (depth > limits_.max_depth) {
      return fail_at(at.offset, "the filter is nested too deeply (more than " +
                                    std::to_string(limits_.max_depth) + " levels)");
    }
    return true;
  }

  bool parse_or(FilterNode& out, std::size_t depth) {
    return parse_chain(out, depth, "or", FilterNode::Kind::kOr, &Parser::parse_and);
  }

  bool parse_and(FilterNode& out, std::size_t depth) {
    return parse_chain(out, depth, "and", FilterNode::Kind::kAnd, &Parser::parse_not);
  }

  bool parse_chain(FilterNode& out, std::size_t depth, std::string_view keyword,
                   FilterNode::Kind kind, bool (Parser::*operand)(FilterNode&, std::size_t)) {
    FilterNode first;
    if (!(this->*operand)(first, depth)) return false;
    if (!is_keyword(tok_, keyword)) {
      out = std::move(first);
      return true;
    }
    FilterNode chain;
    chain.kind = kind;
    chain.column = first.column;
    chain.children.push_back(std::move(first));
    while (is_keyword(tok_, keyword)) {
      if (!advance()) return false;
      FilterNode next;
      if (!(this->*operand)(next, depth)) return false;
      chain.children.push_back(std::move(next));
    }
    out = std::move(chain);
    return true;
  }

  bool parse_not(FilterNode& out, std::size_t depth) {
    if (!is_keyword(tok_, "not")) return parse_primary(out, depth);
    if (!enter(depth + 1, tok_)) return false;
    FilterNode node;
    node.kind = FilterNode::Kind::kNot;
    node.column = column(tok_);
    if (!advance()) return false;
    node.children.emplace_back();
    if (!parse_not(node.children.back(), depth + 1)) return false;
    out = std::move(node);
    return true;
  }

  bool parse_primary(FilterNode& out, std::size_t depth) {
    if (tok_.kind == Tok::kLParen) {
      if (!enter(depth + 1, tok_)) return false;
      const std::size_t open = column(tok_);
      if (!advance()) return false;
      if (!parse_or(out, depth + 1)) return false;
      if (tok_.kind != Tok::kRParen) {
        return fail_at(tok_.offset, "expected ')' to close the '(' at column " +
                                        std::to_string(open) + " but found " +
                                        describe_token(tok_));
      }
      return advance();
    }
    if (tok_.kind == Tok::kEnd) {
      return fail_at(tok_.offset, "unexpected end of the filter: expected a condition");
    }
    if (tok_.kind != Tok::kName || is_reserved(tok_)) {
      return fail_at(tok_.offset, "expected a condition (a field, a function or '(') but found " +
                                      describe_token(tok_));
    }
    const Token name = tok_;
    if (!advance()) return false;
    if (tok_.kind == Tok::kLParen) return parse_call(out, name);

    FilterNode node;
    node.column = column(name);
    node.name = std::string(name.raw);
    if (tok_.kind == Tok::kDot) {
      if (!advance()) return false;
      if (tok_.kind != Tok::kName) {
        return fail_at(tok_.offset, "expected a name after '" + node.name + ".' but found " +
                                        describe_token(tok_));
      }
      node.name += ".";
      node.name += tok_.raw;
      if (!advance()) return false;
    }
    if (tok_.kind == Tok::kOp) {
      node.kind = FilterNode::Kind::kCompare;
      node.op = tok_.op;
      if (!advance()) return false;
      node.values.emplace_back();
      if (!parse_value(node.values.back())) return false;
    } else if (is_keyword(tok_, "in")) {
      node.kind = FilterNode::Kind::kIn;
      if (!advance() || !parse_list(node)) return false;
    } else if (is_keyword(tok_, "not")) {
      if (!advance()) return false;
      if (!is_keyword(tok_, "in")) {
        return fail_at(tok_.offset, "expected 'in' after 'not' but found " + describe_token(tok_));
      }
      node.kind = FilterNode::Kind::kNotIn;
      if (!advance() || !parse_list(node)) return false;
    } else {
      return fail_at(tok_.offset, "expected an operator (=, !=, <, <=, >, >=, in, not in) after '" +
                                      node.name + "' but found " + describe_token(tok_));
    }
    out = std::move(node);
    return true;
  }

  bool parse_call(FilterNode& out, const Token& name) {
    FilterNode node;
    node.kind = FilterNode::Kind::kCall;
    node.column = column(name);
    node.name = std::string(name.raw);
    if (!advance()) return false;  // '('
    if (tok_.kind != Tok::kRParen) {
      for (;;) {
        node.values.emplace_back();
        if (!parse_value(node.values.back())) return false;
        if (tok_.kind == Tok::kComma) {
          if (!advance()) return false;
          continue;
        }
        break;
      }
      if (tok_.kind != Tok::kRParen) {
        return fail_at(tok_.offset, "expected ',' or ')' in the arguments of '" + node.name +
                                        "' but found " + describe_token(tok_));
      }
    }
    if (!advance()) return false;
    out = std::move(node);
    return true;
  }

  bool parse_list(FilterNode& node) {
    if (tok_.kind != Tok::kLParen) {
      return fail_at(tok_.offset, "expected '(' and a list of values after 'in' but found " +
                                      describe_token(tok_));
    }
    if (!advance()) return false;
    if (tok_.kind == Tok::kRParen) {
      return fail_at(tok_.offset, "empty list: give at least one value");
    }
    for (;;) {
      node.values.emplace_back();
      if (!parse_value(node.values.back())) return false;
      if (tok_.kind == Tok::kComma) {
        if (!advance()) return false;
        continue;
      }
      if (tok_.kind == Tok::kRParen) return advance();
      return fail_at(tok_.offset,
                     "expected ',' or ')' in the list but found " + describe_token(tok_));
    }
  }

  bool parse_value(FilterValue& out) {
    out.column = column(tok_);
    if (tok_.kind == Tok::kString) {
      out.value = std::move(tok_.text);
    } else if (tok_.kind == Tok::kInteger) {
      out.value = tok_.integer;
    } else if (is_keyword(tok_, "true")) {
      out.value = true;
    } else if (is_keyword(tok_, "false")) {
      out.value = false;
    } else if (tok_.kind == Tok::kName) {
      return fail_at(tok_.offset, "expected a value but found " + describe_token(tok_) +
                                      "; strings are written in double quotes");
    } else {
      return fail_at(tok_.offset,
                     "expected a value (a string in double quotes, an integer, true or false) "
                     "but found " +
                         describe_token(tok_));
    }
    return advance();
  }

  std::string_view text_;
  const FilterLimits& limits_;
  std::size_t pos_ = 0;
  Token tok_;
  std::optional<FilterError> error_;
};

// ---------------------------------------------------------------------------------------------
// Compiler

class Compiler {
 public:
  Compiler(const FieldTable& table, const FilterLimits& limits) : table_(table), limits_(limits) {}

  CompiledFilter run(const FilterNode& root) {
    CompiledFilter result;
    if (emit(root, 0)) {
      result.sql = std::move(out_);
    } else {
      result.error = std::move(error_);
    }
    return result;
  }

 private:
  bool fail(std::size_t column, std::string message) {
    if (!error_) error_ = FilterError{column, std::move(message)};
    return false;
  }

  // Does this node's SQL come wrapped in its own parentheses?
  bool self_grouped(const FilterNode& n) const {
    return n.kind == FilterNode::Kind::kOr || n.kind == FilterNode::Kind::kAnd ||
           (n.kind == FilterNode::Kind::kCall && n.name == "has_zalo" &&
            !table_.zalo_user_id_column.empty());
  }

  bool emit(const FilterNode& n, std::size_t depth) {
    if (depth > limits_.max_depth) {
      return fail(n.column, "the filter is nested too deeply (more than " +
                                std::to_string(limits_.max_depth) + " levels)");
    }
    switch (n.kind) {
      case FilterNode::Kind::kOr:
      case FilterNode::Kind::kAnd: {
        if (n.children.empty()) return fail(n.column, "empty condition");
        const std::string_view joiner = n.kind == FilterNode::Kind::kOr ? " OR " : " AND ";
        out_.where += '(';
        for (std::size_t i = 0; i < n.children.size(); ++i) {
          if (i > 0) out_.where += joiner;
          if (!emit(n.children[i], depth + 1)) return false;
        }
        out_.where += ')';
        return true;
      }
      case FilterNode::Kind::kNot: {
        if (n.children.size() != 1) return fail(n.column, "'not' needs one condition");
        // `x IS NOT 1` is true for 0 and for NULL: see "two-valued logic" in the header.
        const bool grouped = self_grouped(n.children[0]);
        if (!grouped) out_.where += '(';
        if (!emit(n.children[0], depth + 1)) return false;
        out_.where += grouped ? " IS NOT 1" : ") IS NOT 1";
        return true;
      }
      case FilterNode::Kind::kCompare:
      case FilterNode::Kind::kIn:
      case FilterNode::Kind::kNotIn:
        return emit_comparison(n);
      case FilterNode::Kind::kCall:
        return emit_call(n);
    }
    return fail(n.column, "unknown condition");
  }

  bool emit_column(const FilterNode& n, FieldType& type) {
    if (n.name.starts_with(kAttrPrefix) && !table_.attribute_sql.empty()) {
      const std::string_view attr = std::string_view(n.name).substr(kAttrPrefix.size());
      if (attr.empty() || !is_name_start(attr[0]) ||
          !std::all_of(attr.begin(), attr.end(), is_name_char)) {
        return fail(n.column, "invalid attribute name '" + excerpt(n.name) + "'");
      }
      out_.where += table_.attribute_sql;
      out_.params.emplace_back("$." + std::string(attr));
      type = FieldType::kAny;
      return true;
    }
    const FieldColumn* field = table_.find(n.name);
    if (field == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& f : table_.fields) names.push_back(f.name);
      std::string hint = suggestion(n.name, names);
      if (hint.empty() && !table_.attribute_sql.empty()) {
        hint = "; free-form attributes are written attr.<name>";
      }
      return fail(n.column, "unknown field '" + excerpt(n.name) + "'" + hint);
    }
    out_.where += field->sql;
    type = field->type;
    return true;
  }

  bool check_value(const FilterNode& n, const FilterValue& v, FieldType type) {
    const bool is_string = std::holds_alternative<std::string>(v.value);
    const bool is_bool = std::holds_alternative<bool>(v.value);
    if (type == FieldType::kText && !is_string) {
      return fail(v.column, "field '" + n.name + "' holds text; write the value in double quotes");
    }
    if (type == FieldType::kInteger && !std::holds_alternative<std::int64_t>(v.value)) {
      return fail(v.column, "field '" + n.name + "' holds whole numbers; write one without quotes");
    }
    if (is_bool && n.kind == FilterNode::Kind::kCompare && n.op != CompareOp::kEq &&
        n.op != CompareOp::kNe) {
      return fail(v.column, "true and false can only be compared with = or !=");
    }
    return true;
  }

  void bind(const FilterValue& v) {
    out_.where += '?';
    if (const auto* s = std::get_if<std::string>(&v.value)) {
      out_.params.emplace_back(*s);
    } else if (const auto* i = std::get_if<std::int64_t>(&v.value)) {
      out_.params.emplace_back(*i);
    } else {
      out_.params.emplace_back(std::int64_t{std::get<bool>(v.value) ? 1 : 0});
    }
  }

  bool check_params(const FilterNode& n) {
    if (out_.params.size() > limits_.max_params) {
      return fail(n.column, "too many values in the filter (more than " +
                                std::to_string(limits_.max_params) + ")");
    }
    return true;
  }

  bool emit_comparison(const FilterNode& n) {
    if (n.values.empty() || (n.kind == FilterNode::Kind::kCompare && n.values.size() != 1)) {
      return fail(n.column, "a comparison needs a value");
    }
    if (n.kind == FilterNode::Kind::kCompare && n.op == CompareOp::kContains)
      return emit_contains(n);
    const bool not_in = n.kind == FilterNode::Kind::kNotIn;
    if (not_in) out_.where += '(';
    FieldType type = FieldType::kText;
    if (!emit_column(n, type)) return false;
    for (const auto& v : n.values) {
      if (!check_value(n, v, type)) return false;
    }
    if (n.kind == FilterNode::Kind::kCompare) {
      switch (n.op) {
        case CompareOp::kEq:
          out_.where += " = ";
          break;
        case CompareOp::kNe:
          out_.where += " IS NOT ";  // NULL counts as "not equal": see the header
          break;
        case CompareOp::kLt:
          out_.where += " < ";
          break;
        case CompareOp::kLe:
          out_.where += " <= ";
          break;
        case CompareOp::kGt:
          out_.where += " > ";
          break;
        case CompareOp::kGe:
          out_.where += " >= ";
          break;
        case CompareOp::kContains:  // emit_contains()
          break;
      }
      bind(n.values[0]);
      return check_params(n);
    }
    out_.where += " IN (";
    for (std::size_t i = 0; i < n.values.size(); ++i) {
      if (i > 0) out_.where += ", ";
      bind(n.values[i]);
    }
    out_.where += not_in ? ")) IS NOT 1" : ")";
    return check_params(n);
  }

  // field ~ "text": the folded field contains the folded text (templates::fold_text), so
  // "nguyen van" finds "Nguyễn Văn" and "d" finds "đ".
  bool emit_contains(const FilterNode& n) {
    const FieldColumn* field = table_.find(n.name);
    if (field == nullptr || field->folded_sql.empty()) {
      std::string names;
      for (const auto& f : table_.fields)
        if (!f.folded_sql.empty()) names += (names.empty() ? "" : ", ") + f.name;
      if (field == nullptr && !n.name.starts_with(kAttrPrefix)) {
        FieldType ignored;
        if (!emit_column(n, ignored)) return false;  // the unknown-field message
      }
      return fail(n.column, "'~' (contains, ignoring accents and case) works on " + names +
                                "; not on '" + excerpt(n.name) + "'");
    }
    const FilterValue& v = n.values[0];
    const auto* text = std::get_if<std::string>(&v.value);
    if (text == nullptr)
      return fail(v.column, "'~' looks for text; write the value in double quotes");
    std::string folded = templates::fold_text(*text);
    if (folded.empty()) return fail(v.column, "'~' needs some text to look for");
    out_.where += "instr(" + field->folded_sql + ", ?) > 0";
    out_.params.emplace_back(std::move(folded));
    return check_params(n);
  }

  bool emit_call(const FilterNode& n) {
    auto no_arguments = [&] {
      if (n.values.empty()) return true;
      return fail(n.values[0].column, "'" + n.name + "()' takes no arguments");
    };
    auto column_or_fail = [&](const std::string& column) {
      if (!column.empty()) return true;
      return fail(n.column, "'" + n.name + "()' is not available for this table");
    };
    if (n.name == "opted_out") {
      if (n.values.size() != 1) {
        return fail(n.column, "'opted_out' takes one argument: \"sms\" or \"zalo\"");
      }
      const auto* channel = std::get_if<std::string>(&n.values[0].value);
      const std::string* column = nullptr;
      if (channel != nullptr && *channel == "sms") column = &table_.opt_out_sms_column;
      if (channel != nullptr && *channel == "zalo") column = &table_.opt_out_zalo_column;
      if (column == nullptr) {
        return fail(n.values[0].column, "'opted_out' takes \"sms\" or \"zalo\"");
      }
      if (!column_or_fail(*column)) return false;
      out_.where += *column;
      out_.where += " <> 0";
      return true;
    }
    if (n.name == "has_zalo") {
      if (!no_arguments() || !column_or_fail(table_.has_zalo_column)) return false;
      if (table_.zalo_user_id_column.empty()) {
        out_.where += table_.has_zalo_column + " <> 0";
      } else {
        out_.where += "(" + table_.has_zalo_column + " <> 0 OR " + table_.zalo_user_id_column +
                      " IS NOT NULL)";
      }
      return true;
    }
    if (n.name == "has_phone") {
      if (!no_arguments() || !column_or_fail(table_.phone_column)) return false;
      out_.where += table_.phone_column + " <> ''";
      return true;
    }
    std::vector<std::string_view> names(kFunctions.begin(), kFunctions.end());
    return fail(n.column, "unknown function '" + excerpt(n.name) + "'" + suggestion(n.name, names));
  }

  const FieldTable& table_;
  const FilterLimits& limits_;
  SqlFilter out_;
  std::optional<FilterError> error_;
};

void describe_value(const FilterValue& v, std::string& out) {
  if (const auto* s = std::get_if<std::string>(&v.value)) {
    out += '"';
    for (const char c : *s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } else if (const auto* i = std::get_if<std::int64_t>(&v.value)) {
    out += std::to_string(*i);
  } else {
    out += std::get<bool>(v.value) ? "true" : "false";
  }
}

void describe_into(const FilterNode& n, std::string& out) {
  out += '(';
  switch (n.kind) {
    case FilterNode::Kind::kOr:
      out += "or";
      break;
    case FilterNode::Kind::kAnd:
      out += "and";
      break;
    case FilterNode::Kind::kNot:
      out += "not";
      break;
    case FilterNode::Kind::kCompare:
      out += op_text(n.op);
      out += ' ';
      out += n.name;
      break;
    case FilterNode::Kind::kIn:
      out += "in ";
      out += n.name;
      break;
    case FilterNode::Kind::kNotIn:
      out += "not-in ";
      out += n.name;
      break;
    case FilterNode::Kind::kCall:
      out += n.name;
      break;
  }
  for (const auto& child : n.children) {
    out += ' ';
    describe_into(child, out);
  }
  for (const auto& v : n.values) {
    out += ' ';
    describe_value(v, out);
  }
  out += ')';
}

}  // namespace

std::string FilterError::to_string() const {
  return "column " + std::to_string(column) + ": " + message;
}

const FieldColumn* FieldTable::find(std::string_view name) const {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FieldTable& default_field_table() {
  static const FieldTable table = [] {
    FieldTable t;
    t.fields = {
        {"category", "h.category", FieldType::kText, ""},
        {"language", "h.language", FieldType::kText, ""},
        {"ethnicity", "h.ethnicity", FieldType::kText, ""},
        {"province", "h.province", FieldType::kText, ""},
        {"commune", "h.commune", FieldType::kText, "h.commune_folded"},
        {"village", "h.village", FieldType::kText, "h.village_folded"},
        {"district", "h.district", FieldType::kText, ""},  // legacy: pre-2025 lists only
        {"carrier", "h.carrier", FieldType::kText, ""},
        {"household_code", "h.household_code", FieldType::kText, ""},
        {"name", "h.name", FieldType::kText, "h.name_folded"},
    };
    t.attribute_sql = "json_extract(h.attributes, ?)";
    t.opt_out_sms_column = "h.opt_out_sms";
    t.opt_out_zalo_column = "h.opt_out_zalo";
    t.has_zalo_column = "h.has_zalo";
    t.zalo_user_id_column = "h.zalo_user_id";
    t.phone_column = "h.phone_e164";
    return t;
  }();
  return table;
}

ParsedFilter parse_filter(std::string_view text, const FilterLimits& limits) {
  return Parser(text, limits).run();
}

CompiledFilter compile_filter(const FilterNode& root, const FieldTable& table,
                              const FilterLimits& limits) {
  return Compiler(table, limits).run(root);
}

CompiledFilter compile_filter(std::string_view text, const FieldTable& table,
                              const FilterLimits& limits) {
  ParsedFilter parsed = parse_filter(text, limits);
  if (!parsed.ok()) {
    CompiledFilter result;
    result.error = std::move(parsed.error);
    return result;
  }
  return compile_filter(parsed.root, table, limits);
}

std::string describe(const FilterNode& node) {
  std::string out;
  describe_into(node, out);
  return out;
}

}  // namespace loa::campaigns
