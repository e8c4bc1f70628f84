// `loa contacts import`, `loa audience count`, `loa segments save|list|delete`.
#include <SQLiteCpp/Statement.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "campaigns/audience.hpp"
#include "campaigns/audit.hpp"
#include "campaigns/household_import.hpp"
#include "campaigns/household_store.hpp"
#include "campaigns/import_messages.hpp"
#include "campaigns/write_behind_sink.hpp"
#include "engine/cli.hpp"
#include "engine/contact_import.hpp"
#include "engine/store.hpp"

namespace loa::engine::cli {
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace loa::campaigns;

namespace {


// Pads to a width in characters, not bytes, so Vietnamese labels line up (NFC text: one code
// point per column, combining marks U+0300-U+036F take none).
std::string pad(std::string_view s, std::size_t width, bool right = false) {
  std::size_t cols = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    const bool combining = c == 0xCC || (c == 0xCD && i + 1 < s.size() &&
                                         static_cast<unsigned char>(s[i + 1]) < 0xB0);
    if (!combining) ++cols;
  }
  const std::string fill(cols < width ? width - cols : 0, ' ');
  return right ? fill + std::string(s) : std::string(s) + fill;
}

// The import summary's words: Vietnamese for the officers, English with LANG=en*.
enum class SummaryText : std::uint8_t {
  kChecked,
  kImported,
  kHeaderOnLine,
  kTitleRows,
  kSubtotalRows,
  kSkipped,
  kRowsRead,
  kAccepted,
  kAcceptedDetail,
  kRejected,
  kRejectedNote,
  kFlagged,
  kWithoutPhone,
  kWithoutPhoneNote,
  kOldPrefix,
  kLeadingZero,
  kSharedPhones,
  kSharedPhonesNote,
  kRepeatedCodes,
  kRepeatedCodesNote,
  kFromEthnicity,
  kLanguageDefault,
  kByReason,
  kByCategory,
  kByLanguage,
  kReport,
  kReportXlsx,
  kRows,
  kCount,
};
// clang-format off
constexpr std::array<std::array<const char*, 2>, static_cast<std::size_t>(SummaryText::kCount)>
    kSummaryText = {{
  {"Đã kiểm tra (chạy thử, chưa ghi gì) ", "Checked (dry run, nothing written) "},
  {"Đã nhập ", "Imported "},
  {"dòng tên cột: dòng {0}", "header on line {0}"},
  {"dòng tiêu đề phía trên dòng tên cột", "title rows above the header"},
  {"dòng tổng cộng", "subtotal rows (Tổng cộng)"},
  {"bỏ qua", "skipped"},
  {"số dòng đã đọc", "rows read"},
  {"được nhận", "accepted"},
  {"thêm mới {0}, cập nhật {1}, không đổi {2}", "inserted {0}, updated {1}, unchanged {2}"},
  {"bị loại", "rejected"},
  {"chưa nhập; xem báo cáo", "not imported; see the report"},
  {"được nhận, có cảnh báo", "accepted with warnings"},
  {"không có số di động dùng được", "without a usable mobile phone"},
  {"đã nhập; không gửi được SMS", "imported; no SMS can reach them"},
  {"số cũ 11 chữ số đã đổi", "old 11-digit numbers converted"},
  {"số 0 đầu bị mất đã thêm lại", "lost leading zeros restored"},
  {"số điện thoại dùng chung", "phones shared by several rows"},
  {"trên {0} dòng; mỗi số nhận một tin", "on {0} rows; each phone gets one message"},
  {"mã hộ bị lặp", "household codes repeated"},
  {"dòng sau được dùng", "the later row wins"},
  {"ngôn ngữ lấy theo dân tộc", "language from the ethnic group"},
  {"ngôn ngữ mặc định vi", "language defaulted to vi"},
  {"Vấn đề theo lý do:", "Issues by reason:"},
  {"Theo phân loại hộ:", "By category:"},
  {"Theo ngôn ngữ:", "By language:"},
  {"Báo cáo: ", "Report: "},
  {"Báo cáo Excel (các dòng cần sửa): ", "Excel report (rows to fix): "},
  {" dòng)", " rows)"},
}};
// clang-format on

struct Words {
  MessageLanguage language;
  std::string operator()(SummaryText t, const std::vector<std::string>& args = {}) const {
    std::string out =
        kSummaryText[static_cast<std::size_t>(t)][language == MessageLanguage::kEn ? 1 : 0];
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string mark = "{" + std::to_string(i) + "}";
      if (const auto at = out.find(mark); at != std::string::npos) out.replace(at, 3, args[i]);
    }
    return out;
  }
  // 0,12 in Vietnamese, 0.12 in English.
  std::string seconds(double secs) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", secs);
    std::string out = buf;
    if (language == MessageLanguage::kVi) std::replace(out.begin(), out.end(), '.', ',');
    return out;
  }
  // 1.234.567 in Vietnamese, 1,234,567 in English.
  std::string number(std::uint64_t n) const {
    std::string out = with_commas(n);
    if (language == MessageLanguage::kVi) std::replace(out.begin(), out.end(), ',', '.');
    return out;
  }
};

struct ImportArgs {
  std::string file;
  std::string map;
  std::string report;
  std::string province = "Đắk Lắk";
  bool dry_run = false;
  std::string sheet;
  std::uint64_t header_row = 0;
  std::string encoding;
};

int run_import(Context& ctx, const ImportArgs& args) {
  const Config& config = ctx.config();
  const Words words{
      language_from_locale(std::getenv("LC_ALL"), std::getenv("LC_MESSAGES"), std::getenv("LANG"))};
  ContactImportOptions options;
  options.language = words.language;
  options.file = args.file;
  options.source = fs::path(args.file).filename().string();
  options.map = args.map;
  options.province = args.province;
  options.dry_run = args.dry_run;
  options.sheet = args.sheet;
  options.header_row = args.header_row;
  options.encoding = args.encoding;
  options.actor = actor();
  options.report = args.report.empty() ? default_import_report(config, fs::path(args.file).stem().string(),
                                                                args.dry_run)
                                       : fs::path(args.report);

  // Categories are data in the store. A dry run never creates a store: without one it reads
  // the defaults from a migrated in-memory database.
  std::unique_ptr<SQLite::Database> memory;
  SQLite::Database* db = nullptr;
  if (args.dry_run && !ctx.store_exists()) {
    memory = std::make_unique<SQLite::Database>(":memory:", SQLite::OPEN_READWRITE);
    migrate(*memory);
    db = memory.get();
  } else {
    db = &ctx.store();
  }

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto started = std::chrono::steady_clock::now();
  const auto& w = words;
  auto progress = [&](const ImportProgress& p) {
    if (!tty) return;
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr,
                 w.language == MessageLanguage::kEn
                     ? "\r  %s rows read, %s accepted, %s rejected (%s rows/s)   "
                     : "\r  đã đọc %s dòng, nhận %s, loại %s (%s dòng/giây)   ",
                 w.number(p.rows).c_str(), w.number(p.accepted).c_str(),
                 w.number(p.rejected).c_str(),
                 w.number(static_cast<std::uint64_t>(secs > 0 ? p.rows / secs : 0)).c_str());
  };
  ContactImportResult result;
  try {
    result = import_contacts(*db, options, progress);
  } catch (const ContactImportError& e) {
    if (tty) std::fprintf(stderr, "\r%80s\r", "");
    std::cerr << "loa: " << e.message(words.language) << "\n";
    return e.bad_map() || e.bad_encoding() ? kExitUsage : kExitFailure;
  }
  if (tty) std::fprintf(stderr, "\r%80s\r", "");
  const ImportSummary& s = result.summary;
  if (!s.refused.empty()) {
    std::cerr << "loa: " << args.file << ": " << refusal_message(s, words.language) << "\n";
    return kExitFailure;
  }
  const double secs = result.seconds;
  const fs::path& report_path = result.report;

  auto line = [&w](const std::string& label, std::uint64_t n, const std::string& note = "") {
    std::cout << "  " << pad(label, 34) << pad(w.number(n), 10, true)
              << (note.empty() ? "" : "  " + note) << "\n";
  };
  using T = SummaryText;
  std::cout << w(args.dry_run ? T::kChecked : T::kImported) << args.file << "  [" << s.source
            << ", " << w(T::kHeaderOnLine, {std::to_string(s.header_line)}) << ", "
            << w.seconds(secs) << " s]\n";
  if (s.title_rows > 0) line(w(T::kTitleRows), s.title_rows, w(T::kSkipped));
  if (s.subtotal_rows > 0) line(w(T::kSubtotalRows), s.subtotal_rows, w(T::kSkipped));
  line(w(T::kRowsRead), s.rows);
  if (result.written) {
    line(w(T::kAccepted), s.accepted,
         w(T::kAcceptedDetail,
           {w.number(result.inserted), w.number(result.updated), w.number(result.unchanged)}));
  } else {
    line(w(T::kAccepted), s.accepted);
  }
  line(w(T::kRejected), s.rejected, w(T::kRejectedNote));
  line(w(T::kFlagged), s.flagged);
  line(w(T::kWithoutPhone), s.without_phone, w(T::kWithoutPhoneNote));
  line(w(T::kOldPrefix), s.old_prefix_converted);
  line(w(T::kLeadingZero), s.leading_zero_restored);
  line(w(T::kSharedPhones), s.shared_phones,
       w(T::kSharedPhonesNote, {w.number(s.shared_phone_rows)}));
  line(w(T::kRepeatedCodes), s.duplicate_codes, w(T::kRepeatedCodesNote));
  line(w(T::kFromEthnicity), s.language_from_ethnicity);
  line(w(T::kLanguageDefault), s.language_default);
  if (!s.reasons.empty()) {
    std::cout << w(T::kByReason) << "\n";
    for (const auto& [reason, n] : s.reasons) {
      ImportIssue sample;  // the reason's words, with "…" for the specifics of each row
      sample.reason = reason;
      sample.detail = "…";
      line(reason, n, issue_text(sample, w.language).message);
    }
  }
  std::cout << w(T::kByCategory);
  for (const auto& [k, n] : s.by_category) std::cout << "  " << k << " " << w.number(n);
  std::cout << "\n" << w(T::kByLanguage);
  for (const auto& [k, n] : s.by_language) std::cout << "  " << k << " " << w.number(n);
  std::cout << "\n"
            << w(T::kReport) << report_path.string() << " (" << w.number(result.report_rows)
            << w(T::kRows) << "\n";
  std::cout << w(T::kReportXlsx) << result.report_xlsx.string() << " ("
            << w.number(result.report_xlsx_rows) << w(T::kRows) << "\n";
  return kExitOk;
}

// Prints a filter error with a caret under the column.
void print_filter_error(const std::string& expression, const FilterError& e) {
  std::cerr << "loa: audience filter error at column " << e.column << ": " << e.message << "\n"
            << "  " << expression << "\n  ";
  // The column counts code points; pad with as many spaces.
  std::size_t cps = 0;
  for (unsigned char c : expression) {
    if (cps + 1 >= e.column) break;
    if ((c & 0xC0) != 0x80) ++cps;
  }
  std::cerr << std::string(e.column > 0 ? e.column - 1 : 0, ' ') << "^\n";
}

struct AudienceArgs {
  std::string expression;
  std::string segment;
  bool json = false;
  int top = 10;
};

int run_audience_count(Context& ctx, const AudienceArgs& args) {
  std::string expression = args.expression;
  if (!args.segment.empty()) {
    auto seg = find_segment(ctx.store(), args.segment);
    if (!seg) {
      std::cerr << "loa: no segment named '" << args.segment << "' (see `loa segments list`)\n";
      return kExitUsage;
    }
    expression = seg->expression;
  }
  auto compiled = compile_filter(expression);
  if (!compiled.ok()) {
    print_filter_error(expression, *compiled.error);
    return kExitUsage;
  }
  const AudienceCount c = count_audience(ctx.store(), compiled.sql);
  if (args.json) {
    auto to_json = [](const AudienceCount::Breakdown& b) {
      json::object o;
      for (const auto& [k, n] : b) o[k] = n;
      return o;
    };
    json::object out{{"expression", expression},     {"households", c.households},
                      {"with_phone", c.with_phone},  {"with_zalo", c.with_zalo},
                      {"shared_phone", c.shared_phone}, {"by_category", to_json(c.by_category)},
                      {"by_commune", to_json(c.by_commune)}, {"by_language", to_json(c.by_language)}};
    std::cout << json::serialize(out) << "\n";
    return kExitOk;
  }
  std::cout << "Audience: " << (expression.empty() ? "(all households)" : expression) << "\n";
  auto line = [](const std::string& label, std::uint64_t n) {
    std::cout << "  " << pad(label, 28) << pad(with_commas(n), 10, true) << "\n";
  };
  line("households", c.households);
  line("with a mobile phone", c.with_phone);
  line("with Zalo", c.with_zalo);
  line("sharing a phone", c.shared_phone);
  auto section = [&](const char* title, const AudienceCount::Breakdown& b) {
    std::cout << title << ":\n";
    int shown = 0;
    std::uint64_t rest = 0;
    for (const auto& [k, n] : b) {
      if (shown++ < args.top) {
        line(k, n);
      } else {
        rest += n;
      }
    }
    if (rest) line("(" + std::to_string(b.size() - static_cast<size_t>(args.top)) + " more)", rest);
  };
  section("By category", c.by_category);
  section("By commune/ward", c.by_commune);
  section("By language", c.by_language);
  return kExitOk;
}

}  // namespace

void register_contact_commands(CLI::App& app, Context& ctx) {
  auto* contacts = app.add_subcommand("contacts", "Household lists");
  contacts->require_subcommand(1);
  auto imp = std::make_shared<ImportArgs>();
  auto* import = contacts->add_subcommand(
      "import",
      "Import a household list: .xlsx, .xls, or CSV/tab text (UTF-8, UTF-16 \"Unicode Text\", "
      "Windows-1258, TCVN3), told apart by content. Title rows above the header are skipped. "
      "Re-importing the same file changes nothing. Rejected and suspicious rows go to a CSV "
      "report, and the rows to fix, with their cells, to an Excel workbook beside it. Messages "
      "are Vietnamese; LANG=en* for English.");
  import->add_option("FILE", imp->file, "The list (.xlsx, .xls, .csv, .txt)")->required();
  import->add_option("--sheet", imp->sheet,
                     "A workbook's sheet, by name or number (default: the first)");
  import->add_option("--header-row", imp->header_row,
                     "The row holding the column names (default: found among the first 20)")
      ->check(CLI::Range(1, 1048576));
  import->add_option("--encoding", imp->encoding,
                     "A text file's encoding: utf8, utf16, cp1258, tcvn3 (default: detected)");
  import->add_option("--map", imp->map,
                     "Column overrides: 'Header=field,Other=attr.note,STT=ignore'");
  import->add_flag("--dry-run", imp->dry_run, "Validate and report without writing");
  import->add_option("--report", imp->report,
                     "Where to write the report (default: <data_dir>/reports/import-….csv); the "
                     ".xlsx goes beside it");
  import->add_option("--province", imp->province,
                     "Province for lists without a province column (default: Đắk Lắk)");
  import->callback([&ctx, imp] { ctx.exit_code = run_import(ctx, *imp); });

  auto* audience = app.add_subcommand("audience", "Audience selection");
  audience->require_subcommand(1);
  auto aud = std::make_shared<AudienceArgs>();
  auto* count = audience->add_subcommand(
      "count",
      "Count the households a filter selects, by category, commune and language.\n"
      "Example: loa audience count 'category in (\"poor\", \"near_poor\") and language = \"rad\"'");
  count->add_option("EXPR", aud->expression, "Filter expression (empty: every household)");
  count->add_option("--segment", aud->segment, "Use a saved segment instead of EXPR");
  count->add_option("--top", aud->top, "Rows per breakdown (default 10)")->check(CLI::Range(1, 1000));
  count->add_flag("--json", aud->json, "Print JSON");
  count->callback([&ctx, aud] { ctx.exit_code = run_audience_count(ctx, *aud); });

  auto* segments = app.add_subcommand("segments", "Saved audiences (named filters)");
  segments->require_subcommand(1);
  auto seg = std::make_shared<Segment>();
  auto* save = segments->add_subcommand("save", "Save or replace a named filter");
  save->add_option("NAME", seg->name, "Segment name")->required();
  save->add_option("EXPR", seg->expression, "Filter expression")->required();
  save->callback([&ctx, seg] {
    if (auto error = save_segment(ctx.store(), *seg)) {
      print_filter_error(seg->expression, *error);
      ctx.exit_code = kExitUsage;
      return;
    }
    std::cout << "saved segment " << seg->name << "\n";
    ctx.exit_code = kExitOk;
  });
  segments->add_subcommand("list", "List saved segments")->callback([&ctx] {
    for (const auto& s : list_segments(ctx.store())) std::cout << s.name << "\t" << s.expression << "\n";
    ctx.exit_code = kExitOk;
  });
  auto name = std::make_shared<std::string>();
  auto* del = segments->add_subcommand("delete", "Delete a saved segment");
  del->add_option("NAME", *name, "Segment name")->required();
  del->callback([&ctx, name] {
    if (!delete_segment(ctx.store(), *name)) {
      std::cerr << "loa: no segment named '" << *name << "'\n";
      ctx.exit_code = kExitUsage;
      return;
    }
    std::cout << "deleted segment " << *name << "\n";
    ctx.exit_code = kExitOk;
  });
}

}  // namespace loa::engine::cli
