// The seam between reading a household list and checking it: whatever the file's format (CSV in
// any encoding, an .xlsx or .xls workbook), the importer consumes SourceRows from a RowSource.
//
// Contract:
//  - A SourceRow holds its cells as UTF-8 (NFC when they came from a legacy encoding) and its
//    location: the physical line of a text file, or the row number of a sheet (both 1-based).
//  - A workbook's numeric cell is handed over as Excel would show it with full precision (the
//    shortest text that reads back as the same double; integers without ".0"), and
//    stored_number() keeps the number as the workbook stored it, so that phone repair can
//    recover exact digits.
//  - next() returns false at the end. Otherwise either `error` is empty and `out` holds a row,
//    or `error` describes a row that could not be read; error.fatal means nothing more can be
//    read and the whole file must be refused.
//  - Memory is the source's to bound; every source in campaigns/ streams.
//
// Thread-safety: a RowSource and its rows are used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loa::campaigns {

class SourceRow {
 public:
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  // Precondition: i < size().
  std::string_view operator[](std::size_t i) const { return fields_[i]; }
  // The cell, or "" when the row has fewer cells (ragged rows are common).
  std::string_view field_or_empty(std::size_t i) const {
    return i < fields_.size() ? fields_[i] : std::string_view();
  }
  const std::vector<std::string_view>& fields() const { return fields_; }
  std::uint64_t line() const { return line_; }
  // The number as the workbook stored it (e.g. "84912345678", "8.4912345678E+10"), or "" for a
  // cell that is not a stored number.
  std::string_view stored_number(std::size_t i) const;
  // Every cell empty or blank: spreadsheets leave such rows between blocks.
  bool blank() const;

  // Building a row: clear(), add() each cell in column order (pad_to() fills the cells a
  // sheet left out with ""), then finish(); the views above are valid after finish().
  void clear(std::uint64_t line);
  void add(std::string_view cell, std::string_view stored_number = {});
  void pad_to(std::size_t cells);
  void finish();

 private:
  std::string data_;                  // each cell followed by its stored number
  std::vector<std::size_t> ends_;     // end of each cell's text in data_
  std::vector<std::size_t> numbers_;  // end of each cell's stored number (from ends_[i])
  std::vector<std::string_view> fields_;
  std::uint64_t line_ = 0;
};

struct RowError {
  std::uint64_t line = 0;
  bool fatal = false;      // the file cannot be read further: refuse it whole
  std::string reason;      // a stable code: bad_record, invalid_utf8, zip_too_large, …
  std::string message;     // Vietnamese first
  std::string message_en;  // the same in English
  explicit operator bool() const { return !message.empty(); }
  // A fatal error: the whole file is refused.
  static RowError refusal(std::string reason, std::string vi, std::string en) {
    RowError e;
    e.fatal = true;
    e.reason = std::move(reason);
    e.message = std::move(vi);
    e.message_en = std::move(en);
    return e;
  }
};

// A workbook's sheet by name, or by 1-based position when `wanted` is a number; the first when
// `wanted` is empty. nullopt with `error` (naming the sheets there are) when there is none.
std::optional<std::size_t> choose_sheet(const std::vector<std::string>& names,
                                        std::string_view wanted, RowError& error);

class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual bool next(SourceRow& out, RowError& error) = 0;
  // For the summary: "CSV (UTF-8, ',')", "XLSX, sheet 'DS hộ nghèo'", …
  virtual std::string description() const = 0;
  // The CSV delimiter, or '\0' for a workbook.
  virtual char delimiter() const { return '\0'; }
};

}  // namespace loa::campaigns
