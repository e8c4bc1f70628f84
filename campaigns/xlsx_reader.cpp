#include "campaigns/xlsx_reader.hpp"

#include <expat.h>
#include <zip.h>

#include <charconv>
#include <cstring>
#include <deque>
#include <functional>
#include <map>

#include "campaigns/cell_text.hpp"
#include "campaigns/file_format.hpp"

namespace loa::campaigns {
namespace {

constexpr std::size_t kChunkBytes = 1 << 16;

// The local name of a possibly prefixed XML name ("x:row" -> "row").
// One pass over the name: this runs for every element and attribute of a sheet.
std::string_view local(const XML_Char* name) {
  const XML_Char* start = name;
  const XML_Char* p = name;
  for (; *p != '\0'; ++p)
    if (*p == ':') start = p + 1;
  return std::string_view(start, static_cast<std::size_t>(p - start));
}

const char* attr(const XML_Char** attrs, std::string_view want) {
  for (std::size_t i = 0; attrs[i] != nullptr; i += 2)
    if (local(attrs[i]) == want) return attrs[i + 1];
  return nullptr;
}

RowError too_large(std::uint64_t limit) {
  return RowError::refusal("zip_too_large",
                           "Sổ tính giải nén ra quá " + std::to_string(limit >> 20) +
                               " MiB (có thể là một \"bom ZIP\"); đã dừng đọc. Không nhập gì.",
                           "The workbook inflates to more than " + std::to_string(limit >> 20) +
                               " MiB (a ZIP bomb?); reading stopped. Nothing was imported.");
}

RowError bad_xml(std::string_view part, std::string_view why) {
  return RowError::refusal("bad_workbook",
                           "Sổ tính bị hỏng hoặc không hợp lệ (" + std::string(part) + ": " +
                               std::string(why) + "). Không nhập gì.",
                           "The workbook is damaged or not valid (" + std::string(part) + ": " +
                               std::string(why) + "). Nothing was imported.");
}

// One part of the ZIP, inflated on demand, counting toward the workbook's inflated total.
class ZipPart {
 public:
  ZipPart(zip_t* zip, zip_int64_t index, std::uint64_t& total, std::uint64_t limit)
      : total_(total), limit_(limit) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip, static_cast<zip_uint64_t>(index), 0, &st) == 0 &&
        (st.valid & ZIP_STAT_SIZE) && st.size > limit_ - std::min(limit_, total_)) {
      declared_too_large_ = true;  // refused before inflating a byte
      return;
    }
    file_ = zip_fopen_index(zip, static_cast<zip_uint64_t>(index), 0);
  }
  ~ZipPart() {
    if (file_) zip_fclose(file_);
  }
  ZipPart(const ZipPart&) = delete;
  ZipPart& operator=(const ZipPart&) = delete;

  // Bytes read (0 at the end), or -1 with `error` set.
  long read(char* buf, std::size_t n, RowError& error, std::string_view name) {
    if (declared_too_large_) {
      error = too_large(limit_);
      return -1;
    }
    if (!file_) {
      error = bad_xml(name, "cannot open the part");
      return -1;
    }
    const zip_int64_t got = zip_fread(file_, buf, n);
    if (got < 0) {
      error = bad_xml(name, zip_error_strerror(zip_file_get_error(file_)));
      return -1;
    }
    total_ += static_cast<std::uint64_t>(got);
    if (total_ > limit_) {  // the declared size lied
      error = too_large(limit_);
      return -1;
    }
    return static_cast<long>(got);
  }

 private:
  zip_file_t* file_ = nullptr;
  std::uint64_t& total_;
  std::uint64_t limit_;
  bool declared_too_large_ = false;
};

// expat with loa's limits: no DOCTYPE (so no entity can expand), bounded depth. Handlers get
// local names. The callbacks are noexcept: an exception would unwind through C.
class XmlStream {
 public:
  using Start = std::function<void(std::string_view, const XML_Char**)>;
  using End = std::function<void(std::string_view)>;
  using Text = std::function<void(std::string_view)>;

  XmlStream(std::size_t max_depth, Start start, End end, Text text)
      : max_depth_(max_depth),
        start_(std::move(start)),
        end_(std::move(end)),
        text_(std::move(text)) {
    parser_ = XML_ParserCreate(nullptr);
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &XmlStream::on_start, &XmlStream::on_end);
    XML_SetCharacterDataHandler(parser_, &XmlStream::on_text);
    XML_SetStartDoctypeDeclHandler(parser_, &XmlStream::on_doctype);
    XML_SetEntityDeclHandler(parser_, &XmlStream::on_entity);
  }
  ~XmlStream() { XML_ParserFree(parser_); }
  XmlStream(const XmlStream&) = delete;
  XmlStream& operator=(const XmlStream&) = delete;

  // Reads up to `n` bytes straight into expat's buffer with `read` (returns the count, 0 at
  // the end, -1 on an error) and parses them. False on a parse error (why() says what).
  template <typename Read>
  long feed_from(std::size_t n, Read&& read) {
    void* buffer = XML_GetBuffer(parser_, static_cast<int>(n));
    if (buffer == nullptr) {
      why_ = "out of memory";
      return -2;
    }
    const long got = read(static_cast<char*>(buffer), n);
    if (got < 0) return -1;
    if (XML_ParseBuffer(parser_, static_cast<int>(got), got == 0 ? 1 : 0) == XML_STATUS_ERROR) {
      if (why_.empty())
        why_ = std::string(XML_ErrorString(XML_GetErrorCode(parser_))) + " at line " +
               std::to_string(XML_GetCurrentLineNumber(parser_));
      return -2;
    }
    return got;
  }

  // False on an error (then why() says what).
  bool feed(const char* data, std::size_t n, bool last) {
    if (!why_.empty()) return false;
    if (XML_Parse(parser_, data, static_cast<int>(n), last ? 1 : 0) == XML_STATUS_ERROR) {
      if (why_.empty())
        why_ = std::string(XML_ErrorString(XML_GetErrorCode(parser_))) + " at line " +
               std::to_string(XML_GetCurrentLineNumber(parser_));
      return false;
    }
    return true;
  }
  void stop(std::string why) {
    if (why_.empty()) why_ = std::move(why);
    XML_StopParser(parser_, XML_FALSE);
  }
  const std::string& why() const { return why_; }
  bool refused_markup() const { return refused_markup_; }

 private:
  static void on_start(void* self, const XML_Char* name, const XML_Char** attrs) noexcept {
    auto* s = static_cast<XmlStream*>(self);
    if (++s->depth_ > s->max_depth_) {
      s->refused_markup_ = true;
      return s->stop("nested deeper than " + std::to_string(s->max_depth_) + " elements");
    }
    try {
      s->start_(local(name), attrs);
    } catch (const std::exception& e) {
      s->stop(e.what());
    }
  }
  static void on_end(void* self, const XML_Char* name) noexcept {
    auto* s = static_cast<XmlStream*>(self);
    --s->depth_;
    try {
      s->end_(local(name));
    } catch (const std::exception& e) {
      s->stop(e.what());
    }
  }
  static void on_text(void* self, const XML_Char* text, int len) noexcept {
    auto* s = static_cast<XmlStream*>(self);
    try {
      s->text_(std::string_view(text, static_cast<std::size_t>(len)));
    } catch (const std::exception& e) {
      s->stop(e.what());
    }
  }
  static void on_doctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*,
                         int) noexcept {
    auto* s = static_cast<XmlStream*>(self);
    s->refused_markup_ = true;
    s->stop("a DOCTYPE, which no workbook part has (entity expansion refused)");
  }
  static void on_entity(void* self, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                        const XML_Char*, const XML_Char*, const XML_Char*) noexcept {
    auto* s = static_cast<XmlStream*>(self);
    s->refused_markup_ = true;
    s->stop("an entity declaration (entity expansion refused)");
  }

  XML_Parser parser_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  Start start_;
  End end_;
  Text text_;
  std::string why_;
  bool refused_markup_ = false;
};

RowError xml_error(std::string_view part, const XmlStream& xml) {
  if (xml.refused_markup())
    return RowError::refusal("xml_refused",
                             "Sổ tính có cấu trúc XML bị từ chối vì an toàn (" + std::string(part) +
                                 ": " + xml.why() + "). Không nhập gì.",
                             "The workbook holds XML refused for safety (" + std::string(part) +
                                 ": " + xml.why() + "). Nothing was imported.");
  return bad_xml(part, xml.why());
}

// 0-based column of a cell reference ("AB12" -> 27), or -1.
long column_of(const char* ref) {
  long col = 0;
  std::size_t i = 0;
  for (; ref[i] >= 'A' && ref[i] <= 'Z'; ++i) {
    col = col * 26 + (ref[i] - 'A' + 1);
    if (col > 16384) return -1;  // XFD, Excel's last column
  }
  return i == 0 ? -1 : col - 1;
}

// A number format shows a date when it is one of the built-in date ids (ECMA-376 Part 1,
// 18.8.30) or its code has day or year letters outside quotes and brackets.
bool is_date_format(int id, std::string_view code) {
  if ((id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
      (id >= 50 && id <= 58))
    return true;
  bool quoted = false, bracket = false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (c == '"')
      quoted = !quoted;
    else if (quoted)
      continue;
    else if (c == '\\' || c == '_' || c == '*')
      ++i;
    else if (c == '[')
      bracket = true;
    else if (c == ']')
      bracket = false;
    else if (!bracket && (c == 'd' || c == 'D' || c == 'y' || c == 'Y'))
      return true;
  }
  return false;
}

}  // namespace

class XlsxReader::Impl {
 public:
  WorkbookLimits limits;
  zip_t* zip = nullptr;
  std::uint64_t inflated = 0;
  std::vector<std::string> sheet_names;
  std::string sheet_name;
  bool date1904 = false;
  std::vector<bool> date_style;  // by cellXfs index
  std::string strings;           // shared strings back to back
  std::vector<std::size_t> string_ends;

  std::unique_ptr<ZipPart> sheet;
  std::string sheet_path;
  std::unique_ptr<XmlStream> sheet_xml;
  std::vector<char> chunk = std::vector<char>(kChunkBytes);
  bool sheet_done = false;
  std::deque<SourceRow> ready;
  RowError pending_error;

  // The row and cell being parsed.
  SourceRow row;
  bool in_row = false;
  std::uint64_t row_number = 0;
  std::size_t row_bytes = 0;
  std::size_t next_column = 0;
  std::string cell_type;
  long cell_style = 0;
  long cell_column = 0;
  bool in_value = false, in_inline_text = false, in_phonetic = false;
  std::string value;
  std::string row_problem;

  ~Impl() {
    sheet_xml.reset();
    sheet.reset();
    if (zip) zip_discard(zip);
  }

  zip_int64_t find(const std::string& name) const { return zip_name_locate(zip, name.c_str(), 0); }

  // Parses a whole (small) part; false with `error` on failure. A missing part is `missing_ok`.
  bool parse_part(const std::string& name, const XmlStream::Start& start, const XmlStream::End& end,
                  const XmlStream::Text& text, RowError& error, bool missing_ok) {
    const zip_int64_t index = find(name);
    if (index < 0) {
      if (!missing_ok) error = bad_xml(name, "missing");
      return missing_ok;
    }
    ZipPart part(zip, index, inflated, limits.max_inflated_bytes);
    XmlStream xml(limits.max_xml_depth, start, end, text);
    for (;;) {
      const long n = part.read(chunk.data(), chunk.size(), error, name);
      if (n < 0) return false;
      if (!xml.feed(chunk.data(), static_cast<std::size_t>(n), n == 0)) {
        error = xml_error(name, xml);
        return false;
      }
      if (n == 0) return true;
    }
  }

  bool load(std::string_view wanted, RowError& error) {
    // Sheets, in workbook order, and where their parts are.
    std::vector<std::pair<std::string, std::string>> sheets;  // name, r:id
    if (!parse_part(
            "xl/workbook.xml",
            [&](std::string_view n, const XML_Char** a) {
              if (n == "sheet") {
                const char* name = attr(a, "name");
                const char* id = attr(a, "id");
                if (name && id) sheets.emplace_back(name, id);
              } else if (n == "workbookPr") {
                const char* d = attr(a, "date1904");
                date1904 = d && (std::strcmp(d, "1") == 0 || std::strcmp(d, "true") == 0);
              }
            },
            [](std::string_view) {}, [](std::string_view) {}, error, false))
      return false;
    std::map<std::string, std::string> targets;
    if (!parse_part(
            "xl/_rels/workbook.xml.rels",
            [&](std::string_view n, const XML_Char** a) {
              const char* id = attr(a, "Id");
              const char* target = attr(a, "Target");
              if (n == "Relationship" && id && target) targets[id] = target;
            },
            [](std::string_view) {}, [](std::string_view) {}, error, false))
      return false;
    for (const auto& s : sheets) sheet_names.push_back(s.first);
    if (sheets.empty()) {
      error = bad_xml("xl/workbook.xml", "no sheet");
      return false;
    }
    const auto chosen = choose_sheet(sheet_names, wanted, error);
    if (!chosen) return false;
    const std::size_t pick = *chosen;
    sheet_name = sheets[pick].first;
    const auto t = targets.find(sheets[pick].second);
    if (t == targets.end()) {
      error = bad_xml("xl/_rels/workbook.xml.rels", "no part for sheet '" + sheet_name + "'");
      return false;
    }
    sheet_path = t->second.rfind('/', 0) == 0 ? t->second.substr(1) : "xl/" + t->second;

    // Styles: which cell formats show dates.
    std::map<int, std::string> formats;
    bool in_cell_xfs = false;
    if (!parse_part(
            "xl/styles.xml",
            [&](std::string_view n, const XML_Char** a) {
              if (n == "numFmt") {
                const char* id = attr(a, "numFmtId");
                const char* code = attr(a, "formatCode");
                if (id && code) formats[std::atoi(id)] = code;
              } else if (n == "cellXfs") {
                in_cell_xfs = true;
              } else if (n == "xf" && in_cell_xfs) {
                const char* id = attr(a, "numFmtId");
                const int fmt = id ? std::atoi(id) : 0;
                const auto f = formats.find(fmt);
                date_style.push_back(is_date_format(fmt, f == formats.end() ? "" : f->second));
              }
            },
            [&](std::string_view n) {
              if (n == "cellXfs") in_cell_xfs = false;
            },
            [](std::string_view) {}, error, true))
      return false;

    // Shared strings: the text of each <si>, rich runs joined, phonetic runs (<rPh>) dropped.
    bool in_si = false, in_t = false, in_rph = false;
    if (!parse_part(
            "xl/sharedStrings.xml",
            [&](std::string_view n, const XML_Char**) {
              if (n == "si") {
                in_si = true;
              } else if (n == "rPh") {
                in_rph = true;
              } else if (n == "t" && in_si && !in_rph) {
                in_t = true;
              }
            },
            [&](std::string_view n) {
              if (n == "si") {
                in_si = false;
                if (string_ends.size() >= limits.max_shared_strings)
                  throw std::length_error("more than " + std::to_string(limits.max_shared_strings) +
                                          " shared strings");
                string_ends.push_back(strings.size());
              } else if (n == "rPh") {
                in_rph = false;
              } else if (n == "t") {
                in_t = false;
              }
            },
            [&](std::string_view text) {
              if (!in_t) return;
              if (strings.size() + text.size() > limits.max_shared_string_bytes)
                throw std::length_error("shared strings beyond " +
                                        std::to_string(limits.max_shared_string_bytes >> 20) +
                                        " MiB");
              strings.append(text);
            },
            error, true))
      return false;

    const zip_int64_t index = find(sheet_path);
    if (index < 0) {
      error = bad_xml(sheet_path, "missing");
      return false;
    }
    sheet = std::make_unique<ZipPart>(zip, index, inflated, limits.max_inflated_bytes);
    sheet_xml = std::make_unique<XmlStream>(
        limits.max_xml_depth, [this](std::string_view n, const XML_Char** a) { on_start(n, a); },
        [this](std::string_view n) { on_end(n); },
        [this](std::string_view text) { on_text(text); });
    return true;
  }

  std::string_view shared_string(std::size_t i) const {
    if (i >= string_ends.size()) return {};
    const std::size_t begin = i == 0 ? 0 : string_ends[i - 1];
    return std::string_view(strings).substr(begin, string_ends[i] - begin);
  }

  void on_start(std::string_view n, const XML_Char** a) {
    if (n == "row") {
      in_row = true;
      const char* r = attr(a, "r");
      // Row numbers are 1-based; a missing or 0 one follows the previous row (line 0 marks an
      // error row in `ready`).
      const std::uint64_t given = r ? std::strtoull(r, nullptr, 10) : 0;
      row_number = given != 0 ? given : row_number + 1;
      row.clear(row_number);
      row_bytes = 0;
      next_column = 0;
      row_problem.clear();
    } else if (n == "c" && in_row) {
      const char *r = nullptr, *t = nullptr, *s = nullptr;
      for (std::size_t i = 0; a[i] != nullptr; i += 2) {  // one pass: a sheet has millions
        const std::string_view name = local(a[i]);
        if (name == "r") r = a[i + 1];
        else if (name == "t") t = a[i + 1];
        else if (name == "s") s = a[i + 1];
      }
      cell_column = r ? column_of(r) : static_cast<long>(next_column);
      cell_type = t ? t : "";
      cell_style = s ? std::atol(s) : 0;
      value.clear();
    } else if (n == "v") {
      in_value = true;
    } else if (n == "rPh") {
      in_phonetic = true;
    } else if (n == "t" && !in_phonetic) {
      in_inline_text = true;
    }
  }

  void on_text(std::string_view t) {
    if (!in_value && !in_inline_text) return;
    row_bytes += t.size();
    if (row_bytes > limits.max_row_bytes) {
      if (row_problem.empty())
        row_problem = "more than " + std::to_string(limits.max_row_bytes) + " bytes";
      return;
    }
    value.append(t);
  }

  void on_end(std::string_view n) {
    if (n == "v") {
      in_value = false;
    } else if (n == "rPh") {
      in_phonetic = false;
    } else if (n == "t") {
      in_inline_text = false;
    } else if (n == "c" && in_row) {
      end_cell();
    } else if (n == "row" && in_row) {
      in_row = false;
      if (!row_problem.empty()) {
        RowError e;
        e.line = row_number;
        e.reason = "bad_record";
        e.message = "hàng " + std::to_string(row_number) + ": hàng quá lớn (" + row_problem + ")";
        e.message_en =
            "row " + std::to_string(row_number) + ": the row is too large (" + row_problem + ")";
        SourceRow marker;
        marker.clear(0);  // line 0 marks an error row; the message travels in pending
        ready.push_back(std::move(marker));
        row_errors.push_back(std::move(e));
        return;
      }
      row.finish();
      if (!row.blank()) ready.push_back(std::move(row));
      row = SourceRow();
    } else if (n == "sheetData") {
      sheet_done = true;
    }
  }

  void end_cell() {
    if (cell_column < 0 || static_cast<std::size_t>(cell_column) >= limits.max_columns) {
      if (row_problem.empty())
        row_problem = "a cell beyond column " + std::to_string(limits.max_columns);
      return;
    }
    const auto col = static_cast<std::size_t>(cell_column);
    if (col < next_column) return;  // cells out of order: keep the first
    row.pad_to(col);
    next_column = col + 1;
    if (cell_type == "s") {
      std::size_t i = 0;
      std::from_chars(value.data(), value.data() + value.size(), i);
      row.add(shared_string(i));
    } else if (cell_type.empty() || cell_type == "n") {
      double d = 0;
      const char* b = value.data();
      while (b < value.data() + value.size() && *b == ' ') ++b;
      auto [p, ec] = std::from_chars(b, value.data() + value.size(), d);
      if (value.empty() || ec != std::errc()) {
        row.add(value);
      } else if (cell_style >= 0 && static_cast<std::size_t>(cell_style) < date_style.size() &&
                 date_style[static_cast<std::size_t>(cell_style)]) {
        row.add(date_text(d, date1904), value);
      } else {
        row.add(number_text(d), value);
      }
    } else if (cell_type == "b") {
      row.add(value == "1" ? "TRUE" : "FALSE");
    } else {  // inlineStr, str (a formula's text), e (an error such as #N/A), d (ISO date)
      row.add(value);
    }
  }

  std::vector<RowError> row_errors;
};

XlsxReader::XlsxReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XlsxReader::~XlsxReader() = default;

std::unique_ptr<XlsxReader> XlsxReader::open(const std::filesystem::path& path,
                                             std::string_view sheet, RowError& error,
                                             WorkbookLimits limits) {
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  int code = 0;
  impl->zip = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (!impl->zip) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    error = bad_xml("ZIP", zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return nullptr;
  }
  const zip_int64_t entries = zip_get_num_entries(impl->zip, 0);
  if (entries < 0 || static_cast<std::uint64_t>(entries) > limits.max_zip_entries) {
    error = bad_xml("ZIP", "more than " + std::to_string(limits.max_zip_entries) + " entries");
    return nullptr;
  }
  if (impl->find("xl/workbook.xml") < 0) {
    const FormatRefusal r = refuse_zip_not_workbook();
    error = RowError::refusal("not_a_workbook", r.vi, r.en);
    return nullptr;
  }
  if (!impl->load(sheet, error)) return nullptr;
  return std::unique_ptr<XlsxReader>(new XlsxReader(std::move(impl)));
}

bool XlsxReader::next(SourceRow& out, RowError& error) {
  Impl& s = *impl_;
  error = RowError{};
  while (s.ready.empty()) {
    if (s.sheet_done || s.sheet == nullptr) return false;
    const long n = s.sheet_xml->feed_from(kChunkBytes, [&](char* buf, std::size_t size) {
      return s.sheet->read(buf, size, error, s.sheet_path);
    });
    if (n == -1) {  // the ZIP: `error` says why
      s.sheet.reset();
      return true;
    }
    if (n == -2) {
      error = xml_error(s.sheet_path, *s.sheet_xml);
      s.sheet.reset();
      s.ready.clear();
      return true;
    }
    if (n == 0) s.sheet_done = true;
  }
  out = std::move(s.ready.front());
  s.ready.pop_front();
  if (out.line() == 0 && !s.row_errors.empty()) {  // an error row
    error = std::move(s.row_errors.front());
    s.row_errors.erase(s.row_errors.begin());
    out.clear(error.line);
  }
  out.finish();
  return true;
}

std::string XlsxReader::description() const {
  return "XLSX, trang tính '" + impl_->sheet_name + "'";
}
const std::vector<std::string>& XlsxReader::sheet_names() const { return impl_->sheet_names; }
const std::string& XlsxReader::sheet_name() const { return impl_->sheet_name; }
std::uint64_t XlsxReader::inflated_bytes() const { return impl_->inflated; }

}  // namespace loa::campaigns
