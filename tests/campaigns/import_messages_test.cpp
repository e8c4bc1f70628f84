// The import's words: every reason code has Vietnamese and English, with advice; the reader's
// language comes from LANG or Accept-Language.
#include "campaigns/import_messages.hpp"

#include <gtest/gtest.h>

namespace loa::campaigns {
namespace {

TEST(ImportMessages, EveryReasonHasBothLanguagesAndAdvice) {
  for (const char* code : {"phone_missing",
                           "phone_invalid_character",
                           "phone_too_short",
                           "phone_too_long",
                           "phone_foreign",
                           "phone_landline",
                           "phone_unknown_prefix",
                           "phone_unallocated",
                           "phone_invalid",
                           "phone_old_prefix",
                           "phone_leading_zero",
                           "phone_apostrophe",
                           "phone_decimal_suffix",
                           "phone_full_width",
                           "phone_scientific",
                           "phone_excel_rounded",
                           "phone_second_number",
                           "phone_note",
                           "no_identity",
                           "unknown_category",
                           "missing_category",
                           "unknown_language",
                           "unrecognised_yes_no",
                           "shared_phone",
                           "duplicate_code",
                           "bad_record",
                           "file_not_utf8",
                           "file_empty",
                           "file_unreadable",
                           "header_unusable",
                           "bad_map",
                           "report_unwritable",
                           "upload_name"}) {
    ImportIssue issue;
    issue.reason = code;
    issue.detail = "X";
    const IssueText vi = issue_text(issue, MessageLanguage::kVi);
    const IssueText en = issue_text(issue, MessageLanguage::kEn);
    EXPECT_FALSE(vi.message.empty()) << code;
    EXPECT_FALSE(vi.advice.empty()) << code;
    EXPECT_FALSE(en.message.empty()) << code;
    EXPECT_FALSE(en.advice.empty()) << code;
    EXPECT_NE(vi.message, en.message) << code;
    EXPECT_EQ(vi.message.find("{}"), std::string::npos) << code;
    EXPECT_EQ(vi.advice.find('\n'), std::string::npos) << code << ": advice is one line";
  }
}

TEST(ImportMessages, TheDetailTakesItsPlace) {
  ImportIssue issue;
  issue.reason = "shared_phone";
  issue.detail = "7, 9";
  EXPECT_EQ(issue_text(issue, MessageLanguage::kVi).message,
            "Số điện thoại trùng với dòng 7, 9; chiến dịch chỉ gửi số này một tin");
  EXPECT_EQ(issue_text(issue, MessageLanguage::kEn).message,
            "phone also on line 7, 9; a campaign sends this phone one message");
}

TEST(ImportMessages, AnUnknownCodeKeepsItsDetail) {
  ImportIssue issue;
  issue.reason = "something_new";
  issue.detail = "what happened";
  EXPECT_EQ(issue_text(issue, MessageLanguage::kVi).message, "what happened");
}

TEST(ImportMessages, SeveritiesAndColumns) {
  EXPECT_EQ(severity_text(IssueSeverity::kRejected, MessageLanguage::kVi), "bị loại");
  EXPECT_EQ(severity_text(IssueSeverity::kWarning, MessageLanguage::kVi), "cảnh báo");
  EXPECT_EQ(severity_text(IssueSeverity::kFixed, MessageLanguage::kVi), "đã sửa");
  EXPECT_EQ(severity_text(IssueSeverity::kWarning, MessageLanguage::kEn), "warning");
  EXPECT_EQ(report_column(6, MessageLanguage::kVi), "Cách sửa");
  EXPECT_EQ(report_column(4, MessageLanguage::kEn), "reason");
  EXPECT_EQ(report_column(kReportColumns, MessageLanguage::kVi), "");
}

TEST(ImportMessages, LanguageFromTheLocale) {
  EXPECT_EQ(language_from_locale(nullptr, nullptr, nullptr), MessageLanguage::kVi);
  EXPECT_EQ(language_from_locale(nullptr, nullptr, "vi_VN.UTF-8"), MessageLanguage::kVi);
  EXPECT_EQ(language_from_locale(nullptr, nullptr, "C.UTF-8"), MessageLanguage::kVi);
  EXPECT_EQ(language_from_locale(nullptr, nullptr, "en_US.UTF-8"), MessageLanguage::kEn);
  EXPECT_EQ(language_from_locale(nullptr, nullptr, "en"), MessageLanguage::kEn);
  EXPECT_EQ(language_from_locale("", nullptr, "en_GB"), MessageLanguage::kEn);
  EXPECT_EQ(language_from_locale("vi_VN.UTF-8", nullptr, "en_US"), MessageLanguage::kVi);
  EXPECT_EQ(language_from_locale(nullptr, "en_US", "vi_VN"), MessageLanguage::kEn);
  EXPECT_EQ(language_from_locale(nullptr, nullptr, "eng"), MessageLanguage::kVi);
}

TEST(ImportMessages, LanguageFromAcceptLanguage) {
  EXPECT_EQ(language_from_accept_language(""), MessageLanguage::kVi);
  EXPECT_EQ(language_from_accept_language("vi"), MessageLanguage::kVi);
  EXPECT_EQ(language_from_accept_language("vi-VN,vi;q=0.9,en;q=0.8"), MessageLanguage::kVi);
  EXPECT_EQ(language_from_accept_language("en"), MessageLanguage::kEn);
  EXPECT_EQ(language_from_accept_language("en-US,en;q=0.9"), MessageLanguage::kEn);
  EXPECT_EQ(language_from_accept_language(" en;q=0.8"), MessageLanguage::kEn);
  EXPECT_EQ(language_from_accept_language("*"), MessageLanguage::kVi);
}

}  // namespace
}  // namespace loa::campaigns
