// Delivery reports for the programme's six-monthly and yearly reporting: the statistics of a
// range of days (campaigns/statistics.hpp) as CSV and as an Excel workbook.
//
// CSV: UTF-8 with a byte-order mark, so Excel opens the Vietnamese text intact; RFC 4180
// quoting; one "long" table: the breakdown, the group, then the counters, one row per group of
// every breakdown (the total first), so one file holds the whole report and parses simply.
// Failure reasons are rows of the breakdown "Lý do thất bại", counted in the "Thất bại" column.
//
// XLSX (libxlsxwriter): one sheet per breakdown ("Tổng quan" first, then Chiến dịch, Ngày,
// Kênh, Tuyến, Nhà mạng, Xã, phường, Huyện (cũ), Ngôn ngữ, Đối tượng, Lý do thất bại), with
// Vietnamese headers.
//
// Errors: ReportError naming the file and what failed. Thread-safety: no shared state.
#pragma once

#include <SQLiteCpp/Database.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "campaigns/statistics.hpp"

namespace loa::engine {

class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReportSection {
  campaigns::Breakdown by;
  std::string title;  // Vietnamese, e.g. "Xã/Phường"
  std::vector<campaigns::StatsRow> rows;
};

struct Report {
  campaigns::StatsQuery query;
  campaigns::StatsRow total;
  std::vector<ReportSection> sections;  // one per breakdown, in kAllBreakdowns order
};

// Reads every breakdown of `query` (throws campaigns::StatisticsError for a bad range).
Report build_report(SQLite::Database& db, const campaigns::StatsQuery& query);

// The Vietnamese column headers, in order, of the counters columns of both formats.
const std::vector<std::string>& report_counter_headers();
// The Vietnamese title of a breakdown ("Xã/Phường").
std::string breakdown_title(campaigns::Breakdown by);

std::string report_csv(const Report& report);  // the file's bytes, BOM included
void write_report_csv(const Report& report, const std::filesystem::path& file);
void write_report_xlsx(const Report& report, const std::filesystem::path& file);

}  // namespace loa::engine
