// Importing a household list into the store, shared by `loa contacts import` and the REST API
// (POST /api/v1/contacts/import): the same checks, the same CSV report, the same summary.
//
// Contract:
//  - The file's format is judged by its content (campaigns/file_format.hpp): CSV or tab text in
//    UTF-8, UTF-16, Windows-1258 or TCVN3; an .xlsx or .xls workbook. Anything else (a PDF, an
//    image, a ZIP that is not a workbook) is refused in summary.refused, saying what it is.
//  - import_contacts() streams `file` through campaigns::HouseholdImport into the store (or,
//    dry_run, only counts), writes every rejected or suspicious row to the CSV report at
//    `report` (UTF-8 with a BOM), records the run in `imports` and the audit log as `actor`.
//  - Throws ContactImportError for a bad --map, an unreadable file or an unwritable report;
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
#include <vector>

#include "campaigns/household_import.hpp"
#include "engine/config.hpp"

namespace loa::engine {

class ContactImportError : public std::runtime_error {
 public:
  ContactImportError(std::string message, bool bad_map)
      : std::runtime_error(std::move(message)), bad_map_(bad_map) {}
  bool bad_map() const { return bad_map_; }  // the column overrides are at fault (usage)

 private:
  bool bad_map_;
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
  double seconds = 0;
  std::vector<campaigns::ImportIssue> issues;  // the first keep_issues of the report's rows
};

ContactImportResult import_contacts(
    SQLite::Database& db, const ContactImportOptions& options,
    const std::function<void(const campaigns::ImportProgress&)>& progress = {});

// <data_dir>/reports/import-<time>-<stem>[-dry-run].csv
std::filesystem::path default_import_report(const Config& config, const std::string& stem,
                                            bool dry_run);

boost::json::object import_json(const ContactImportResult& result);

}  // namespace loa::engine
