// The household import's report as an Excel workbook, for the officer who fixes the list.
//
// Sheet 1 ("Dòng cần sửa"): one row per rejected or warned record, with the record's original
// cells under the file's own headers, then the line, the worst severity, the reason codes and,
// in the reader's language, the reasons and one line of advice each. Every cell is text (format
// "@"), so Excel keeps phone numbers as typed. The officer corrects the cells and imports the
// sheet again (saved as CSV, or as .xlsx where supported): the importer ignores the report's own
// columns (campaigns/household_import.cpp, map_header).
// Sheet 2 ("Trùng lặp, dòng hỏng"): the issues that concern no single readable record (a phone
// shared by rows, a repeated code, a broken record), as the CSV report writes them.
//
// Memory: libxlsxwriter's constant_memory mode streams each sheet's rows to a temporary file,
// and only the current record's issues are held, so a report of a million rows stays small.
// Rows beyond Excel's 1,048,576 per sheet are counted in dropped(), not written.
//
// Errors: ReportError (engine/report.hpp) naming the file. Thread-safety: one thread.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "campaigns/household_import.hpp"

struct lxw_workbook;
struct lxw_worksheet;
struct lxw_format;

namespace loa::engine {

class XlsxIssueReport : public campaigns::IssueSink {
 public:
  XlsxIssueReport(const std::filesystem::path& file, campaigns::MessageLanguage language);
  ~XlsxIssueReport() override;  // closes the workbook if close() was not called; never throws
  XlsxIssueReport(const XlsxIssueReport&) = delete;
  XlsxIssueReport& operator=(const XlsxIssueReport&) = delete;

  void header_row(const std::vector<std::string>& headers) override;
  void issue(const campaigns::ImportIssue& issue) override;
  // Writes the last record and saves the workbook. Throws ReportError.
  void close();

  std::uint64_t records() const { return records_; }  // rows of sheet 1
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Pending {
    std::uint64_t line = 0;
    std::vector<std::string> cells;
    campaigns::IssueSeverity worst = campaigns::IssueSeverity::kFixed;
    std::string codes, messages, advice;
  };
  void flush();
  void write_text(lxw_worksheet* sheet, std::uint32_t row, std::uint16_t col,
                  const std::string& text, lxw_format* format);

  std::filesystem::path file_;
  campaigns::MessageLanguage language_;
  lxw_workbook* workbook_ = nullptr;
  lxw_worksheet* rows_sheet_ = nullptr;
  lxw_worksheet* other_sheet_ = nullptr;
  lxw_format* bold_ = nullptr;
  lxw_format* text_ = nullptr;
  std::vector<std::string> headers_;
  bool pending_open_ = false;
  Pending pending_;
  std::uint32_t rows_row_ = 1;   // next row of sheet 1 (row 0 is the header)
  std::uint32_t other_row_ = 1;  // next row of sheet 2
  std::uint64_t records_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace loa::engine
