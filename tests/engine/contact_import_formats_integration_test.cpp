// The department's sample list, converted by the test into each format officers send, imports
// to the same households rows, with the same counts, as its UTF-8 CSV: .xlsx (two title rows,
// phones as numeric cells), UTF-16 "Unicode Text", Windows-1258 with ';', TCVN3, and a small
// .xls made with LibreOffice (tests/engine/data/households-200.xls, see the README there). Files
// loa cannot read are refused naming what they are, and nothing is written.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <zip.h>

#include <string>

#include <filesystem>
#include <fstream>

#include "engine/contact_import.hpp"
#include "engine/store.hpp"
#include "tests/support/list_formats.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

namespace fs = std::filesystem;
using loa::test::ListTable;
using loa::test::TempDir;

constexpr int kPhoneColumn = 3;  // "Số điện thoại" in households-sample.csv

class ContactImportFormats : public ::testing::Test {
 protected:
  struct Outcome {
    ContactImportResult result;
    std::string rows;  // every households row, in a fixed order
    int households = 0;
  };

  Outcome import(const fs::path& file, const std::string& sheet = "",
                 const std::string& encoding = "") {
    const fs::path store = dir_ / ("store-" + std::to_string(++imports_) + ".db");
    { SQLite::Database create(store.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE); }
    SQLite::Database db = open_store(store, StoreMode::kReadWrite);
    migrate(db);
    ContactImportOptions o;
    o.file = file;
    o.source = "list";  // the same for every format, so households.source compares
    o.report = dir_ / ("report-" + std::to_string(imports_) + ".csv");
    o.actor = "test";
    o.sheet = sheet;
    o.encoding = encoding;
    Outcome out;
    out.result = import_contacts(db, o);
    SQLite::Statement st(db,
                         "SELECT household_code, name, phone_e164, phone_raw, carrier, language, "
                         "language_source, ethnicity, category, province, commune, village, "
                         "district, has_zalo, zalo_user_id, consent_sms, consent_zalo, "
                         "opt_out_sms, opt_out_zalo, shared_phone, row_hash, attributes "
                         "FROM households ORDER BY household_code, phone_e164, name");
    while (st.executeStep()) {
      ++out.households;
      for (int i = 0; i < st.getColumnCount(); ++i)
        out.rows += (st.getColumn(i).isNull() ? "<null>" : st.getColumn(i).getString()) + "\t";
      out.rows += "\n";
    }
    return out;
  }

  // The counts two imports of the same list must share (title rows aside).
  static void expect_same_counts(const campaigns::ImportSummary& want,
                                 const campaigns::ImportSummary& got) {
    EXPECT_EQ(got.rows, want.rows);
    EXPECT_EQ(got.accepted, want.accepted);
    EXPECT_EQ(got.rejected, want.rejected);
    EXPECT_EQ(got.flagged, want.flagged);
    EXPECT_EQ(got.old_prefix_converted, want.old_prefix_converted);
    EXPECT_EQ(got.leading_zero_restored, want.leading_zero_restored);
    EXPECT_EQ(got.without_phone, want.without_phone);
    EXPECT_EQ(got.shared_phones, want.shared_phones);
    EXPECT_EQ(got.duplicate_codes, want.duplicate_codes);
    EXPECT_EQ(got.by_category, want.by_category);
    EXPECT_EQ(got.by_language, want.by_language);
    auto reasons = got.reasons;
    reasons.erase("title_row");
    EXPECT_EQ(reasons, want.reasons);
  }

  void expect_same(const Outcome& want, const Outcome& got) {
    ASSERT_TRUE(got.result.summary.refused.empty()) << got.result.summary.refused;
    expect_same_counts(want.result.summary, got.result.summary);
    EXPECT_EQ(got.households, want.households);
    EXPECT_TRUE(got.rows == want.rows) << "the households rows differ";
  }

  // A UTF-8 CSV of `table`, imported: what every other format must equal.
  Outcome baseline(const ListTable& table) {
    const fs::path csv = dir_ / ("baseline-" + std::to_string(imports_ + 1) + ".csv");
    loa::test::write_text(table, csv, ',');
    Outcome out = import(csv);
    EXPECT_TRUE(out.result.summary.refused.empty()) << out.result.summary.refused;
    EXPECT_GT(out.households, 100);
    return out;
  }

  TempDir dir_;
  int imports_ = 0;
  ListTable sample_ =
      loa::test::read_csv_table(loa::test::fixtures_dir() / "households-sample.csv");
};

TEST_F(ContactImportFormats, XlsxWithTitleRowsAndNumericPhones) {
  const Outcome want = baseline(sample_);
  const fs::path xlsx = dir_ / "danh-sach.xlsx";
  loa::test::XlsxLayout layout;
  layout.titles = {"DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2026",
                   "Tỉnh Đắk Lắk - (kèm theo Quyết định số 123/QĐ-UBND)"};
  layout.phone_column = kPhoneColumn;
  loa::test::write_xlsx(sample_, xlsx, layout);
  const Outcome got = import(xlsx);
  expect_same(want, got);
  EXPECT_EQ(got.result.summary.title_rows, 2u);
  EXPECT_EQ(got.result.summary.header_line, 3u);
  EXPECT_NE(got.result.summary.source.find("XLSX"), std::string::npos);
  EXPECT_EQ(got.result.summary.reasons.at("title_row"), 2u);
}

TEST_F(ContactImportFormats, Utf16TabSeparated) {
  const Outcome want = baseline(sample_);
  ListTable kept;
  loa::test::write_encoded(sample_, dir_ / "unicode.txt", "UTF-16LE", '\t', kept);
  ASSERT_EQ(kept.rows.size(), sample_.rows.size());
  const Outcome got = import(dir_ / "unicode.txt");
  expect_same(want, got);
  EXPECT_EQ(got.result.encoding, "UTF-16LE");
  EXPECT_EQ(got.result.summary.delimiter, '\t');
}

TEST_F(ContactImportFormats, Windows1258WithSemicolons) {
  ListTable kept;
  loa::test::write_encoded(sample_, dir_ / "cp1258.csv", "CP1258", ';', kept);
  // Windows-1258 cannot hold the Ê Đê and Bahnar letters ŏ, Ŭ, Ƀ: those rows are left out of
  // both sides.
  ASSERT_GT(kept.rows.size(), sample_.rows.size() * 8 / 10);
  const Outcome want = baseline(kept);
  const Outcome got = import(dir_ / "cp1258.csv");
  expect_same(want, got);
  EXPECT_EQ(got.result.encoding, "Windows-1258");
  EXPECT_EQ(got.result.summary.delimiter, ';');
}

TEST_F(ContactImportFormats, Tcvn3DetectedAndForced) {
  ListTable kept;
  loa::test::write_encoded(sample_, dir_ / "tcvn3.csv", "TCVN5712-1", ',', kept);
  ASSERT_GT(kept.rows.size(), sample_.rows.size() * 8 / 10);
  const Outcome want = baseline(kept);
  const Outcome detected = import(dir_ / "tcvn3.csv");
  expect_same(want, detected);
  EXPECT_EQ(detected.result.encoding, "TCVN3 (ABC)");
  const Outcome forced = import(dir_ / "tcvn3.csv", "", "tcvn3");
  expect_same(want, forced);
}

TEST_F(ContactImportFormats, XlsFromLibreOffice) {
  ListTable first;
  // The workbook holds the fixture's first 201 lines: the header and 199 records (one record
  // has a line break in a quoted cell).
  first.rows.assign(sample_.rows.begin(), sample_.rows.begin() + 200);
  const Outcome want = baseline(first);
  const Outcome got = import(test::source_dir() / "tests/engine/data/households-200.xls");
  expect_same(want, got);
  EXPECT_NE(got.result.summary.source.find("XLS"), std::string::npos);
}

TEST_F(ContactImportFormats, SheetChosenByNameOrNumber) {
  const fs::path xlsx = dir_ / "two.xlsx";
  loa::test::write_xlsx(sample_, xlsx, {});
  EXPECT_TRUE(import(xlsx, "1").result.summary.refused.empty());
  EXPECT_TRUE(import(xlsx, "Danh sách hộ").result.summary.refused.empty());
  const Outcome none = import(xlsx, "Sheet9");
  EXPECT_NE(none.result.summary.refused.find("Không có trang tính 'Sheet9'"), std::string::npos)
      << none.result.summary.refused;
  EXPECT_EQ(none.households, 0);
}

TEST_F(ContactImportFormats, RefusesWhatItCannotReadNamingIt) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"scan.pdf", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n", "tài liệu PDF"},
      {"photo.jpg", std::string("\xFF\xD8\xFF\xE0\0\x10JFIF\0", 11), "hình ảnh"},
      {"photo.png", std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16), "hình ảnh"},
      {"page.xls", "<html><body><table><tr><td>Mã hộ</td></tr></table>", "trang web"},
      {"list.rar", std::string("Rar!\x1A\x07\x01\0", 8), "tệp nén"},
      {"data.bin", std::string("\x01\x02\x03\0\x05\x06\x07\x08", 8), "nhị phân"},
  };
  for (const auto& c : cases) {
    loa::test::write_file(dir_ / c.name, c.bytes);
    const Outcome got = import(dir_ / c.name);
    EXPECT_NE(got.result.summary.refused.find(c.says), std::string::npos)
        << c.name << ": " << got.result.summary.refused;
    EXPECT_FALSE(got.result.summary.refused_en.empty()) << c.name;
    EXPECT_EQ(got.result.summary.refused.find("line 1"), std::string::npos) << c.name;
    EXPECT_EQ(got.households, 0) << c.name;
  }
  // A ZIP that is not a workbook.
  int error = 0;
  zip_t* zip = zip_open((dir_ / "photos.zip").c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(zip, nullptr);
  static const char kText[] = "not a sheet";
  zip_file_add(zip, "readme.txt", zip_source_buffer(zip, kText, sizeof kText - 1, 0), 0);
  ASSERT_EQ(zip_close(zip), 0);
  const Outcome got = import(dir_ / "photos.zip");
  EXPECT_NE(got.result.summary.refused.find("ZIP nhưng không phải sổ tính"), std::string::npos)
      << got.result.summary.refused;
}

TEST_F(ContactImportFormats, HostileXmlDeepInASheetWritesNothing) {
  // Good rows first, then nesting past the depth cap: refused whole, before the first write.
  std::string rows =
      "<row r=\"1\"><c t=\"inlineStr\"><is><t>Mã hộ</t></is></c><c t=\"inlineStr\"><is><t>"
      "Phân loại hộ</t></is></c><c t=\"inlineStr\"><is><t>Xã</t></is></c></row>";
  for (int i = 2; i < 30000; ++i)
    rows += "<row r=\"" + std::to_string(i) + "\"><c t=\"inlineStr\"><is><t>DL-" +
            std::to_string(i) +
            "</t></is></c><c t=\"inlineStr\"><is><t>Hộ nghèo</t></is></c>"
            "<c t=\"inlineStr\"><is><t>Ea Tu</t></is></c></row>";
  rows += "<row r=\"30000\">" + std::string(100 * 3, ' ');
  for (int i = 0; i < 100; ++i) rows += "<x>";
  for (int i = 0; i < 100; ++i) rows += "</x>";
  rows += "</row>";
  loa::test::write_raw_workbook(dir_ / "deep.xlsx", rows);
  const Outcome got = import(dir_ / "deep.xlsx");
  EXPECT_NE(got.result.summary.refused.find("an toàn"), std::string::npos)
      << got.result.summary.refused;
  EXPECT_EQ(got.households, 0);
}

}  // namespace
}  // namespace loa::engine
