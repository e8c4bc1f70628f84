#include "campaigns/csv_reader.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "templates/utf8.hpp"

namespace loa::campaigns {
namespace {

using templates::find_invalid_utf8;

constexpr std::size_t kMinChunkBytes = 4;  // room for the byte-order mark

// Physical line breaks in s: CRLF counts once, a lone CR or LF once each.
std::uint64_t count_line_breaks(std::string_view s) {
  std::uint64_t lines = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      ++lines;
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (s[i] == '\n') {
      ++lines;
    }
  }
  return lines;
}

std::string hex_byte(unsigned char b) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out = "0x";
  out.push_back(kDigits[b >> 4]);
  out.push_back(kDigits[b & 0xF]);
  return out;
}

}  // namespace

void CsvRecord::clear() {
  data_.clear();
  ends_.clear();
  fields_.clear();
  line_ = 0;
}

CsvReader::CsvReader(std::istream& in, CsvOptions options)
    : in_(in), options_(options), chunk_(std::max(options.chunk_bytes, kMinChunkBytes)) {
  if (options_.max_fields == 0) options_.max_fields = 1;
}

bool CsvReader::fill() {
  pos_ = 0;
  len_ = 0;
  if (eof_) return false;
  in_.read(chunk_.data(), static_cast<std::streamsize>(chunk_.size()));
  len_ = static_cast<std::size_t>(in_.gcount());
  if (len_ < chunk_.size()) eof_ = true;  // short read: end of input or a stream error
  return len_ > 0;
}

// Appends to the buffered data instead of replacing it (used only to see the whole header).
bool CsvReader::read_more() {
  if (eof_) return false;
  const std::size_t want = std::max(len_, kMinChunkBytes);
  chunk_.resize(len_ + want);
  in_.read(chunk_.data() + len_, static_cast<std::streamsize>(want));
  const auto got = static_cast<std::size_t>(in_.gcount());
  if (got < want) eof_ = true;
  len_ += got;
  return got > 0;
}

void CsvReader::start() {
  started_ = true;
  fill();
  // UTF-8 byte-order mark, as Excel writes "CSV UTF-8". The first read holds at least 4 bytes.
  if (len_ >= 3 && static_cast<unsigned char>(chunk_[0]) == 0xEF &&
      static_cast<unsigned char>(chunk_[1]) == 0xBB &&
      static_cast<unsigned char>(chunk_[2]) == 0xBF) {
    pos_ = 3;
  }
  if (options_.delimiter != '\0') {
    delimiter_ = options_.delimiter;
    return;
  }
  // Buffer the whole header line (bounded by the record limit) before detecting.
  for (;;) {
    bool quoted = false;
    bool complete = false;
    for (std::size_t i = pos_; i < len_ && !complete; ++i) {
      if (chunk_[i] == '"') quoted = !quoted;
      if (!quoted && (chunk_[i] == '\r' || chunk_[i] == '\n')) complete = true;
    }
    if (complete || len_ - pos_ > options_.max_record_bytes || !read_more()) break;
  }
  detect_delimiter();
}

void CsvReader::detect_delimiter() {
  // Count candidates outside quotes on the header line (at most its first max_record_bytes + 1
  // bytes). European-locale Excel writes ';' because ',' is its decimal separator.
  std::size_t commas = 0;
  std::size_t semicolons = 0;
  std::size_t tabs = 0;
  bool quoted = false;
  // Only what start() buffers at the smallest chunk size: a header beyond the record limit
  // must not be detected differently when the first read happens to hold more of it.
  const std::size_t end = std::min(len_, pos_ + options_.max_record_bytes + 1);
  for (std::size_t i = pos_; i < end; ++i) {
    const char c = chunk_[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted) {
      if (c == '\r' || c == '\n') break;
      if (c == ',') ++commas;
      if (c == ';') ++semicolons;
      if (c == '\t') ++tabs;
    }
  }
  delimiter_ = ',';
  if (semicolons > commas && semicolons >= tabs) {
    delimiter_ = ';';
  } else if (tabs > commas && tabs > semicolons) {
    delimiter_ = '\t';
  }
}

void CsvReader::set_error(CsvErrorCode code, std::string detail) {
  if (pending_ != CsvErrorCode::kNone) return;  // report the first problem of a record
  pending_ = code;
  pending_detail_ = std::move(detail);
}

bool CsvReader::end_field(CsvRecord& out) {
  if (pending_ != CsvErrorCode::kNone) return false;
  if (out.ends_.size() >= options_.max_fields) {
    set_error(CsvErrorCode::kTooManyFields,
              "record has more than " + std::to_string(options_.max_fields) + " fields");
    return false;
  }
  out.ends_.push_back(out.data_.size());
  return true;
}

bool CsvReader::finish_record(CsvRecord& out, CsvError& error) {
  ++records_;
  std::uint64_t error_line = record_line_;
  if (pending_ == CsvErrorCode::kNone && options_.validate_utf8) {
    // Field by field: the fields are stored back to back, so a character cut by a delimiter
    // ("H\xE1,\xBB\x99") would look whole in the record's bytes.
    std::size_t bad = std::string_view::npos;
    std::size_t field = 0;
    for (std::size_t begin = 0; field < out.ends_.size(); begin = out.ends_[field++]) {
      const std::size_t at = find_invalid_utf8(
          std::string_view(out.data_).substr(begin, out.ends_[field] - begin));
      if (at != std::string_view::npos) {
        bad = begin + at;
        break;
      }
    }
    if (bad != std::string_view::npos) {
      error_line = record_line_ + count_line_breaks(std::string_view(out.data_).substr(0, bad));
      set_error(CsvErrorCode::kInvalidUtf8,
                "field " + std::to_string(field + 1) + ": invalid UTF-8 (byte " +
                    hex_byte(static_cast<unsigned char>(out.data_[bad])) +
                    "); save the file as UTF-8 (it may be Windows-1258, TCVN3 or another "
                    "legacy encoding)");
    }
  }
  if (pending_ != CsvErrorCode::kNone) {
    error.code = pending_;
    error.line = error_line;
    error.record_line = record_line_;
    error.message = "line " + std::to_string(error_line) + ": " + pending_detail_;
    out.clear();
    return true;
  }
  out.line_ = record_line_;
  out.fields_.resize(out.ends_.size());
  std::size_t begin = 0;
  for (std::size_t i = 0; i < out.ends_.size(); ++i) {
    out.fields_[i] = std::string_view(out.data_.data() + begin, out.ends_[i] - begin);
    begin = out.ends_[i];
  }
  return true;
}

bool CsvReader::next(CsvRecord& out, CsvError& error) {
  out.clear();
  error.code = CsvErrorCode::kNone;
  error.line = 0;
  error.record_line = 0;
  error.message.clear();
  if (done_) return false;
  if (!started_) start();

  state_ = State::kFieldStart;
  record_bytes_ = 0;
  pending_ = CsvErrorCode::kNone;
  pending_detail_.clear();
  bool record_started = false;
  const char delim = delimiter_;
  const std::size_t max_bytes = options_.max_record_bytes;

  for (;;) {
    if (pos_ == len_ && !fill()) {
      // End of input.
      if (in_.bad()) {
        done_ = true;
        error.code = CsvErrorCode::kReadFailed;
        error.line = line_;
        error.record_line = record_started ? record_line_ : line_;
        error.message = "line " + std::to_string(line_) + ": reading the input failed";
        out.clear();
        return true;
      }
      if (!record_started) {
        done_ = true;
        return false;
      }
      if (state_ == State::kQuoted) {
        set_error(CsvErrorCode::kUnterminatedQuote,
                  "a quoted field is not closed before the end of the input");
      } else if (state_ != State::kSkipLine) {
        end_field(out);
      }
      return finish_record(out, error);
    }

    const char* const base = chunk_.data();
    const std::size_t n = len_;
    std::size_t i = pos_;
    while (i < n) {
      if (skip_lf_) {
        skip_lf_ = false;
        if (base[i] == '\n') {  // the LF of a CRLF whose CR ended the previous record
          prev_cr_ = false;
          ++i;
          continue;
        }
      }
      if (!record_started) {
        record_started = true;
        record_line_ = line_;
      }
      // Never let a run take the record more than one byte past its limit.
      const std::size_t budget = max_bytes >= record_bytes_ ? max_bytes - record_bytes_ + 1 : 1;
      const std::size_t run_end = n - i > budget ? i + budget : n;
      char c = base[i];
      bool line_end = false;

      switch (state_) {
        case State::kFieldStart:
          if (c == '"') {
            state_ = State::kQuoted;
            ++i;
            ++record_bytes_;
            prev_cr_ = false;
            break;
          }
          if (c == delim) {
            ++i;
            ++record_bytes_;
            prev_cr_ = false;
            end_field(out);
            break;
          }
          if (c == '\r' || c == '\n') {
            line_end = true;
            break;
          }
          state_ = State::kUnquoted;
          [[fallthrough]];
        case State::kUnquoted: {
          std::size_t j = i;
          while (j < run_end) {
            const char b = base[j];
            if (b == delim || b == '\r' || b == '\n') break;
            ++j;
          }
          if (j > i) {
            out.data_.append(base + i, j - i);
            record_bytes_ += j - i;
            prev_cr_ = false;
            i = j;
          }
          if (i == run_end) break;
          c = base[i];
          if (c == delim) {
            ++i;
            ++record_bytes_;
            end_field(out);
            state_ = State::kFieldStart;
          } else {
            line_end = true;
          }
          break;
        }
        case State::kQuoted: {
          std::size_t j = i;
          while (j < run_end) {
            const char b = base[j];
            if (b == '"' || b == '\r' || b == '\n') break;
            ++j;
          }
          if (j > i) {
            out.data_.append(base + i, j - i);
            record_bytes_ += j - i;
            prev_cr_ = false;
            i = j;
          }
          if (i == run_end) break;
          c = base[i];
          ++i;
          ++record_bytes_;
          if (c == '"') {
            state_ = State::kQuoteInQuoted;
            prev_cr_ = false;
          } else {
            // A line break inside a quoted field is data, but still a physical line.
            if (c == '\r') {
              ++line_;
              prev_cr_ = true;
            } else {
              if (!prev_cr_) ++line_;
              prev_cr_ = false;
            }
            out.data_.push_back(c);
          }
          break;
        }
        case State::kQuoteInQuoted:
          if (c == '"') {  // "" is an escaped quote
            out.data_.push_back('"');
            state_ = State::kQuoted;
            ++i;
            ++record_bytes_;
          } else if (c == delim) {
            ++i;
            ++record_bytes_;
            end_field(out);
            state_ = State::kFieldStart;
          } else if (c == '\r' || c == '\n') {
            line_end = true;
          } else {
            set_error(CsvErrorCode::kStrayQuote, "text after the closing quote of field " +
                                                     std::to_string(out.ends_.size() + 1) +
                                                     "; skipped to the next line");
            state_ = State::kSkipLine;
          }
          break;
        case State::kSkipLine: {
          std::size_t j = i;
          while (j < n && base[j] != '\r' && base[j] != '\n') ++j;
          if (j > i) {
            prev_cr_ = false;
            i = j;
          }
          if (i < n) line_end = true;
          break;
        }
      }

      if (line_end) {
        // base[i] is '\r' or '\n' outside quotes: the record ends here.
        c = base[i];
        ++i;
        if (c == '\r') {
          ++line_;
          prev_cr_ = true;
          skip_lf_ = true;
        } else {
          if (!prev_cr_) ++line_;
          prev_cr_ = false;
        }
        if (state_ == State::kFieldStart && record_bytes_ == 0 && out.ends_.empty() &&
            pending_ == CsvErrorCode::kNone && options_.skip_blank_lines) {
          record_started = false;  // blank line
          continue;
        }
        if (state_ != State::kSkipLine) end_field(out);
        pos_ = i;
        return finish_record(out, error);
      }
      if (record_bytes_ > max_bytes && state_ != State::kSkipLine) {
        set_error(CsvErrorCode::kRecordTooLarge,
                  "record is larger than " + std::to_string(max_bytes) +
                      " bytes (a quote left open?); skipped to the next line");
        state_ = State::kSkipLine;
        out.data_.clear();
      }
    }
    pos_ = i;
  }
}

}  // namespace loa::campaigns
