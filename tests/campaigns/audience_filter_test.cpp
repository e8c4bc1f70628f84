#include "campaigns/audience_filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {
namespace {

using Params = std::vector<SqlValue>;

SqlValue s(std::string v) { return SqlValue(std::move(v)); }
SqlValue i(std::int64_t v) { return SqlValue(v); }

std::string show(const Params& params) {
  std::string out = "[";
  for (const auto& p : params) {
    if (const auto* str = std::get_if<std::string>(&p)) {
      out += "\"" + *str + "\" ";
    } else {
      out += std::to_string(std::get<std::int64_t>(p)) + " ";
    }
  }
  return out + "]";
}

// ---------------------------------------------------------------------------------------------
// Filters that compile: the exact SQL and parameters.

struct SqlCase {
  std::string_view name;
  std::string filter;
  std::string where;
  Params params;
};

const std::vector<SqlCase> sql_cases = {
    {"design example",
     R"(category in ("poor", "near_poor") and commune = "Xã Ea Trul" and language = "rad")"
     R"( and not opted_out("sms"))",
     "(h.category IN (?, ?) AND h.commune = ? AND h.language = ? AND "
     "(h.opt_out_sms <> 0) IS NOT 1)",
     {s("poor"), s("near_poor"), s("Xã Ea Trul"), s("rad")}},
    // Precedence: not > and > or.
    {"and binds tighter than or",
     R"(category = "a" or category = "b" and language = "rad")",
     "(h.category = ? OR (h.category = ? AND h.language = ?))",
     {s("a"), s("b"), s("rad")}},
    {"and before or on the left",
     R"(category = "a" and language = "b" or village = "c")",
     "((h.category = ? AND h.language = ?) OR h.village = ?)",
     {s("a"), s("b"), s("c")}},
    {"parentheses override",
     R"((category = "a" or category = "b") and language = "rad")",
     "((h.category = ? OR h.category = ?) AND h.language = ?)",
     {s("a"), s("b"), s("rad")}},
    {"not binds tighter than and",
     R"(not category = "a" and language = "b")",
     "((h.category = ?) IS NOT 1 AND h.language = ?)",
     {s("a"), s("b")}},
    {"not of a group",
     R"(not (category = "a" and language = "b"))",
     "(h.category = ? AND h.language = ?) IS NOT 1",
     {s("a"), s("b")}},
    {"not not", R"(not not has_phone())", "((h.phone_e164 <> '') IS NOT 1) IS NOT 1", {}},
    {"redundant parentheses", R"(((category = "a")))", "h.category = ?", {s("a")}},
    {"or chain is flat",
     R"(village = "1" or village = "2" or village = "3")",
     "(h.village = ? OR h.village = ? OR h.village = ?)",
     {s("1"), s("2"), s("3")}},
    {"keywords are case-insensitive",
     R"(category = "a" AND NOT language = "b" Or has_phone())",
     "((h.category = ? AND (h.language = ?) IS NOT 1) OR h.phone_e164 <> '')",
     {s("a"), s("b")}},
    {"IN and NOT IN keywords uppercase",
     R"(category NOT IN ("a") And carrier IN ("viettel"))",
     "((h.category IN (?)) IS NOT 1 AND h.carrier IN (?))",
     {s("a"), s("viettel")}},
    // Operators.
    {"equals", R"(ethnicity = "Ê Đê")", "h.ethnicity = ?", {s("Ê Đê")}},
    {"not equals keeps unknowns", R"(language != "rad")", "h.language IS NOT ?", {s("rad")}},
    {"less", R"(household_code < "DL-02")", "h.household_code < ?", {s("DL-02")}},
    {"less or equal", R"(household_code <= "DL-02")", "h.household_code <= ?", {s("DL-02")}},
    {"greater", R"(household_code > "DL-02")", "h.household_code > ?", {s("DL-02")}},
    {"greater or equal", R"(household_code >= "DL-02")", "h.household_code >= ?", {s("DL-02")}},
    // `~`: contains, on the folded column, with the value folded the same way.
    {"contains folds the value",
     R"(name ~ "NGUYỄN  Văn")",
     "instr(h.name_folded, ?) > 0",
     {s("nguyen van")}},
    {"contains on a commune",
     R"(commune ~ "Ea Tu")",
     "instr(h.commune_folded, ?) > 0",
     {s("ea tu")}},
    {"contains d finds đ",
     R"(village ~ "Buôn Đôn")",
     "instr(h.village_folded, ?) > 0",
     {s("buon don")}},
    {"contains no spaces",
     R"(name~"an"and not village~"b")",
     "(instr(h.name_folded, ?) > 0 AND (instr(h.village_folded, ?) > 0) IS NOT 1)",
     {s("an"), s("b")}},
    {"no spaces",
     R"(category="a"and(language="b"))",
     "(h.category = ? AND h.language = ?)",
     {s("a"), s("b")}},
    {"newlines and tabs",
     "category = \"a\"\n\tand language = \"b\"",
     "(h.category = ? AND h.language = ?)",
     {s("a"), s("b")}},
    {"not in",
     R"(category not in ("poor", "near_poor"))",
     "(h.category IN (?, ?)) IS NOT 1",
     {s("poor"), s("near_poor")}},
    // Every field of the default table.
    {"all fields",
     R"(category = "1" and language = "2" and ethnicity = "3" and province = "4" and )"
     R"(commune = "5" and village = "6" and district = "7" and carrier = "8" and )"
     R"(household_code = "9" and name = "10")",
     "(h.category = ? AND h.language = ? AND h.ethnicity = ? AND h.province = ? AND "
     "h.commune = ? AND h.village = ? AND h.district = ? AND h.carrier = ? AND "
     "h.household_code = ? AND h.name = ?)",
     {s("1"), s("2"), s("3"), s("4"), s("5"), s("6"), s("7"), s("8"), s("9"), s("10")}},
    // Free-form attributes: the JSON path is a parameter too.
    {"attribute integer",
     R"(attr.members >= 5)",
     "json_extract(h.attributes, ?) >= ?",
     {s("$.members"), i(5)}},
    {"attribute string",
     R"(attr.school = "THCS Ea Kao")",
     "json_extract(h.attributes, ?) = ?",
     {s("$.school"), s("THCS Ea Kao")}},
    {"attribute boolean",
     R"(attr.disabled = true)",
     "json_extract(h.attributes, ?) = ?",
     {s("$.disabled"), i(1)}},
    {"attribute false",
     R"(attr.disabled != FALSE)",
     "json_extract(h.attributes, ?) IS NOT ?",
     {s("$.disabled"), i(0)}},
    {"attribute negative",
     R"(attr.balance > -3)",
     "json_extract(h.attributes, ?) > ?",
     {s("$.balance"), i(-3)}},
    {"attribute in",
     R"(attr.members in (1, 2, 3))",
     "json_extract(h.attributes, ?) IN (?, ?, ?)",
     {s("$.members"), i(1), i(2), i(3)}},
    {"attribute not in",
     R"(attr.grade not in ("a"))",
     "(json_extract(h.attributes, ?) IN (?)) IS NOT 1",
     {s("$.grade"), s("a")}},
    {"int64 max",
     R"(attr.n = 9223372036854775807)",
     "json_extract(h.attributes, ?) = ?",
     {s("$.n"), i(INT64_MAX)}},
    {"int64 min",
     R"(attr.n = -9223372036854775808)",
     "json_extract(h.attributes, ?) = ?",
     {s("$.n"), i(INT64_MIN)}},
    // Functions.
    {"opted out sms", R"(opted_out("sms"))", "h.opt_out_sms <> 0", {}},
    {"opted out zalo", R"(opted_out("zalo"))", "h.opt_out_zalo <> 0", {}},
    {"has zalo", R"(has_zalo())", "(h.has_zalo <> 0 OR h.zalo_user_id IS NOT NULL)", {}},
    {"not has zalo",
     R"(not has_zalo())",
     "(h.has_zalo <> 0 OR h.zalo_user_id IS NOT NULL) IS NOT 1",
     {}},
    {"has phone",
     R"(has_phone() and not opted_out("sms"))",
     "(h.phone_e164 <> '' AND (h.opt_out_sms <> 0) IS NOT 1)",
     {}},
    // Strings: escapes and hostile content stay parameters.
    {"escaped quote and backslash",
     R"(name = "say \"hi\" \\ ok")",
     "h.name = ?",
     {s(R"(say "hi" \ ok)")}},
    {"sql inside a string is just a value",
     R"(name = "x'; DROP TABLE households; --")",
     "h.name = ?",
     {s("x'; DROP TABLE households; --")}},
    {"quote-or-quote inside a string",
     R"(category = "x' OR '1'='1")",
     "h.category = ?",
     {s("x' OR '1'='1")}},
    {"empty string", R"(village = "")", "h.village = ?", {s("")}},
    {"ede and mnong letters",
     R"(name in ("Y Ƀlơi Niê", "H'Ŭn Êñuôl", "Điểu K'Lâm"))",
     "h.name IN (?, ?, ?)",
     {s("Y Ƀlơi Niê"), s("H'Ŭn Êñuôl"), s("Điểu K'Lâm")}},
};

TEST(AudienceFilter, CompilesToSql) {
  for (const auto& c : sql_cases) {
    SCOPED_TRACE(std::string(c.name) + ": " + c.filter);
    const CompiledFilter r = compile_filter(c.filter);
    ASSERT_TRUE(r.ok()) << r.error->to_string();
    EXPECT_EQ(r.sql.where, c.where);
    EXPECT_EQ(r.sql.params, c.params) << show(r.sql.params);
    EXPECT_EQ(static_cast<std::size_t>(std::count(r.sql.where.begin(), r.sql.where.end(), '?')),
              r.sql.params.size());
  }
}

// ---------------------------------------------------------------------------------------------
// Precedence, shown on the AST.

struct AstCase {
  std::string_view filter;
  std::string_view ast;
};

const std::vector<AstCase> ast_cases = {
    {R"(category = "a" or category = "b" and not category = "c")",
     R"((or (= category "a") (and (= category "b") (not (= category "c")))))"},
    {R"(not category = "a" or language = "b")", R"((or (not (= category "a")) (= language "b")))"},
    {R"(not (category = "a" or language = "b"))",
     R"((not (or (= category "a") (= language "b"))))"},
    {R"(category in ("a", "b") and language not in ("c"))",
     R"((and (in category "a" "b") (not-in language "c")))"},
    {R"(has_zalo() or opted_out("zalo"))", R"((or (has_zalo) (opted_out "zalo")))"},
    {R"(attr.x = -1 and attr.y = true)", R"((and (= attr.x -1) (= attr.y true)))"},
    {R"(name = "a\"b\\c")", R"((= name "a\"b\\c"))"},
};

TEST(AudienceFilter, ParsesWithPrecedence) {
  for (const auto& c : ast_cases) {
    SCOPED_TRACE(c.filter);
    const ParsedFilter p = parse_filter(c.filter);
    ASSERT_TRUE(p.ok()) << p.error->to_string();
    EXPECT_EQ(describe(p.root), c.ast);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors: the column (in characters) and the message.

struct ErrorCase {
  std::string_view name;
  std::string filter;
  std::size_t column;
  std::string_view message;  // a substring of the message
};

const std::vector<ErrorCase> error_cases = {
    {"unknown field", R"(categroy = "poor")", 1,
     "unknown field 'categroy'; did you mean 'category'?"},
    // "commune = " (10) + "Xã Ea Trul" in quotes (12) + " and " (5): column 28, byte 29.
    {"unknown field after a vietnamese literal", R"(commune = "Xã Ea Trul" and categroy = "poor")",
     28, "unknown field 'categroy'"},
    // "name = " (7) + 18 characters (24 bytes) + " and " (5): column 31, byte 37.
    {"after many multi-byte characters", R"(name = "Nguyễn Thị Hương" and foo = "x")", 31,
     "unknown field 'foo'"},
    {"type error after multi-byte text", R"(commune = "Đắk Lắk" and category = 5)", 36,
     "field 'category' holds text; write the value in double quotes"},
    {"boolean for a text field", R"(category = true)", 12, "holds text"},
    {"unknown field without suggestion", R"(income < 5)", 1,
     "unknown field 'income'; free-form attributes are written attr.<name>"},
    {"attr without name", R"(attr = "x")", 1, "unknown field 'attr'"},
    {"dotted unknown field", R"(foo.bar = "x")", 1, "unknown field 'foo.bar'"},
    {"attr dot nothing", R"(attr. = 1)", 7, "expected a name after 'attr.'"},
    // Injection attempts.
    {"statement separator", R"(category = "x"; DROP TABLE households; --)", 15,
     "unexpected character ';'"},
    {"bare word value", R"(category = x' OR '1'='1)", 12,
     "expected a value but found 'x'; strings are written in double quotes"},
    {"single-quoted string", R"(category = 'poor')", 12,
     "unexpected character '''; strings are written in double quotes"},
    {"or tautology", R"(category = "x" OR '1'='1')", 19, "unexpected character '''"},
    {"or 1=1", R"(category = "x" or 1 = 1)", 19, "expected a condition"},
    {"sql comment", R"(category = "x" -- comment)", 16, "unexpected character '-'"},
    {"block comment", R"(category = "x" /* c */)", 16, "unexpected character '/'"},
    {"closing parenthesis", R"(category = "x") or (1=1)", 15,
     "expected 'and', 'or' or the end of the filter but found ')'"},
    {"union", R"(category = "x" union select * from households)", 16,
     "expected 'and', 'or' or the end of the filter but found 'union'"},
    {"ampersands", R"(category = "a" && language = "b")", 16, "unexpected character '&'"},
    {"double equals", R"(category == "a")", 10, "'==' is not an operator"},
    {"angle brackets", R"(category <> "a")", 10, "'<>' is not an operator"},
    {"bang", R"(!has_phone())", 1, "unexpected character '!'"},
    {"non-ascii outside a string", R"(category = “poor”)", 12, "unexpected character '“'"},
    // Syntax.
    {"empty", "", 1, "the filter is empty"},
    {"blank", "   ", 4, "the filter is empty"},
    {"condition expected", R"(1 = 1)", 1, "expected a condition"},
    {"keyword as value position", R"(category = "a" or true)", 19,
     "expected a condition (a field, a function or '(') but found keyword 'true'"},
    {"missing operator", R"(category "a")", 10,
     "expected an operator (=, !=, <, <=, >, >=, in, not in) after 'category'"},
    {"missing value", R"(category = )", 12, "found the end of the filter"},
    {"dangling and", R"(category = "a" and)", 19, "unexpected end of the filter"},
    {"dangling not", R"(not)", 4, "unexpected end of the filter"},
    {"two values", R"(category = "a" "b")", 16, "expected 'and', 'or' or the end"},
    {"not without in", R"(category not "a")", 14, "expected 'in' after 'not'"},
    {"in without list", R"(category in "a")", 13, "expected '(' and a list of values"},
    {"empty list", R"(category in ())", 14, "empty list"},
    {"trailing comma", R"(category in ("a",))", 18, "expected a value"},
    {"list missing comma", R"(category in ("a" "b"))", 18, "expected ',' or ')' in the list"},
    {"unclosed parenthesis", R"((category = "a")", 16, "expected ')' to close the '(' at column 1"},
    {"unterminated string", R"(category = "poor)", 12, "unterminated string"},
    {"backslash at the end", "name = \"abc\\", 8, "unterminated string"},
    {"unknown escape", R"(name = "bad \n escape")", 13, "unknown escape '\\n'"},
    {"control character in string", "name = \"a\tb\"", 10, "control character"},
    {"newline in string", "name = \"a\nb\"", 10, "control character"},
    {"integer overflow", R"(attr.n = 9223372036854775808)", 10, "integer out of range"},
    {"negative overflow", R"(attr.n = -9223372036854775809)", 10, "integer out of range"},
    {"decimal number", R"(attr.n = 1.5)", 10, "invalid number '1.'"},
    {"number glued to a word", R"(attr.n = 12abc)", 10, "invalid number"},
    {"invalid utf8", "name = \"\xff\"", 9, "invalid UTF-8"},
    {"invalid utf8 after vietnamese", "name = \"Lắk\" or name = \"L\xe1k\"", 26, "invalid UTF-8"},
    // Semantics.
    {"boolean ordering", R"(attr.x < true)", 10, "true and false can only be compared"},
    {"unknown function", R"(optedout("sms"))", 1,
     "unknown function 'optedout'; did you mean 'opted_out'?"},
    {"opted_out channel", R"(opted_out("mms"))", 11, "'opted_out' takes \"sms\" or \"zalo\""},
    {"opted_out channel integer", R"(opted_out(1))", 11, "'opted_out' takes"},
    {"opted_out no argument", R"(opted_out())", 1, "'opted_out' takes one argument"},
    {"opted_out two arguments", R"(opted_out("sms", "zalo"))", 1, "takes one argument"},
    {"has_zalo with argument", R"(has_zalo("x"))", 10, "'has_zalo()' takes no arguments"},
    {"function arguments unclosed", R"(has_phone("a" "b"))", 15,
     "expected ',' or ')' in the arguments of 'has_phone'"},
    {"contains on a field without a folded column", R"(category = "a" and language ~ "vi")", 20,
     "'~' (contains, ignoring accents and case) works on commune, village, name"},
    {"contains an integer", R"(name ~ 3)", 8, "'~' looks for text"},
    {"contains nothing", R"(name ~ "  ")", 8, "'~' needs some text"},
    {"contains on an unknown field", R"(nmae ~ "a")", 1, "unknown field 'nmae'"},
    {"error in the second branch", R"(category = "a" or (language = "b" and villag = "c"))", 39,
     "unknown field 'villag'; did you mean 'village'?"},
};

TEST(AudienceFilter, ErrorsNameTheColumn) {
  for (const auto& c : error_cases) {
    SCOPED_TRACE(std::string(c.name) + ": " + c.filter);
    const CompiledFilter r = compile_filter(c.filter);
    ASSERT_FALSE(r.ok()) << r.sql.where;
    EXPECT_EQ(r.error->column, c.column) << r.error->to_string();
    EXPECT_NE(r.error->message.find(c.message), std::string::npos) << r.error->to_string();
    EXPECT_TRUE(r.sql.where.empty());
    EXPECT_TRUE(r.sql.params.empty());
  }
}

TEST(AudienceFilter, ErrorToString) {
  const CompiledFilter r = compile_filter(R"(has_phone() and categroy = "x")");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->to_string(), "column 17: unknown field 'categroy'; did you mean 'category'?");
}

// ---------------------------------------------------------------------------------------------
// Limits.

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t k = 0; k < n; ++k) out += s;
  return out;
}

TEST(AudienceFilter, LengthLimit) {
  struct Row {
    std::string filter;
    bool ok;
    std::size_t column;
  };
  const std::string head = "name = \"";  // 8 bytes
  const std::vector<Row> rows = {
      {head + std::string(4096 - 9, 'x') + "\"", true, 0},      // exactly 4096 bytes
      {head + std::string(4096 - 8, 'x') + "\"", false, 4097},  // 4097 bytes
      // 2-byte characters: byte 4096 is character 8 + (4096 - 8) / 2 + 1.
      {head + repeat("ư", 3000) + "\"", false, 8 + (4096 - 8) / 2 + 1},
      {std::string(1 << 20, ' '), false, 4097},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.filter.size());
    const CompiledFilter r = compile_filter(row.filter);
    EXPECT_EQ(r.ok(), row.ok);
    if (!row.ok) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error->column, row.column);
      EXPECT_NE(r.error->message.find("longer than 4096 bytes"), std::string::npos);
    }
  }
}

TEST(AudienceFilter, DepthLimit) {
  struct Row {
    std::string filter;
    bool ok;
    std::size_t column;
  };
  const std::vector<Row> rows = {
      {repeat("(", 64) + "has_phone()" + repeat(")", 64), true, 0},
      {repeat("(", 65) + "has_phone()" + repeat(")", 65), false, 65},
      {repeat("not ", 64) + "has_phone()", true, 0},
      {repeat("not ", 65) + "has_phone()", false, 4 * 64 + 1},
      {repeat("not (", 32) + "has_phone()" + repeat(")", 32), true, 0},
      {repeat("not (", 33) + "has_phone()" + repeat(")", 33), false, 5 * 32 + 1},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.filter);
    const CompiledFilter r = compile_filter(row.filter);
    EXPECT_EQ(r.ok(), row.ok) << (r.error ? r.error->to_string() : "");
    if (!row.ok && r.error) {
      EXPECT_EQ(r.error->column, row.column);
      EXPECT_NE(r.error->message.find("nested too deeply (more than 64 levels)"),
                std::string::npos);
    }
  }
}

TEST(AudienceFilter, DeepInputDoesNotExhaustTheStack) {
  FilterLimits limits;
  limits.max_bytes = 8 << 20;
  for (const std::string_view unit : {"(", "not ", "not ("}) {
    const CompiledFilter r =
        compile_filter(repeat(unit, 1 << 20) + "has_phone()", default_field_table(), limits);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error->message.find("nested too deeply"), std::string::npos);
  }
}

TEST(AudienceFilter, ParameterLimit) {
  FilterLimits limits;
  limits.max_params = 3;
  EXPECT_TRUE(compile_filter(R"(category in ("a", "b", "c"))", default_field_table(), limits).ok());
  const CompiledFilter r =
      compile_filter(R"(category in ("a", "b", "c", "d"))", default_field_table(), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->column, 1u);
  EXPECT_NE(r.error->message.find("too many values"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The field table is the only source of SQL names.

TEST(AudienceFilter, ColumnNamesComeFromTheFieldTable) {
  FieldTable table;
  table.fields = {{"commune", "x.commune_name", FieldType::kText, ""},
                  {"members", "x.member_count", FieldType::kInteger, ""}};
  table.opt_out_sms_column = "x.sms_off";
  table.opt_out_zalo_column = "x.zalo_off";
  table.has_zalo_column = "x.zalo";
  table.phone_column = "x.msisdn";
  // No attribute_sql: attr.* is unknown. No zalo_user_id_column: has_zalo() is one column.
  struct Row {
    std::string filter;
    std::string where;
    Params params;
  };
  const std::vector<Row> rows = {
      {R"(commune = "Xã Ea Tu" and members >= 4)",
       "(x.commune_name = ? AND x.member_count >= ?)",
       {s("Xã Ea Tu"), i(4)}},
      {R"(opted_out("sms") or opted_out("zalo"))", "(x.sms_off <> 0 OR x.zalo_off <> 0)", {}},
      {R"(not has_zalo() and has_phone())", "((x.zalo <> 0) IS NOT 1 AND x.msisdn <> '')", {}},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.filter);
    const CompiledFilter r = compile_filter(row.filter, table);
    ASSERT_TRUE(r.ok()) << r.error->to_string();
    EXPECT_EQ(r.sql.where, row.where);
    EXPECT_EQ(r.sql.params, row.params);
  }
  struct ErrorRow {
    std::string filter;
    std::string_view message;
  };
  const std::vector<ErrorRow> errors = {
      {R"(category = "poor")", "unknown field 'category'"},
      {R"(attr.x = 1)", "unknown field 'attr.x'"},
      {R"(members = "4")", "field 'members' holds whole numbers"},
  };
  for (const auto& row : errors) {
    SCOPED_TRACE(row.filter);
    const CompiledFilter r = compile_filter(row.filter, table);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error->message.find(row.message), std::string::npos) << r.error->to_string();
  }
}

TEST(AudienceFilter, CompilesAHandBuiltAst) {
  FilterNode leaf;
  leaf.kind = FilterNode::Kind::kCompare;
  leaf.column = 1;
  leaf.name = "language";
  leaf.values.push_back(FilterValue{std::string("jra"), 12});
  FilterNode root;
  root.kind = FilterNode::Kind::kNot;
  root.column = 1;
  root.children.push_back(leaf);
  const CompiledFilter r = compile_filter(root);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.sql.where, "(h.language = ?) IS NOT 1");
  EXPECT_EQ(r.sql.params, (Params{s("jra")}));
}

// ---------------------------------------------------------------------------------------------
// Robustness: token soup and raw bytes never crash, and placeholders always match parameters.

TEST(AudienceFilter, NeverCrashesOnGarbage) {
  const std::vector<std::string_view> pieces = {
      "category", "attr.x",     "commune", " = ",  " != ", " < ",        " >= ",
      " in ",     " not ",      " and ",   " or ", "(",    ")",          ",",
      "\"Xã\"",   "\"a\\\"b\"", "5",       "-7",   "true", "has_zalo()", "opted_out(\"sms\")",
      "\"",       "\\",         ";",       "'",    "\xff", "ư",          ".",
      "x",
  };
  std::uint32_t state = 7;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  std::size_t compiled = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string filter;
    const std::uint32_t len = next() % 12;
    for (std::uint32_t k = 0; k < len; ++k) filter += pieces[next() % pieces.size()];
    const CompiledFilter r = compile_filter(filter);
    if (r.ok()) {
      ++compiled;
      ASSERT_EQ(static_cast<std::size_t>(std::count(r.sql.where.begin(), r.sql.where.end(), '?')),
                r.sql.params.size())
          << filter;
    } else {
      ASSERT_GE(r.error->column, 1u) << filter;
      ASSERT_LE(r.error->column, filter.size() + 1) << filter;
      ASSERT_FALSE(r.error->message.empty()) << filter;
    }
  }
  EXPECT_GT(compiled, 0u);
}

}  // namespace
}  // namespace loa::campaigns
