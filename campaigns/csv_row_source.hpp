// A CSV or tab-separated list as a RowSource: the bytes in `encoding` go through
// TranscodedInput (UTF-16, Windows-1258, TCVN3 -> UTF-8 NFC) unless they are UTF-8 already,
// then through CsvReader.
//
// Contract: as CsvReader (streams, bounded by CsvOptions), with CsvReader's per-record errors
// passed on as non-fatal RowErrors; invalid UTF-8, a read failure, or bytes the encoding does
// not define are fatal.
//
// Thread-safety: one source per stream and thread.
#pragma once

#include <istream>
#include <memory>
#include <optional>

#include "campaigns/csv_reader.hpp"
#include "campaigns/row_source.hpp"
#include "campaigns/text_encoding.hpp"

namespace loa::campaigns {

class CsvRowSource : public RowSource {
 public:
  CsvRowSource(std::istream& in, TextEncoding encoding, CsvOptions options);
  ~CsvRowSource() override;

  bool next(SourceRow& out, RowError& error) override;
  std::string description() const override;
  char delimiter() const override { return reader_->delimiter(); }
  TextEncoding encoding() const { return encoding_; }

 private:
  TextEncoding encoding_;
  std::unique_ptr<TranscodedInput> transcoded_;
  std::unique_ptr<CsvReader> reader_;
  CsvRecord record_;
  CsvError error_;
};

}  // namespace loa::campaigns
