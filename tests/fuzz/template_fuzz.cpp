// Fuzz target: the message templates operators write (templates/mustache.hpp) and the template
// library file they load (templates/template_file.hpp, TOML).
//
// Input: one option byte (bit 0: the text is a template library file rather than one Mustache
// template; bit 1: tight limits: depth 3, 256 bytes of output), then the text.
//
// Invariants checked, beyond "no crash, no leak, no UB, no stack overflow":
//  - a compile error has a message and a 1-based line and column (only "too large" has none);
//  - a compiled template renders against a household-like context (maps, a list, booleans,
//    null, Vietnamese and Ê Đê text) within max_output_bytes, as UTF-8 (the output is never cut
//    inside a character), the same way twice, and render_to appends exactly render's output;
//    every render issue and every variable use has a position; check() runs on any schema;
//  - a library file: every issue describes itself naming the file; every returned template
//    compiled without errors and its variants render.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "templates/mustache.hpp"
#include "templates/template_file.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace loa::templates;
using loa::fuzz::is_utf8;

const Value& household() {
  static const Value v = [] {
    Value members;
    members.push_back(Value::map({{"name", "Y Blin Niê"}, {"age", "42"}}));
    members.push_back(Value::map({{"name", "H'Hen Ênuôl"}, {"age", "9"}}));
    return Value::map({
        {"name", "Nguyễn Thị Hương"},
        {"household_code", "DL-01-0000001"},
        {"area", Value::map({{"province", "Đắk Lắk"}, {"commune", "Xã Ea Tu"},
                             {"village", "Buôn Kô Sir"}})},
        {"category", "Hộ nghèo"},
        {"has_zalo", true},
        {"opted_out", false},
        {"note", Value()},
        {"empty", ""},
        {"members", members},
        {"greeting_rad", "Kâo čang ƀuh ih"},
    });
  }();
  return v;
}

const std::vector<std::string>& schema() {
  static const std::vector<std::string> known = {
      "name", "household_code", "area.province", "area.commune", "area.village", "category",
      "has_zalo", "members", "members.name", "members.age"};
  return known;
}

void render_checks(const Template& t, const TemplateLimits& limits) {
  std::vector<RenderIssue> issues;
  const std::string out = t.render(household(), &issues);
  FUZZ_CHECK(out.size() <= limits.max_output_bytes, "output beyond max_output_bytes");
  FUZZ_CHECK(is_utf8(out), "rendered text is not UTF-8");
  for (const auto& i : issues) {
    FUZZ_CHECK(i.kind == RenderIssueKind::kOutputTruncated || (i.line >= 1 && i.column >= 1),
               "a render issue without a position: " + i.name);
  }
  std::string appended = "prefix:";
  t.render_to(appended, household());
  FUZZ_CHECK(appended == "prefix:" + out, "render_to differs from render");
  FUZZ_CHECK(t.render(household()) == out, "rendering is not deterministic");
  for (const auto& use : t.variables()) {
    FUZZ_CHECK(!use.name.empty() && use.line >= 1 && use.column >= 1, "a use without a position");
  }
  for (const auto& use : t.check(schema())) FUZZ_CHECK(!use.name.empty(), "unnamed missing use");
  (void)t.check({});
}

void mustache(std::string_view text, const TemplateLimits& limits) {
  const CompileResult compiled = Template::compile(text, limits);
  if (!compiled) {
    const TemplateError& e = compiled.error();
    FUZZ_CHECK(!e.message.empty(), "a compile error without a message");
    FUZZ_CHECK(e.code == TemplateErrorCode::kTooLarge || (e.line >= 1 && e.column >= 1),
               "a compile error without a position: " + e.message);
    return;
  }
  FUZZ_CHECK(is_utf8(text), "a template that is not UTF-8 compiled");
  render_checks(*compiled, limits);
}

void library_file(std::string_view text) {
  const TemplateFile file = parse_template_file(text, "fuzz.toml");
  for (const auto& issue : file.issues) {
    const std::string d = issue.describe();
    FUZZ_CHECK(d.rfind("fuzz.toml", 0) == 0, "an issue that does not name the file: " + d);
  }
  for (const auto& def : file.templates) {
    FUZZ_CHECK(!def.key().empty(), "a template without a key");
    for (const auto& variant : def.variants()) {
      render_checks(variant.text, TemplateLimits{});
      for (const auto& param : variant.zns_params) render_checks(param, TemplateLimits{});
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  loa::fuzz::FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  TemplateLimits limits;
  if (opt & 2) {
    limits.max_depth = 3;
    limits.max_output_bytes = 256;
  }
  if (opt & 1) {
    library_file(input.rest());
  } else {
    mustache(input.rest(), limits);
  }
  return 0;
}
