// `loa report --from YYYY-MM-DD --to YYYY-MM-DD [--campaign ID|NAME] --out DIR|FILE
//  [--format csv|xlsx|both]`: the delivery report of a range of days (engine/report.hpp), for
// the programme's six-monthly and yearly reports. --out naming a .csv or .xlsx file writes that
// one format; any other --out is a directory (created if missing) that receives
// loa-report-<from>_<to>[-<campaign>].csv and/or .xlsx.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "campaigns/campaign.hpp"
#include "engine/cli.hpp"
#include "engine/report.hpp"

namespace loa::engine::cli {

namespace {

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

void register_report_commands(CLI::App& app, Context& ctx) {
  auto* report = app.add_subcommand(
      "report", "Delivery report of a range of days as CSV (UTF-8 with BOM) and XLSX");
  struct Options {
    std::string from, to, campaign, out, format = "both";
  };
  auto opts = std::make_shared<Options>();
  report->add_option("--from", opts->from, "First day, YYYY-MM-DD (local date of planning)")
      ->required();
  report->add_option("--to", opts->to, "Last day, YYYY-MM-DD, included")->required();
  report->add_option("--campaign", opts->campaign, "Only this campaign (id or name)");
  report->add_option("--out", opts->out, "Directory, or a .csv or .xlsx file")->required();
  report->add_option("--format", opts->format, "csv, xlsx or both (for a directory)")
      ->check(CLI::IsMember({"csv", "xlsx", "both"}));
  report->callback([&ctx, opts] {
    campaigns::StatsQuery query{opts->from, opts->to, std::nullopt};
    try {
      campaigns::validate(query);
    } catch (const campaigns::StatisticsError& e) {
      std::cerr << "loa report: --" << e.what() << "\n";
      ctx.exit_code = kExitUsage;
      return;
    }
    auto& db = ctx.store();
    std::string suffix;
    if (!opts->campaign.empty()) {
      std::optional<campaigns::Campaign> c;
      if (opts->campaign.find_first_not_of("0123456789") == std::string::npos)
        c = campaigns::find_campaign(db, std::stoll(opts->campaign));
      if (!c) c = campaigns::find_campaign(db, opts->campaign);
      if (!c) {
        std::cerr << "loa report: --campaign: no campaign '" << opts->campaign << "'\n";
        ctx.exit_code = kExitUsage;
        return;
      }
      query.campaign_id = c->id;
      suffix = "-" + std::to_string(c->id);
    }
    bool csv = opts->format != "xlsx";
    bool xlsx = opts->format != "csv";
    std::filesystem::path csv_file, xlsx_file;
    if (ends_with(opts->out, ".csv")) {
      csv_file = opts->out;
      xlsx = false;
      csv = true;
    } else if (ends_with(opts->out, ".xlsx")) {
      xlsx_file = opts->out;
      csv = false;
      xlsx = true;
    } else {
      std::filesystem::create_directories(opts->out);
      const std::string base = "loa-report-" + opts->from + "_" + opts->to + suffix;
      csv_file = std::filesystem::path(opts->out) / (base + ".csv");
      xlsx_file = std::filesystem::path(opts->out) / (base + ".xlsx");
    }
    const Report r = build_report(db, query);
    if (csv) {
      write_report_csv(r, csv_file);
      std::cout << csv_file.string() << "\n";
    }
    if (xlsx) {
      write_report_xlsx(r, xlsx_file);
      std::cout << xlsx_file.string() << "\n";
    }
    ctx.exit_code = kExitOk;
  });
}

}  // namespace loa::engine::cli
