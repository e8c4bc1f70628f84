// XlsxReader on hand-made workbooks: what each kind of cell becomes, and the hostile files it
// must refuse (a ZIP bomb, entity expansion, deep nesting) before they cost memory.
#include "campaigns/xlsx_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/list_formats.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::campaigns {
namespace {

using loa::test::TempDir;

std::filesystem::path workbook(const TempDir& dir, const std::string& rows,
                               const std::string& prolog = "", const std::string& shared = "") {
  static int n = 0;
  const auto path = dir / ("book-" + std::to_string(++n) + ".xlsx");
  loa::test::write_raw_workbook(path, rows, prolog, shared);
  return path;
}

std::vector<std::vector<std::string>> read_all(XlsxReader& reader, RowError& error,
                                               std::vector<std::uint64_t>* lines = nullptr) {
  std::vector<std::vector<std::string>> rows;
  SourceRow row;
  while (reader.next(row, error)) {
    if (error) break;
    rows.emplace_back(row.fields().begin(), row.fields().end());
    if (lines) lines->push_back(row.line());
  }
  return rows;
}

TEST(XlsxReader, CellsAsExcelShowsThem) {
  TempDir dir;
  const auto path = workbook(
      dir,
      "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c><c r=\"C2\"><v>84912345678</v></c>"
      "<c r=\"D2\" s=\"1\"><v>46023</v></c><c r=\"E2\"><v>1.5</v></c>"
      "<c r=\"F2\" t=\"inlineStr\"><is><t>Hộ </t></is></c><c r=\"G2\" t=\"b\"><v>1</v></c></row>"
      "<row r=\"3\"></row><row r=\"5\"><c r=\"A5\" t=\"s\"><v>1</v></c></row>",
      "",
      "<sst><si><t>Mã hộ</t></si><si><r><t>Phân "
      "</t></r><r><t>loại</t></r><rPh><t>x</t></rPh></si></sst>");
  RowError error;
  auto reader = XlsxReader::open(path, "", error);
  ASSERT_TRUE(reader) << error.message;
  std::vector<std::uint64_t> lines;
  SourceRow row;
  ASSERT_TRUE(reader->next(row, error));
  ASSERT_FALSE(error) << error.message;
  EXPECT_EQ(row.line(), 2u);
  ASSERT_EQ(row.size(), 7u);
  EXPECT_EQ(row[0], "Mã hộ");
  EXPECT_EQ(row[1], "");  // B2 left out by the sheet
  EXPECT_EQ(row[2], "84912345678");
  EXPECT_EQ(row.stored_number(2), "84912345678");
  EXPECT_EQ(row[3], "01/01/2026");
  EXPECT_EQ(row[4], "1.5");
  EXPECT_EQ(row[5], "Hộ ");
  EXPECT_EQ(row[6], "TRUE");
  EXPECT_EQ(row.stored_number(0), "");
  ASSERT_TRUE(reader->next(row, error));  // the empty row 3 is skipped
  EXPECT_EQ(row.line(), 5u);
  EXPECT_EQ(row[0], "Phân loại");
  EXPECT_FALSE(reader->next(row, error));
  EXPECT_EQ(reader->sheet_name(), "Danh sách");
}

TEST(XlsxReader, RefusesAZipBombAtTheInflateCap) {
  TempDir dir;
  // 8 MiB of one repeated row deflates to a few KiB.
  std::string rows;
  const std::string one = "<row><c t=\"inlineStr\"><is><t>aaaaaaaaaaaaaaaa</t></is></c></row>";
  while (rows.size() < (8u << 20)) rows += one;
  const auto path = workbook(dir, rows);
  WorkbookLimits limits;
  limits.max_inflated_bytes = 1 << 20;
  RowError error;
  auto reader = XlsxReader::open(path, "", error, limits);
  if (reader) read_all(*reader, error);
  EXPECT_TRUE(error.fatal);
  EXPECT_EQ(error.reason, "zip_too_large") << error.message;
  EXPECT_NE(error.message.find("bom ZIP"), std::string::npos) << error.message;
}

TEST(XlsxReader, RefusesEntityExpansionAndDeepNesting) {
  TempDir dir;
  const std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
      "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>";
  std::string deep = "<row r=\"1\"><c t=\"inlineStr\"><is><t>ok</t></is></c></row><row r=\"2\">";
  for (int i = 0; i < 200; ++i) deep += "<x>";
  for (int i = 0; i < 200; ++i) deep += "</x>";
  deep += "</row>";
  for (const auto& [rows, prolog] : std::vector<std::pair<std::string, std::string>>{
           {"<row r=\"1\"><c t=\"inlineStr\"><is><t>&c;</t></is></c></row>", laughs}, {deep, ""}}) {
    const auto path = workbook(dir, rows, prolog);
    RowError error;
    auto reader = XlsxReader::open(path, "", error);
    ASSERT_TRUE(reader) << error.message;
    read_all(*reader, error);
    EXPECT_TRUE(error.fatal);
    EXPECT_EQ(error.reason, "xml_refused") << error.message;
  }
}

TEST(XlsxReader, NamesTheSheetsWhenTheWantedOneIsMissing) {
  TempDir dir;
  RowError error;
  EXPECT_FALSE(XlsxReader::open(workbook(dir, ""), "Sheet2", error));
  EXPECT_NE(error.message.find("'Danh sách'"), std::string::npos) << error.message;
  EXPECT_TRUE(XlsxReader::open(workbook(dir, ""), "1", error));
}

}  // namespace
}  // namespace loa::campaigns
