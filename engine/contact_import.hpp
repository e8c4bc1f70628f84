// Importing a household list into the store, shared by `loa contacts import` and the REST API
// (POST /api/v1/contacts/import): the same checks, the same CSV report, the same summary.
//
// Contract:
//  - The file's format is judged by its content (campaigns/file_format.hpp): CSV or tab text in
//    UTF-8, UTF-16, Windows-1258 or TCVN3; an .xlsx or .xls workbook. Anything else (a PDF, an
//    image, a ZIP that is not a workbook) is refused in summary.refused, saying what it is.
//  - import_contacts() streams `file` through campaigns::HouseholdImport into the store (or,
//    dry_run, only counts), writes every rejected or suspicious row to the CSV report at
//    `report` (UTF-8 with a BOM) and the rows an officer must fix, with their original cells, to
//    the workbook beside it (`report` with the extension .xlsx, engine/import_report.hpp), both
//    in `language`; records the run in `imports` and the audit log as `actor`.
//  - Throws ContactImportError for a bad --map, an unreadable file or an unwritable report
//    (its reason() a code of campaigns/import_messages, worded by message(language));
//    a whole file refused (not UTF-8, unusable header) comes back in summary.refused with
//    nothing written and the report removed. SQLite errors propagate.
//
// Thread-safety: one thread; `db` must not be used by others meanwhile.
#pragma once

#include <SQLiteCpp/Database.h>

#include <boost/json/value.hpp>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "campaigns/household_import.hpp"
#include "engine/config.hpp"

namespace loa::engine {

class ContactImportError : public std::runtime_error {
 public:
  // `detail` is English, for what(); message() words it for people.
  ContactImportError(std::string reason, std::string detail)
      : std::runtime_error(detail), reason_(std::move(reason)), detail_(std::move(detail)) {}
  bool bad_map() const { return reason_ == "bad_map"; }  // the column overrides (usage)
  bool bad_encoding() const { return reason_ == "bad_encoding"; }  // --encoding (usage)
  const std::string& reason() const { return reason_; }
  std::string message(campaigns::MessageLanguage language) const;

 private:
  std::string reason_;  // bad_map, bad_encoding, file_unreadable, report_unwritable
  std::string detail_;
};

struct ContactImportOptions {
  std::filesystem::path file;
  std::string source;  // the file's name as the operator knows it (imports.file, the audit)
  std::string map;     // column overrides: "Header=field,Other=attr.note"
  std::string province = "Đắk Lắk";
  bool dry_run = false;
  std::filesystem::path report;
  std::string actor;
  std::size_t keep_issues = 0;  // the first this many issues also come back in the result
  campaigns::MessageLanguage language = campaigns::MessageLanguage::kVi;  // of the reports
  std::string sheet;            // a workbook's sheet, by name or 1-based position; "" = first
  std::uint64_t header_row = 0; // 0: found among the first 20 rows
  std::string encoding;         // a text file's encoding (utf8, utf16, cp1258, tcvn3); "" = detect
};

struct ContactImportResult {
  campaigns::ImportSummary summary;
  std::string encoding;  // a text file's encoding as used ("Windows-1258"); "" for a workbook
  bool written = false;  // false for a dry run
  std::uint64_t inserted = 0;
  std::uint64_t updated = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t report_rows = 0;
  std::filesystem::path report;
  std::filesystem::path report_xlsx;  // the rows to fix, with their original cells
  std::uint64_t report_xlsx_rows = 0;
  double seconds = 0;
  std::vector<campaigns::ImportIssue> issues;  // the first keep_issues of the report's rows
};

ContactImportResult import_contacts(
    SQLite::Database& db, const ContactImportOptions& options,
    const std::function<void(const campaigns::ImportProgress&)>& progress = {});

// Whether `name` (the file name a client gives an upload) may become part of the report's
// file name: 1-200 bytes of UTF-8, no '/', '\\' or control character (a NUL would cut the
// name where the operating system reads it).
bool is_import_name(std::string_view name);

// <data_dir>/reports/import-<time>-<stem>[-dry-run].csv
std::filesystem::path default_import_report(const Config& config, const std::string& stem,
                                            bool dry_run);

// The result for the API, issues worded in `language`.
boost::json::object import_json(const ContactImportResult& result,
                                campaigns::MessageLanguage language);

// The words for a whole file refused (summary.refused_reason), in `language`.
std::string refusal_message(const campaigns::ImportSummary& summary,
                            campaigns::MessageLanguage language);

}  // namespace loa::engine
