// Reads the rows of one sheet of an .xls workbook (Excel 97-2003, BIFF8) through libfreexl.
//
// Contract:
//  - open() picks the first sheet, or the one named `sheet` (name, or 1-based position).
//    Text comes back as UTF-8 (freexl converts the workbook's code page); numbers as
//    cell_text.hpp writes them (stored_number() is the same text); dates as dd/mm/yyyy.
//    Empty rows are skipped; a row's location is its sheet row number (1-based).
//  - Memory: freexl parses the whole workbook into memory. That is bounded by the format
//    itself (65,536 rows x 256 columns per sheet, BIFF8) and by max_file_bytes, checked
//    before freexl sees the file.
//  - A password-protected (obfuscated) workbook, or an OLE2 file that is not a workbook (a
//    Word .doc), is refused by open() with a message saying so.
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

class XlsReader : public RowSource {
 public:
  // A BIFF8 workbook at its format's limits is a few tens of MiB; 256 MiB leaves room.
  static constexpr std::uint64_t kMaxFileBytes = 256ULL << 20;
  static constexpr std::size_t kMaxColumns = 512;

  static std::unique_ptr<XlsReader> open(const std::filesystem::path& path, std::string_view sheet,
                                         RowError& error);
  ~XlsReader() override;
  XlsReader(const XlsReader&) = delete;
  XlsReader& operator=(const XlsReader&) = delete;

  bool next(SourceRow& out, RowError& error) override;
  std::string description() const override;
  const std::vector<std::string>& sheet_names() const { return sheet_names_; }

 private:
  XlsReader() = default;

  const void* handle_ = nullptr;
  std::vector<std::string> sheet_names_;
  std::string sheet_name_;
  unsigned int rows_ = 0;  // freexl's dimensions: the last index, zero-based
  unsigned short columns_ = 0;
  unsigned int next_row_ = 0;
  bool empty_sheet_ = false;
  std::string cell_;
};

}  // namespace loa::campaigns
