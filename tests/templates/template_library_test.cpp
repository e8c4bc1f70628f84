// Tests for the template library: compiling sources, the TOML library file (positions in
// errors), validation before launch (variables, lengths, translations), Mustache edge cases as
// operators write them, and the shipped ops/examples/templates.toml.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "templates/library_validation.hpp"
#include "templates/rendered_message.hpp"
#include "templates/template_file.hpp"
#include "templates/template_library.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::templates {
namespace {

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

using Kind = TemplateIssue::Kind;

std::string describe_all(const std::vector<TemplateIssue>& issues) {
  std::string out;
  for (const TemplateIssue& issue : issues) out += issue.describe() + "\n";
  return out;
}

std::vector<TemplateIssue> errors_of(const std::vector<TemplateIssue>& issues) {
  std::vector<TemplateIssue> out;
  for (const TemplateIssue& issue : issues) {
    if (issue.is_error()) out.push_back(issue);
  }
  return out;
}

// Parses a library file and validates what compiled, as `loa templates load` does.
std::vector<TemplateIssue> load_issues(const std::string& toml, TemplateLibrary* library = nullptr,
                                       const ValidationContext& context = {}) {
  TemplateFile file = parse_template_file(toml, "lib.toml");
  TemplateLibrary compiled;
  for (TemplateDef& definition : file.templates) compiled.add(std::move(definition));
  auto more = validate_library(compiled, context);
  file.issues.insert(file.issues.end(), more.begin(), more.end());
  if (library != nullptr) *library = std::move(compiled);
  return file.issues;
}

// ---- The library file: errors name file, line, column, template, language, channel, variable --

struct FileErrorRow {
  std::string name;
  std::string toml;
  Kind kind;
  std::string expected;  // a substring of the one error's describe()
};

class TemplateFileErrorTest : public testing::TestWithParam<FileErrorRow> {};

TEST_P(TemplateFileErrorTest, NamesWhereAndWhat) {
  const FileErrorRow& row = GetParam();
  const auto errors = errors_of(load_issues(row.toml));
  ASSERT_EQ(errors.size(), 1u) << describe_all(errors);
  EXPECT_EQ(errors[0].kind, row.kind);
  EXPECT_NE(errors[0].describe().find(row.expected), std::string::npos) << errors[0].describe();
}

INSTANTIATE_TEST_SUITE_P(
    Table, TemplateFileErrorTest,
    testing::Values(
        // Line 3, the value's quote at column 6: "Chào " is 5 characters, so {{ is column 12.
        FileErrorRow{"unknown_variable_single_line",
                     "[templates.a.sms]\n\nvi = \"Chào {{nmae}}\"\n", Kind::kUnknownVariable,
                     "lib.toml:3:12: error: template 'a', language 'vi', channel 'sms', text 1:6: "
                     "unknown variable 'nmae'"},
        // In a multi-line string the text starts on the line after the quotes.
        FileErrorRow{"unknown_variable_multi_line",
                     "[templates.a.zalo_oa]\nvi = \"\"\"\nDòng một\nHộ {{area.comune}}\"\"\"\n",
                     Kind::kUnknownVariable,
                     "lib.toml:4:4: error: template 'a', language 'vi', channel 'zalo_oa', text "
                     "2:4: unknown variable 'area.comune'"},
        FileErrorRow{"unknown_campaign_variable",
                     "[templates.a.sms]\nvi = 'Gọi {{campaign.hotlne}}'\n", Kind::kUnknownVariable,
                     "lib.toml:2:11: error: template 'a', language 'vi', channel 'sms', text "
                     "1:5: unknown variable 'campaign.hotlne'"},
        FileErrorRow{"unknown_section", "[templates.a.sms]\nvi = \"{{#is_rich}}x{{/is_rich}}\"\n",
                     Kind::kUnknownVariable, "unknown section 'is_rich'"},
        FileErrorRow{"unclosed_tag", "[templates.a.sms]\nvi = \"Chào {{name\"\n", Kind::kSyntax,
                     "lib.toml:2:12: error: template 'a', language 'vi', channel 'sms', text "
                     "1:6: tag '{{' is never closed"},
        FileErrorRow{"unclosed_section",
                     "[templates.a.sms]\nrad = \"\"\"\nx\n{{#is_poor}}\ny\"\"\"\n", Kind::kSyntax,
                     "lib.toml:4:1: error: template 'a', language 'rad', channel 'sms', text 2:1: "
                     "section 'is_poor' is never closed"},
        // An escape sequence breaks the 1:1 mapping: the file line and the text position.
        FileErrorRow{"escaped_text_keeps_text_position",
                     "[templates.a.sms]\nvi = \"a\\tb {{nmae}}\"\n", Kind::kUnknownVariable,
                     "lib.toml:2: error: template 'a', language 'vi', channel 'sms', at text "
                     "1:5: unknown variable 'nmae'"},
        FileErrorRow{"control_character", "[templates.a.sms]\nvi = \"a\\u0007b\"\n", Kind::kSyntax,
                     "at text 1:2: control character U+0007 is not allowed"},
        FileErrorRow{"zns_variable",
                     "[templates.a.zalo_zns.vi]\ntemplate_id = \"123\"\n"
                     "[templates.a.zalo_zns.vi.params]\nten = \"{{ten_ho}}\"\n",
                     Kind::kUnknownVariable,
                     "lib.toml:4:8: error: template 'a', language 'vi', channel 'zalo_zns', text "
                     "1:1: unknown variable 'ten_ho' in ZNS parameter 'ten'"},
        FileErrorRow{"zns_param_name_with_diacritics",
                     "[templates.a.zalo_zns.vi]\ntemplate_id = \"123\"\nparams = { \"tên\" = "
                     "\"{{name}}\" }\n",
                     Kind::kSyntax, "ZNS parameter name 'tên' must be"},
        FileErrorRow{"zns_bad_template_id", "[templates.a.zalo_zns.vi]\ntemplate_id = \"12 34\"\n",
                     Kind::kSyntax, "template_id '12 34' must be"},
        FileErrorRow{"zns_free_text", "[templates.a.zalo_zns]\nvi = \"text\"\n", Kind::kSyntax,
                     "must be a table with template_id and params"},
        FileErrorRow{"bad_language", "[templates.a.sms]\nVietnamese = \"x\"\n", Kind::kSyntax,
                     "'Vietnamese' is not a language code"},
        FileErrorRow{"bad_key", "[templates.\"Bảo_hiểm\".sms]\nvi = \"x\"\n", Kind::kSyntax,
                     "the key must be 1-64 characters"},
        FileErrorRow{"unknown_template_field", "[templates.a]\ntopc = \"x\"\n", Kind::kSyntax,
                     "lib.toml:2: error: unknown key 'templates.a.topc'"},
        FileErrorRow{"unknown_root_key", "[template.a.sms]\nvi = \"x\"\n", Kind::kSyntax,
                     "unknown key 'template'"},
        FileErrorRow{"text_not_string", "[templates.a.sms]\nvi = 5\n", Kind::kSyntax,
                     "'templates.a.sms.vi' must be a string"},
        FileErrorRow{"toml_syntax", "[templates.a.sms\nvi = \"x\"\n", Kind::kSyntax, "lib.toml:1:"},
        FileErrorRow{"invalid_utf8_in_file", "[templates.a.sms]\nvi = \"ab\xFF\"\n", Kind::kSyntax,
                     "lib.toml:2:"},
        // Too long for the route (3 segments) with a sample household: 500 characters.
        FileErrorRow{"too_long_for_route",
                     "[templates.a.sms]\nvi = \"{{name}} " + std::string(500, 'x') + "\"\n",
                     Kind::kTooLong,
                     "template 'a', language 'vi', channel 'sms': cannot go on route 'sms' "
                     "(auto): text needs 4 SMS segments"},
        FileErrorRow{"zns_param_over_max_chars",
                     "[templates.a.zalo_zns.vi]\ntemplate_id = \"1\"\n"
                     "[templates.a.zalo_zns.vi.params]\nten = { value = \"{{name}}\", max_chars "
                     "= 5 }\n",
                     Kind::kTooLong, "ZNS parameter 'ten' is 14 characters; its limit is 5"}),
    row_name<FileErrorRow>);

TEST(TemplateFileTest, ReadsEveryChannel) {
  TemplateLibrary library;
  const auto issues = load_issues(R"(
[templates.ho_tro]
topic = "Hỗ trợ"
description = "Mô tả"
[templates.ho_tro.sms]
vi = "Kính gửi {{name}}"
rad = ""
[templates.ho_tro.zalo_oa]
vi = """
Dòng 1
{{#is_poor}}
Hộ nghèo
{{/is_poor}}
Dòng 2"""
[templates.ho_tro.zalo_zns.vi]
template_id = "231456"
[templates.ho_tro.zalo_zns.vi.params]
xa = "{{area.commune}}"
ten = { value = "{{name}}", max_chars = 30 }
)",
                                  &library);
  EXPECT_TRUE(errors_of(issues).empty()) << describe_all(issues);
  const TemplateDef* definition = library.find("ho_tro");
  ASSERT_NE(definition, nullptr);
  EXPECT_EQ(definition->source().topic, "Hỗ trợ");
  EXPECT_EQ(definition->source().description, "Mô tả");
  ASSERT_EQ(definition->variants().size(), 4u);
  const Variant* rad = definition->find("rad", Channel::kSms);
  ASSERT_NE(rad, nullptr);
  EXPECT_TRUE(rad->awaiting_translation());
  const Variant* zns = definition->find("vi", Channel::kZaloZns);
  ASSERT_NE(zns, nullptr);
  EXPECT_EQ(zns->source.zns_template_id, "231456");
  ASSERT_EQ(zns->source.zns_params.size(), 2u);
  EXPECT_EQ(zns->source.zns_params[0].name, "ten");  // sorted by name
  EXPECT_EQ(zns->source.zns_params[0].max_chars, 30u);
  EXPECT_EQ(zns->source.zns_params[1].name, "xa");
  // The awaiting variant is a warning that names the language its households get.
  bool warned = false;
  for (const TemplateIssue& issue : issues) {
    if (issue.kind == Kind::kAwaitingTranslation) {
      warned = true;
      EXPECT_EQ(issue.language, "rad");
      EXPECT_NE(issue.message.find("households speaking 'rad' get 'vi'"), std::string::npos);
    }
  }
  EXPECT_TRUE(warned);
  EXPECT_EQ(library.find("nothing"), nullptr);
}

TEST(TemplateFileTest, NoDefaultLanguageIsAWarning) {
  const auto issues = load_issues("[templates.a.sms]\nrad = \"Ƀuôn\"\n");
  ASSERT_TRUE(errors_of(issues).empty()) << describe_all(issues);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, Kind::kNoDefaultLanguage);
  EXPECT_FALSE(issues[0].is_error());
}

TEST(TemplateFileTest, TextsAreStoredInNfc) {
  TemplateLibrary library;
  const auto issues =
      load_issues("[templates.a.sms]\nvi = \"Tie\u0302\u0301ng Vie\u0323\u0302t\"\n", &library);
  ASSERT_TRUE(errors_of(issues).empty()) << describe_all(issues);
  EXPECT_EQ(library.find("a")->find("vi", Channel::kSms)->source.text, "Tiếng Việt");
}

TEST(TemplateFileTest, SameContentCompares) {
  TemplateLibrary first;
  TemplateLibrary second;
  load_issues("[templates.a.sms]\nvi = \"x {{name}}\"\nrad = \"\"\n", &first);
  load_issues("\n\n[templates.a.sms]\nrad = ''\nvi = 'x {{name}}'\n", &second);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  // Locations differ; content does not.
  EXPECT_EQ(first.find("a")->source(), second.find("a")->source());
}

TEST(TemplateFileTest, RouteModeRefusesTemplateText) {
  ValidationContext context;
  context.routes.sms.sms_mode = SmsMode::kGsm7Strict;
  const auto errors =
      errors_of(load_issues("[templates.a.sms]\nvi = \"Hộ nghèo\"\n", nullptr, context));
  ASSERT_EQ(errors.size(), 1u) << describe_all(errors);
  EXPECT_EQ(errors[0].kind, Kind::kRoute);
  EXPECT_NE(errors[0].message.find("cannot go on route 'sms' (gsm7_strict)"), std::string::npos)
      << errors[0].message;
}

// ---- Mustache edge cases, as operators write them ----------------------------------------------

struct MustacheRow {
  std::string name;
  std::string text;
  std::string household_language;
  std::string expected;
};

class MustacheEdgeTest : public testing::TestWithParam<MustacheRow> {};

TEST_P(MustacheEdgeTest, RendersAsSent) {
  const MustacheRow& row = GetParam();
  TemplateSource source;
  source.key = "edge";
  VariantSource variant;
  variant.language = "vi";
  variant.channel = Channel::kZaloOa;
  variant.text = row.text;
  source.variants.push_back(variant);
  std::vector<TemplateIssue> issues;
  const auto definition = compile_template(source, issues);
  ASSERT_TRUE(definition.has_value()) << describe_all(issues);
  const auto check = validate_template(*definition, ValidationContext{});
  EXPECT_TRUE(errors_of(check).empty()) << describe_all(check);

  HouseholdVariables household = sample_households()[1];  // H'Ƀlơi Mlô, rad, poor
  household.attributes = {{"so_the_bhyt", "DN4661234567890"}};
  auto context = make_context(household, sample_campaign());
  ASSERT_TRUE(context.ok());
  const RenderedMessage message = render_message(*definition, Channel::kZaloOa, *context,
                                                 row.household_language, FallbackChain(), {});
  ASSERT_TRUE(message.ok()) << message.errors.front();
  EXPECT_EQ(message.text, row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MustacheEdgeTest,
    testing::Values(
        MustacheRow{"triple_and_ampersand_do_not_escape", "{{{name}}} & {{&name}} <b>", "rad",
                    "H'Ƀlơi Mlô & H'Ƀlơi Mlô <b>"},
        MustacheRow{"flag_section", "{{#is_poor}}Hộ nghèo{{/is_poor}}{{^is_poor}}khác{{/is_poor}}",
                    "rad", "Hộ nghèo"},
        MustacheRow{"standalone_section_lines_vanish",
                    "a\n{{#is_near_poor}}\nx\n{{/is_near_poor}}\nb", "rad", "a\nb"},
        MustacheRow{"crlf_standalone_and_text", "a\r\n{{#is_poor}}\r\nb\r\n{{/is_poor}}\r\nc",
                    "rad", "a\nb\nc"},  // CR LF becomes LF (clean_text.hpp)
        MustacheRow{"area_section_scope", "{{#area}}{{village}}, {{commune}}{{/area}}", "rad",
                    "Buôn 13, Xã Ea Kar"},
        MustacheRow{"attribute", "Thẻ {{attr.so_the_bhyt}}", "rad", "Thẻ DN4661234567890"},
        MustacheRow{"missing_attribute_renders_empty", "[{{attr.khong_co}}]", "rad", "[]"},
        MustacheRow{"comment_dropped", "a{{! ghi chú cho người dịch }}b", "rad", "ab"},
        MustacheRow{"tab_in_template_becomes_space", "a\tb", "rad", "a b"},
        MustacheRow{"decomposed_source_sent_nfc", "Vie\u0323\u0302t", "rad", "Việt"},
        MustacheRow{"language_variable", "{{language}}/{{category}}", "rad", "rad/poor"}),
    row_name<MustacheRow>);

TEST(MustacheEdgeTest, UnknownAttributeSectionIsAccepted) {
  TemplateSource source;
  source.key = "a";
  source.variants.push_back({"vi", Channel::kSms, "{{#attr}}{{so_the}}{{/attr}}", "", {}, {}});
  std::vector<TemplateIssue> issues;
  const auto definition = compile_template(source, issues);
  ASSERT_TRUE(definition.has_value());
  EXPECT_TRUE(errors_of(validate_template(*definition, ValidationContext{})).empty());
}

TEST(CompileTemplateTest, DuplicateVariantsAndZnsTextAreErrors) {
  TemplateSource source;
  source.key = "a";
  source.variants.push_back({"vi", Channel::kSms, "x", "", {}, {}});
  source.variants.push_back({"vi", Channel::kSms, "y", "", {}, {}});
  source.variants.push_back({"vi", Channel::kZaloZns, "free text", "1", {}, {}});
  std::vector<TemplateIssue> issues;
  EXPECT_FALSE(compile_template(source, issues).has_value());
  const std::string text = describe_all(issues);
  EXPECT_NE(text.find("defined twice"), std::string::npos) << text;
  EXPECT_NE(text.find("a zalo_zns variant takes no free text"), std::string::npos) << text;
}

TEST(CompileTemplateTest, InvalidUtf8InTemplateIsAnError) {
  TemplateSource source;
  source.key = "a";
  source.variants.push_back({"vi", Channel::kSms, "Hộ\nx\xFF", "", {}, {}});
  std::vector<TemplateIssue> issues;
  EXPECT_FALSE(compile_template(source, issues).has_value());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].line, 2u);
  EXPECT_EQ(issues[0].column, 2u);
  EXPECT_NE(issues[0].message.find("invalid UTF-8"), std::string::npos);
}

TEST(LanguageCodeTest, Codes) {
  for (const char* good : {"vi", "rad", "cmo", "jra", "vi-VN", "en-Latn-US"}) {
    EXPECT_TRUE(is_language_code(good)) << good;
  }
  for (const char* bad : {"", "v", "vien", "VI", "vi-", "vi--VN", "Ê Đê", "vi_VN"}) {
    EXPECT_FALSE(is_language_code(bad)) << bad;
  }
}

// ---- The shipped library -----------------------------------------------------------------------

std::string read_source(const std::string& path) {
  std::ifstream in(loa::test::source_dir() / path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ExampleLibraryTest, LoadsWithoutErrorsAndCoversThePlan) {
  const std::string toml = read_source("ops/examples/templates.toml");
  ASSERT_FALSE(toml.empty());
  TemplateLibrary library;
  const auto issues = load_issues(toml, &library);
  EXPECT_TRUE(errors_of(issues).empty()) << describe_all(errors_of(issues));
  // The plan's topics: programme goals, support policies, vocational training and jobs,
  // health insurance, how to ask, how to stop.
  for (const char* key : {"muc_tieu_chuong_trinh", "chinh_sach_ho_ngheo", "dao_tao_nghe_viec_lam",
                          "ho_tro_bhyt", "hoi_dap", "ngung_nhan_tin"}) {
    const TemplateDef* definition = library.find(key);
    ASSERT_NE(definition, nullptr) << key;
    const Variant* vi = definition->find("vi", Channel::kSms);
    ASSERT_NE(vi, nullptr) << key;
    EXPECT_FALSE(vi->awaiting_translation()) << key;
  }
  // No invented translations: every Ê Đê, M'nông and Jarai variant is empty.
  std::size_t minority = 0;
  for (const TemplateDef& definition : library.templates()) {
    for (const Variant& variant : definition.variants()) {
      if (variant.language() == "vi") continue;
      ++minority;
      EXPECT_TRUE(variant.awaiting_translation()) << definition.key() << " " << variant.language();
    }
  }
  EXPECT_GT(minority, 0u);
  // A ZNS parameter set exists.
  const Variant* zns = library.find("ho_tro_bhyt")->find("vi", Channel::kZaloZns);
  ASSERT_NE(zns, nullptr);
  EXPECT_FALSE(zns->source.zns_params.empty());
}

TEST(ExampleLibraryTest, EveryHouseholdGetsEveryTemplateWithinTheRoute) {
  TemplateLibrary library;
  load_issues(read_source("ops/examples/templates.toml"), &library);
  ASSERT_FALSE(library.empty());
  RouteTable routes;
  routes.sms.price_vnd = 800;
  routes.zalo_zns.price_vnd = 200;
  for (const HouseholdVariables& household : sample_households()) {
    auto context = make_context(household, sample_campaign());
    ASSERT_TRUE(context.ok());
    for (const TemplateDef& definition : library.templates()) {
      for (const Channel channel : kAllChannels) {
        if (!definition.has_channel(channel)) continue;
        const RenderedMessage message = render_message(definition, channel, *context,
                                                       household.language, FallbackChain(), routes);
        SCOPED_TRACE(definition.key() + " " + std::string(to_string(channel)) + " " +
                     household.name);
        ASSERT_TRUE(message.ok()) << message.errors.front();
        EXPECT_TRUE(message.missing.empty());
        EXPECT_EQ(message.language.language, "vi");
        EXPECT_EQ(message.language.fell_back(), household.language != "vi");
        if (channel == Channel::kSms) {
          EXPECT_LE(message.units, 3u);
          EXPECT_EQ(message.cost_vnd, 800 * static_cast<std::int64_t>(message.units));
        }
      }
    }
  }
}

}  // namespace
}  // namespace loa::templates
