// Reads the rows of one sheet of an .xlsx workbook (ECMA-376 SpreadsheetML), streamed.
//
// Why libzip and expat: Debian's maintained ZIP and XML libraries, both already on every
// machine that has LibreOffice or Python; inflate and XML parsing written by hand would be a
// second, untested copy of the hardest part. expat is a streaming (SAX) parser, so a sheet of
// 1,048,576 rows (Excel's maximum) is never held in memory.
//
// Contract:
//  - open() picks the first sheet, or the one named `sheet` (by name, or by 1-based position
//    when it is a number). Shared strings are loaded once, within WorkbookLimits; the sheet is
//    then inflated and parsed chunk by chunk as next() asks for rows.
//  - Cells: shared and inline strings (rich text runs joined, phonetic runs dropped), numbers
//    (cell_text.hpp: full precision, stored_number() the stored text), dates (a number whose
//    style is a date format) as dd/mm/yyyy, booleans as TRUE/FALSE, formula results as cached.
//    Empty rows are skipped; a row's location is its sheet row number.
//  - Hostile files are refused before or while reading, never inflated without bound: more
//    inflated bytes than max_inflated_bytes (a ZIP bomb), a DOCTYPE (entity expansion: no
//    OOXML part has one), nesting deeper than max_xml_depth, too many shared strings, a row
//    beyond max_row_bytes or max_columns. Such errors are fatal (RowError::fatal).
//
// Thread-safety: one reader per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "campaigns/row_source.hpp"

namespace loa::campaigns {

struct WorkbookLimits {
  // A household list of 1,048,576 rows (Excel's maximum, ECMA-376 Part 1, 18.3.1.73) with a
  // dozen columns inflates to well under 1 GiB of XML; 2 GiB leaves room and stops a bomb.
  std::uint64_t max_inflated_bytes = 2ULL << 30;
  std::uint64_t max_shared_string_bytes = 256ULL << 20;
  std::size_t max_shared_strings = 4'000'000;
  std::size_t max_xml_depth = 64;        // SpreadsheetML nests about 8 deep
  std::size_t max_columns = 512;         // as CsvOptions::max_fields
  std::size_t max_row_bytes = 1 << 20;   // one row's cells together
  std::size_t max_zip_entries = 10'000;  // a workbook has a few dozen parts
};

class XlsxReader : public RowSource {
 public:
  // nullptr when the file cannot be read as a workbook; `error` says why (fatal).
  static std::unique_ptr<XlsxReader> open(const std::filesystem::path& path, std::string_view sheet,
                                          RowError& error, WorkbookLimits limits = {});
  ~XlsxReader() override;

  bool next(SourceRow& out, RowError& error) override;
  std::string description() const override;

  const std::vector<std::string>& sheet_names() const;
  const std::string& sheet_name() const;
  std::uint64_t inflated_bytes() const;

  class Impl;

 private:
  explicit XlsxReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace loa::campaigns
