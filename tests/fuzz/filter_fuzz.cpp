// Fuzz target: the audience filter language (campaigns/audience_filter.hpp), what an operator
// types to pick households, parsed and compiled to a parameterised SQL WHERE fragment.
//
// Input: one option byte (bit 0: tight limits, so the depth and size checks are reached), then
// the filter text.
//
// Invariants checked, beyond "no crash, no leak, no UB, no stack overflow":
//  - an error has a 1-based column no further than one past the text's last code point, and a
//    message;
//  - a compiled filter has exactly one bound parameter per '?' and no more than max_params;
//  - no value reaches the SQL text: apart from the trusted "<> ''" of has_phone(), the WHERE
//    fragment holds no quote, no ';' and no comment, whatever the input;
//  - parse_filter + compile_filter(node) and compile_filter(text) agree.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "campaigns/audience_filter.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace loa::campaigns;

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

void check_error(const FilterError& e, std::string_view text) {
  FUZZ_CHECK(!e.message.empty(), "an error without a message");
  FUZZ_CHECK(e.column >= 1, "an error without a column: " + e.to_string());
  // Invalid UTF-8 counts each stray byte as a character at most.
  FUZZ_CHECK(e.column <= std::max(code_points(text), text.size()) + 1,
             "an error column beyond the text: " + e.to_string());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  loa::fuzz::FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  const std::string_view text = input.rest();
  FilterLimits limits;
  if (opt & 1) {
    limits.max_bytes = 256;
    limits.max_depth = 4;
    limits.max_params = 3;
  }

  const ParsedFilter parsed = parse_filter(text, limits);
  if (!parsed.ok()) {
    check_error(*parsed.error, text);
    return 0;
  }
  (void)describe(parsed.root);
  const CompiledFilter compiled = compile_filter(parsed.root, default_field_table(), limits);
  const CompiledFilter direct = compile_filter(text, default_field_table(), limits);
  FUZZ_CHECK(compiled.ok() == direct.ok(), "compile_filter(text) disagrees with parse + compile");
  if (!compiled.ok()) {
    check_error(*compiled.error, text);
    FUZZ_CHECK(direct.error->to_string() == compiled.error->to_string(), "different errors");
    return 0;
  }
  FUZZ_CHECK(compiled.sql.where == direct.sql.where && compiled.sql.params == direct.sql.params,
             "compile_filter(text) produced other SQL");
  const std::string& where = compiled.sql.where;
  const auto placeholders = static_cast<std::size_t>(std::count(where.begin(), where.end(), '?'));
  FUZZ_CHECK(placeholders == compiled.sql.params.size(),
             "placeholders and parameters differ: " + where);
  FUZZ_CHECK(compiled.sql.params.size() <= limits.max_params, "more parameters than max_params");
  std::string trusted = where;
  for (std::size_t at; (at = trusted.find("<> ''")) != std::string::npos;) trusted.erase(at, 5);
  FUZZ_CHECK(trusted.find_first_of("'\";") == std::string::npos &&
                 trusted.find("--") == std::string::npos && trusted.find("/*") == std::string::npos,
             "user text reached the SQL: " + where);
  return 0;
}
