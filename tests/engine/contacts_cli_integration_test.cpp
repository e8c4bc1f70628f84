// `loa contacts import`, `loa audience count` and `loa segments` as an operator runs them.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

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
  EXPECT_NE(r.output.find("dry run, nothing written"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(data_ / "loa.db"));
}

TEST_F(ContactsCli, RefusesAWindows1258File) {
  write_file(dir_ / "cp1258.csv",
             "Ma ho,So dien thoai,Phan loai ho,Xa\r\nA,0912345678,poor,X\r\nB,0912345679,H\xF4\xF2 "
             "ngh\xE8o,X\r\n");
  auto r = loa("contacts import " + (dir_ / "cp1258.csv").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("line 3: the file is not UTF-8"), std::string::npos) << r.output;
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
