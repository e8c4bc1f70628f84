// `loa contacts import`, `loa audience count` and `loa segments` as an operator runs them.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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
  test::CommandResult loa(const std::string& args) {
    return run_command("LOA_DAEMON_DATA_DIR=" + data_.string() + " " + loa_binary().string() +
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

TEST_F(ContactsCli, ImportsTheSampleAndWritesTheReport) {
  auto r = loa("contacts import " + fixture_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rows read                              3,000"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("unknown_category"), std::string::npos) << r.output;
  const int n = households();
  EXPECT_GT(n, 2900);
  EXPECT_NE(r.output.find("inserted " + std::to_string(n / 1000) + "," +
                          std::to_string(n % 1000)),
            std::string::npos)
      << r.output;
  // The report exists, names its rows, and is where the summary says.
  const auto at = r.output.find("Report: ");
  ASSERT_NE(at, std::string::npos);
  const std::string path = r.output.substr(at + 8, r.output.find(" (", at) - at - 8);
  std::ifstream report(path);
  ASSERT_TRUE(report.is_open()) << path;
  std::string header;
  std::getline(report, header);
  EXPECT_NE(header.find("line,column,value,severity,reason,message"), std::string::npos);

  auto again = loa("contacts import " + fixture_);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("inserted 0, updated 0, unchanged"), std::string::npos)
      << again.output;
  EXPECT_EQ(households(), n);
}

TEST_F(ContactsCli, DryRunWritesNothing) {
  auto r = loa("contacts import --dry-run " + fixture_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dry run, nothing written"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(data_ / "loa.db"));
}

TEST_F(ContactsCli, ReadsAWindows1258FileWithATitleRow) {
  // Tones as Windows-1258 writes them: "H\xF4\xF2" is o-circumflex + combining dot below (Hộ).
  write_file(dir_ / "cp1258.csv",
             "DANH S\xC1" "CH H\xD4\xF2 NGH\xC8O\r\nMa ho,So dien thoai,Phan loai ho,Xa\r\n"
             "A,0912345678,poor,X\r\nB,0912345679,H\xF4\xF2 ngh\xE8o,X\r\n");
  auto r = loa("contacts import " + (dir_ / "cp1258.csv").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("CSV (Windows-1258, ',')"), std::string::npos) << r.output;
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
  EXPECT_NE(r.output.find("cannot read"), std::string::npos) << r.output;
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
