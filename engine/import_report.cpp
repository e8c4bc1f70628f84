#include "engine/import_report.hpp"

#include <xlsxwriter.h>

#include "campaigns/import_messages.hpp"
#include "engine/report.hpp"

namespace loa::engine {

using namespace loa::campaigns;

namespace {

// Excel specifications and limits: 1,048,576 rows by 16,384 columns per worksheet.
constexpr std::uint32_t kExcelMaxRows = 1048576;
constexpr std::uint16_t kExcelMaxColumns = 16384;
// Excel's limit on the text of one cell (specifications and limits: 32,767 characters).
constexpr std::size_t kExcelMaxCellBytes = 32767;

int rank(IssueSeverity s) {
  switch (s) {
    case IssueSeverity::kRejected:
      return 2;
    case IssueSeverity::kWarning:
      return 1;
    case IssueSeverity::kFixed:
      return 0;
  }
  return 0;
}

void append(std::string& to, std::string_view text) {
  if (text.empty()) return;
  if (!to.empty()) to += "\n";
  to += text;
}

}  // namespace

XlsxIssueReport::XlsxIssueReport(const std::filesystem::path& file, MessageLanguage language)
    : file_(file), language_(language) {
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  workbook_ = workbook_new_opt(file.string().c_str(), &options);
  if (workbook_ == nullptr) throw ReportError(file.string() + ": cannot create the workbook");
  const bool en = language == MessageLanguage::kEn;
  rows_sheet_ = workbook_add_worksheet(workbook_, en ? "Rows to fix" : "Dòng cần sửa");
  other_sheet_ = workbook_add_worksheet(workbook_, en ? "Across rows" : "Trùng lặp, dòng hỏng");
  bold_ = workbook_add_format(workbook_);
  format_set_bold(bold_);
  text_ = workbook_add_format(workbook_);
  format_set_num_format(text_, "@");
  lxw_format* wrap = workbook_add_format(workbook_);
  format_set_text_wrap(wrap);
  for (std::uint16_t c = 0; c < kReportColumns; ++c)
    worksheet_write_string(other_sheet_, 0, c, std::string(report_column(c, language_)).c_str(),
                           bold_);
  worksheet_set_column(other_sheet_, 5, 6, 60, wrap);
}

XlsxIssueReport::~XlsxIssueReport() {
  if (workbook_ != nullptr) workbook_close(workbook_);
}

void XlsxIssueReport::write_text(lxw_worksheet* sheet, std::uint32_t row, std::uint16_t col,
                                 const std::string& text, lxw_format* format) {
  if (text.empty()) return;
  const std::string cut =
      text.size() > kExcelMaxCellBytes ? text.substr(0, kExcelMaxCellBytes) : text;
  worksheet_write_string(sheet, row, col, cut.c_str(), format);
}

void XlsxIssueReport::header_row(const std::vector<std::string>& headers) {
  headers_ = headers;
  if (headers_.size() + 5 > kExcelMaxColumns) headers_.resize(kExcelMaxColumns - 5);
  std::uint16_t c = 0;
  for (const auto& h : headers_) write_text(rows_sheet_, 0, c++, h, bold_);
  // The original columns are text, so a corrected phone number stays as typed.
  if (c > 0) worksheet_set_column(rows_sheet_, 0, static_cast<lxw_col_t>(c - 1), 16, text_);
  for (std::size_t col : {0, 3, 4, 5, 6})
    write_text(rows_sheet_, 0, c++, std::string(report_column(col, language_)), bold_);
  worksheet_set_column(rows_sheet_, static_cast<lxw_col_t>(c - 2), static_cast<lxw_col_t>(c - 1),
                       60, nullptr);
  worksheet_freeze_panes(rows_sheet_, 1, 0);
}

void XlsxIssueReport::issue(const ImportIssue& issue) {
  const IssueText text = issue_text(issue, language_);
  if (issue.row == nullptr) {
    if (other_row_ >= kExcelMaxRows) {
      ++dropped_;
      return;
    }
    const std::uint32_t r = other_row_++;
    worksheet_write_number(other_sheet_, r, 0, static_cast<double>(issue.line), nullptr);
    write_text(other_sheet_, r, 1, issue.column, nullptr);
    write_text(other_sheet_, r, 2, issue.value, text_);
    write_text(other_sheet_, r, 3, std::string(severity_text(issue.severity, language_)), nullptr);
    write_text(other_sheet_, r, 4, issue.reason, nullptr);
    write_text(other_sheet_, r, 5, text.message, nullptr);
    write_text(other_sheet_, r, 6, std::string(text.advice), nullptr);
    return;
  }
  if (pending_open_ && pending_.line != issue.line) flush();
  if (!pending_open_) {
    pending_ = Pending{};
    pending_.line = issue.line;
    pending_.cells.assign(issue.row->begin(), issue.row->end());
    pending_open_ = true;
  }
  if (rank(issue.severity) > rank(pending_.worst) || pending_.codes.empty())
    pending_.worst = issue.severity;
  if (!pending_.codes.empty()) pending_.codes += ", ";
  pending_.codes += issue.reason;
  append(pending_.messages, text.message);
  append(pending_.advice, text.advice);
}

void XlsxIssueReport::flush() {
  if (!pending_open_) return;
  pending_open_ = false;
  if (pending_.worst == IssueSeverity::kFixed) return;  // nothing for the officer to do
  if (rows_row_ >= kExcelMaxRows) {
    ++dropped_;
    return;
  }
  const std::uint32_t r = rows_row_++;
  ++records_;
  std::uint16_t c = 0;
  for (std::size_t i = 0; i < headers_.size(); ++i, ++c)
    if (i < pending_.cells.size()) write_text(rows_sheet_, r, c, pending_.cells[i], text_);
  worksheet_write_number(rows_sheet_, r, c++, static_cast<double>(pending_.line), nullptr);
  write_text(rows_sheet_, r, c++, std::string(severity_text(pending_.worst, language_)), nullptr);
  write_text(rows_sheet_, r, c++, pending_.codes, nullptr);
  write_text(rows_sheet_, r, c++, pending_.messages, nullptr);
  write_text(rows_sheet_, r, c++, pending_.advice, nullptr);
}

void XlsxIssueReport::close() {
  if (workbook_ == nullptr) return;
  flush();
  lxw_workbook* wb = workbook_;
  workbook_ = nullptr;
  if (const lxw_error e = workbook_close(wb); e != LXW_NO_ERROR)
    throw ReportError(file_.string() + ": " + lxw_strerror(e));
}

}  // namespace loa::engine
