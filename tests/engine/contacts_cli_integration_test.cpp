// `loa contacts import`, `loa audience count` and `loa segments` as an operator runs them.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include <SQLiteCpp/Statement.h>

#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

using loa::test::fixtures_dir;
using loa::test::loa_binary;
using loa::test::run_command;
using loa::test::TempDir;
using loa::test::write_file;

class ContactsCli : public ::testing::Test {
 protected:
  // Officers read Vietnamese, the default; `english` runs as LANG=en_US.UTF-8.
  test::CommandResult loa(const std::string& args, bool english = false) {
    return run_command("env -u LC_ALL -u LC_MESSAGES LANG=" +
                       std::string(english ? "en_US.UTF-8" : "vi_VN.UTF-8") +
                       " LOA_DAEMON_DATA_DIR=" + data_.string() + " " + loa_binary().string() +
                       " " + args);
  }
  int households() {
    auto db = open_store(data_ / "loa.db", StoreMode::kReadOnly);
    return db.execAndGet("SELECT COUNT(*) FROM households").getInt();
  }
  TempDir dir_;
  std::filesystem::path data_ = dir_ / "data";
  std::string fixture_ = (fixtures_dir() / "households-sample.csv").string();
};

// The path printed after `label` in the summary, up to " (".
std::string path_after(const std::string& output, const std::string& label) {
  const auto at = output.find(label);
  if (at == std::string::npos) return {};
  const auto from = at + label.size();
  return output.substr(from, output.find(" (", from) - from);
}

TEST_F(ContactsCli, ImportsTheSampleAndWritesTheReportInVietnamese) {
  auto r = loa("contacts import " + fixture_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("số dòng đã đọc                         3.000"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("unknown_category"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Không phải đối tượng của chương trình"), std::string::npos) << r.output;
  const int n = households();
  EXPECT_GT(n, 2900);
  EXPECT_NE(r.output.find("thêm mới " + std::to_string(n / 1000) + "." + std::to_string(n % 1000)),
            std::string::npos)
      << r.output;
  // The reports exist, name their rows, and are where the summary says.
  const std::string path = path_after(r.output, "Báo cáo: ");
  std::ifstream report(path);
  ASSERT_TRUE(report.is_open()) << path << "\n" << r.output;
  std::string header;
  std::getline(report, header);
  EXPECT_NE(header.find("Dòng,Cột,Giá trị,Mức độ,Mã lý do,Lý do,Cách sửa"), std::string::npos)
      << header;
  const std::string xlsx = path_after(r.output, "Báo cáo Excel (các dòng cần sửa): ");
  EXPECT_TRUE(std::filesystem::exists(xlsx)) << r.output;

  auto again = loa("contacts import " + fixture_);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("thêm mới 0, cập nhật 0, không đổi"), std::string::npos)
      << again.output;
  EXPECT_EQ(households(), n);
}

TEST_F(ContactsCli, EnglishWithLangEn) {
  auto r = loa("contacts import " + fixture_, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rows read                              3,000"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("not a programme category"), std::string::npos) << r.output;
  std::ifstream report(path_after(r.output, "Report: "));
  std::string header;
  std::getline(report, header);
  EXPECT_NE(header.find("line,column,value,severity,reason,message,advice"), std::string::npos);
}

// Outside systemd a shell's umask is usually 022; loa sets 077 itself, so the households'
// data is readable by loa's user only.
TEST_F(ContactsCli, TheStoreAndTheReportAreReadableByLoasUserOnly) {
  auto r = run_command("umask 022; LOA_DAEMON_DATA_DIR=" + data_.string() + " " +
                       loa_binary().string() + " contacts import " + fixture_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  namespace fs = std::filesystem;
  const auto others = fs::perms::group_all | fs::perms::others_all;
  std::vector<fs::path> made{data_, data_ / "loa.db"};
  for (const auto& e : fs::recursive_directory_iterator(data_)) made.push_back(e.path());
  EXPECT_GE(made.size(), 4u);  // the store, the reports folder and a report at least
  for (const auto& p : made) EXPECT_EQ(fs::status(p).permissions() & others, fs::perms::none) << p;
}

TEST_F(ContactsCli, DryRunWritesNothing) {
  auto r = loa("contacts import --dry-run " + fixture_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("chạy thử, chưa ghi gì"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(data_ / "loa.db"));
  r = loa("contacts import --dry-run " + fixture_, true);
  EXPECT_NE(r.output.find("dry run, nothing written"), std::string::npos) << r.output;
}

// The spellings Excel gives a phone column: repaired with a warning, or refused with what to
// do; the workbook holds the rows to fix with their original cells.
TEST_F(ContactsCli, ExcelPhoneCellsAndTheWorkbookReport) {
  write_file(dir_ / "excel.csv",
             "Mã hộ,Họ và tên chủ hộ,Số điện thoại,Phân loại hộ,Xã\r\n"
             "A1,Nguyễn Văn An,8.4912345678E+10,Hộ nghèo,Xã Ea Tu\r\n"
             "A2,Trần Thị Bình,8.49123457E+10,Hộ nghèo,Xã Ea Tu\r\n"
             "A3,Lê Văn Cường,'0912345682,Hộ nghèo,Xã Ea Tu\r\n"
             "A4,Phạm Thị Dung,0912345684 / 0987654321,Hộ nghèo,Xã Ea Tu\r\n"
             "A5,Y Ŏn Niê,0912345685 (chồng),Hộ nghèo,Xã Ea Tu\r\n"
             "A6,H'Hen Ƀuôn Ya,0912345687.0,Hộ khá,Xã Ea Tu\r\n");
  auto r = loa("contacts import " + (dir_ / "excel.csv").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("phone_excel_rounded"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Excel đã làm tròn số này; định dạng cột là Văn bản (Text) rồi xuất lại"),
            std::string::npos)
      << r.output;
  auto db = open_store(data_ / "loa.db", StoreMode::kReadOnly);
  auto phone = [&db](const std::string& code) {
    SQLite::Statement st(db,
                         "SELECT COALESCE(phone_e164, '') FROM households WHERE "
                         "household_code = ?");
    st.bind(1, code);
    return st.executeStep() ? st.getColumn(0).getString() : std::string("(absent)");
  };
  EXPECT_EQ(phone("A1"), "+84912345678");
  EXPECT_EQ(phone("A2"), "");
  EXPECT_EQ(phone("A3"), "+84912345682");
  EXPECT_EQ(phone("A4"), "+84912345684");
  EXPECT_EQ(phone("A5"), "+84912345685");
  EXPECT_EQ(phone("A6"), "(absent)");  // rejected: not a programme category

  const std::string xlsx = path_after(r.output, "Báo cáo Excel (các dòng cần sửa): ");
  auto sheet = run_command("unzip -p '" + xlsx + "' xl/worksheets/sheet1.xml", 30);
  ASSERT_EQ(sheet.exit_code, 0) << sheet.output;
  // The original header and cells, then the reason and the advice.
  for (const char* text : {"Số điện thoại", "Trần Thị Bình", "8.49123457E+10", "H'Hen Ƀuôn Ya",
                           "Hộ khá", "Cách sửa", "phone_excel_rounded", "Excel đã làm tròn số này",
                           "Gõ lại số đúng vào ô", "Sửa thành một trong các loại trên."})
    EXPECT_NE(sheet.output.find(text), std::string::npos) << text;
  // The row that loa repaired by itself is no work for the officer.
  EXPECT_EQ(sheet.output.find("Lê Văn Cường"), std::string::npos);
}

TEST_F(ContactsCli, ReadsAWindows1258FileWithATitleRow) {
  // Tones as Windows-1258 writes them: "H\xF4\xF2" is o-circumflex + combining dot below (Hộ).
  write_file(dir_ / "cp1258.csv",
             "DANH S\xC1" "CH H\xD4\xF2 NGH\xC8O\r\nMa ho,So dien thoai,Phan loai ho,Xa\r\n"
             "A,0912345678,poor,X\r\nB,0912345679,H\xF4\xF2 ngh\xE8o,X\r\n");
  auto r = loa("contacts import --dry-run " + (dir_ / "cp1258.csv").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("CSV (Windows-1258, ',')"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dòng tên cột: dòng 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dòng tiêu đề phía trên dòng tên cột"), std::string::npos) << r.output;
  r = loa("contacts import " + (dir_ / "cp1258.csv").string(), true);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("header on line 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("title rows above the header                1"), std::string::npos)
      << r.output;
  EXPECT_EQ(households(), 2);
}

TEST_F(ContactsCli, RefusesAPdfSayingSo) {
  write_file(dir_ / "list.csv", "%PDF-1.5\n%\xE2\xE3\xCF\xD3\n");
  auto r = loa("contacts import " + (dir_ / "list.csv").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("Tệp này là một tài liệu PDF"), std::string::npos) << r.output;
  auto en = run_command("LANG=en_US.UTF-8 LOA_DAEMON_DATA_DIR=" + data_.string() + " " +
                        loa_binary().string() + " contacts import " + (dir_ / "list.csv").string());
  EXPECT_NE(en.output.find("This is a PDF document"), std::string::npos) << en.output;
  EXPECT_EQ(households(), 0);
}

TEST_F(ContactsCli, MissingFileAndBadMapAreClearErrors) {
  auto r = loa("contacts import " + (dir_ / "nope.csv").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("Không đọc được tệp"), std::string::npos) << r.output;
  r = loa("contacts import --map 'SĐT=telephone' " + fixture_);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown field 'telephone'"), std::string::npos) << r.output;
}

TEST_F(ContactsCli, AudienceCountWithBreakdownAndSegments) {
  ASSERT_EQ(loa("contacts import " + fixture_).exit_code, 0);
  auto r = loa("audience count 'category = \"poor\" and language = \"rad\"'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* part : {"households", "By category:", "By commune/ward:", "By language:",
                           "  poor", "  rad"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << "\n" << r.output;

  auto bad = loa("audience count 'categroy = \"poor\"'");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("column 1: unknown field 'categroy'"), std::string::npos)
      << bad.output;
  auto injection = loa("audience count 'category = \"x\"; DROP TABLE households; --'");
  EXPECT_EQ(injection.exit_code, 2) << injection.output;
  EXPECT_GT(households(), 0);

  ASSERT_EQ(loa("segments save ede-poor 'category = \"poor\" and language = \"rad\"'").exit_code, 0);
  auto list = loa("segments list");
  EXPECT_NE(list.output.find("ede-poor"), std::string::npos) << list.output;
  auto json = loa("audience count --segment ede-poor --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"households\":"), std::string::npos) << json.output;
  EXPECT_EQ(loa("segments delete ede-poor").exit_code, 0);
  EXPECT_EQ(loa("audience count --segment ede-poor").exit_code, 2);
}

}  // namespace
}  // namespace loa::engine
