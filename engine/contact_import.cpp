#include "engine/contact_import.hpp"

#include <SQLiteCpp/Statement.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>

#include "campaigns/audit.hpp"
#include "campaigns/csv_row_source.hpp"
#include "campaigns/file_format.hpp"
#include "campaigns/text_encoding.hpp"
#include "campaigns/xls_reader.hpp"
#include "campaigns/xlsx_reader.hpp"
#include "campaigns/household_store.hpp"
#include "campaigns/import_messages.hpp"
#include "campaigns/write_behind_sink.hpp"
#include "engine/import_report.hpp"
#include "engine/report.hpp"
#include "templates/utf8.hpp"

namespace loa::engine {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace loa::campaigns;

namespace {

constexpr std::size_t kImportBatchRows = 20000;  // rows per transaction

// Counts what a dry run would write.
class CountingSink : public HouseholdSink {
 public:
  void write(const Household&, std::uint64_t) override { ++rows; }
  std::uint64_t rows = 0;
};

// The two reports, and the first few issues kept for the caller.
class KeepingReport : public IssueSink {
 public:
  KeepingReport(IssueSink& csv, IssueSink& xlsx, std::vector<ImportIssue>& kept, std::size_t keep)
      : csv_(csv), xlsx_(xlsx), kept_(kept), keep_(keep) {}
  void header_row(const std::vector<std::string>& headers) override {
    csv_.header_row(headers);
    xlsx_.header_row(headers);
  }
  void issue(const ImportIssue& issue) override {
    csv_.issue(issue);
    xlsx_.issue(issue);
    if (kept_.size() < keep_) {
      kept_.push_back(issue);
      kept_.back().row = nullptr;  // the record does not outlive this call
    }
  }

 private:
  IssueSink& csv_;
  IssueSink& xlsx_;
  std::vector<ImportIssue>& kept_;
  std::size_t keep_;
};

constexpr std::size_t kSniffBytes = 1 << 16;  // enough to tell Windows-1258 from TCVN3

// The reader for `file`, chosen by its content; nullptr with `refused` set when loa cannot read
// it. `in` stays open for a text file, which is streamed from it.
std::unique_ptr<RowSource> open_list(const ContactImportOptions& args, std::ifstream& in,
                                     ContactImportResult& r) {
  std::string head(kSniffBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const bool complete = head.size() < kSniffBytes;
  in.clear();
  in.seekg(0);
  const FileFormat format = sniff_file_format(head);
  RowError error;
  std::unique_ptr<RowSource> source;
  switch (format) {
    case FileFormat::kZip: source = XlsxReader::open(args.file, args.sheet, error); break;
    case FileFormat::kOle2: source = XlsReader::open(args.file, args.sheet, error); break;
    case FileFormat::kText: {
      TextEncoding encoding = detect_text_encoding(head, complete);
      if (encoding == TextEncoding::kUtf8 && args.encoding.empty()) {
        // UTF-8 at the start is no proof: a legacy export may have its first accent far down.
        if (auto bad = first_non_utf8_line(in)) {
          r.summary.refused_reason = "file_format";
          r.summary.refused = "dòng " + std::to_string(*bad) +
                              ": tệp bắt đầu như UTF-8 nhưng có byte không phải UTF-8; nếu là tệp "
                              "Windows-1258 hoặc TCVN3, hãy nhập lại với --encoding cp1258 hoặc "
                              "--encoding tcvn3. Không nhập gì.";
          r.summary.refused_en = "line " + std::to_string(*bad) +
                                 ": the file starts as UTF-8 but holds bytes that are not; if it "
                                 "is Windows-1258 or TCVN3, import again with --encoding cp1258 "
                                 "or --encoding tcvn3. Nothing was imported.";
          return nullptr;
        }
        in.clear();
        in.seekg(0);
      }
      if (!args.encoding.empty()) {
        auto forced = parse_encoding(args.encoding);
        if (!forced)
          throw ContactImportError("bad_encoding", args.encoding);
        encoding = *forced;
      }
      r.encoding = std::string(encoding_name(encoding));
      source = std::make_unique<CsvRowSource>(in, encoding, CsvOptions{});
      break;
    }
    default: {
      const FormatRefusal refusal = refuse_format(format, head);
      error.message = refusal.vi;
      error.message_en = refusal.en;
    }
  }
  if (!source) {
    r.summary.refused_reason = "file_format";
    r.summary.refused = error.message;
    r.summary.refused_en = error.message_en;
  }
  return source;
}

// Reads every row of the list once without checking it, so that a file refused half-way (bytes
// its encoding does not define, a ZIP bomb, hostile XML deep in a sheet) is refused before
// anything is written. Returns the fatal error, if any.
std::optional<RowError> read_through(const ContactImportOptions& args) {
  std::ifstream in(args.file, std::ios::binary);
  ContactImportResult scratch;
  std::unique_ptr<RowSource> source = open_list(args, in, scratch);
  if (!source) return std::nullopt;  // open_list already refused it the first time
  SourceRow row;
  RowError error;
  while (source->next(row, error))
    if (error.fatal) return error;
  return std::nullopt;
}

}  // namespace

std::string ContactImportError::message(MessageLanguage language) const {
  return refusal_text(reason_, detail_, language).message;
}

std::string refusal_message(const ImportSummary& summary, MessageLanguage language) {
  // Worded where it was found (the format sniffer, a reader), in both languages.
  if (summary.refused_reason == "file_format")
    return language == MessageLanguage::kEn && !summary.refused_en.empty() ? summary.refused_en
                                                                           : summary.refused;
  const IssueText text = refusal_text(summary.refused_reason, summary.refused, language);
  return text.message + (text.advice.empty() ? "" : ". " + std::string(text.advice));
}

bool is_import_name(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  if (templates::find_invalid_utf8(name) != std::string_view::npos) return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
  return name != "." && name != "..";
}

fs::path default_import_report(const Config& config, const std::string& stem, bool dry_run) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return fs::path(config.daemon.data_dir) / "reports" /
         ("import-" + std::string(buf) + "-" + stem + (dry_run ? "-dry-run" : "") + ".csv");
}

ContactImportResult import_contacts(SQLite::Database& db, const ContactImportOptions& args,
                                    const std::function<void(const ImportProgress&)>& progress) {
  ImportOptions options;
  options.default_province = args.province;
  if (!args.map.empty()) {
    if (auto error = parse_column_overrides(args.map, options.overrides))
      throw ContactImportError("bad_map", *error);
  }
  std::ifstream in(args.file, std::ios::binary);
  if (!in)
    throw ContactImportError("file_unreadable", args.file.string() + ": " + std::strerror(errno));
  options.categories = load_categories(db);
  options.header_row = args.header_row;

  ContactImportResult r;
  std::unique_ptr<RowSource> source = open_list(args, in, r);
  if (!source) return r;
  if (!args.dry_run) {
    if (auto fatal = read_through(args)) {
      r.summary.refused_reason = "file_format";
      r.summary.refused = fatal->message;
      r.summary.refused_en = fatal->message_en;
      return r;
    }
  }
  r.report = args.report;
  // --report names either file; the other goes beside it.
  if (r.report.extension() == ".xlsx") r.report.replace_extension(".csv");
  std::error_code ec;
  if (r.report.has_parent_path()) fs::create_directories(r.report.parent_path(), ec);
  std::ofstream report_out(r.report, std::ios::binary);
  if (!report_out)
    throw ContactImportError("report_unwritable", r.report.string() + ": " + std::strerror(errno));
  CsvIssueReport report(report_out, args.language);
  r.report_xlsx = fs::path(r.report).replace_extension(".xlsx");
  std::unique_ptr<XlsxIssueReport> xlsx;
  try {
    xlsx = std::make_unique<XlsxIssueReport>(r.report_xlsx, args.language);
  } catch (const ReportError& e) {
    throw ContactImportError("report_unwritable", e.what());
  }

  const auto started = std::chrono::steady_clock::now();
  HouseholdImport import(options);
  CountingSink counting;
  std::unique_ptr<HouseholdStore> store;
  std::int64_t import_id = 0;
  if (!args.dry_run) {
    db.exec("PRAGMA threads = 2");  // lets SQLite sort with a helper when rebuilding indexes
    store = std::make_unique<HouseholdStore>(db, args.source, kImportBatchRows);
    SQLite::Statement st(db,
                         "INSERT INTO imports(file, started_at) VALUES "
                         "(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
    st.bind(1, args.source);
    st.exec();
    import_id = db.getLastInsertRowid();
  }
  // Checking rows on this thread overlaps with writing them on another.
  std::unique_ptr<WriteBehindSink> behind;
  if (store) behind = std::make_unique<WriteBehindSink>(*store, [&store] { store->finish(); });
  HouseholdSink& sink = behind ? static_cast<HouseholdSink&>(*behind) : counting;
  KeepingReport keeping(report, *xlsx, r.issues, args.keep_issues);
  r.summary = import.run(*source, sink, keeping, progress);
  if (!r.summary.refused.empty()) {
    report_out.close();
    xlsx.reset();
    fs::remove(r.report, ec);
    fs::remove(r.report_xlsx, ec);
    return r;
  }
  try {
    xlsx->close();
  } catch (const ReportError& e) {
    throw ContactImportError("report_unwritable", e.what());
  }
  r.report_xlsx_rows = xlsx->records();
  if (behind) behind->finish();
  report_out.flush();
  r.report_rows = report.written();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (store) {
    r.written = true;
    r.inserted = store->inserted();
    r.updated = store->updated();
    r.unchanged = store->unchanged();
    const ImportSummary& s = r.summary;
    SQLite::Statement st(db,
                         "UPDATE imports SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                         "rows = ?, inserted = ?, updated = ?, unchanged = ?, rejected = ?, "
                         "report = ? WHERE id = ?");
    st.bind(1, static_cast<int64_t>(s.rows));
    st.bind(2, static_cast<int64_t>(r.inserted));
    st.bind(3, static_cast<int64_t>(r.updated));
    st.bind(4, static_cast<int64_t>(r.unchanged));
    st.bind(5, static_cast<int64_t>(s.rejected));
    st.bind(6, r.report.string());
    st.bind(7, static_cast<int64_t>(import_id));
    st.exec();
    record_audit(db, args.actor, "contacts.import", args.source,
                 "rows " + std::to_string(s.rows) + ", inserted " + std::to_string(r.inserted) +
                     ", updated " + std::to_string(r.updated) + ", rejected " +
                     std::to_string(s.rejected));
  }
  return r;
}

json::object import_json(const ContactImportResult& r, MessageLanguage language) {
  const ImportSummary& s = r.summary;
  auto counts = [](const std::map<std::string, std::uint64_t>& m) {
    json::object o;
    for (const auto& [k, n] : m) o[k] = n;
    return o;
  };
  json::object out{{"dry_run", !r.written},
                   {"delimiter", s.delimiter ? std::string(1, s.delimiter) : std::string()},
                   {"source", s.source},
                   {"encoding", r.encoding},
                   {"header_line", s.header_line},
                   {"title_rows", s.title_rows},
                   {"subtotal_rows", s.subtotal_rows},
                   {"rows", s.rows},
                   {"accepted", s.accepted},
                   {"rejected", s.rejected},
                   {"flagged", s.flagged},
                   {"without_phone", s.without_phone},
                   {"old_prefix_converted", s.old_prefix_converted},
                   {"leading_zero_restored", s.leading_zero_restored},
                   {"shared_phones", s.shared_phones},
                   {"shared_phone_rows", s.shared_phone_rows},
                   {"duplicate_codes", s.duplicate_codes},
                   {"language_from_ethnicity", s.language_from_ethnicity},
                   {"language_default", s.language_default},
                   {"reasons", counts(s.reasons)},
                   {"by_category", counts(s.by_category)},
                   {"by_language", counts(s.by_language)},
                   {"report", r.report.string()},
                   {"report_rows", r.report_rows},
                   {"report_xlsx", r.report_xlsx.string()},
                   {"report_xlsx_rows", r.report_xlsx_rows},
                   {"seconds", r.seconds}};
  json::array issues;
  for (const auto& i : r.issues) {
    const IssueText text = issue_text(i, language);
    issues.push_back(json::object{{"line", i.line},
                                  {"column", i.column},
                                  {"value", i.value},
                                  {"severity", std::string(severity_name(i.severity))},
                                  {"reason", i.reason},
                                  {"message", text.message},
                                  {"advice", std::string(text.advice)}});
  }
  out["issues"] = std::move(issues);
  if (r.written) {
    out["inserted"] = r.inserted;
    out["updated"] = r.updated;
    out["unchanged"] = r.unchanged;
  }
  return out;
}

}  // namespace loa::engine
