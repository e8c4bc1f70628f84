// Accent-insensitive search over a real SQLite store: the folded columns that HouseholdStore
// writes, their backfill by migration 0011, and the filter operator `~` that reads them.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <sstream>

#include "campaigns/audience.hpp"
#include "campaigns/audience_filter.hpp"
#include "campaigns/household_import.hpp"
#include "campaigns/household_store.hpp"
#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::campaigns {
namespace {

using loa::test::TempDir;

struct NoIssues : IssueSink {
  void issue(const ImportIssue&) override {}
};

const char* const kList =
    "Mã hộ,Họ và tên chủ hộ,Số điện thoại,Phân loại hộ,Thôn/Buôn,Xã/Phường\r\n"
    "A1,Nguyễn Văn An,0912345671,Hộ nghèo,Buôn Đôn,Xã Ea Tul\r\n"
    "A2,NGUYỄN VĂN BÌNH,0912345672,Hộ nghèo,Thôn 1,Xã Cư M'gar\r\n"
    "A3,Trần Thị Đào,0912345673,Hộ cận nghèo,Thôn 2,Xã Đắk Mil\r\n"
    "A4,H'Hen Ƀuôn Ya,0912345674,Hộ nghèo,Buôn Čuôr,Xã Krông Bŭk\r\n"
    "A5,Y Ŏn Niê,0912345675,Hộ nghèo,Buôn Ĕa,Xã Ea Kao\r\n";

class HouseholdSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(
        engine::open_store(dir_ / "loa.db", engine::StoreMode::kReadWrite));
    engine::migrate(*db_);
  }
  void import(const std::string& text) {
    std::istringstream in(text);
    ImportOptions options;
    options.categories = load_categories(*db_);
    HouseholdStore store(*db_, "list.csv");
    NoIssues issues;
    auto s = HouseholdImport(options).run(in, store, issues);
    ASSERT_TRUE(s.refused.empty()) << s.refused;
    store.finish();
  }
  // The household codes a filter selects, in order.
  std::string codes(const std::string& filter) {
    auto compiled = compile_filter(filter);
    EXPECT_TRUE(compiled.ok()) << filter << ": " << compiled.error->to_string();
    if (!compiled.ok()) return "(error)";
    SQLite::Statement st(*db_, "SELECT h.household_code FROM households h WHERE " +
                                   compiled.sql.where + " ORDER BY h.household_code");
    int i = 1;
    for (const auto& p : compiled.sql.params)
      std::visit([&](const auto& v) { st.bind(i++, v); }, p);
    std::string out;
    while (st.executeStep()) out += (out.empty() ? "" : " ") + st.getColumn(0).getString();
    return out;
  }
  TempDir dir_;
  std::unique_ptr<SQLite::Database> db_;
};

TEST_F(HouseholdSearch, NamesIgnoreAccentsAndCase) {
  import(kList);
  EXPECT_EQ(codes(R"(name ~ "nguyen van")"), "A1 A2");
  EXPECT_EQ(codes(R"(name ~ "Nguyen Van")"), "A1 A2");
  EXPECT_EQ(codes(R"(name ~ "NGUYỄN VĂN")"), "A1 A2");
  EXPECT_EQ(codes(R"(name ~ "Nguyễn Văn")"), "A1 A2");
  EXPECT_EQ(codes(R"(name ~ "binh")"), "A2");
  EXPECT_EQ(codes(R"(name ~ "nguyen  van   an")"), "A1");  // extra spaces typed
}

TEST_F(HouseholdSearch, DFindsDStroke) {
  import(kList);
  EXPECT_EQ(codes(R"(name ~ "dao")"), "A3");
  EXPECT_EQ(codes(R"(village ~ "buon don")"), "A1");
  EXPECT_EQ(codes(R"(commune ~ "dak mil")"), "A3");
  EXPECT_EQ(codes(R"(commune ~ "Đắk")"), "A3");
}

TEST_F(HouseholdSearch, MinorityLettersAreFoundByTheirPlainLetters) {
  import(kList);
  EXPECT_EQ(codes(R"(name ~ "buon ya")"), "A4");       // ƀ
  EXPECT_EQ(codes(R"(village ~ "cuor")"), "A4");       // č
  EXPECT_EQ(codes(R"(commune ~ "krong buk")"), "A4");  // ŭ
  EXPECT_EQ(codes(R"(name ~ "y on")"), "A5");          // ŏ
  EXPECT_EQ(codes(R"(village ~ "buon ea")"), "A5");    // ĕ
  EXPECT_EQ(codes(R"(name ~ "Ƀuôn")"), "A4");          // typed with the letter itself
}

TEST_F(HouseholdSearch, CombinesWithTheOtherConditionsAndCounts) {
  import(kList);
  EXPECT_EQ(codes(R"(name ~ "nguyen" and commune ~ "ea tul")"), "A1");
  EXPECT_EQ(codes(R"(category = "near_poor" or village ~ "buon")"), "A1 A3 A4 A5");
  auto compiled = compile_filter(R"(not name ~ "nguyen")");
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(count_audience(*db_, compiled.sql).households, 3u);
}

TEST_F(HouseholdSearch, AnUpdatedNameIsFoundByItsNewSpelling) {
  import(kList);
  import(
      "Mã hộ,Họ và tên chủ hộ,Số điện thoại,Phân loại hộ,Thôn/Buôn,Xã/Phường\r\n"
      "A1,Lê Thị Hoà,0912345671,Hộ nghèo,Buôn Đôn,Xã Ea Tul\r\n");
  EXPECT_EQ(codes(R"(name ~ "nguyen van")"), "A2");
  EXPECT_EQ(codes(R"(name ~ "le thi hoa")"), "A1");
}

TEST_F(HouseholdSearch, TheSearchUsesTheFoldedIndexes) {
  SQLite::Statement st(*db_,
                       "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN "
                       "('households_name_folded', 'households_area_folded') ORDER BY name");
  std::string names;
  while (st.executeStep()) names += st.getColumn(0).getString() + " ";
  EXPECT_EQ(names, "households_area_folded households_name_folded ");
}

TEST_F(HouseholdSearch, MigrationBackfillsRowsStoredBeforeIt) {
  import(kList);
  // Back to the schema before 0011, as a store of the previous release has it.
  db_->exec("DROP INDEX households_name_folded");
  db_->exec("DROP INDEX households_area_folded");
  for (const char* c : {"name_folded", "commune_folded", "village_folded"})
    db_->exec(std::string("ALTER TABLE households DROP COLUMN ") + c);
  db_->exec("DELETE FROM schema_migrations WHERE version = 11");
  const auto report = engine::migrate(*db_);
  ASSERT_EQ(report.applied.size(), 1u);
  EXPECT_EQ(report.applied[0], "0011_household_search");
  EXPECT_EQ(codes(R"(name ~ "nguyen van")"), "A1 A2");
  EXPECT_EQ(codes(R"(village ~ "cuor")"), "A4");
  EXPECT_EQ(db_->execAndGet("SELECT village_folded FROM households WHERE household_code = 'A4'")
                .getString(),
            "buon cuor");
}

}  // namespace
}  // namespace loa::campaigns
