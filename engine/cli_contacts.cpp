// `loa contacts import`, `loa audience count`, `loa segments save|list|delete`.
#include <SQLiteCpp/Statement.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
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
#include "campaigns/write_behind_sink.hpp"
#include "engine/cli.hpp"
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

std::string timestamp_for_file() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

// Counts what a dry run would write.
class CountingSink : public HouseholdSink {
 public:
  void write(const Household&, std::uint64_t) override { ++rows; }
  std::uint64_t rows = 0;
};

constexpr std::size_t kImportBatchRows = 20000;  // rows per transaction

struct ImportArgs {
  std::string file;
  std::string map;
  std::string report;
  std::string province = "Đắk Lắk";
  bool dry_run = false;
};

int run_import(Context& ctx, const ImportArgs& args) {
  const Config& config = ctx.config();
  ImportOptions options;
  options.default_province = args.province;
  if (!args.map.empty()) {
    if (auto error = parse_column_overrides(args.map, options.overrides)) {
      std::cerr << "loa: " << *error << "\n";
      return kExitUsage;
    }
  }
  std::ifstream in(args.file, std::ios::binary);
  if (!in) {
    std::cerr << "loa: cannot read " << args.file << ": " << std::strerror(errno) << "\n";
    return kExitFailure;
  }

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
  options.categories = load_categories(*db);

  fs::path report_path = args.report;
  if (report_path.empty()) {
    report_path = fs::path(config.daemon.data_dir) / "reports" /
                  ("import-" + timestamp_for_file() + "-" +
                   fs::path(args.file).stem().string() + (args.dry_run ? "-dry-run" : "") +
                   ".csv");
  }
  std::error_code ec;
  if (report_path.has_parent_path()) fs::create_directories(report_path.parent_path(), ec);
  std::ofstream report_out(report_path, std::ios::binary);
  if (!report_out) {
    std::cerr << "loa: cannot write the report " << report_path.string() << ": "
              << std::strerror(errno) << "\n";
    return kExitFailure;
  }
  CsvIssueReport report(report_out);

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto started = std::chrono::steady_clock::now();
  auto progress = [&](const ImportProgress& p) {
    if (!tty) return;
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "\r  %s rows read, %s accepted, %s rejected (%s rows/s)   ",
                 with_commas(p.rows).c_str(), with_commas(p.accepted).c_str(),
                 with_commas(p.rejected).c_str(),
                 with_commas(static_cast<std::uint64_t>(secs > 0 ? p.rows / secs : 0)).c_str());
  };

  HouseholdImport import(options);
  CountingSink counting;
  std::unique_ptr<HouseholdStore> store;
  std::int64_t import_id = 0;
  if (!args.dry_run) {
    db->exec("PRAGMA threads = 2");  // lets SQLite sort with a helper when rebuilding indexes
    store = std::make_unique<HouseholdStore>(*db, fs::path(args.file).filename().string(),
                                             kImportBatchRows);
    SQLite::Statement st(*db,
                         "INSERT INTO imports(file, started_at) VALUES "
                         "(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
    st.bind(1, args.file);
    st.exec();
    import_id = db->getLastInsertRowid();
  }
  // Checking rows on this thread overlaps with writing them on another.
  std::unique_ptr<WriteBehindSink> behind;
  if (store) behind = std::make_unique<WriteBehindSink>(*store, [&store] { store->finish(); });
  HouseholdSink& sink = behind ? static_cast<HouseholdSink&>(*behind) : counting;
  ImportSummary s = import.run(in, sink, report, progress);
  if (tty) std::fprintf(stderr, "\r%80s\r", "");
  if (!s.refused.empty()) {
    std::cerr << "loa: " << args.file << ": " << s.refused << "\n";
    report_out.close();
    fs::remove(report_path, ec);
    return kExitFailure;
  }
  if (behind) behind->finish();
  report_out.flush();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (store) {
    SQLite::Statement st(*db,
                         "UPDATE imports SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                         "rows = ?, inserted = ?, updated = ?, unchanged = ?, rejected = ?, "
                         "report = ? WHERE id = ?");
    st.bind(1, static_cast<int64_t>(s.rows));
    st.bind(2, static_cast<int64_t>(store->inserted()));
    st.bind(3, static_cast<int64_t>(store->updated()));
    st.bind(4, static_cast<int64_t>(store->unchanged()));
    st.bind(5, static_cast<int64_t>(s.rejected));
    st.bind(6, report_path.string());
    st.bind(7, static_cast<int64_t>(import_id));
    st.exec();
    record_audit(*db, actor(), "contacts.import", args.file,
                 "rows " + std::to_string(s.rows) + ", inserted " +
                     std::to_string(store->inserted()) + ", updated " +
                     std::to_string(store->updated()) + ", rejected " +
                     std::to_string(s.rejected));
  }

  auto line = [](const std::string& label, std::uint64_t n, const std::string& note = "") {
    std::cout << "  " << pad(label, 34) << pad(with_commas(n), 10, true)
              << (note.empty() ? "" : "  " + note) << "\n";
  };
  std::cout << (args.dry_run ? "Checked (dry run, nothing written) " : "Imported ") << args.file
            << "  [delimiter '" << s.delimiter << "', " << std::fixed << std::setprecision(2)
            << secs << " s]\n";
  line("rows read", s.rows);
  if (store) {
    line("accepted", s.accepted,
         "inserted " + with_commas(store->inserted()) + ", updated " +
             with_commas(store->updated()) + ", unchanged " + with_commas(store->unchanged()));
  } else {
    line("accepted", s.accepted);
  }
  line("rejected", s.rejected, "not imported; see the report");
  line("accepted with warnings", s.flagged);
  line("without a usable mobile phone", s.without_phone, "imported; no SMS can reach them");
  line("old 11-digit numbers converted", s.old_prefix_converted);
  line("lost leading zeros restored", s.leading_zero_restored);
  line("phones shared by several rows", s.shared_phones,
       "on " + with_commas(s.shared_phone_rows) + " rows; each phone gets one message");
  line("household codes repeated", s.duplicate_codes, "the later row wins");
  line("language from the ethnic group", s.language_from_ethnicity);
  line("language defaulted to vi", s.language_default);
  if (!s.reasons.empty()) {
    std::cout << "Issues by reason:\n";
    for (const auto& [reason, n] : s.reasons) line(reason, n);
  }
  std::cout << "By category:";
  for (const auto& [k, n] : s.by_category) std::cout << "  " << k << " " << with_commas(n);
  std::cout << "\nBy language:";
  for (const auto& [k, n] : s.by_language) std::cout << "  " << k << " " << with_commas(n);
  std::cout << "\nReport: " << report_path.string() << " (" << with_commas(report.written())
            << " rows)\n";
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
      "Import a household list (CSV, UTF-8; ',' or ';'). Re-importing the same file changes "
      "nothing. Rejected and suspicious rows go to a CSV report.");
  import->add_option("FILE", imp->file, "The CSV file")->required();
  import->add_option("--map", imp->map,
                     "Column overrides: 'Header=field,Other=attr.note,STT=ignore'");
  import->add_flag("--dry-run", imp->dry_run, "Validate and report without writing");
  import->add_option("--report", imp->report,
                     "Where to write the report (default: <data_dir>/reports/import-….csv)");
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
