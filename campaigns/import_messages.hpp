// What the household import says to people, in Vietnamese first and in English: the issues'
// reasons with one line of advice each, the report's column names, the severities and the
// whole-file refusals. The reason codes are machine-readable and stable; the words are looked
// up from the code in one table (import_messages.cpp), so a code never changes when a message
// is reworded.
//
// Officers who fix a list read Vietnamese, so Vietnamese is the default. English is chosen by
// LANG=en* on the CLI (language_from_locale) and Accept-Language: en on the API
// (language_from_accept_language).
//
// Thread-safety: pure functions over constant tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "campaigns/household_import.hpp"

namespace loa::campaigns {

// LC_ALL, else LC_MESSAGES, else LANG, as POSIX orders them: kEn when the first one set
// starts with "en", otherwise kVi. Pass the three values (nullptr when unset).
MessageLanguage language_from_locale(const char* lc_all, const char* lc_messages, const char* lang);
// kEn when the first language range of an Accept-Language header is English ("en", "en-US",
// "en;q=0.9,vi;q=0.8"); otherwise kVi.
MessageLanguage language_from_accept_language(std::string_view header);

struct IssueText {
  std::string message;      // the reason, with the issue's detail in place
  std::string_view advice;  // one line: what the officer does about it
};

// The words for an issue. An unknown reason code (one added without a table row) falls back
// to its detail, so a message is never lost.
IssueText issue_text(const ImportIssue& issue, MessageLanguage language);

// For a whole file refused (ImportSummary::refused_reason and refused).
IssueText refusal_text(std::string_view reason, std::string_view detail, MessageLanguage language);

// "bị loại" / "rejected", "cảnh báo" / "warning", "đã sửa" / "fixed".
std::string_view severity_text(IssueSeverity severity, MessageLanguage language);

// The report's columns, in order: line, column, value, severity, reason code, reason, advice.
inline constexpr std::size_t kReportColumns = 7;
std::string_view report_column(std::size_t index, MessageLanguage language);

}  // namespace loa::campaigns
