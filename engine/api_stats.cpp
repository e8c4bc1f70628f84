// The statistics and reports endpoints (viewer role): GET /api/v1/stats and GET
// /api/v1/reports, over the summary tables (campaigns/statistics.hpp), never the outbox.
#include <unistd.h>

#include <boost/json/value.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "campaigns/campaign.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/report.hpp"
#include "engine/stats_json.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;

namespace {

constexpr const char* kRangeParameters =
    R"json({"name":"from","in":"query","description":"first day (YYYY-MM-DD, local date of planning); default: the beginning","schema":{"type":"string","format":"date"}},
    {"name":"to","in":"query","description":"last day, included (YYYY-MM-DD); default: today","schema":{"type":"string","format":"date"}},
    {"name":"campaign","in":"query","description":"only this campaign (id or name)","schema":{"type":"string"}})json";

// from, to and campaign of the query string; 400 naming the parameter at fault.
campaigns::StatsQuery range_of(Request& req) {
  campaigns::StatsQuery q{req.query("from").value_or("0001-01-01"),
                          req.query("to").value_or(local_today()), std::nullopt};
  try {
    campaigns::validate(q);
  } catch (const campaigns::StatisticsError& e) {
    const std::string what = e.what();
    throw ApiError(400, what, {}, what.rfind("from", 0) == 0 ? "from" : "to");
  }
  if (auto c = req.query("campaign")) {
    std::optional<campaigns::Campaign> found;
    if (!c->empty() && c->find_first_not_of("0123456789") == std::string::npos && c->size() < 18)
      found = campaigns::find_campaign(req.db(), static_cast<std::int64_t>(std::stoll(*c)));
    if (!found) found = campaigns::find_campaign(req.db(), *c);
    if (!found) throw ApiError(404, "no campaign '" + *c + "'", {}, "campaign");
    q.campaign_id = found->id;
  }
  return q;
}

}  // namespace

void add_stats_endpoints(Router& router, const Services& services) {
  router.add(
      {http::verb::get, "/stats", ApiRole::kViewer,
       "Delivery statistics: the funnel and breakdowns for a range of days",
       std::string(R"json({"description":"From the summary tables kept by the store writer: fast at millions of messages. Days are the local dates (Asia/Ho_Chi_Minh) on which messages were planned.","parameters":[)json") +
           kRangeParameters +
           R"json(,{"name":"by","in":"query","description":"comma-separated breakdowns: campaign, day, channel, route, carrier, commune, district, language, category","schema":{"type":"string"}}],
       "responses":{"200":{"description":"{from, to, campaign, total: row, by: {breakdown: [row]}}; a row: group, label, planned, queued, sent, delivered, failed, expired, cancelled, unknown, fallback, replied, opted_out, cost_vnd, failed_by_reason, delivery_rate, time_to_delivery_p50_s, time_to_delivery_p95_s"},"404":{"description":"no such campaign"}}})json",
       [](Request& req) {
         const campaigns::StatsQuery q = range_of(req);
         std::vector<campaigns::Breakdown> by;
         try {
           by = parse_breakdowns(req.query("by").value_or(""));
         } catch (const campaigns::StatisticsError& e) {
           throw ApiError(400, e.what(), {}, "by");
         }
         return Response::json(stats_json(req.db(), q, by));
       }});

  const std::filesystem::path spool = std::filesystem::path(services.config.daemon.data_dir) / "reports";
  router.add(
      {http::verb::get, "/reports", ApiRole::kViewer,
       "The delivery report of a range of days, as CSV (UTF-8 with BOM) or XLSX",
       std::string(R"json({"parameters":[)json") + kRangeParameters +
           R"json(,{"name":"format","in":"query","schema":{"type":"string","enum":["csv","xlsx"],"default":"csv"}}],
       "responses":{"200":{"description":"the report file (Content-Disposition: attachment)","content":{"text/csv":{},"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":{}}},"404":{"description":"no such campaign"}}})json",
       [spool](Request& req) {
         const campaigns::StatsQuery q = range_of(req);
         const std::string format = req.query("format").value_or("csv");
         if (format != "csv" && format != "xlsx")
           throw ApiError(400, "format must be csv or xlsx", {}, "format");
         const Report report = build_report(req.db(), q);
         const std::string name = "loa-report-" + q.from + "_" + q.to +
                                  (q.campaign_id ? "-" + std::to_string(*q.campaign_id) : "") +
                                  "." + format;
         Response r;
         r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
         if (format == "csv") {
           r.body = report_csv(report);
           r.content_type = "text/csv; charset=utf-8";
           return r;
         }
         // libxlsxwriter writes a file: a private one in the data dir, read back and removed.
         std::filesystem::create_directories(spool);
         std::string path = (spool / "report-XXXXXX").string();
         const int fd = mkstemp(path.data());
         if (fd < 0) throw std::runtime_error("cannot create a file in " + spool.string());
         ::close(fd);
         try {
           write_report_xlsx(report, path);
           std::ifstream in(path, std::ios::binary);
           std::ostringstream bytes;
           bytes << in.rdbuf();
           r.body = bytes.str();
         } catch (...) {
           std::filesystem::remove(path);
           throw;
         }
         std::filesystem::remove(path);
         r.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
         return r;
       }});
}

}  // namespace loa::engine::api
