// REST: contacts (households) and segments. Import is a streamed CSV upload with the CLI's
// report (engine/contact_import.*); list and search page by id; opt-out takes effect at
// dispatch (the enqueuer mirrors opted-out households into Redis within seconds).
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <boost/json/parse.hpp>
#include <charconv>

#include "campaigns/audience.hpp"
#include "campaigns/audience_filter.hpp"
#include "campaigns/audit.hpp"
#include "campaigns/import_messages.hpp"
#include "campaigns/phone.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/contact_import.hpp"
#include "templates/text_fold.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;
namespace fs = std::filesystem;
using namespace loa::campaigns;

namespace {

constexpr std::size_t kImportIssuesShown = 100;

constexpr const char* kContactColumns =
    "h.id, h.household_code, h.name, h.phone_e164, h.carrier, h.language, h.ethnicity, "
    "h.category, h.province, h.commune, h.village, h.district, h.has_zalo, h.zalo_user_id, "
    "h.consent_sms, h.consent_zalo, h.opt_out_sms, h.opt_out_zalo, h.shared_phone, "
    "h.attributes, h.updated_at";

json::object contact_json(SQLite::Statement& st) {
  auto text = [&st](int i) -> json::value {
    return st.getColumn(i).isNull() ? json::value(nullptr) : json::value(st.getColumn(i).getString());
  };
  auto flag = [&st](int i) { return st.getColumn(i).getInt() != 0; };
  boost::system::error_code ec;
  json::value attributes = json::parse(st.getColumn(19).getString(), ec);
  if (ec) attributes = json::object{};
  return json::object{{"id", st.getColumn(0).getInt64()},
                      {"household_code", text(1)},
                      {"name", text(2)},
                      {"phone", text(3)},
                      {"carrier", text(4)},
                      {"language", text(5)},
                      {"ethnicity", text(6)},
                      {"category", text(7)},
                      {"province", text(8)},
                      {"commune", text(9)},
                      {"village", text(10)},
                      {"district", text(11)},
                      {"has_zalo", flag(12)},
                      {"zalo_user_id", text(13)},
                      {"consent_sms", flag(14)},
                      {"consent_zalo", flag(15)},
                      {"opt_out_sms", flag(16)},
                      {"opt_out_zalo", flag(17)},
                      {"shared_phone", flag(18)},
                      {"attributes", std::move(attributes)},
                      {"updated_at", text(20)}};
}

void bind_filter(SQLite::Statement& st, const SqlFilter& filter, int& index) {
  for (const auto& v : filter.params) {
    if (const auto* n = std::get_if<std::int64_t>(&v))
      st.bind(index++, static_cast<int64_t>(*n));
    else
      st.bind(index++, std::get<std::string>(v));
  }
}

// A filter expression from the query (or a segment's), compiled; 400 names the parameter.
SqlFilter filter_from(const std::string& parameter, const std::string& expression) {
  auto compiled = compile_filter(expression);
  if (!compiled.ok())
    throw ApiError(400, "filter error at column " + std::to_string(compiled.error->column) + ": " +
                            compiled.error->message,
                   {}, parameter);
  return compiled.sql;
}

std::int64_t contact_id(const Request& req) {
  const std::string& text = req.param("id");
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size() || id <= 0)
    throw ApiError(404, "no contact with id '" + text + "'");
  return id;
}

json::object contact_by_id(SQLite::Database& db, std::int64_t id) {
  SQLite::Statement st(db, std::string("SELECT ") + kContactColumns +
                               " FROM households h WHERE h.id = ?");
  st.bind(1, id);
  if (!st.executeStep()) throw ApiError(404, "no contact with id " + std::to_string(id));
  return contact_json(st);
}

json::object audience_json(const std::string& expression, const AudienceCount& c) {
  auto to_json = [](const AudienceCount::Breakdown& b) {
    json::object o;
    for (const auto& [k, n] : b) o[k] = n;
    return o;
  };
  return json::object{{"expression", expression},        {"households", c.households},
                      {"with_phone", c.with_phone},      {"with_zalo", c.with_zalo},
                      {"shared_phone", c.shared_phone},  {"by_category", to_json(c.by_category)},
                      {"by_commune", to_json(c.by_commune)},
                      {"by_language", to_json(c.by_language)}};
}

// The expression of ?filter= or ?segment= (not both).
std::string expression_of(Request& req) {
  auto filter = req.query("filter");
  auto segment = req.query("segment");
  if (filter && segment) throw ApiError(400, "give filter or segment, not both", {}, "segment");
  if (segment) {
    auto seg = find_segment(req.db(), *segment);
    if (!seg) throw ApiError(404, "no segment named '" + *segment + "'", {}, "segment");
    return seg->expression;
  }
  return filter.value_or("");
}

// A page of the households `expression` selects; `search` also applies ?q= (a phone number in
// any spelling, a household code, or part of a name, ignoring accents and case: "nguyen van"
// finds "Nguyễn Văn An", through the folded column of migration 0011).
json::object contacts_page(Request& req, const std::string& expression,
                           const std::string& parameter, bool search) {
  const Page page = req.page();
  SqlFilter filter;
  if (!expression.empty()) filter = filter_from(parameter, expression);
  std::string sql =
      std::string("SELECT ") + kContactColumns + " FROM households h WHERE h.id > ?";
  if (!filter.where.empty()) sql += " AND " + filter.where;  // sql-trusted: compiled filter
  const auto q = search ? req.query("q") : std::nullopt;
  std::string phone;
  if (q) {
    if (q->empty() || q->size() > 200)
      throw ApiError(400, "q must have 1 to 200 characters", {}, "q");
    const PhoneResult p = normalize_phone(*q);
    if (p.ok()) {
      phone = p.e164;
      sql += " AND h.phone_e164 = ?";
    } else {
      sql += " AND (h.household_code = ? OR instr(h.name_folded, ?) > 0)";
    }
  }
  sql += " ORDER BY h.id LIMIT ?";
  SQLite::Statement st(req.db(), sql);
  int i = 1;
  st.bind(i++, page.after);
  bind_filter(st, filter, i);
  if (q) {
    if (!phone.empty()) {
      st.bind(i++, phone);
    } else {
      const std::string folded = templates::fold_text(*q);
      st.bind(i++, *q);
      if (folded.empty())
        st.bind(i++);  // only spaces or marks: matches no name (instr of NULL is NULL)
      else
        st.bind(i++, folded);
    }
  }
  st.bind(i++, page.limit);
  json::array items;
  std::int64_t last = 0;
  while (st.executeStep()) {
    last = st.getColumn(0).getInt64();
    items.push_back(contact_json(st));
  }
  return paged(std::move(items), page, last);
}

}  // namespace

void add_contact_endpoints(Router& router, const Services& services) {
  const Config& config = services.config;

  router.add({http::verb::get, "/contacts", ApiRole::kViewer,
              "List or search contacts (households)",
              R"json({"parameters":[
                  {"name":"filter","in":"query","schema":{"type":"string"},"description":"audience filter, e.g. category = \"poor\" and commune = \"Ea Tu\""},
                  {"name":"segment","in":"query","schema":{"type":"string"}},
                  {"name":"q","in":"query","schema":{"type":"string"},"description":"a phone number (any spelling), a household code, or part of a name, ignoring accents and case (nguyen van finds Nguyễn Văn)"},
                  {"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":500}},
                  {"name":"cursor","in":"query","schema":{"type":"string"}}],
                 "responses":{"200":{"description":"{items: [contact], next_cursor}"}}})json",
              [](Request& req) {
                const std::string expression = expression_of(req);
                return Response::json(contacts_page(
                    req, expression, req.query("segment") ? "segment" : "filter", true));
              }});

  router.add({http::verb::get, "/contacts/{id}", ApiRole::kViewer, "One contact",
              R"json({"responses":{"200":{"description":"the contact"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [](Request& req) { return Response::json(contact_by_id(req.db(), contact_id(req))); }});

  router.add({http::verb::post, "/contacts/{id}/opt-out", ApiRole::kOperator,
              "Opt a contact out of SMS, Zalo or both; queued messages are cancelled at dispatch",
              R"json({"requestBody":{"content":{"application/json":{"schema":{"type":"object","properties":{
                   "channels":{"type":"array","items":{"type":"string","enum":["sms","zalo"]},"description":"default: both"},
                   "opt_out":{"type":"boolean","description":"false opts back in; default true"}},"additionalProperties":false}}}},
                 "responses":{"200":{"description":"the contact after the change"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [](Request& req) {
                const std::int64_t id = contact_id(req);
                std::vector<std::string> channels = {"sms", "zalo"};
                bool opt_out = true;
                if (!req.http.body().empty()) {
                  JsonFields f(req.json_body(), "");
                  if (auto ch = f.optional_strings("channels")) {
                    for (std::size_t i = 0; i < ch->size(); ++i)
                      if ((*ch)[i] != "sms" && (*ch)[i] != "zalo")
                        throw ApiError(400, "a channel is sms or zalo, got '" + (*ch)[i] + "'",
                                       "/channels/" + std::to_string(i));
                    if (ch->empty()) throw ApiError(400, "at least one channel", "/channels");
                    channels = *ch;
                  }
                  opt_out = f.optional_bool("opt_out").value_or(true);
                  f.finish();
                }
                auto& db = req.db();
                contact_by_id(db, id);  // 404 first
                SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
                std::string detail;
                for (const auto& ch : channels) {
                  // sql-trusted: `ch` is checked above to be "sms" or "zalo"
                  SQLite::Statement st(db, "UPDATE households SET opt_out_" + ch +
                                               " = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', "
                                               "'now') WHERE id = ?");
                  st.bind(1, opt_out ? 1 : 0);
                  st.bind(2, id);
                  st.exec();
                  detail += (detail.empty() ? "" : ",") + ch;
                }
                record_audit(db, req.actor(), opt_out ? "contact.opt_out" : "contact.opt_in",
                             "household:" + std::to_string(id), detail);
                tx.commit();
                return Response::json(contact_by_id(db, id));
              }});

  router.add(
      {http::verb::post, "/contacts/import", ApiRole::kOperator,
       "Import a household list: the CSV file as the body, streamed (the CLI's checks and report)",
       R"json({"parameters":[
                  {"name":"dry_run","in":"query","schema":{"type":"boolean"},"description":"check and report, write nothing"},
                  {"name":"map","in":"query","schema":{"type":"string"},"description":"column overrides: Header=field,Other=attr.note"},
                  {"name":"province","in":"query","schema":{"type":"string"},"description":"for lists without a province column (default Đắk Lắk)"},
                  {"name":"name","in":"query","schema":{"type":"string"},"description":"the file's name, for the record"},
                  {"name":"sheet","in":"query","schema":{"type":"string"},"description":"a workbook's sheet, by name or 1-based number (default the first)"},
                  {"name":"header_row","in":"query","schema":{"type":"integer","minimum":1},"description":"the row holding the column names (default: found among the first 20)"},
                  {"name":"encoding","in":"query","schema":{"type":"string","enum":["utf8","utf16","cp1258","tcvn3"]},"description":"a text file's encoding (default: detected)"}],
                 "requestBody":{"required":true,"content":{"text/csv":{"schema":{"type":"string","format":"binary"}},"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":{"schema":{"type":"string","format":"binary"}},"application/vnd.ms-excel":{"schema":{"type":"string","format":"binary"}}}},
                 "responses":{"200":{"description":"the summary (the CLI's), the report's path and its first 100 rows"},
                              "413":{"description":"larger than http.upload_limit_bytes"},
                              "422":{"description":"the whole file was refused (not UTF-8, unusable header)"}}})json",
       [&config](Request& req) {
         // Officers read Vietnamese; Accept-Language: en asks for English.
         const MessageLanguage language = language_from_accept_language(
             std::string_view(req.http[http::field::accept_language]));
         ContactImportOptions o;
         o.language = language;
         o.file = req.upload;
         o.source = req.query("name").value_or("upload.csv");
         // The name becomes part of the report's file name: a NUL would cut it there, a '/' or
         // '\\' would leave the reports folder.
         if (!is_import_name(o.source))
           throw ApiError(400, refusal_text("upload_name", "", language).message, {}, "name");
         o.map = req.query("map").value_or("");
         if (auto p = req.query("province")) o.province = *p;
         if (auto d = req.query("dry_run")) {
           if (*d != "true" && *d != "false" && *d != "1" && *d != "0")
             throw ApiError(400, "dry_run is true or false", {}, "dry_run");
           o.dry_run = *d == "true" || *d == "1";
         }
         o.sheet = req.query("sheet").value_or("");
         o.encoding = req.query("encoding").value_or("");
         if (auto h = req.query("header_row")) {
           auto [p, ec] = std::from_chars(h->data(), h->data() + h->size(), o.header_row);
           if (ec != std::errc() || p != h->data() + h->size() || o.header_row == 0)
             throw ApiError(400, "header_row is a row number from 1", {}, "header_row");
         }
         o.actor = req.actor();
         o.keep_issues = kImportIssuesShown;
         o.report = default_import_report(config, fs::path(o.source).stem().string(), o.dry_run);
         ContactImportResult r;
         try {
           r = import_contacts(req.db(), o);
         } catch (const ContactImportError& e) {
           if (e.bad_map()) throw ApiError(400, e.message(language), {}, "map");
           if (e.bad_encoding()) throw ApiError(400, e.message(language), {}, "encoding");
           throw;
         }
         if (!r.summary.refused.empty())
           throw ApiError(422, o.source + ": " + refusal_message(r.summary, language));
         // The reports' places under the data directory, not the server's absolute path.
         auto out = import_json(r, language);
         out["report"] = fs::relative(r.report, config.daemon.data_dir).generic_string();
         out["report_xlsx"] = fs::relative(r.report_xlsx, config.daemon.data_dir).generic_string();
         return Response::json(std::move(out));
       },
       true});

  // Segments: saved audience filters.
  router.add({http::verb::get, "/segments", ApiRole::kViewer, "List saved segments",
              R"json({"responses":{"200":{"description":"{items: [{name, expression}]}"}}})json",
              [](Request& req) {
                json::array items;
                for (const auto& s : list_segments(req.db()))
                  items.push_back(json::object{{"name", s.name}, {"expression", s.expression}});
                return Response::json(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
              }});

  router.add({http::verb::put, "/segments/{name}", ApiRole::kOperator, "Save or replace a segment",
              R"json({"requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["expression"],"properties":{"expression":{"type":"string"}},"additionalProperties":false}}}},
                 "responses":{"200":{"description":"the segment with its count"}}})json",
              [](Request& req) {
                JsonFields f(req.json_body(), "");
                Segment s{req.param("name"), f.required_string("expression")};
                f.finish();
                if (!is_segment_name(s.name))
                  throw ApiError(400, "a segment name has letters, digits, '-' and '_'");
                if (auto error = save_segment(req.db(), s))
                  throw ApiError(400, "filter error at column " + std::to_string(error->column) +
                                          ": " + error->message,
                                 "/expression");
                return Response::json(audience_json(
                    s.expression, count_audience(req.db(), filter_from("/expression", s.expression))));
              }});

  router.add({http::verb::delete_, "/segments/{name}", ApiRole::kOperator, "Delete a segment",
              R"json({"responses":{"204":{"description":"deleted"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [](Request& req) {
                if (!delete_segment(req.db(), req.param("name")))
                  throw ApiError(404, "no segment named '" + req.param("name") + "'");
                return Response{204, "", "application/json", {}};
              }});

  router.add({http::verb::get, "/audience/count", ApiRole::kViewer,
              "Count the households a filter or segment selects, by category, commune and language",
              R"json({"parameters":[
                  {"name":"filter","in":"query","schema":{"type":"string"}},
                  {"name":"segment","in":"query","schema":{"type":"string"}}],
                 "responses":{"200":{"description":"{expression, households, with_phone, with_zalo, shared_phone, by_category, by_commune, by_language}"}}})json",
              [](Request& req) {
                const std::string expression = expression_of(req);
                const SqlFilter filter =
                    filter_from(req.query("segment") ? "segment" : "filter", expression);
                return Response::json(audience_json(expression, count_audience(req.db(), filter)));
              }});

  router.add({http::verb::get, "/segments/{name}/count", ApiRole::kViewer,
              "Count a segment's households, by category, commune and language",
              R"json({"responses":{"200":{"description":"as /audience/count"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [](Request& req) {
                auto seg = find_segment(req.db(), req.param("name"));
                if (!seg) throw ApiError(404, "no segment named '" + req.param("name") + "'");
                const SqlFilter filter = filter_from("segment", seg->expression);
                return Response::json(audience_json(seg->expression, count_audience(req.db(), filter)));
              }});

  router.add({http::verb::get, "/segments/{name}/preview", ApiRole::kViewer,
              "A page of the households a segment selects",
              R"json({"parameters":[
                  {"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":500}},
                  {"name":"cursor","in":"query","schema":{"type":"string"}}],
                 "responses":{"200":{"description":"{items: [contact], next_cursor}"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [](Request& req) {
                auto seg = find_segment(req.db(), req.param("name"));
                if (!seg) throw ApiError(404, "no segment named '" + req.param("name") + "'");
                return Response::json(contacts_page(req, seg->expression, "segment", false));
              }});
}

}  // namespace loa::engine::api
