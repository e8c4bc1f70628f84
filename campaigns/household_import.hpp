// Importing the department's household lists: CSV exports of commune spreadsheets, with
// Vietnamese headers and phone numbers written every possible way.
//
// Contract:
//  - Streams: one record at a time from a RowSource (CSV, .xlsx, .xls), so memory does not
//    grow with the file, except 16 bytes per row kept to find phones and codes that appear on
//    more than one row.
//  - The header is mapped through Vietnamese and English aliases (folded: no diacritics, no
//    case, no punctuation), and `overrides` ("Header=field") win. A column that maps to nothing
//    is an error naming it, as is a missing required column (category, commune, and one of
//    household code or phone).
//  - run(std::istream&) reads UTF-8 only: a file that is not (a Windows-1258 export, say) is
//    refused before anything is written, naming its first bad line; it is never imported as
//    mojibake. Legacy encodings go through a CsvRowSource with the encoding named.
//  - Each row is either accepted (handed to the HouseholdSink) or rejected; every rejected or
//    suspicious row produces ImportIssues naming its line, column, value and reason. Rejected:
//    unknown category, neither a household code nor a usable phone, an oversized or broken
//    record. Accepted with a warning: no usable mobile phone (missing, landline, malformed),
//    a phone shared with another row, a household code repeated (the later row wins), an
//    unrecognised yes/no. Accepted as fixed: an old 11-digit prefix converted, a lost leading
//    zero restored.
//  - The header is the row among the first 20 that maps to the most known columns (or
//    ImportOptions::header_row): title rows above it, as printed lists have, are reported and
//    skipped, and so are "Tổng cộng" (subtotal) rows among the data.
//  - Text fields are NFC-normalised, so filters and templates see one spelling.
//
// Thread-safety: a HouseholdImport is used by one thread; the sinks are called on it.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "campaigns/csv_reader.hpp"
#include "campaigns/household.hpp"
#include "campaigns/row_source.hpp"

namespace loa::campaigns {

enum class ImportField : std::uint8_t {
  kIgnore,
  kHouseholdCode,
  kName,
  kPhone,
  kEthnicity,
  kLanguage,
  kCategory,
  kProvince,
  kCommune,
  kVillage,
  kDistrict,
  kHasZalo,
  kZaloUserId,
  kConsentSms,
  kConsentZalo,
  kOptOutSms,
  kOptOutZalo,
  kAttribute,
};
std::string_view import_field_name(ImportField field);

struct ColumnTarget {
  ImportField field = ImportField::kIgnore;
  std::string attribute;  // kAttribute: the attr.<name>
};

using ColumnOverrides = std::vector<std::pair<std::string, std::string>>;  // header -> field

// Parses "Header=field,Other header=attr.note,STT=ignore". Returns an error message naming the
// bad entry, or nullopt.
std::optional<std::string> parse_column_overrides(std::string_view text, ColumnOverrides& out);

struct HeaderMapping {
  std::vector<std::string> headers;
  std::vector<ColumnTarget> columns;
  bool has(ImportField field) const;
};
// How many cells of a row name a column the importer knows (by alias or `overrides`): the header
// is the row of the first header_search_rows with the most.
std::size_t known_columns(const std::vector<std::string_view>& row,
                          const ColumnOverrides& overrides);

// Maps a header row; on failure returns nullopt and sets `error`.
std::optional<HeaderMapping> map_header(const std::vector<std::string_view>& header,
                                        const ColumnOverrides& overrides, std::string& error);

enum class IssueSeverity : std::uint8_t { kRejected, kWarning, kFixed };

// The language of the people who read the summary and the report (campaigns/import_messages):
// Vietnamese unless they asked for English. Not a household's language.
enum class MessageLanguage : std::uint8_t { kVi, kEn };
std::string_view severity_name(IssueSeverity severity);

struct ImportIssue {
  std::uint64_t line = 0;  // physical line of the file (the header is line 1)
  std::string column;      // the header as written in the file
  std::string value;
  IssueSeverity severity = IssueSeverity::kWarning;
  std::string reason;      // a stable code: phone_landline, unknown_category, …
  // The specifics the message names (a number, another line, the known categories); the words
  // around it come from the reason code in the reader's language (campaigns/import_messages).
  std::string detail;
  // The record's cells as read, in header order, when the issue is about one record; valid only
  // during IssueSink::issue(). Null for a record that could not be read, and for the checks
  // across rows (shared_phone, duplicate_code), which run after the records are gone.
  const std::vector<std::string_view>* row = nullptr;
};

struct ImportOptions {
  CsvOptions csv;
  ColumnOverrides overrides;
  std::vector<Category> categories;
  std::string default_province;     // used when the list has no province column
  std::string default_language = "vi";
  bool check_encoding_first = true; // pre-scan a seekable input for invalid UTF-8
  // The header row (its line, or its sheet row), or 0: the row among the first
  // header_search_rows that maps to the most known columns. Rows above it are titles.
  std::uint64_t header_row = 0;
  std::size_t header_search_rows = 20;
};

struct ImportSummary {
  std::uint64_t rows = 0;      // data records read, good and bad
  std::uint64_t accepted = 0;  // handed to the sink
  std::uint64_t rejected = 0;
  std::uint64_t flagged = 0;   // accepted rows with at least one warning
  std::map<std::string, std::uint64_t> reasons;  // reason -> issues
  std::uint64_t old_prefix_converted = 0;
  std::uint64_t leading_zero_restored = 0;
  std::uint64_t without_phone = 0;
  std::uint64_t shared_phones = 0;      // distinct phones on more than one row
  std::uint64_t shared_phone_rows = 0;  // rows carrying such a phone
  std::uint64_t duplicate_codes = 0;    // rows whose code an earlier row already had
  std::uint64_t language_from_ethnicity = 0;
  std::uint64_t language_default = 0;
  std::map<std::string, std::uint64_t> by_category;
  std::map<std::string, std::uint64_t> by_language;
  char delimiter = ',';
  std::string source;               // what was read: "CSV (Windows-1258, ';')", "XLSX, …"
  std::uint64_t header_line = 0;    // where the header was found
  std::uint64_t title_rows = 0;     // rows above the header, skipped
  std::uint64_t subtotal_rows = 0;  // "Tổng cộng" rows, skipped (not counted in rows)
  // Non-empty: the whole file was refused and nothing was imported. Either `refused_reason` is
  // a code of campaigns/import_messages (file_not_utf8, header_unusable, file_empty, …) and
  // `refused` its detail, worded for people by refusal_text(); or `refused_reason` is
  // "file_format" and the refusal was worded where it was found (the format sniffer, a
  // workbook or encoding reader): `refused` in Vietnamese, `refused_en` in English.
  std::string refused_reason;
  std::string refused;
  std::string refused_en;
};

class HouseholdSink {
 public:
  virtual ~HouseholdSink() = default;
  // Called once, after the header was mapped and before the first write().
  virtual void begin(const HeaderMapping& /*columns*/) {}
  virtual void write(const Household& household, std::uint64_t line) = 0;
};

class IssueSink {
 public:
  virtual ~IssueSink() = default;
  // Called once with the file's header row (as written, trimmed), before the first issue that
  // carries a row; not called for a file refused before its header.
  virtual void header_row(const std::vector<std::string>& /*headers*/) {}
  virtual void issue(const ImportIssue& issue) = 0;
};

// Writes issues as CSV (UTF-8 with a BOM, so Excel shows Vietnamese correctly), one per line,
// with the column names, severities, reasons and advice of `language`
// (campaigns/import_messages.hpp); the reason code column stays machine-readable.
class CsvIssueReport : public IssueSink {
 public:
  explicit CsvIssueReport(std::ostream& out, MessageLanguage language = MessageLanguage::kVi);
  void issue(const ImportIssue& issue) override;
  std::uint64_t written() const { return written_; }

 private:
  std::ostream& out_;
  MessageLanguage language_;
  std::uint64_t written_ = 0;
};

struct ImportProgress {
  std::uint64_t rows = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
};

class HouseholdImport {
 public:
  explicit HouseholdImport(ImportOptions options);
  // A UTF-8 CSV stream (refused with its first bad line when it is not UTF-8).
  ImportSummary run(std::istream& in, HouseholdSink& sink, IssueSink& issues,
                    const std::function<void(const ImportProgress&)>& progress = {});
  // Any list: rows from a CSV (in any encoding), .xlsx or .xls reader.
  ImportSummary run(RowSource& source, HouseholdSink& sink, IssueSink& issues,
                    const std::function<void(const ImportProgress&)>& progress = {});

 private:
  struct State;
  ImportOptions options_;
};

// The first line of `in` holding bytes that are not UTF-8, or nullopt when all is well. Reads to
// the end; the caller rewinds.
std::optional<std::uint64_t> first_non_utf8_line(std::istream& in);

}  // namespace loa::campaigns
