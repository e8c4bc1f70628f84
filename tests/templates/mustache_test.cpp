// Tests for templates/mustache: rendering, standalone lines, no escaping, byte-exact Vietnamese,
// compile errors with line:column, variables()/check(), missing-variable reports and limits.
#include "templates/mustache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loa::templates {
namespace {

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

Value household() {
  return Value::map({
      {"name", "Nguyễn Thị Hoa"},
      {"poor", true},
      {"near_poor", false},
      {"note", ""},
      {"nothing", Value()},
      {"area", Value::map({{"commune", "Ea Kao"}, {"village", "Buôn Ko Tam"}})},
      {"members", Value::List{Value::map({{"name", "Hoa"}}), Value::map({{"name", "Y Bhim"}})}},
      {"phones", Value::List{"0912345678", "0987654321"}},
      {"empty_list", Value::List{}},
      {"markup", "<b>&amp;</b> \"x\" 'y'"},
  });
}

std::string describe(const RenderIssue& issue) {
  std::string kind;
  switch (issue.kind) {
    case RenderIssueKind::kMissing:
      kind = "missing";
      break;
    case RenderIssueKind::kNotScalar:
      kind = "not_scalar";
      break;
    case RenderIssueKind::kOutputTruncated:
      kind = "truncated";
      break;
  }
  return kind + " " + issue.name + " " + std::to_string(issue.line) + ":" +
         std::to_string(issue.column);
}

// ---- Rendering ---------------------------------------------------------------------------------

struct RenderRow {
  std::string name;
  std::string source;
  std::string expected;
  std::vector<std::string> issues;  // describe() of each reported issue
};

class RenderTest : public testing::TestWithParam<RenderRow> {};

TEST_P(RenderTest, Renders) {
  const RenderRow& row = GetParam();
  const auto compiled = Template::compile(row.source);
  ASSERT_TRUE(compiled.ok()) << compiled.error().line << ":" << compiled.error().column << ": "
                             << compiled.error().message;
  const Value context = household();
  std::vector<RenderIssue> issues;
  EXPECT_EQ(compiled->render(context, &issues), row.expected);
  std::vector<std::string> described;
  for (const RenderIssue& issue : issues) described.push_back(describe(issue));
  EXPECT_EQ(described, row.issues);
  // Rendering is repeatable and does not depend on whether issues are collected.
  EXPECT_EQ(compiled->render(context), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RenderTest,
    testing::Values(
        RenderRow{"plain_text", "Xin chào bà con", "Xin chào bà con", {}},
        RenderRow{"empty_template", "", "", {}},
        RenderRow{"variable", "Kính gửi {{name}}!", "Kính gửi Nguyễn Thị Hoa!", {}},
        RenderRow{
            "variable_padded", "{{ name }}|{{\tname\t}}", "Nguyễn Thị Hoa|Nguyễn Thị Hoa", {}},
        RenderRow{"dotted", "{{area.commune}}, {{area.village}}", "Ea Kao, Buôn Ko Tam", {}},
        RenderRow{
            "dotted_missing_part", "[{{area.district}}]", "[]", {"missing area.district 1:2"}},
        RenderRow{"dotted_through_scalar", "[{{name.first}}]", "[]", {"missing name.first 1:2"}},
        RenderRow{"bool_variable", "{{poor}}/{{near_poor}}", "true/false", {}},
        RenderRow{"section_true", "{{#poor}}Hộ nghèo{{/poor}}", "Hộ nghèo", {}},
        RenderRow{"section_false", "[{{#near_poor}}x{{/near_poor}}]", "[]", {}},
        RenderRow{
            "section_empty_string_is_falsy", "[{{#note}}Ghi chú: {{note}}{{/note}}]", "[]", {}},
        RenderRow{"section_null_is_falsy", "[{{#nothing}}x{{/nothing}}]", "[]", {}},
        RenderRow{"section_map_pushes_context",
                  "{{#area}}{{commune}} / {{name}}{{/area}}",
                  "Ea Kao / Nguyễn Thị Hoa",
                  {}},
        RenderRow{
            "section_string_pushes_itself", "{{#name}}<{{.}}>{{/name}}", "<Nguyễn Thị Hoa>", {}},
        RenderRow{"inverted_false", "{{^near_poor}}không{{/near_poor}}", "không", {}},
        RenderRow{"inverted_true", "[{{^poor}}x{{/poor}}]", "[]", {}},
        RenderRow{"inverted_empty_list", "{{^empty_list}}trống{{/empty_list}}", "trống", {}},
        RenderRow{"inverted_null", "{{^nothing}}không có{{/nothing}}", "không có", {}},
        RenderRow{"list_of_maps", "{{#members}}[{{name}}]{{/members}}", "[Hoa][Y Bhim]", {}},
        RenderRow{"list_of_strings", "{{#phones}}{{.}};{{/phones}}", "0912345678;0987654321;", {}},
        RenderRow{"list_empty", "[{{#empty_list}}x{{/empty_list}}]", "[]", {}},
        RenderRow{"list_item_falls_back_to_outer",
                  "{{#members}}{{name}}@{{area.commune}} {{/members}}",
                  "Hoa@Ea Kao Y Bhim@Ea Kao ",
                  {}},
        RenderRow{"nested_sections",
                  "{{#poor}}{{#members}}{{name}},{{/members}}{{/poor}}",
                  "Hoa,Y Bhim,",
                  {}},
        RenderRow{"comment", "a{{! ghi chú }}b", "ab", {}},
        RenderRow{"comment_joins_text_not_sections",
                  "a{{! x }}b{{#near_poor}}c{{/near_poor}}d",
                  "abd",
                  {}},
        RenderRow{"comment_multiline", "a{{! dòng 1\n dòng 2 }}b", "ab", {}},
        RenderRow{"no_escaping",
                  "{{markup}}|{{{markup}}}|{{& markup}}",
                  "<b>&amp;</b> \"x\" 'y'|<b>&amp;</b> \"x\" 'y'|<b>&amp;</b> \"x\" 'y'",
                  {}},
        RenderRow{"literal_markup_untouched",
                  "<a href=\"x?a=1&b=2\">{{name}}</a>",
                  "<a href=\"x?a=1&b=2\">Nguyễn Thị Hoa</a>",
                  {}},
        RenderRow{"single_braces_are_text", "{x} { {name} }", "{x} { {name} }", {}},
        RenderRow{"vietnamese_byte_exact",
                  "Đắk Lắk: {{name}}, hộ nghèo được hỗ trợ bảo hiểm y tế.",
                  "Đắk Lắk: Nguyễn Thị Hoa, hộ nghèo được hỗ trợ bảo hiểm y tế.",
                  {}},
        // Templates do not normalise: decomposed text passes through byte for byte.
        RenderRow{"decomposed_text_preserved",
                  "Tie\u0302\u0301ng {{name}}",
                  "Tie\u0302\u0301ng Nguyễn Thị Hoa",
                  {}},
        RenderRow{"ede_text_preserved",
                  "Ƀuôn Rĭt ê\u0306: {{area.village}}",
                  "Ƀuôn Rĭt ê\u0306: Buôn Ko Tam",
                  {}},
        // Standalone block tags remove their line.
        RenderRow{"standalone_lines",
                  "Kính gửi {{name}},\n{{#poor}}\nHộ nghèo\n{{/poor}}\nCảm ơn",
                  "Kính gửi Nguyễn Thị Hoa,\nHộ nghèo\nCảm ơn",
                  {}},
        RenderRow{
            "standalone_indented_crlf", "a\r\n  {{#poor}}  \r\nb\r\n\t{{/poor}}", "a\r\nb\r\n", {}},
        RenderRow{"standalone_comment", "a\n{{! bỏ qua }}\nb", "a\nb", {}},
        RenderRow{"standalone_inverted", "a\n{{^poor}}\nx\n{{/poor}}\nb", "a\nb", {}},
        RenderRow{"inline_section_keeps_spaces", " {{#poor}}x{{/poor}} \n", " x \n", {}},
        RenderRow{"variable_line_is_not_standalone", "a\n{{note}}\nb", "a\n\nb", {}},
        // Missing names render empty and are reported with their position.
        RenderRow{"missing_variable", "Chào {{ten}}!", "Chào !", {"missing ten 1:6"}},
        RenderRow{"missing_position_counts_characters",
                  "Hộ nghèo {{x}}",
                  "Hộ nghèo ",
                  {"missing x 1:10"}},
        RenderRow{"missing_on_line_two", "a\nbc {{x}}", "a\nbc ", {"missing x 2:4"}},
        RenderRow{"missing_in_list_reported_once",
                  "{{#members}}{{age}}.{{/members}}",
                  "..",
                  {"missing age 1:13"}},
        RenderRow{"missing_section", "[{{#unknown}}x{{/unknown}}]", "[]", {"missing unknown 1:2"}},
        RenderRow{
            "missing_inverted_section", "{{^unknown}}x{{/unknown}}", "x", {"missing unknown 1:1"}},
        RenderRow{"null_variable", "[{{nothing}}]", "[]", {"missing nothing 1:2"}},
        RenderRow{"list_as_variable", "[{{members}}]", "[]", {"not_scalar members 1:2"}},
        RenderRow{"map_as_variable", "[{{area}}]", "[]", {"not_scalar area 1:2"}}),
    row_name<RenderRow>);

TEST(RenderTest, CompileOnceRenderMany) {
  const auto compiled = Template::compile("Kính gửi {{name}} ({{area.commune}})");
  ASSERT_TRUE(compiled.ok());
  const Template& tmpl = *compiled;
  const Value a = Value::map({{"name", "A"}, {"area", Value::map({{"commune", "X"}})}});
  const Value b = Value::map({{"name", "B"}, {"area", Value::map({{"commune", "Y"}})}});
  EXPECT_EQ(tmpl.render(a), "Kính gửi A (X)");
  EXPECT_EQ(tmpl.render(b), "Kính gửi B (Y)");
  std::string buffer = "> ";
  tmpl.render_to(buffer, a);
  EXPECT_EQ(buffer, "> Kính gửi A (X)");
  const Template copy = tmpl;
  EXPECT_EQ(copy.render(b), "Kính gửi B (Y)");
}

TEST(RenderTest, DefaultTemplateRendersEmpty) {
  EXPECT_EQ(Template().render(household()), "");
  EXPECT_TRUE(Template().variables().empty());
}

TEST(RenderTest, OutputLimitStopsAtAPieceBoundary) {
  TemplateLimits limits;
  limits.max_output_bytes = 15;
  const auto compiled = Template::compile("{{#phones}}{{.}};{{/phones}}", limits);
  ASSERT_TRUE(compiled.ok());
  std::vector<RenderIssue> issues;
  EXPECT_EQ(compiled->render(household(), &issues), "0912345678;");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, RenderIssueKind::kOutputTruncated);

  // Multi-byte characters are never cut: "Hộ" is 1 + 3 bytes.
  limits.max_output_bytes = 3;
  const auto vietnamese = Template::compile("{{name}}", limits);
  ASSERT_TRUE(vietnamese.ok());
  EXPECT_EQ(vietnamese->render(Value::map({{"name", "Hộ"}})), "");
}

// ---- Compile errors ----------------------------------------------------------------------------

struct ErrorRow {
  std::string name;
  std::string source;
  TemplateErrorCode code;
  std::size_t line;
  std::size_t column;
  std::string message_contains;
};

class CompileErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(CompileErrorTest, Reports) {
  const ErrorRow& row = GetParam();
  const auto compiled = Template::compile(row.source);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().code, row.code);
  EXPECT_EQ(compiled.error().line, row.line);
  EXPECT_EQ(compiled.error().column, row.column);
  EXPECT_NE(compiled.error().message.find(row.message_contains), std::string::npos)
      << compiled.error().message;
}

std::string nested(std::size_t depth) {
  std::string source;
  for (std::size_t i = 0; i < depth; ++i) source += "{{#a}}";
  for (std::size_t i = 0; i < depth; ++i) source += "{{/a}}";
  return source;
}

using Code = TemplateErrorCode;

INSTANTIATE_TEST_SUITE_P(
    Table, CompileErrorTest,
    testing::Values(
        ErrorRow{"unclosed_tag", "Xin chào {{name", Code::kUnclosedTag, 1, 10, "{{"},
        ErrorRow{"unclosed_tag_line_two", "a\nHộ {{name\n}", Code::kUnclosedTag, 2, 4, "{{"},
        ErrorRow{"unclosed_triple", "{{{name}}", Code::kUnclosedTag, 1, 1, "}}}"},
        ErrorRow{"mismatched_close", "{{#poor}}\n  x {{/near_poor}}", Code::kMismatchedClose, 2, 5,
                 "section 'poor' opened at line 1, column 1"},
        ErrorRow{"mismatched_close_nested", "{{#a}}{{#b}}{{/a}}{{/b}}", Code::kMismatchedClose, 1,
                 13, "'b'"},
        ErrorRow{"unexpected_close", "x{{/a}}", Code::kUnexpectedClose, 1, 2, "{{/a}}"},
        ErrorRow{"unclosed_section", "a\n{{#poor}}x", Code::kUnclosedSection, 2, 1, "{{/poor}}"},
        ErrorRow{"unclosed_inner_section", "{{#a}}\n{{^b}}{{/a}}", Code::kMismatchedClose, 2, 7,
                 "'b'"},
        ErrorRow{"empty_name", "Chào {{}}", Code::kEmptyName, 1, 6, "empty"},
        ErrorRow{"empty_name_spaces", "{{  }}", Code::kEmptyName, 1, 1, "empty"},
        ErrorRow{"empty_section_name", "{{#}}{{/}}", Code::kEmptyName, 1, 1, "empty"},
        ErrorRow{"empty_ampersand_name", "{{&}}", Code::kEmptyName, 1, 1, "empty"},
        ErrorRow{"empty_triple_name", "{{{ }}}", Code::kEmptyName, 1, 1, "empty"},
        ErrorRow{"name_with_space", "{{ho ten}}", Code::kInvalidName, 1, 1, "ho ten"},
        ErrorRow{"name_double_dot", "{{area..commune}}", Code::kInvalidName, 1, 1, "dotted"},
        ErrorRow{"name_leading_dot", "{{.area}}", Code::kInvalidName, 1, 1, "dotted"},
        ErrorRow{"name_trailing_dot", "{{area.}}", Code::kInvalidName, 1, 1, "dotted"},
        ErrorRow{"name_with_brace", "{{{a}b}}}", Code::kInvalidName, 1, 1, "braces"},
        ErrorRow{"partial_unsupported", "{{>footer}}", Code::kUnsupportedTag, 1, 1, "partials"},
        ErrorRow{"delimiters_unsupported", "x\n {{=<% %>=}}", Code::kUnsupportedTag, 2, 2,
                 "delimiter"},
        ErrorRow{"invalid_utf8", "ab\n c\xFF", Code::kInvalidUtf8, 2, 3, "UTF-8"},
        ErrorRow{"too_deep", nested(33), Code::kTooDeep, 1, 193, "32"},
        ErrorRow{"too_large", std::string(64 * 1024 + 1, 'a'), Code::kTooLarge, 0, 0, "65536"}),
    row_name<ErrorRow>);

TEST(CompileLimitsTest, AtTheLimitsCompiles) {
  EXPECT_TRUE(Template::compile(nested(32)).ok());
  EXPECT_TRUE(Template::compile(std::string(64 * 1024, 'a')).ok());
  TemplateLimits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(Template::compile(nested(2), limits).ok());
  const auto too_deep = Template::compile(nested(3), limits);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().code, TemplateErrorCode::kTooDeep);
  limits.max_source_bytes = 4;
  EXPECT_EQ(Template::compile("abcde", limits).error().code, TemplateErrorCode::kTooLarge);
}

// ---- variables() and check() -------------------------------------------------------------------

TEST(VariablesTest, ListsEveryUseInOrder) {
  const auto compiled = Template::compile(
      "Chào {{name}}\n"
      "{{#members}}{{name}} {{age}}{{/members}}{{^poor}}{{area.commune}}{{/poor}}{{! x }}{{.}}");
  ASSERT_TRUE(compiled.ok());
  struct Expected {
    std::string name;
    UseKind kind;
    std::size_t line;
    std::size_t column;
    std::vector<std::string> sections;
  };
  const std::vector<Expected> expected = {
      {"name", UseKind::kVariable, 1, 6, {}},
      {"members", UseKind::kSection, 2, 1, {}},
      {"name", UseKind::kVariable, 2, 13, {"members"}},
      {"age", UseKind::kVariable, 2, 22, {"members"}},
      {"poor", UseKind::kInverted, 2, 41, {}},
      {"area.commune", UseKind::kVariable, 2, 50, {"poor"}},
      {".", UseKind::kVariable, 2, 83, {}},
  };
  const std::vector<VariableUse>& uses = compiled->variables();
  ASSERT_EQ(uses.size(), expected.size());
  for (std::size_t i = 0; i < uses.size(); ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(uses[i].name, expected[i].name);
    EXPECT_EQ(uses[i].kind, expected[i].kind);
    EXPECT_EQ(uses[i].line, expected[i].line);
    EXPECT_EQ(uses[i].column, expected[i].column);
    EXPECT_EQ(uses[i].sections, expected[i].sections);
  }
}

struct CheckRow {
  std::string name;
  std::string source;
  std::vector<std::string> known;
  std::vector<std::string> missing;  // "name line:column"
};

class CheckTest : public testing::TestWithParam<CheckRow> {};

TEST_P(CheckTest, ReportsUnknownNames) {
  const CheckRow& row = GetParam();
  const auto compiled = Template::compile(row.source);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  std::vector<std::string> missing;
  for (const VariableUse& use : compiled->check(row.known)) {
    missing.push_back(use.name + " " + std::to_string(use.line) + ":" + std::to_string(use.column));
  }
  EXPECT_EQ(missing, row.missing);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CheckTest,
    testing::Values(
        CheckRow{"all_known", "{{name}} {{area.commune}}", {"name", "area.commune"}, {}},
        CheckRow{
            "one_missing", "Chào {{name}},\nxã {{area.commune}}", {"name"}, {"area.commune 2:4"}},
        CheckRow{"prefix_of_known_is_known", "{{#area}}{{commune}}{{/area}}", {"area.commune"}, {}},
        CheckRow{
            "known_map_does_not_imply_fields", "{{area.commune}}", {"area"}, {"area.commune 1:1"}},
        CheckRow{"list_item_fields",
                 "{{#members}}{{name}} {{age}}{{/members}}",
                 {"members.name"},
                 {"age 1:22"}},
        CheckRow{"outer_name_inside_section",
                 "{{#members}}{{phone}}{{/members}}",
                 {"members", "phone"},
                 {}},
        CheckRow{"inverted_does_not_push_scope",
                 "{{^poor}}{{reason}}{{/poor}}",
                 {"poor", "poor.reason"},
                 {"reason 1:10"}},
        CheckRow{"missing_section_and_inside", "{{#x}}{{y}}{{/x}}", {}, {"x 1:1", "y 1:7"}},
        CheckRow{"dot_always_known", "{{#phones}}{{.}}{{/phones}}", {"phones"}, {}},
        CheckRow{
            "scope_closes", "{{#area}}{{/area}}{{commune}}", {"area.commune"}, {"commune 1:19"}}),
    row_name<CheckRow>);

// ---- Value -------------------------------------------------------------------------------------

TEST(ValueTest, Truthiness) {
  EXPECT_FALSE(Value().truthy());
  EXPECT_FALSE(Value(false).truthy());
  EXPECT_TRUE(Value(true).truthy());
  EXPECT_FALSE(Value("").truthy());
  EXPECT_TRUE(Value("0").truthy());
  EXPECT_FALSE(Value(Value::List{}).truthy());
  EXPECT_TRUE(Value(Value::List{Value()}).truthy());
  EXPECT_TRUE(Value::map({}).truthy());
  EXPECT_TRUE(Value(static_cast<const char*>(nullptr)).is_null());
}

TEST(ValueTest, MapSetFindAndReplace) {
  Value value = Value::map({{"b", "1"}, {"a", "2"}, {"b", "3"}});
  ASSERT_NE(value.find("b"), nullptr);
  EXPECT_EQ(*value.find("b")->as_string(), "3");  // last duplicate wins
  EXPECT_EQ(value.as_map()->size(), 2u);
  EXPECT_EQ(value.as_map()->front().first, "a");  // kept sorted
  value.set("c", true).set("a", Value::List{"x"});
  EXPECT_EQ(value.find("c")->kind(), Value::Kind::kBool);
  EXPECT_EQ(value.find("a")->as_list()->size(), 1u);
  EXPECT_EQ(value.find("missing"), nullptr);
  EXPECT_EQ(Value("text").find("a"), nullptr);

  Value list;
  list.push_back("x").push_back(std::string("y"));
  EXPECT_EQ(list.kind(), Value::Kind::kList);
  EXPECT_EQ(list.as_list()->size(), 2u);
}

}  // namespace
}  // namespace loa::templates
