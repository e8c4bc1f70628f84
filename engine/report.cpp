#include "engine/report.hpp"

#include <xlsxwriter.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>

namespace loa::engine {

namespace {

using campaigns::Breakdown;
using campaigns::StatsRow;

struct Column {
  const char* header;
  std::function<double(const StatsRow&)> value;
  bool fraction = false;  // printed with decimals
};

const std::vector<Column>& counter_columns() {
  static const std::vector<Column> kColumns = {
      {"Kế hoạch", [](const StatsRow& r) { return double(r.counters.planned); }},
      {"Đã xếp hàng", [](const StatsRow& r) { return double(r.counters.queued); }},
      {"Đã gửi", [](const StatsRow& r) { return double(r.counters.sent); }},
      {"Đã nhận", [](const StatsRow& r) { return double(r.counters.delivered); }},
      {"Thất bại", [](const StatsRow& r) { return double(r.counters.failed); }},
      {"Hết hạn", [](const StatsRow& r) { return double(r.counters.expired); }},
      {"Đã hủy", [](const StatsRow& r) { return double(r.counters.cancelled); }},
      {"Không rõ kết quả", [](const StatsRow& r) { return double(r.counters.unknown); }},
      {"Chuyển kênh dự phòng", [](const StatsRow& r) { return double(r.counters.fallback); }},
      {"Đã trả lời", [](const StatsRow& r) { return double(r.counters.replied); }},
      {"Từ chối nhận tin", [](const StatsRow& r) { return double(r.counters.opted_out); }},
      {"Chi phí (VND)", [](const StatsRow& r) { return double(r.counters.cost_vnd); }},
      {"Tỷ lệ đã nhận (%)", [](const StatsRow& r) { return 100.0 * r.delivery_rate(); }, true},
      {"Thời gian nhận p50 (giây)", [](const StatsRow& r) { return r.p50_seconds.value_or(NAN); },
       true},
      {"Thời gian nhận p95 (giây)", [](const StatsRow& r) { return r.p95_seconds.value_or(NAN); },
       true},
  };
  return kColumns;
}

// Sheet names cannot hold '/' (Excel), so the sheet of communes says "Xã, phường".
std::string sheet_name(Breakdown by) {
  return by == Breakdown::kCommune ? "Xã, phường" : breakdown_title(by);
}

std::string format_number(double v, bool fraction) {
  if (std::isnan(v)) return "";
  char buf[64];
  if (fraction)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

void append_csv_field(std::string& out, const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_csv_row(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    append_csv_field(out, fields[i]);
  }
  out += "\r\n";
}

std::vector<std::string> counter_fields(const StatsRow& row) {
  std::vector<std::string> out;
  for (const Column& c : counter_columns()) out.push_back(format_number(c.value(row), c.fraction));
  return out;
}

const char* kFailureTitle = "Lý do thất bại";

}  // namespace

std::string breakdown_title(Breakdown by) {
  switch (by) {
    case Breakdown::kCampaign: return "Chiến dịch";
    case Breakdown::kDay: return "Ngày";
    case Breakdown::kChannel: return "Kênh";
    case Breakdown::kRoute: return "Tuyến";
    case Breakdown::kCarrier: return "Nhà mạng";
    case Breakdown::kCommune: return "Xã/Phường";
    case Breakdown::kDistrict: return "Huyện (cũ)";
    case Breakdown::kLanguage: return "Ngôn ngữ";
    case Breakdown::kCategory: return "Đối tượng";
  }
  return "";
}

const std::vector<std::string>& report_counter_headers() {
  static const std::vector<std::string> kHeaders = [] {
    std::vector<std::string> h;
    for (const Column& c : counter_columns()) h.emplace_back(c.header);
    return h;
  }();
  return kHeaders;
}

Report build_report(SQLite::Database& db, const campaigns::StatsQuery& query) {
  Report r;
  r.query = query;
  r.total = campaigns::statistics_total(db, query);
  for (Breakdown by : campaigns::kAllBreakdowns)
    r.sections.push_back({by, breakdown_title(by), campaigns::statistics_by(db, query, by)});
  return r;
}

std::string report_csv(const Report& report) {
  std::string out = "\xEF\xBB\xBF";  // the UTF-8 byte-order mark Excel looks for
  std::vector<std::string> header = {"Phân tổ", "Nhóm"};
  for (const auto& h : report_counter_headers()) header.push_back(h);
  append_csv_row(out, header);
  auto row_of = [](const std::string& by, const std::string& group, const StatsRow& r) {
    std::vector<std::string> f = {by, group};
    for (auto& v : counter_fields(r)) f.push_back(std::move(v));
    return f;
  };
  append_csv_row(out, row_of("Tổng cộng", report.query.from + " – " + report.query.to,
                             report.total));
  for (const ReportSection& s : report.sections)
    for (const StatsRow& r : s.rows)
      append_csv_row(out, row_of(s.title, r.label.empty() ? "(không rõ)" : r.label, r));
  for (const auto& [reason, n] : report.total.counters.failures) {
    std::vector<std::string> f = {kFailureTitle, reason};
    for (std::size_t i = 0; i < report_counter_headers().size(); ++i)
      f.push_back(report_counter_headers()[i] == "Thất bại" ? std::to_string(n) : "");
    append_csv_row(out, f);
  }
  return out;
}

void write_report_csv(const Report& report, const std::filesystem::path& file) {
  const std::string bytes = report_csv(report);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw ReportError(file.string() + ": cannot open for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw ReportError(file.string() + ": write failed");
}

void write_report_xlsx(const Report& report, const std::filesystem::path& file) {
  lxw_workbook* wb = workbook_new(file.string().c_str());
  if (!wb) throw ReportError(file.string() + ": cannot create the workbook");
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  format_set_text_wrap(bold);
  lxw_format* decimal = workbook_add_format(wb);
  format_set_num_format(decimal, "0.0");
  lxw_format* integer = workbook_add_format(wb);
  format_set_num_format(integer, "#,##0");
  const auto& columns = counter_columns();

  auto write_value = [&](lxw_worksheet* ws, lxw_row_t row, lxw_col_t col, const Column& c,
                         const StatsRow& r) {
    const double v = c.value(r);
    if (!std::isnan(v)) worksheet_write_number(ws, row, col, v, c.fraction ? decimal : integer);
  };

  // Tổng quan: the funnel of the whole range, and a chart of it.
  lxw_worksheet* overview = workbook_add_worksheet(wb, "Tổng quan");
  worksheet_set_column(overview, 0, 0, 28, nullptr);
  worksheet_set_column(overview, 1, 1, 16, nullptr);
  worksheet_write_string(overview, 0, 0, "Báo cáo kết quả gửi tin", bold);
  worksheet_write_string(overview, 1, 0, "Từ ngày", nullptr);
  worksheet_write_string(overview, 1, 1, report.query.from.c_str(), nullptr);
  worksheet_write_string(overview, 2, 0, "Đến ngày", nullptr);
  worksheet_write_string(overview, 2, 1, report.query.to.c_str(), nullptr);
  worksheet_write_string(overview, 4, 0, "Chỉ số", bold);
  worksheet_write_string(overview, 4, 1, "Giá trị", bold);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto row = static_cast<lxw_row_t>(5 + i);
    worksheet_write_string(overview, row, 0, columns[i].header, nullptr);
    write_value(overview, row, 1, columns[i], report.total);
  }
  if (lxw_chart* chart = workbook_add_chart(wb, LXW_CHART_COLUMN)) {
    // The funnel: planned, queued, sent, delivered (rows 6..9 of the sheet).
    lxw_chart_series* s =
        chart_add_series(chart, "='Tổng quan'!$A$6:$A$9", "='Tổng quan'!$B$6:$B$9");
    chart_series_set_name(s, "Số tin");
    chart_title_set_name(chart, "Phễu gửi tin");
    chart_legend_set_position(chart, LXW_CHART_LEGEND_NONE);
    worksheet_insert_chart(overview, 1, 3, chart);
  }

  for (const ReportSection& s : report.sections) {
    const std::string name = sheet_name(s.by);
    lxw_worksheet* ws = workbook_add_worksheet(wb, name.c_str());
    worksheet_set_column(ws, 0, 0, 24, nullptr);
    worksheet_set_column(ws, 1, static_cast<lxw_col_t>(columns.size()), 12, nullptr);
    worksheet_set_row(ws, 0, 45, nullptr);
    worksheet_freeze_panes(ws, 1, 1);
    worksheet_write_string(ws, 0, 0, s.title.c_str(), bold);
    for (std::size_t c = 0; c < columns.size(); ++c)
      worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c + 1), columns[c].header, bold);
    lxw_row_t row = 1;
    for (const StatsRow& r : s.rows) {
      worksheet_write_string(ws, row, 0, r.label.empty() ? "(không rõ)" : r.label.c_str(),
                             nullptr);
      for (std::size_t c = 0; c < columns.size(); ++c)
        write_value(ws, row, static_cast<lxw_col_t>(c + 1), columns[c], r);
      ++row;
    }
    if (s.by == Breakdown::kDay && !s.rows.empty()) {
      // A daily chart of sent and delivered messages.
      if (lxw_chart* chart = workbook_add_chart(wb, LXW_CHART_LINE)) {
        const std::string last = std::to_string(row);
        const std::string cats = "='" + name + "'!$A$2:$A$" + last;
        lxw_chart_series* sent =
            chart_add_series(chart, cats.c_str(), ("='" + name + "'!$D$2:$D$" + last).c_str());
        chart_series_set_name(sent, "Đã gửi");
        lxw_chart_series* delivered =
            chart_add_series(chart, cats.c_str(), ("='" + name + "'!$E$2:$E$" + last).c_str());
        chart_series_set_name(delivered, "Đã nhận");
        chart_title_set_name(chart, "Tin gửi và nhận theo ngày");
        worksheet_insert_chart(ws, row + 1, 1, chart);
      }
    }
  }

  lxw_worksheet* failures = workbook_add_worksheet(wb, kFailureTitle);
  worksheet_set_column(failures, 0, 0, 60, nullptr);
  worksheet_write_string(failures, 0, 0, "Lý do", bold);
  worksheet_write_string(failures, 0, 1, "Số tin", bold);
  lxw_row_t row = 1;
  for (const auto& [reason, n] : report.total.counters.failures) {
    worksheet_write_string(failures, row, 0, reason.c_str(), nullptr);
    worksheet_write_number(failures, row, 1, static_cast<double>(n), integer);
    ++row;
  }

  const lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR)
    throw ReportError(file.string() + ": cannot write the workbook: " + lxw_strerror(err));
}

}  // namespace loa::engine
