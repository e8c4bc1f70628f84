// Streaming CSV reader (RFC 4180) for household lists as spreadsheets export them.
//
// Contract:
// - Reads a std::istream in fixed-size chunks. Memory is bounded by the chunk size plus the
//   largest accepted record (CsvOptions::max_record_bytes), whatever the size of the input.
// - Handles a UTF-8 byte-order mark, CRLF, LF and lone CR line ends, and quoted fields with
//   embedded delimiters, doubled quotes ("") and line breaks. A '"' inside an unquoted field is
//   kept literally, as spreadsheets do.
// - The delimiter is ',' or ';' (or a tab), detected from the header line unless
//   CsvOptions::delimiter fixes it: whichever occurs most often outside quotes, ',' on a tie,
//   counted on at most the first max_record_bytes + 1 bytes of that line.
// - Every record reports the physical line (1-based) where it starts, so errors can name it.
// - A bad record (too large, too many fields, a stray quote, invalid UTF-8, a quote left open
//   at the end of the input) is reported as an error for that record and reading continues:
//   after a structural error (size, stray quote) the reader resynchronises at the start of the
//   next physical line; after the others the record was complete and the next one follows.
// - UTF-8 is validated per record (overlongs, surrogates and code points above U+10FFFF are
//   refused). The error names the physical line of the first invalid byte, so a file saved as
//   Windows-1258 or TCVN3 is refused with its first bad line.
// - Blank lines (no bytes at all between two line ends) are skipped by default.
// - Never throws on bad input; an exception from the stream itself (if the caller enabled
//   them) propagates.
//
// Usage:
//   CsvReader reader(in);
//   CsvRecord record;
//   CsvError error;
//   while (reader.next(record, error)) {
//     if (error) { report(error.line, error.message); continue; }
//     use(record[0], record.line());
//   }
//
// Thread-safety: a CsvReader is not thread-safe; use one per stream and thread. Different
// readers are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {

struct CsvOptions {
  char delimiter = '\0';  // '\0': detect ',' / ';' / '\t' from the header line
  // Raw bytes of one record, line end excluded (64 KiB).
  std::size_t max_record_bytes = 65536;
  std::size_t max_fields = 512;
  // Bytes per read (at least 4); with max_record_bytes it bounds the reader's memory.
  std::size_t chunk_bytes = 65536;
  bool skip_blank_lines = true;  // lines with no bytes at all between two line ends
  bool validate_utf8 = true;
};

enum class CsvErrorCode : std::uint8_t {
  kNone,
  kRecordTooLarge,     // more than max_record_bytes; resynchronised at the next line
  kTooManyFields,      // more than max_fields
  kStrayQuote,         // text after a closing quote ("abc"x); resynchronised at the next line
  kUnterminatedQuote,  // the input ended inside a quoted field
  kInvalidUtf8,        // the record is not valid UTF-8 (line names the first bad byte)
  kReadFailed,         // the stream reported an I/O error
};

struct CsvError {
  CsvErrorCode code = CsvErrorCode::kNone;
  std::uint64_t line = 0;         // physical line (1-based): where the record starts, or for
                                  // kInvalidUtf8 the line of the first invalid byte
  std::uint64_t record_line = 0;  // physical line where the failing record starts
  std::string message;            // human-readable, starts with "line N: "

  explicit operator bool() const { return code != CsvErrorCode::kNone; }
};

// One record. Its fields are views into a buffer the record owns; they stay valid until the
// record is passed to CsvReader::next() again. Reusing one CsvRecord avoids allocations.
class CsvRecord {
 public:
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  // Precondition: i < size().
  std::string_view operator[](std::size_t i) const { return fields_[i]; }
  // The field, or "" when the record has fewer fields (ragged rows are common in exports).
  std::string_view field_or_empty(std::size_t i) const {
    return i < fields_.size() ? fields_[i] : std::string_view();
  }
  const std::vector<std::string_view>& fields() const { return fields_; }
  // Physical line (1-based) on which the record starts.
  std::uint64_t line() const { return line_; }

 private:
  friend class CsvReader;
  void clear();

  std::string data_;                      // field contents, unescaped, back to back
  std::vector<std::size_t> ends_;         // end offset of each field in data_
  std::vector<std::string_view> fields_;  // built from ends_ once the record is complete
  std::uint64_t line_ = 0;
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in, CsvOptions options = {});

  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record. Returns false at the end of the input (out and error are then
  // cleared). Otherwise returns true, and either `error` is empty and `out` holds the record,
  // or `error` describes a bad record that was skipped (`out` is then empty).
  bool next(CsvRecord& out, CsvError& error);

  // The delimiter in use; detected on the first call to next() unless given in the options.
  char delimiter() const { return delimiter_; }
  // Records returned so far, good and bad (the header counts as a record; blank lines do not).
  std::uint64_t records() const { return records_; }

 private:
  enum class State : std::uint8_t {
    kFieldStart,
    kUnquoted,
    kQuoted,
    kQuoteInQuoted,  // saw '"' inside a quoted field: a doubled quote or the closing one
    kSkipLine,       // resynchronising after a structural error
  };

  bool fill();
  bool read_more();
  void start();
  void detect_delimiter();
  bool finish_record(CsvRecord& out, CsvError& error);
  void set_error(CsvErrorCode code, std::string detail);
  bool end_field(CsvRecord& out);

  std::istream& in_;
  CsvOptions options_;
  std::vector<char> chunk_;
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  bool started_ = false;
  bool eof_ = false;
  bool done_ = false;
  char delimiter_ = ',';

  std::uint64_t line_ = 1;  // physical line of the next byte
  bool prev_cr_ = false;    // the last byte consumed was '\r' (CRLF counts as one line end)
  bool skip_lf_ = false;    // a record ended at '\r'; swallow a following '\n'
  std::uint64_t records_ = 0;

  // The record being read.
  State state_ = State::kFieldStart;
  std::uint64_t record_line_ = 0;
  std::size_t record_bytes_ = 0;
  CsvErrorCode pending_ = CsvErrorCode::kNone;
  std::string pending_detail_;
};

}  // namespace loa::campaigns
