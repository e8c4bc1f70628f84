// `loa report` as a user runs it, on a real store: the CSV (UTF-8 BOM, parsed back) and the
// XLSX (unzipped with `unzip -p`, its workbook, shared strings and sheet XML read) hold the
// known figures under Vietnamese headers.
#include "engine/report.hpp"

#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "campaigns/stats_summary.hpp"
#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

using campaigns::StatsDeltas;
using campaigns::StatsKey;
using test::run_command;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 4180 records.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\r') {
    } else if (c == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

std::string unzip(const std::filesystem::path& file, const std::string& member) {
  auto r = run_command("unzip -p '" + file.string() + "' '" + member + "'", 30);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

// Cells of a sheet: reference ("B3") -> text (shared strings resolved) or number.
std::map<std::string, std::string> sheet_cells(const std::string& xml,
                                               const std::vector<std::string>& shared) {
  std::map<std::string, std::string> cells;
  static const std::regex cell(R"re(<c r="([A-Z]+[0-9]+)"([^>]*)>(?:<f>[^<]*</f>)?<v>([^<]*)</v>)re");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), cell); it != std::sregex_iterator();
       ++it) {
    const std::string ref = (*it)[1], attrs = (*it)[2], v = (*it)[3];
    cells[ref] = attrs.find("t=\"s\"") != std::string::npos ? shared.at(std::stoul(v)) : v;
  }
  return cells;
}

std::vector<std::string> shared_strings(const std::string& xml) {
  std::vector<std::string> out;
  static const std::regex si(R"re(<si><t[^>]*>([^<]*)</t></si>)re");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), si); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1]);
  return out;
}

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    SQLite::Database db(open_store(dir_ / "loa.db", StoreMode::kReadWrite));
    migrate(db);
    db.exec(
        "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) VALUES "
        "(3, 'Tuyên truyền \"giảm nghèo\", 2027', 't', 'sms', '2027-01-01T08:00:00+07:00', "
        "'2027-06-30T20:00:00+07:00', 'running')");
    SQLite::Transaction tx(db);
    StatsDeltas d;
    StatsKey ea_kao{3, "2027-01-05", "sms", "sms", "viettel", "Xã Ea Kao", "Buôn Ma Thuột",
                    "vi", "poor"};
    StatsKey tan_lap{3, "2027-02-10", "zalo_zns", "zalo_zns", "", "Phường Tân Lập",
                     "Buôn Ma Thuột", "rad", "near_poor"};
    StatsKey july{3, "2027-07-01", "sms", "sms", "viettel", "Xã Ea Kao", "", "vi", "poor"};
    auto& a = d.at(ea_kao);
    a.planned = 100, a.sent = 95, a.delivered = 90, a.failed = 5, a.cost_vnd = 95 * 800;
    a.failures["http 400: số không hợp lệ"] = 5;
    a.ttd[1] = 90;
    auto& b = d.at(tan_lap);
    b.planned = 40, b.sent = 40, b.delivered = 38, b.replied = 3, b.cost_vnd = 40 * 200;
    d.at(july).planned = 7;  // outside the first half-year
    d.apply(db);
    tx.commit();
  }

  test::CommandResult loa(const std::string& args) {
    return run_command("LOA_STORE_PATH=" + (dir_ / "loa.db").string() + " LOA_DAEMON_DATA_DIR=" +
                           (dir_ / "data").string() + " " + test::loa_binary().string() + " " +
                           args + " 2>&1",
                       60);
  }

  test::TempDir dir_;
};

TEST_F(Report, CsvHasABomVietnameseHeadersAndTheKnownFigures) {
  auto r = loa("report --from 2027-01-01 --to 2027-06-30 --out " + (dir_ / "h1.csv").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string bytes = read_file(dir_ / "h1.csv");
  ASSERT_GE(bytes.size(), 3u);
  EXPECT_EQ(bytes.substr(0, 3), "\xEF\xBB\xBF");
  auto rows = parse_csv(bytes.substr(3));
  ASSERT_GT(rows.size(), 3u);
  const auto& header = rows[0];
  ASSERT_GE(header.size(), 8u);
  EXPECT_EQ(header[0], "Phân tổ");
  EXPECT_EQ(header[1], "Nhóm");
  EXPECT_EQ(header[2], "Kế hoạch");
  EXPECT_EQ(header[4], "Đã gửi");
  EXPECT_EQ(header[5], "Đã nhận");
  EXPECT_EQ(header[6], "Thất bại");
  auto find = [&](const std::string& by, const std::string& group) -> std::vector<std::string> {
    for (const auto& row : rows)
      if (row.size() >= 2 && row[0] == by && row[1] == group) return row;
    ADD_FAILURE() << "no row " << by << " / " << group;
    return std::vector<std::string>(header.size());
  };
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());
  auto total = find("Tổng cộng", "2027-01-01 – 2027-06-30");
  EXPECT_EQ(total[2], "140");  // July is outside the range
  EXPECT_EQ(total[5], "128");
  EXPECT_EQ(find("Xã/Phường", "Xã Ea Kao")[5], "90");
  EXPECT_EQ(find("Xã/Phường", "Phường Tân Lập")[2], "40");
  EXPECT_EQ(find("Đối tượng", "Hộ cận nghèo")[2], "40");
  EXPECT_EQ(find("Chiến dịch", "Tuyên truyền \"giảm nghèo\", 2027")[2], "140");
  EXPECT_EQ(find("Ngày", "2027-02-10")[5], "38");
  EXPECT_EQ(find("Lý do thất bại", "http 400: số không hợp lệ")[6], "5");
}

TEST_F(Report, XlsxHasOneSheetPerBreakdownWithVietnameseHeaders) {
  auto r = loa("report --from 2027-01-01 --to 2027-06-30 --campaign 3 --out " +
               (dir_ / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto xlsx = dir_ / "out" / "loa-report-2027-01-01_2027-06-30-3.xlsx";
  ASSERT_TRUE(std::filesystem::exists(xlsx)) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "loa-report-2027-01-01_2027-06-30-3.csv"));

  const std::string workbook = unzip(xlsx, "xl/workbook.xml");
  std::vector<std::string> sheets;
  static const std::regex sheet(R"re(<sheet name="([^"]*)")re");
  for (auto it = std::sregex_iterator(workbook.begin(), workbook.end(), sheet);
       it != std::sregex_iterator(); ++it)
    sheets.push_back((*it)[1]);
  const std::vector<std::string> expected = {
      "Tổng quan", "Chiến dịch", "Ngày",      "Kênh",      "Tuyến",         "Nhà mạng",
      "Xã, phường", "Huyện (cũ)", "Ngôn ngữ", "Đối tượng", "Lý do thất bại"};
  EXPECT_EQ(sheets, expected);

  const auto shared = shared_strings(unzip(xlsx, "xl/sharedStrings.xml"));
  // Sheet 7 is "Xã, phường": a header row, then one row per commune or ward in order.
  auto cells = sheet_cells(unzip(xlsx, "xl/worksheets/sheet7.xml"), shared);
  EXPECT_EQ(cells["A1"], "Xã/Phường");
  EXPECT_EQ(cells["B1"], "Kế hoạch");
  EXPECT_EQ(cells["D1"], "Đã gửi");
  EXPECT_EQ(cells["E1"], "Đã nhận");
  EXPECT_EQ(cells["F1"], "Thất bại");
  EXPECT_EQ(cells["A2"], "Phường Tân Lập");
  EXPECT_EQ(cells["B2"], "40");
  EXPECT_EQ(cells["A3"], "Xã Ea Kao");
  EXPECT_EQ(cells["E3"], "90");
  EXPECT_EQ(cells["F3"], "5");
  // Tổng quan: the funnel of the range.
  auto overview = sheet_cells(unzip(xlsx, "xl/worksheets/sheet1.xml"), shared);
  EXPECT_EQ(overview["A6"], "Kế hoạch");
  EXPECT_EQ(overview["B6"], "140");
  EXPECT_EQ(overview["A9"], "Đã nhận");
  EXPECT_EQ(overview["B9"], "128");
}

TEST_F(Report, BadInputIsNamed) {
  auto r = loa("report --from 2027-02-30x --to 2027-06-30 --out " + (dir_ / "x.csv").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--from: '2027-02-30x' is not a date (YYYY-MM-DD)"), std::string::npos)
      << r.output;
  r = loa("report --from 2027-01-01 --to 2027-06-30 --campaign nope --out " +
          (dir_ / "x.csv").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--campaign: no campaign 'nope'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.csv"));
}

}  // namespace
}  // namespace loa::engine
