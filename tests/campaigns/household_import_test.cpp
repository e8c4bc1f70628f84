// The household import on small, hand-made lists: header mapping, every fault class, encoding.
#include "campaigns/household_import.hpp"

#include <gtest/gtest.h>

#include "campaigns/import_messages.hpp"

#include <sstream>

namespace loa::campaigns {
namespace {

std::vector<Category> categories() {
  return {{"poor", "Hộ nghèo", {"hộ nghèo", "nghèo", "poor"}},
          {"near_poor", "Hộ cận nghèo", {"hộ cận nghèo", "cận nghèo", "near_poor"}},
          {"escaped", "Hộ mới thoát nghèo", {"hộ mới thoát nghèo", "escaped"}}};
}

struct Collect : HouseholdSink, IssueSink {
  void write(const Household& h, std::uint64_t line) override {
    households.push_back(h);
    lines.push_back(line);
  }
  void issue(const ImportIssue& i) override { issues.push_back(i); }
  std::vector<Household> households;
  std::vector<std::uint64_t> lines;
  std::vector<ImportIssue> issues;
  const ImportIssue* find(const std::string& reason) const {
    for (const auto& i : issues)
      if (i.reason == reason) return &i;
    return nullptr;
  }
};

ImportSummary import_text(const std::string& text, Collect& out, ImportOptions options = {}) {
  if (options.categories.empty()) options.categories = categories();
  options.default_province = "Đắk Lắk";
  std::istringstream in(text);
  return HouseholdImport(options).run(in, out, out);
}

const std::string kHeader =
    "\xEF\xBB\xBFSTT,Mã hộ,Họ và tên chủ hộ,Số điện thoại,Dân tộc,Ngôn ngữ,Phân loại hộ,"
    "Thôn/Buôn,Xã/Phường/Thị trấn,Huyện/Thị xã/Thành phố,Có Zalo\r\n";

TEST(FoldKey, FoldsVietnameseHeaders) {
  EXPECT_EQ(fold_key("Mã hộ"), "maho");
  EXPECT_EQ(fold_key("Xã/Phường/Thị trấn"), "xaphuongthitran");
  EXPECT_EQ(fold_key("  Số Điện Thoại "), "sodienthoai");
  EXPECT_EQ(fold_key("Hộ cận nghèo"), "hocanngheo");
}

TEST(LanguageForEthnicity, MapsTheProvincesMinorities) {
  EXPECT_EQ(language_for_ethnicity("Ê Đê"), "rad");
  EXPECT_EQ(language_for_ethnicity("Ede"), "rad");
  EXPECT_EQ(language_for_ethnicity("M'Nông"), "cmo");
  EXPECT_EQ(language_for_ethnicity("Gia Rai"), "jra");
  EXPECT_EQ(language_for_ethnicity("Jarai"), "jra");
  EXPECT_EQ(language_for_ethnicity("Kinh"), "");
  EXPECT_EQ(language_for_ethnicity("Tày"), "");
  EXPECT_TRUE(is_language_tag("vi"));
  EXPECT_TRUE(is_language_tag("rad"));
  EXPECT_TRUE(is_language_tag("vi-VN"));
  EXPECT_FALSE(is_language_tag("Vietnamese"));
  EXPECT_FALSE(is_language_tag("v"));
}

TEST(HouseholdImport, ReadsTheDepartmentsHeaderAsIs) {
  Collect out;
  auto s = import_text(kHeader +
                           "1,DL-01-0000001,Y Blin Niê,0912 345 678,Ê Đê,,Hộ nghèo,Buôn 3,Xã Ea "
                           "Tu,Thành phố Buôn Ma Thuột,có\r\n",
                       out);
  ASSERT_TRUE(s.refused.empty()) << s.refused;
  ASSERT_EQ(out.households.size(), 1u);
  const auto& h = out.households[0];
  EXPECT_EQ(h.household_code, "DL-01-0000001");
  EXPECT_EQ(h.name, "Y Blin Niê");
  EXPECT_EQ(h.phone_e164, "+84912345678");
  EXPECT_EQ(h.carrier, "vinaphone");
  EXPECT_EQ(h.category, "poor");
  EXPECT_EQ(h.language, "rad");  // derived from the ethnic group
  EXPECT_EQ(h.language_source, "ethnicity");
  EXPECT_EQ(h.commune, "Xã Ea Tu");
  EXPECT_EQ(h.village, "Buôn 3");
  EXPECT_EQ(h.district, "Thành phố Buôn Ma Thuột");
  EXPECT_EQ(h.province, "Đắk Lắk");
  EXPECT_TRUE(h.has_zalo);
  EXPECT_EQ(out.lines[0], 2u);
}

TEST(HouseholdImport, EnglishHeadersSemicolonsAndDecomposedText) {
  Collect out;
  // "Hộ nghèo" typed with combining marks (NFD) must land as NFC.
  auto s = import_text(
      "code;name;phone;ethnicity;language;category;village;commune\n"
      "A1;Nguyen Van A;+84 36 123 4567;Kinh;vi;Ho\xCC\xA3\xCC\x82 nghe\xCC\x80o;Thon 1;Xa\xCC\x83 Ea Tu\n",
      out);
  ASSERT_TRUE(s.refused.empty()) << s.refused;
  EXPECT_EQ(s.delimiter, ';');
  ASSERT_EQ(out.households.size(), 1u);
  EXPECT_EQ(out.households[0].phone_e164, "+84361234567");
  EXPECT_EQ(out.households[0].commune, "Xã Ea Tu");  // NFC
  EXPECT_EQ(out.households[0].language_source, "list");
}

struct FaultCase {
  const char* label;
  const char* phone;
  const char* category;
  const char* reason;
  IssueSeverity severity;
  bool accepted;
};

class HouseholdImportFaults : public ::testing::TestWithParam<FaultCase> {};

TEST_P(HouseholdImportFaults, ReportsEachFaultWithItsPlace) {
  const auto& c = GetParam();
  Collect out;
  auto s = import_text(kHeader + "7,DL-01-0000007,Lê Văn An," + c.phone + ",Kinh,vi," +
                           c.category + ",Thôn 2,Xã Ea Kao,Thành phố Buôn Ma Thuột,không\r\n",
                       out);
  ASSERT_TRUE(s.refused.empty()) << s.refused;
  EXPECT_EQ(s.accepted, c.accepted ? 1u : 0u) << c.label;
  EXPECT_EQ(s.rejected, c.accepted ? 0u : 1u) << c.label;
  const ImportIssue* issue = out.find(c.reason);
  ASSERT_NE(issue, nullptr) << c.label << ": no issue " << c.reason;
  EXPECT_EQ(issue->line, 2u);
  EXPECT_EQ(issue->severity, c.severity) << c.label;
  EXPECT_FALSE(issue->column.empty());
  EXPECT_EQ(s.reasons[c.reason], 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Table, HouseholdImportFaults,
    ::testing::Values(
        FaultCase{"missing phone", "", "Hộ nghèo", "phone_missing", IssueSeverity::kWarning, true},
        FaultCase{"landline", "0262 3812345", "Hộ nghèo", "phone_landline", IssueSeverity::kWarning,
                  true},
        FaultCase{"letter in phone", "091234x5678", "Hộ nghèo", "phone_invalid_character",
                  IssueSeverity::kWarning, true},
        FaultCase{"old prefix", "01662345678", "Hộ nghèo", "phone_old_prefix", IssueSeverity::kFixed,
                  true},
        FaultCase{"lost zero", "912345678", "Hộ nghèo", "phone_leading_zero", IssueSeverity::kFixed,
                  true},
        FaultCase{"unknown category", "0912345678", "Hộ khá", "unknown_category",
                  IssueSeverity::kRejected, false},
        FaultCase{"missing category", "0912345678", "", "missing_category",
                  IssueSeverity::kRejected, false}),
    [](const ::testing::TestParamInfo<FaultCase>& param) {
      std::string name = param.param.label;
      for (auto& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

// Phone cells as Excel and officers write them: each becomes its number with a warning (or a
// fix), or is refused with a Vietnamese reason that says what to do.
struct PhoneSpelling {
  const char* label;
  const char* cell;
  const char* e164;    // "" when the phone is refused
  const char* reason;  // the issue raised
  IssueSeverity severity;
  const char* vi;  // the issue's Vietnamese message
};

class HouseholdImportPhoneSpellings : public ::testing::TestWithParam<PhoneSpelling> {};

TEST_P(HouseholdImportPhoneSpellings, RepairsOrRefusesInVietnamese) {
  const auto& c = GetParam();
  Collect out;
  auto s = import_text(kHeader + "7,DL-01-0000007,Lê Văn An,\"" + c.cell +
                           "\",Kinh,vi,Hộ nghèo,Thôn 2,Xã Ea Kao,Buôn Ma Thuột,không\r\n",
                       out);
  ASSERT_TRUE(s.refused.empty()) << s.refused;
  ASSERT_EQ(out.households.size(), 1u) << c.label;  // the household is kept either way
  EXPECT_EQ(out.households[0].phone_e164, c.e164) << c.label;
  EXPECT_EQ(out.households[0].phone_raw, c.cell);
  if (*c.reason == '\0') {
    EXPECT_TRUE(out.issues.empty()) << out.issues[0].reason;
    return;
  }
  const ImportIssue* issue = out.find(c.reason);
  ASSERT_NE(issue, nullptr) << c.label << ": no issue " << c.reason;
  EXPECT_EQ(issue->severity, c.severity);
  EXPECT_EQ(issue->column, "Số điện thoại");
  EXPECT_EQ(issue->value, c.cell);
  const IssueText text = issue_text(*issue, MessageLanguage::kVi);
  EXPECT_EQ(text.message, c.vi);
  EXPECT_FALSE(text.advice.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, HouseholdImportPhoneSpellings,
    ::testing::Values(
        PhoneSpelling{"scientific with country code", "8.4912345678E+10", "+84912345678",
                      "phone_scientific", IssueSeverity::kWarning,
                      "Số dạng khoa học của Excel đã được đổi thành +84912345678"},
        PhoneSpelling{"scientific without the zero", "9.12345683E+8", "+84912345683",
                      "phone_scientific", IssueSeverity::kWarning,
                      "Số dạng khoa học của Excel đã được đổi thành +84912345683"},
        PhoneSpelling{"scientific lower case, decimal comma", "9,12345683e+08", "+84912345683",
                      "phone_scientific", IssueSeverity::kWarning,
                      "Số dạng khoa học của Excel đã được đổi thành +84912345683"},
        PhoneSpelling{"scientific rounded by Excel", "8.49123457E+10", "", "phone_excel_rounded",
                      IssueSeverity::kWarning,
                      "Excel đã làm tròn số này; định dạng cột là Văn bản (Text) rồi xuất lại"},
        PhoneSpelling{"scientific rounded, short", "9.1234568E+8", "", "phone_excel_rounded",
                      IssueSeverity::kWarning,
                      "Excel đã làm tròn số này; định dạng cột là Văn bản (Text) rồi xuất lại"},
        PhoneSpelling{"apostrophe", "'0912345682", "+84912345682", "phone_apostrophe",
                      IssueSeverity::kFixed, "Đã bỏ dấu nháy ' trước số"},
        PhoneSpelling{"two numbers", "0912345684 / 0987654321", "+84912345684",
                      "phone_second_number", IssueSeverity::kWarning,
                      "Ô có hai số: dùng số đầu, số thứ hai (+84987654321) được lưu làm số phụ"},
        PhoneSpelling{"two numbers with a semicolon", "0912345684;0987654321", "+84912345684",
                      "phone_second_number", IssueSeverity::kWarning,
                      "Ô có hai số: dùng số đầu, số thứ hai (+84987654321) được lưu làm số phụ"},
        PhoneSpelling{"a note", "0912345685 (chồng)", "+84912345685", "phone_note",
                      IssueSeverity::kWarning,
                      "Đã tách ghi chú (chồng) khỏi số điện thoại và lưu vào thuộc tính "
                      "phone_note"},
        PhoneSpelling{"full-width digits",
                      "\xEF\xBC\x90\xEF\xBC\x99\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93"
                      "\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96\xEF\xBC\x98\xEF\xBC\x96",
                      "+84912345686", "phone_full_width", IssueSeverity::kFixed,
                      "Đã đổi chữ số toàn khổ (full-width) thành chữ số thường"},
        PhoneSpelling{"decimal suffix", "0912345687.0", "+84912345687", "phone_decimal_suffix",
                      IssueSeverity::kFixed, "Đã bỏ phần thập phân (.0) mà Excel thêm vào số"},
        PhoneSpelling{"decimal suffix without the zero", "912345687.0", "+84912345687",
                      "phone_leading_zero", IssueSeverity::kFixed,
                      "Đã thêm lại số 0 đầu bị mất: +84912345687"},
        PhoneSpelling{"grouping parentheses are not a note", "(091) 234-5688", "+84912345688", "",
                      IssueSeverity::kFixed, ""},
        PhoneSpelling{"a letter is still refused", "0912 34x 5689", "", "phone_invalid_character",
                      IssueSeverity::kWarning, "Số điện thoại có chữ hoặc ký hiệu lạ"}),
    [](const ::testing::TestParamInfo<PhoneSpelling>& param) {
      std::string name = param.param.label;
      for (auto& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

TEST(HouseholdImport, SecondPhoneAndNoteAreKeptAsAttributes) {
  Collect out;
  import_text(kHeader + "1,A,An,\"0912345684 / 0987654321 (vợ)\",Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n",
              out);
  ASSERT_EQ(out.households.size(), 1u);
  const auto& attrs = out.households[0].attributes;
  auto attr = [&](const std::string& key) {
    for (const auto& [k, v] : attrs)
      if (k == key) return v;
    return std::string("(absent)");
  };
  EXPECT_EQ(out.households[0].phone_e164, "+84912345684");
  EXPECT_EQ(attr("phone_secondary"), "+84987654321");
  EXPECT_EQ(attr("phone_note"), "vợ");
}

TEST(HouseholdImport, RejectedRowsCarryTheirRecordAndIssuesTheirAdvice) {
  struct Rows : Collect {
    void header_row(const std::vector<std::string>& h) override { headers = h; }
    void issue(const ImportIssue& i) override {
      Collect::issue(i);
      rows.push_back(i.row ? std::vector<std::string>(i.row->begin(), i.row->end())
                           : std::vector<std::string>{});
    }
    std::vector<std::string> headers;
    std::vector<std::vector<std::string>> rows;
  } out;
  import_text(kHeader + "1,A,An,0912345678,Kinh,vi,Hộ khá,T,Xã X,H,có\r\n" +
                  "2,A,Ba,0912345678,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n" +
                  "3,A,Ba,0912345679,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n",
              out);
  ASSERT_EQ(out.headers.size(), 11u);
  EXPECT_EQ(out.headers[3], "Số điện thoại");
  const ImportIssue* unknown = out.find("unknown_category");
  ASSERT_NE(unknown, nullptr);
  const auto at = static_cast<std::size_t>(unknown - out.issues.data());
  ASSERT_EQ(out.rows[at].size(), 11u);
  EXPECT_EQ(out.rows[at][6], "Hộ khá");
  EXPECT_EQ(issue_text(*unknown, MessageLanguage::kVi).message,
            "Không phải đối tượng của chương trình (các loại: Hộ nghèo, Hộ cận nghèo, Hộ mới "
            "thoát nghèo)");
  // The checks across rows run once the records are gone.
  const ImportIssue* dup = out.find("duplicate_code");
  ASSERT_NE(dup, nullptr);
  EXPECT_TRUE(out.rows[static_cast<std::size_t>(dup - out.issues.data())].empty());
}

TEST(HouseholdImport, TheReportsOwnColumnsAreIgnoredOnReimport) {
  Collect out;
  auto s = import_text(
      "Mã hộ,Số điện thoại,Phân loại hộ,Xã,Dòng,Mức độ,Mã lý do,Lý do,Cách sửa\r\n"
      "A,0912345678,Hộ nghèo,X,2,cảnh báo,phone_note,ghi chú,Ghi chú để ở cột Ghi chú.\r\n",
      out);
  ASSERT_TRUE(s.refused.empty()) << s.refused;
  ASSERT_EQ(out.households.size(), 1u);
  EXPECT_TRUE(out.households[0].attributes.empty());
}

TEST(HouseholdImport, SharedPhonesAndRepeatedCodesAreFlaggedAcrossRows) {
  Collect out;
  auto s = import_text(kHeader +
                           "1,A,Một,0912345678,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n"
                           "2,B,Hai,+84912345678,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n"
                           "3,C,Ba,0987654321,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n"
                           "4,C,Ba lại,0987654322,Kinh,vi,Hộ cận nghèo,T,Xã X,H,có\r\n",
                       out);
  EXPECT_EQ(s.accepted, 4u);
  EXPECT_EQ(s.shared_phones, 1u);
  EXPECT_EQ(s.shared_phone_rows, 2u);
  EXPECT_EQ(s.duplicate_codes, 1u);
  EXPECT_EQ(s.flagged, 3u);
  const ImportIssue* dup = out.find("duplicate_code");
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->line, 5u);
  EXPECT_EQ(dup->detail, "4");
  EXPECT_EQ(issue_text(*dup, MessageLanguage::kVi).message,
            "Mã hộ đã có ở dòng 4; dòng sau được dùng");
  EXPECT_EQ(issue_text(*dup, MessageLanguage::kEn).message,
            "household code already on line 4; this later row wins");
}

TEST(HouseholdImport, NoCodeAndNoPhoneIsRejected) {
  Collect out;
  auto s = import_text(kHeader + "1,,Không mã,,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n", out);
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_NE(out.find("no_identity"), nullptr);
}

TEST(HouseholdImport, RefusesWindows1258NamingTheFirstBadLine) {
  Collect out;
  // "Hộ nghèo" in Windows-1258: H, 0xF4 (ô) + 0xF2 (dot below), " ngh", 0xE8 (è), "o".
  const std::string cp1258 = "H\xF4\xF2 ngh\xE8o";
  ImportOptions options;
  std::stringstream in(
      "STT,Ma ho,Ho ten,SDT,Dan toc,Ngon ngu,Phan loai ho,Thon,Xa,Huyen,Zalo\r\n"
      "1,A,An,0912345678,Kinh,vi,poor,T,X,H,co\r\n"
      "2,B,Binh,0912345679,Kinh,vi," + cp1258 + ",T,X,H,co\r\n");
  options.categories = categories();
  auto s = HouseholdImport(options).run(in, out, out);
  ASSERT_FALSE(s.refused.empty());
  EXPECT_EQ(s.refused_reason, "file_not_utf8");
  EXPECT_EQ(refusal_text(s.refused_reason, s.refused, MessageLanguage::kVi).message,
            "Dòng 3: tệp không phải UTF-8 (xuất theo bảng mã Windows-1258 hay mã cũ?). Chưa "
            "nhập gì");
  EXPECT_NE(refusal_text(s.refused_reason, s.refused, MessageLanguage::kEn)
                .message.find("line 3: the file is not UTF-8"),
            std::string::npos);
  EXPECT_TRUE(out.households.empty()) << "rows were imported from a mis-encoded file";
}

TEST(HouseholdImport, UnknownAndMissingColumnsAreClearErrors) {
  Collect out;
  auto s = import_text("Mã hộ,Số điện thoại,Phân loại hộ,Xã,Màu yêu thích\r\nA,0912345678,Hộ nghèo,X,đỏ\r\n", out);
  EXPECT_NE(s.refused.find("unknown column 'Màu yêu thích' (column 5)"), std::string::npos)
      << s.refused;
  EXPECT_TRUE(out.households.empty());

  Collect out2;
  auto s2 = import_text("Mã hộ,Số điện thoại,Xã\r\nA,0912345678,X\r\n", out2);
  EXPECT_NE(s2.refused.find("missing required column: category"), std::string::npos)
      << s2.refused;

  // --map makes both work: the unknown column becomes an attribute.
  Collect out3;
  ImportOptions options;
  ASSERT_FALSE(parse_column_overrides("Màu yêu thích=attr.mau", options.overrides));
  auto s3 = import_text(
      "Mã hộ,Số điện thoại,Phân loại hộ,Xã,Màu yêu thích\r\nA,0912345678,Hộ nghèo,X,đỏ\r\n", out3,
      options);
  ASSERT_TRUE(s3.refused.empty()) << s3.refused;
  ASSERT_EQ(out3.households.size(), 1u);
  ASSERT_EQ(out3.households[0].attributes.size(), 1u);
  EXPECT_EQ(out3.households[0].attributes[0].first, "mau");
  EXPECT_EQ(out3.households[0].attributes[0].second, "đỏ");
}

TEST(HouseholdImport, MapOverridesAreValidated) {
  ColumnOverrides o;
  EXPECT_FALSE(parse_column_overrides("SĐT=phone, Ghi chú=attr.note ,STT=ignore", o));
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].first, "SĐT");
  EXPECT_EQ(o[1].second, "attr.note");
  ColumnOverrides bad;
  auto e = parse_column_overrides("SĐT=telephone", bad);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->find("unknown field 'telephone'"), std::string::npos) << *e;
  EXPECT_TRUE(parse_column_overrides("justaheader", bad).has_value());
}

TEST(HouseholdImport, OversizedRowsAreRejectedAndTheRestImported) {
  Collect out;
  ImportOptions options;
  options.csv.max_record_bytes = 200;
  auto s = import_text(kHeader + "1,A,An,0912345678,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n" + "2,B," +
                           std::string(500, 'x') + ",0912345679,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n" +
                           "3,C,Ca,0912345670,Kinh,vi,Hộ nghèo,T,Xã X,H,có\r\n",
                       out, options);
  ASSERT_TRUE(s.refused.empty()) << s.refused;
  EXPECT_EQ(s.accepted, 2u);
  EXPECT_EQ(s.rejected, 1u);
  const ImportIssue* bad = out.find("bad_record");
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->line, 3u);
}

TEST(HouseholdImport, ReportIsCsvWithBom) {
  std::ostringstream os;
  CsvIssueReport report(os);
  report.issue({12, "Số điện thoại", "0262, 38", IssueSeverity::kWarning, "phone_landline", ""});
  EXPECT_EQ(os.str(),
            "\xEF\xBB\xBF"
            "Dòng,Cột,Giá trị,Mức độ,Mã lý do,Lý do,Cách sửa\r\n"
            "12,Số điện thoại,\"0262, 38\",cảnh báo,phone_landline,"
            "Số máy bàn (mã vùng 02x): không nhận được SMS và Zalo,"
            "Ghi số di động của hộ nếu có.\r\n");
  std::ostringstream en;
  CsvIssueReport english(en, MessageLanguage::kEn);
  english.issue({12, "Số điện thoại", "0262", IssueSeverity::kWarning, "phone_landline", ""});
  EXPECT_EQ(en.str(),
            "\xEF\xBB\xBFline,column,value,severity,reason,message,advice\r\n"
            "12,Số điện thoại,0262,warning,phone_landline,"
            "a landline number (area code 02x): cannot receive SMS or Zalo messages,"
            "Give the household's mobile number if it has one.\r\n");
}

}  // namespace
}  // namespace loa::campaigns
