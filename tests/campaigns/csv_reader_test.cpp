#include "campaigns/csv_reader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {
namespace {

// One thing the reader reports: a record (line + fields) or an error (line + code).
struct Event {
  std::uint64_t line;
  std::vector<std::string> fields;  // empty for an error
  CsvErrorCode error = CsvErrorCode::kNone;

  bool operator==(const Event&) const = default;
};

Event rec(std::uint64_t line, std::vector<std::string> fields) {
  return Event{line, std::move(fields), CsvErrorCode::kNone};
}
Event err(std::uint64_t line, CsvErrorCode code) { return Event{line, {}, code}; }

std::ostream& operator<<(std::ostream& os, const Event& e) {
  os << "line " << e.line << " ";
  if (e.error != CsvErrorCode::kNone) return os << "error " << static_cast<int>(e.error);
  os << "[";
  for (const auto& f : e.fields) os << "<" << f << ">";
  return os << "]";
}

std::vector<Event> read_all(const std::string& input, CsvOptions options,
                            std::vector<std::string>* messages = nullptr,
                            char* delimiter = nullptr) {
  std::istringstream in(input);
  CsvReader reader(in, options);
  CsvRecord record;
  CsvError error;
  std::vector<Event> events;
  while (reader.next(record, error)) {
    if (error) {
      events.push_back(err(error.line, error.code));
      if (messages != nullptr) messages->push_back(error.message);
      EXPECT_TRUE(record.empty());
      continue;
    }
    std::vector<std::string> fields;
    for (const auto f : record.fields()) fields.emplace_back(f);
    events.push_back(rec(record.line(), std::move(fields)));
  }
  EXPECT_FALSE(error);
  EXPECT_FALSE(reader.next(record, error)) << "next() after the end must stay false";
  if (delimiter != nullptr) *delimiter = reader.delimiter();
  return events;
}

constexpr std::size_t k64KiB = std::size_t{64} * 1024;
const std::string utf8_bom = "\xEF\xBB\xBF";

struct Case {
  std::string_view name;
  std::string input;
  std::vector<Event> expected;
  char delimiter = ',';  // expected detected delimiter
  std::size_t max_record_bytes = k64KiB;
  std::size_t max_fields = 512;
  bool skip_blank_lines = true;
};

const std::vector<Case> csv_cases = {
    {"lf", "a,b\n1,2\n", {rec(1, {"a", "b"}), rec(2, {"1", "2"})}},
    {"crlf", "a,b\r\n1,2\r\n", {rec(1, {"a", "b"}), rec(2, {"1", "2"})}},
    {"lone cr", "a,b\r1,2\r", {rec(1, {"a", "b"}), rec(2, {"1", "2"})}},
    {"no final newline", "a,b\r\n1,2", {rec(1, {"a", "b"}), rec(2, {"1", "2"})}},
    {"empty input", "", {}},
    {"only bom", utf8_bom, {}},
    {"bom stripped",
     utf8_bom + "STT,Mã hộ\r\n1,DL-01\r\n",
     {rec(1, {"STT", "Mã hộ"}), rec(2, {"1", "DL-01"})}},
    {"bom not in middle", "a\r\n" + utf8_bom + "b\r\n", {rec(1, {"a"}), rec(2, {utf8_bom + "b"})}},
    {"empty fields", "a,,c,\n,,,\n", {rec(1, {"a", "", "c", ""}), rec(2, {"", "", "", ""})}},
    {"quoted delimiter", "\"Cư M'gar, Đắk Lắk\",x\n", {rec(1, {"Cư M'gar, Đắk Lắk", "x"})}},
    {"doubled quote", "\"say \"\"xin chào\"\"\",2\n", {rec(1, {"say \"xin chào\"", "2"})}},
    {"empty quoted", "\"\",\"\"\n", {rec(1, {"", ""})}},
    {"quote in unquoted kept", "ab\"c,d\n", {rec(1, {"ab\"c", "d"})}},
    {"embedded lf line numbers",
     "h1,h2\n\"line one\nline two\",x\nnext,y\n",
     {rec(1, {"h1", "h2"}), rec(2, {"line one\nline two", "x"}), rec(4, {"next", "y"})}},
    {"embedded crlf line numbers",
     "h\r\n\"a\r\nb\r\nc\"\r\nz\r\n",
     {rec(1, {"h"}), rec(2, {"a\r\nb\r\nc"}), rec(5, {"z"})}},
    {"blank lines skipped", "a\r\n\r\n\r\nb\r\n\r\n", {rec(1, {"a"}), rec(4, {"b"})}},
    {"blank lines kept",
     "a\n\nb\n",
     {rec(1, {"a"}), rec(2, {""}), rec(3, {"b"})},
     ',',
     k64KiB,
     512,
     false},
    {"semicolon detected",
     "STT;Họ tên;Ghi chú\r\n1;Y Blin Niê;\"a,b; c\"\r\n",
     {rec(1, {"STT", "Họ tên", "Ghi chú"}), rec(2, {"1", "Y Blin Niê", "a,b; c"})},
     ';'},
    {"semicolon with decimal commas",
     "a;b;c\n1,5;2,5;3\n",
     {rec(1, {"a", "b", "c"}), rec(2, {"1,5", "2,5", "3"})},
     ';'},
    {"comma wins a tie", "a,b;c\n", {rec(1, {"a", "b;c"})}},
    {"delimiters inside quoted header ignored", "\"a;b;c\",d\n", {rec(1, {"a;b;c", "d"})}},
    {"tab detected", "a\tb\n1\t2\n", {rec(1, {"a", "b"}), rec(2, {"1", "2"})}, '\t'},
    {"oversized record then recovery",
     "h\n" + std::string(100, 'x') + "\nok\n",
     {rec(1, {"h"}), err(2, CsvErrorCode::kRecordTooLarge), rec(3, {"ok"})},
     ',',
     50},
    // A quote left open swallows the following lines until the record limit (30 bytes) is
    // passed on line 8 ("7,x"); the reader then skips to the next physical line.
    {"open quote resyncs at the limit",
     "h\n1,\"open\n2,x\n3,x\n4,x\n5,x\n6,x\n7,x\n8,x\n9,x\n",
     {rec(1, {"h"}), err(2, CsvErrorCode::kRecordTooLarge), rec(9, {"8", "x"}),
      rec(10, {"9", "x"})},
     ',',
     30},
    {"record of exactly the limit",
     "abcde\nabcdef\nab\n",
     {rec(1, {"abcde"}), err(2, CsvErrorCode::kRecordTooLarge), rec(3, {"ab"})},
     ',',
     5},
    {"too many fields",
     "a,b,c\n1,2,3,4\nx,y\n",
     {rec(1, {"a", "b", "c"}), err(2, CsvErrorCode::kTooManyFields), rec(3, {"x", "y"})},
     ',',
     k64KiB,
     3},
    {"too many fields with quoted newline",
     "a\n1,2,3,\"4\n5\"\nx\n",
     {rec(1, {"a"}), err(2, CsvErrorCode::kTooManyFields), rec(4, {"x"})},
     ',',
     k64KiB,
     3},
    {"stray quote resyncs",
     "a,b\n\"x\"y,z\n1,2\n",
     {rec(1, {"a", "b"}), err(2, CsvErrorCode::kStrayQuote), rec(3, {"1", "2"})}},
    {"unterminated quote at end",
     "a\n\"never closed\nmore",
     {rec(1, {"a"}), err(2, CsvErrorCode::kUnterminatedQuote)}},
    {"invalid utf8 line reported",
     "Họ tên,Xã\nNguyễn Văn An,Xã Ea Kao\nL\xEA V\xE3n,x\nok,y\n",
     {rec(1, {"Họ tên", "Xã"}), rec(2, {"Nguyễn Văn An", "Xã Ea Kao"}),
      err(3, CsvErrorCode::kInvalidUtf8), rec(4, {"ok", "y"})}},
    {"invalid utf8 on continuation line",
     "h\n\"first line\nsecond \xD0\xE3k\",x\nok\n",
     {rec(1, {"h"}), err(3, CsvErrorCode::kInvalidUtf8), rec(4, {"ok"})}},
    {"windows-1258 header refused",
     "S\xF4\xEC \xF0i\xEA\xECn tho\xE1i,x\r\n0912345678,y\r\n",
     {err(1, CsvErrorCode::kInvalidUtf8), rec(2, {"0912345678", "y"})}},
    {"overlong utf8", "\xC0\xAF\n", {err(1, CsvErrorCode::kInvalidUtf8)}},
    {"surrogate utf8", "\xED\xA0\x80\n", {err(1, CsvErrorCode::kInvalidUtf8)}},
    {"above U+10FFFF", "\xF4\x90\x80\x80\n", {err(1, CsvErrorCode::kInvalidUtf8)}},
    {"truncated utf8 at end", "ab\xE1\xBA\n", {err(1, CsvErrorCode::kInvalidUtf8)}},
    // Fuzz finding (tests/fuzz/corpus/csv_import/finding_field_not_utf8.csv): a character cut
    // by the delimiter is whole only in the record's bytes, never in a field.
    {"utf8 cut by a delimiter", "Họ tên,x\nH\xE1,\xBB\x99 nghèo\nok,y\n",
     {rec(1, {"Họ tên", "x"}), err(2, CsvErrorCode::kInvalidUtf8), rec(3, {"ok", "y"})}},
    {"utf8 cut by an empty field", "a,b,c\nH\xE1,,\xBB\x99\n",
     {rec(1, {"a", "b", "c"}), err(2, CsvErrorCode::kInvalidUtf8)}},
    {"utf8 cut by a quoted delimiter", "\"H\xE1\",\"\xBB\x99\"\n",
     {err(1, CsvErrorCode::kInvalidUtf8)}},
    // Fuzz finding (tests/fuzz/corpus/csv_import/finding_delimiter_chunk_size.csv): a header
    // longer than the record limit is detected from its first max_record_bytes + 1 bytes only,
    // whatever the chunk size, so the ';' beyond them does not count.
    {"delimiter of a header beyond the record limit", "0123456789;a;b\nx;y\n",
     {err(1, CsvErrorCode::kRecordTooLarge), rec(2, {"x;y"})}, ',', 8},
    {"valid 4-byte utf8", "\xF0\x9F\x93\xA2 loa\n", {rec(1, {"\xF0\x9F\x93\xA2 loa"})}},
    {"ede letters", "Ƀlơi,Ŭn,Êñuôl,Hmŏk\n", {rec(1, {"Ƀlơi", "Ŭn", "Êñuôl", "Hmŏk"})}},
    {"nul byte is data", std::string("a\0b,c\n", 6), {rec(1, {std::string("a\0b", 3), "c"})}},
};

TEST(CsvReader, Cases) {
  // Every case at several chunk sizes, so every state meets a chunk boundary.
  for (const std::size_t chunk : {std::size_t{4}, std::size_t{5}, std::size_t{7}, k64KiB}) {
    for (const auto& c : csv_cases) {
      SCOPED_TRACE(std::string(c.name) + " (chunk " + std::to_string(chunk) + ")");
      CsvOptions options;
      options.chunk_bytes = chunk;
      options.max_record_bytes = c.max_record_bytes;
      options.max_fields = c.max_fields;
      options.skip_blank_lines = c.skip_blank_lines;
      char delimiter = 0;
      const auto events = read_all(c.input, options, nullptr, &delimiter);
      EXPECT_EQ(events, c.expected);
      if (!c.input.empty()) {
        EXPECT_EQ(delimiter, c.delimiter);
      }
    }
  }
}

TEST(CsvReader, ExplicitDelimiterOverridesDetection) {
  CsvOptions options;
  options.delimiter = ';';
  const auto events = read_all("a,b;c\n", options);
  EXPECT_EQ(events, (std::vector<Event>{rec(1, {"a,b", "c"})}));
}

TEST(CsvReader, ErrorMessagesNameTheLine) {
  struct Row {
    std::string input;
    std::size_t max_record_bytes;
    std::string_view message_start;
    std::string_view message_part;
  };
  const std::vector<Row> rows = {
      {"h\n" + std::string(100, 'x') + "\n", 50, "line 2: ", "larger than 50 bytes"},
      {"a\nb\nL\xEA V\xE3n\n", 1024, "line 3: ", "invalid UTF-8 (byte 0xEA)"},
      {"a\nb\nx,L\xEA\n", 1024, "line 3: field 2: ", "save the file as UTF-8"},
      {"a,b\nH\xE1,\xBB\x99\n", 1024, "line 2: field 1: ", "invalid UTF-8 (byte 0xE1)"},
      {"a\n\"b\"c\n", 1024, "line 2: ", "text after the closing quote"},
      {"a\n\"b\n", 1024, "line 2: ", "not closed"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.input);
    CsvOptions options;
    options.max_record_bytes = row.max_record_bytes;
    std::vector<std::string> messages;
    read_all(row.input, options, &messages);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_TRUE(messages[0].starts_with(row.message_start)) << messages[0];
    EXPECT_NE(messages[0].find(row.message_part), std::string::npos) << messages[0];
  }
}

TEST(CsvReader, InvalidUtf8ReportsBothLines) {
  std::istringstream in("h\n\"one\ntwo\nthree \xFF\"\n");
  CsvReader reader(in);
  CsvRecord record;
  CsvError error;
  ASSERT_TRUE(reader.next(record, error));
  ASSERT_FALSE(error);
  ASSERT_TRUE(reader.next(record, error));
  EXPECT_EQ(error.code, CsvErrorCode::kInvalidUtf8);
  EXPECT_EQ(error.line, 4u);         // the bad byte
  EXPECT_EQ(error.record_line, 2u);  // where the record starts
  EXPECT_FALSE(reader.next(record, error));
  EXPECT_EQ(reader.records(), 2u);
}

TEST(CsvReader, HugeLineIsSkippedWithBoundedBuffer) {
  // 4 MiB without a line end, then a good record: one error, then recovery.
  std::string input = "h\n" + std::string(4 << 20, 'x') + "\nlast,1\n";
  const auto events = read_all(input, CsvOptions{});
  EXPECT_EQ(events, (std::vector<Event>{rec(1, {"h"}), err(2, CsvErrorCode::kRecordTooLarge),
                                        rec(3, {"last", "1"})}));
}

TEST(CsvReader, RecordReuseKeepsFieldsValidUntilNextCall) {
  std::istringstream in("alpha,beta\ngamma,delta\n");
  CsvReader reader(in);
  CsvRecord record;
  CsvError error;
  ASSERT_TRUE(reader.next(record, error));
  EXPECT_EQ(record.size(), 2u);
  EXPECT_EQ(record[1], "beta");
  EXPECT_EQ(record.field_or_empty(5), "");
  ASSERT_TRUE(reader.next(record, error));
  EXPECT_EQ(record[0], "gamma");
  EXPECT_EQ(record.line(), 2u);
}

// ---------------------------------------------------------------------------------------------
// The shared fixture (fixtures/households-sample.csv, written by gen_households.py).

std::string fixtures_dir() {
  if (const char* env = std::getenv("LOA_FIXTURES_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef LOA_SOURCE_DIR
  return std::string(LOA_SOURCE_DIR) + "/../shared/fixtures";
#else
  return "./../shared/fixtures";
#endif
}

TEST(CsvReader, SharedFixtureReadsEveryDataRow) {
  const std::string path = fixtures_dir() + "/households-sample.csv";
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file.is_open()) << "cannot open " << path << " (set LOA_FIXTURES_DIR)";

  // Independent count: the generator writes one row per line and never quotes a line break,
  // so data rows are the non-blank lines after the header.
  std::size_t expected_rows = 0;
  {
    std::ifstream lines(path, std::ios::binary);
    std::string line;
    bool header = true;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      if (header) {
        header = false;
        continue;
      }
      ++expected_rows;
    }
  }
  ASSERT_GT(expected_rows, 0u);

  CsvReader reader(file);
  CsvRecord record;
  CsvError error;
  ASSERT_TRUE(reader.next(record, error));
  ASSERT_FALSE(error) << error.message;
  EXPECT_EQ(reader.delimiter(), ',');
  ASSERT_EQ(record.size(), 11u);
  EXPECT_EQ(record[0], "STT");  // the byte-order mark is gone
  EXPECT_EQ(record[3], "Số điện thoại");
  EXPECT_EQ(record[10], "Có Zalo");

  std::size_t rows = 0;
  std::string last_stt;
  std::uint64_t last_line = 1;
  while (reader.next(record, error)) {
    ASSERT_FALSE(error) << error.message;
    ASSERT_EQ(record.size(), 11u) << "line " << record.line();
    ASSERT_GT(record.line(), last_line);
    last_line = record.line();
    last_stt.assign(record[0]);
    ++rows;
  }
  EXPECT_EQ(rows, expected_rows);
  EXPECT_EQ(last_stt, std::to_string(rows));  // STT numbers the rows 1..N
}

}  // namespace
}  // namespace loa::campaigns
