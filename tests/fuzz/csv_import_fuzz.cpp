// Fuzz target: the contact import, a commune's household list as a CSV file
// (campaigns/csv_reader.hpp, campaigns/household_import.hpp).
//
// Input: one option byte, then the file. The option byte picks the delimiter (detected, ',',
// ';', tab), a tiny read chunk (so records straddle chunk ends), a small record limit, blank
// lines kept, and whether the import pre-scans the encoding.
//
// Invariants checked, beyond "no crash, no leak, no UB":
//  - CsvReader: terminates; record lines are 1-based and never go back; a record respects
//    max_fields and max_record_bytes; with UTF-8 validation on, every field is UTF-8; every
//    error says "line N: " and has a code; the records and errors do not depend on the chunk
//    size (the same file read in 64 KiB and in tiny chunks gives the same result).
//  - HouseholdImport: rows = accepted + rejected; the sink sees exactly `accepted` households,
//    on increasing lines after the header, with UTF-8 text and a phone that is empty or
//    "+<digits>"; a refused file (bad encoding, bad header) writes nothing when the encoding is
//    pre-scanned; every issue names a line.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "campaigns/csv_reader.hpp"
#include "campaigns/household_import.hpp"
#include "campaigns/import_messages.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace loa::campaigns;
using loa::fuzz::FuzzInput;
using loa::fuzz::is_utf8;

struct Outcome {
  std::vector<std::vector<std::string>> records;
  std::vector<std::uint64_t> lines;
  std::vector<std::string> errors;
  char delimiter = 0;
  bool operator==(const Outcome&) const = default;
};

Outcome read_all(std::string_view text, const CsvOptions& options) {
  std::istringstream in{std::string(text)};
  CsvReader reader(in, options);
  CsvRecord record;
  CsvError error;
  Outcome out;
  std::uint64_t last_line = 0;
  std::size_t calls = 0;
  while (reader.next(record, error)) {
    FUZZ_CHECK(++calls <= text.size() + 2, "CsvReader returned more records than input bytes");
    if (error) {
      FUZZ_CHECK(error.message.rfind("line ", 0) == 0, "error without its line: " + error.message);
      FUZZ_CHECK(error.line >= 1 && error.record_line >= 1, error.message);
      FUZZ_CHECK(record.empty(), "an error came with a record");
      FUZZ_CHECK(error.record_line >= last_line, "lines went back: " + error.message);
      last_line = error.record_line;
      out.errors.push_back(error.message);
      continue;
    }
    FUZZ_CHECK(record.line() >= 1 && record.line() >= last_line, "record lines went back");
    last_line = record.line();
    FUZZ_CHECK(record.size() <= options.max_fields, "more fields than max_fields");
    std::size_t bytes = 0;
    std::vector<std::string> fields;
    for (const auto f : record.fields()) {
      bytes += f.size();
      if (options.validate_utf8) FUZZ_CHECK(is_utf8(f), "a field that is not UTF-8");
      fields.emplace_back(f);
    }
    FUZZ_CHECK(bytes <= options.max_record_bytes, "a record larger than max_record_bytes");
    out.records.push_back(std::move(fields));
    out.lines.push_back(record.line());
  }
  FUZZ_CHECK(!error, "the end of input came with an error");
  out.delimiter = reader.delimiter();
  return out;
}

std::vector<Category> categories() {
  return {{"poor", "Hộ nghèo", {"hộ nghèo", "nghèo", "poor"}},
          {"near_poor", "Hộ cận nghèo", {"hộ cận nghèo", "cận nghèo", "near_poor"}},
          {"escaped", "Hộ mới thoát nghèo", {"hộ mới thoát nghèo", "escaped"}}};
}

struct Collect : HouseholdSink, IssueSink {
  void write(const Household& h, std::uint64_t line) override {
    FUZZ_CHECK(line > last_line && line >= 2, "households out of line order");
    last_line = line;
    ++written;
    for (const std::string* text : {&h.household_code, &h.name, &h.ethnicity, &h.category,
                                    &h.province, &h.commune, &h.village, &h.district,
                                    &h.language, &h.zalo_user_id}) {
      FUZZ_CHECK(is_utf8(*text), "a household field that is not UTF-8: " + *text);
    }
    for (const auto& [name, value] : h.attributes) FUZZ_CHECK(is_utf8(value), "attr." + name);
    FUZZ_CHECK(h.phone_e164.empty() ||
                   (h.phone_e164.size() >= 2 && h.phone_e164[0] == '+' &&
                    h.phone_e164.find_first_not_of("0123456789", 1) == std::string::npos),
               "not an E.164 phone: " + h.phone_e164);
    FUZZ_CHECK(!h.category.empty(), "an accepted household without a category");
  }
  void issue(const ImportIssue& i) override {
    FUZZ_CHECK(i.line >= 1, "an issue without a line: " + i.reason);
    FUZZ_CHECK(!i.reason.empty(), "an issue without a reason: " + i.detail);
    // Every reason the import raises has its words and advice in the table.
    FUZZ_CHECK(!issue_text(i, MessageLanguage::kVi).advice.empty(),
               "a reason without Vietnamese words: " + i.reason);
  }
  std::uint64_t written = 0;
  std::uint64_t last_line = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput input(data, size);
  const std::uint8_t opt = input.byte();
  const std::string_view text = input.rest();

  CsvOptions csv;
  static constexpr char kDelimiters[] = {'\0', ',', ';', '\t'};
  csv.delimiter = kDelimiters[opt & 3];
  if (opt & 8) csv.max_record_bytes = 64;
  if (opt & 16) csv.max_fields = 4;
  csv.skip_blank_lines = !(opt & 32);

  CsvOptions tiny = csv;
  tiny.chunk_bytes = 4 + (opt >> 6) * 3;  // 4, 7, 10 or 13 bytes per read
  const Outcome whole = read_all(text, csv);
  FUZZ_CHECK(read_all(text, tiny) == whole, "the result depends on the read chunk size");

  ImportOptions options;
  options.csv = csv;
  options.categories = categories();
  options.default_province = "Đắk Lắk";
  options.check_encoding_first = !(opt & 4);
  std::istringstream in{std::string(text)};
  Collect out;
  const ImportSummary s = HouseholdImport(options).run(in, out, out);
  FUZZ_CHECK(s.rows == s.accepted + s.rejected, "rows != accepted + rejected");
  FUZZ_CHECK(out.written == s.accepted, "the sink saw another number of households");
  if (!s.refused.empty() && options.check_encoding_first) {
    FUZZ_CHECK(out.written == 0, "a refused file wrote households: " + s.refused);
  }
  return 0;
}
