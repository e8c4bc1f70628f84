// Writing one household list in each format officers send (tests and benchmarks of the
// importer): UTF-8 CSV, UTF-16 "Unicode Text", Windows-1258 and TCVN3 text, and .xlsx through
// libxlsxwriter with title rows above the header and phones as numeric cells.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace loa::test {

struct ListTable {
  std::vector<std::vector<std::string>> rows;  // rows[0] is the header; cells are UTF-8
};

// Reads a UTF-8 CSV (campaigns::CsvReader).
ListTable read_csv_table(const std::filesystem::path& path);

// Quotes a cell that holds the delimiter, a quote or a line break.
void write_text(const ListTable& table, const std::filesystem::path& path, char delimiter);

// Writes the table in an iconv encoding ("UTF-16LE" with a BOM and tabs, "CP1258",
// "TCVN5712-1"), and returns the rows written: a row the encoding cannot hold is left out
// (TCVN3 also leaves out what only VN1 can hold: capitals with tones). `kept` gets the table
// as written, to compare against.
void write_encoded(const ListTable& table, const std::filesystem::path& path,
                   const std::string& encoding, char delimiter, ListTable& kept);

struct XlsxLayout {
  std::vector<std::string> titles;      // rows above the header
  int phone_column = -1;                // digits-only phones not starting with 0 become numbers
  bool numbers_in_first_column = true;  // STT as numbers
  bool constant_memory = false;         // libxlsxwriter's streaming mode, for big lists
};
void write_xlsx(const ListTable& table, const std::filesystem::path& path,
                const XlsxLayout& layout);

// A minimal workbook written part by part (libzip), for what libxlsxwriter will not write:
// `rows` is the <sheetData> content of its one sheet, "Danh sách"; `prolog` goes before
// <worksheet> (a DOCTYPE, say); `shared` is xl/sharedStrings.xml when not empty. Style 1 is
// a date (numFmtId 14).
void write_raw_workbook(const std::filesystem::path& path, const std::string& rows,
                        const std::string& prolog = "", const std::string& shared = "");

}  // namespace loa::test
