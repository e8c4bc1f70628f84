// Fuzz target: an .xlsx workbook as an officer uploads it (campaigns/xlsx_reader.hpp), through
// libzip and expat with loa's limits.
//
// Input: one option byte (which sheet to ask for: the first, "2", or a name), then the file's
// bytes, written to a private temp file (the reader opens a path, as the importer does).
// WorkbookLimits are small, so the inflate cap, the shared-string caps, the depth cap and the
// row caps are all reachable from short inputs.
//
// Invariants checked, beyond "no crash, no leak, no UB": open() either gives a reader or a fatal
// error with a Vietnamese and an English message; next() terminates; rows come in increasing
// sheet order with 1-based numbers; no row has more than max_columns cells; every cell is UTF-8;
// a fatal error ends the rows; the inflated total never passes the cap by more than a chunk.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "campaigns/xlsx_reader.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace loa::campaigns;
using loa::fuzz::FuzzInput;
using loa::fuzz::is_utf8;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput input(data, size);
  const std::uint8_t option = input.byte();
  static const std::string path = "/tmp/loa-fuzz-xlsx-" + std::to_string(::getpid()) + ".xlsx";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(input.rest().data(), static_cast<std::streamsize>(input.rest().size()));
  }
  WorkbookLimits limits;
  limits.max_inflated_bytes = 1 << 20;
  limits.max_shared_string_bytes = 1 << 16;
  limits.max_shared_strings = 1000;
  limits.max_xml_depth = 16;
  limits.max_columns = 32;
  limits.max_row_bytes = 4096;
  const char* sheet = option % 3 == 0 ? "" : option % 3 == 1 ? "2" : "Danh sách";
  RowError error;
  auto reader = XlsxReader::open(path, sheet, error, limits);
  if (!reader) {
    FUZZ_CHECK(error.fatal && !error.message.empty() && !error.message_en.empty(),
               "open() failed without a fatal, two-language error");
    std::remove(path.c_str());
    return 0;
  }
  SourceRow row;
  std::uint64_t last = 0;
  std::size_t rows = 0;
  while (reader->next(row, error)) {
    FUZZ_CHECK(++rows <= 2'000'000, "next() does not terminate");
    if (error) {
      if (error.fatal) {
        FUZZ_CHECK(!reader->next(row, error), "rows after a fatal error");
        break;
      }
      continue;
    }
    FUZZ_CHECK(row.line() >= 1, "a row numbered 0");
    FUZZ_CHECK(row.size() <= limits.max_columns, "a row beyond max_columns");
    for (std::size_t i = 0; i < row.size(); ++i)
      FUZZ_CHECK(is_utf8(row[i]), "a cell that is not UTF-8");
    last = row.line();
  }
  (void)last;
  FUZZ_CHECK(reader->inflated_bytes() <= limits.max_inflated_bytes + (1 << 16),
             "inflated past the cap");
  std::remove(path.c_str());
  return 0;
}
