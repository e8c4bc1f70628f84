#include "campaigns/csv_row_source.hpp"

namespace loa::campaigns {

CsvRowSource::CsvRowSource(std::istream& in, TextEncoding encoding, CsvOptions options)
    : encoding_(encoding) {
  std::istream* text = &in;
  if (encoding != TextEncoding::kUtf8) {
    transcoded_ = std::make_unique<TranscodedInput>(in, encoding);
    text = transcoded_.get();
  }
  reader_ = std::make_unique<CsvReader>(*text, options);
}

CsvRowSource::~CsvRowSource() = default;

bool CsvRowSource::next(SourceRow& out, RowError& error) {
  error = RowError{};
  const bool more = reader_->next(record_, error_);
  if (transcoded_ && !transcoded_->error().empty()) {
    error.fatal = true;
    error.line = transcoded_->error_line();
    error.reason = "bad_encoding";
    error.message = transcoded_->error();
    error.message_en = transcoded_->error_en();
    return true;
  }
  if (!more) return false;
  if (error_) {
    error.line = error_.record_line;
    error.fatal =
        error_.code == CsvErrorCode::kInvalidUtf8 || error_.code == CsvErrorCode::kReadFailed;
    error.reason = error_.code == CsvErrorCode::kInvalidUtf8 ? "invalid_utf8" : "bad_record";
    error.message = error_.message;
    error.message_en = error_.message;
    return true;
  }
  out.clear(record_.line());
  for (std::string_view f : record_.fields()) out.add(f);
  out.finish();
  return true;
}

std::string CsvRowSource::description() const {
  const char d = reader_->delimiter();
  return "CSV (" + std::string(encoding_name(encoding_)) + ", '" +
         (d == '\t' ? std::string("\\t") : std::string(1, d)) + "')";
}

}  // namespace loa::campaigns
