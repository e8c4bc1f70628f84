// The department's sample list, imported into a real SQLite store. The expected counts are
// worked out here from the file itself with simple rules, independently of the importer.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "campaigns/audience.hpp"
#include "campaigns/household_import.hpp"
#include "campaigns/household_store.hpp"
#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::campaigns {
namespace {

using loa::test::fixtures_dir;
using loa::test::TempDir;

// ---- the independent computation ------------------------------------------------------------

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// The 2018 conversion table (vietnam-channels.md section 4).
const std::map<std::string, std::string> kOldToNew = {
    {"0162", "032"}, {"0163", "033"}, {"0164", "034"}, {"0165", "035"}, {"0166", "036"},
    {"0167", "037"}, {"0168", "038"}, {"0169", "039"}, {"0120", "070"}, {"0121", "079"},
    {"0122", "077"}, {"0126", "076"}, {"0128", "078"}, {"0123", "083"}, {"0124", "084"},
    {"0125", "085"}, {"0127", "081"}, {"0129", "082"}, {"0186", "056"}, {"0188", "058"},
    {"0199", "059"}};

struct Expected {
  int rows = 0, unknown_category = 0, accepted = 0;
  int missing = 0, landline = 0, letters = 0, old_prefix = 0, lost_zero = 0;
  int shared_phones = 0, shared_rows = 0;
  std::map<std::string, int> by_category;
};

Expected expected_from_file(const std::string& path) {
  Expected e;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::map<std::string, int> phone_count;
  const std::map<std::string, std::string> categories = {
      {"Hộ nghèo", "poor"}, {"Hộ cận nghèo", "near_poor"}, {"Hộ mới thoát nghèo", "escaped"}};
  while (std::getline(in, line)) {
    if (line == "\r" || line.empty()) continue;  // blank lines are not rows
    ++e.rows;
    auto f = split_csv_line(line);
    const std::string phone = f.at(3);
    auto cat = categories.find(f.at(6));
    if (cat == categories.end()) {
      ++e.unknown_category;
      continue;
    }
    ++e.accepted;
    ++e.by_category[cat->second];
    if (phone.empty()) {
      ++e.missing;
      continue;
    }
    if (phone.find('x') != std::string::npos) {
      ++e.letters;
      continue;
    }
    std::string digits;
    for (char c : phone)
      if (c >= '0' && c <= '9') digits += c;
    if (digits.rfind("02", 0) == 0) {
      ++e.landline;
      continue;
    }
    std::string local;
    if (phone[0] == '+') local = "0" + digits.substr(2);
    else if (digits.size() == 11 && digits.rfind("84", 0) == 0) local = "0" + digits.substr(2);
    else if (digits.size() == 9) {
      local = "0" + digits;
      ++e.lost_zero;
    } else if (digits.size() == 11 && kOldToNew.count(digits.substr(0, 4))) {
      local = kOldToNew.at(digits.substr(0, 4)) + digits.substr(4);
      ++e.old_prefix;
    } else {
      local = digits;
    }
    ++phone_count[local];
  }
  for (const auto& [p, n] : phone_count) {
    if (n > 1) {
      ++e.shared_phones;
      e.shared_rows += n;
    }
  }
  return e;
}

// ---- the tests -------------------------------------------------------------------------------

class NullIssues : public IssueSink {
 public:
  void issue(const ImportIssue& i) override { ++count[i.reason]; }
  std::map<std::string, int> count;
};

class FixtureImport : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(
        engine::open_store(dir_ / "loa.db", engine::StoreMode::kReadWrite));
    engine::migrate(*db_);
  }
  ImportSummary import(HouseholdStore& store, NullIssues& issues) {
    std::ifstream in(fixture_, std::ios::binary);
    EXPECT_TRUE(in.is_open()) << fixture_;
    ImportOptions options;
    options.categories = load_categories(*db_);
    options.default_province = "Đắk Lắk";
    auto s = HouseholdImport(options).run(in, store, issues);
    store.finish();
    return s;
  }
  TempDir dir_;
  std::unique_ptr<SQLite::Database> db_;
  std::string fixture_ = (fixtures_dir() / "households-sample.csv").string();
};

TEST_F(FixtureImport, CountsMatchTheIndependentComputation) {
  const Expected e = expected_from_file(fixture_);
  ASSERT_GT(e.rows, 2900);
  HouseholdStore store(*db_, "households-sample.csv");
  NullIssues issues;
  const ImportSummary s = import(store, issues);
  ASSERT_TRUE(s.refused.empty()) << s.refused;

  EXPECT_EQ(s.rows, static_cast<std::uint64_t>(e.rows));
  EXPECT_EQ(s.accepted, static_cast<std::uint64_t>(e.accepted));
  EXPECT_EQ(s.rejected, static_cast<std::uint64_t>(e.unknown_category));
  EXPECT_EQ(issues.count["unknown_category"], e.unknown_category);
  EXPECT_EQ(issues.count["phone_missing"], e.missing);
  EXPECT_EQ(issues.count["phone_landline"], e.landline);
  EXPECT_EQ(issues.count["phone_invalid_character"], e.letters);
  EXPECT_EQ(s.old_prefix_converted, static_cast<std::uint64_t>(e.old_prefix));
  EXPECT_EQ(s.leading_zero_restored, static_cast<std::uint64_t>(e.lost_zero));
  EXPECT_EQ(s.shared_phones, static_cast<std::uint64_t>(e.shared_phones));
  EXPECT_EQ(s.shared_phone_rows, static_cast<std::uint64_t>(e.shared_rows));
  EXPECT_EQ(s.without_phone, static_cast<std::uint64_t>(e.missing + e.landline + e.letters));
  for (const auto& [cat, n] : e.by_category)
    EXPECT_EQ(s.by_category.at(cat), static_cast<std::uint64_t>(n)) << cat;

  // The store agrees.
  EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM households").getInt(), e.accepted);
  EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM households WHERE shared_phone = 1").getInt(),
            e.shared_rows);
  EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM households WHERE phone_e164 IS NULL").getInt(),
            e.missing + e.landline + e.letters);
  EXPECT_EQ(store.inserted(), static_cast<std::uint64_t>(e.accepted));
}

TEST_F(FixtureImport, ReimportingChangesNothingAndKeepsOptOuts) {
  {
    HouseholdStore store(*db_, "households-sample.csv");
    NullIssues issues;
    import(store, issues);
  }
  // A household replied STOP in the meantime; the list knows nothing of that.
  db_->exec("UPDATE households SET opt_out_sms = 1 WHERE household_code = 'DL-01-0000002'");
  const std::string before =
      db_->execAndGet("SELECT group_concat(updated_at, '') FROM households").getString();

  HouseholdStore again(*db_, "households-sample.csv");
  NullIssues issues;
  const auto s = import(again, issues);
  EXPECT_EQ(again.inserted(), 0u);
  EXPECT_EQ(again.updated(), 0u);
  EXPECT_EQ(again.unchanged(), s.accepted);
  EXPECT_EQ(db_->execAndGet("SELECT group_concat(updated_at, '') FROM households").getString(),
            before);
  EXPECT_EQ(db_->execAndGet("SELECT opt_out_sms FROM households WHERE household_code = "
                            "'DL-01-0000002'")
                .getInt(),
            1);
}

TEST_F(FixtureImport, AudienceCountsAndSegments) {
  HouseholdStore store(*db_, "households-sample.csv");
  NullIssues issues;
  import(store, issues);

  auto compiled = compile_filter(R"(category = "poor" and language = "rad")");
  ASSERT_TRUE(compiled.ok());
  const AudienceCount c = count_audience(*db_, compiled.sql);
  const int direct = db_->execAndGet("SELECT COUNT(*) FROM households WHERE category = 'poor' "
                                     "AND language = 'rad'")
                         .getInt();
  EXPECT_GT(direct, 0);
  EXPECT_EQ(c.households, static_cast<std::uint64_t>(direct));
  ASSERT_EQ(c.by_category.size(), 1u);
  EXPECT_EQ(c.by_category[0].first, "poor");
  ASSERT_EQ(c.by_language.size(), 1u);
  std::uint64_t communes = 0;
  for (const auto& [k, n] : c.by_commune) communes += n;
  EXPECT_EQ(communes, c.households);

  EXPECT_FALSE(save_segment(*db_, {"ede-poor", R"(category = "poor" and language = "rad")"}));
  auto seg = find_segment(*db_, "ede-poor");
  ASSERT_TRUE(seg.has_value());
  EXPECT_EQ(seg->expression, R"(category = "poor" and language = "rad")");
  auto bad = save_segment(*db_, {"broken", R"(category = "poor" and)"});
  ASSERT_TRUE(bad.has_value());
  EXPECT_FALSE(find_segment(*db_, "broken").has_value());
  EXPECT_TRUE(delete_segment(*db_, "ede-poor"));
  EXPECT_TRUE(list_segments(*db_).empty());
}

}  // namespace
}  // namespace loa::campaigns
