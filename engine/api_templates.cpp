// The template library over the REST API:
//  - GET /templates and GET /templates/{key} (viewer), from the store as `loa templates list`
//    reads it (campaigns/template_store.hpp);
//  - PUT /templates/{key} (operator): create or replace one template, with the body in the
//    shape of a template file's [templates.<key>] table (templates/template_file.hpp) and the
//    validation of `loa templates load` (engine/template_operations.*); an invalid template is
//    a 400 naming the JSON Pointer of the variant and the position in its text, and nothing is
//    written;
//  - POST /templates/{key}/preview (viewer): what households get, per channel and language,
//    as `loa template preview` shows it (text, encoding, segments, cost, fallback);
//  - DELETE /templates/{key} (operator), refused with 409 while a campaign that is not a draft
//    uses it.
#include <SQLiteCpp/Transaction.h>

#include <boost/json/value.hpp>
#include <iterator>
#include <map>
#include <utility>

#include "campaigns/audit.hpp"
#include "campaigns/template_store.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/template_operations.hpp"
#include "engine/template_settings.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;

namespace {

// A stored template in the shape of a template file's entry, with its revision.
json::object template_json(const campaigns::StoredTemplate& stored) {
  json::array variants;
  for (const templates::VariantSource& v : stored.source.variants) {
    json::object variant{{"language", v.language},
                         {"channel", std::string(templates::to_string(v.channel))}};
    if (v.channel == templates::Channel::kZaloZns) {
      variant["zns_template_id"] = v.zns_template_id;
      json::array params;
      for (const auto& p : v.zns_params) {
        json::object param{{"name", p.name}, {"value", p.value}};
        if (p.max_chars) param["max_chars"] = p.max_chars;
        params.push_back(std::move(param));
      }
      variant["zns_params"] = std::move(params);
    } else {
      variant["text"] = v.text;
    }
    variant["awaiting_translation"] =
        v.channel == templates::Channel::kZaloZns ? v.zns_template_id.empty() : v.text.empty();
    variants.push_back(std::move(variant));
  }
  return json::object{{"key", stored.source.key},
                      {"topic", stored.source.topic},
                      {"description", stored.source.description},
                      {"variants", std::move(variants)},
                      {"revision", stored.revision},
                      {"source_file", stored.source_file},
                      {"updated_at", stored.updated_at}};
}

constexpr const char* kTemplateDoc =
    "{key, topic, description, variants: [{language, channel, text | zns_template_id, "
    "zns_params: [{name, value, max_chars}], awaiting_translation}], revision, source_file, "
    "updated_at}";

// ---- PUT: the body as a TemplateSource -----------------------------------------------------------

constexpr const char* kTemplateBodySchema = R"json({
  "type":"object",
  "properties":{
    "topic":{"type":"string"},"description":{"type":"string"},
    "sms":{"type":"object","description":"language = Mustache text; \"\" awaits translation","additionalProperties":{"type":"string"},"example":{"vi":"Kính gửi {{name}}: …","rad":""}},
    "zalo_oa":{"type":"object","additionalProperties":{"type":"string"}},
    "zalo_zns":{"type":"object","description":"language = the approved ZNS template","additionalProperties":{"type":"object","properties":{
      "template_id":{"type":"string"},
      "params":{"type":"object","additionalProperties":{"oneOf":[{"type":"string"},{"type":"object","properties":{"value":{"type":"string"},"max_chars":{"type":"integer","minimum":1,"maximum":10000}},"required":["value"],"additionalProperties":false}]}}},
      "additionalProperties":false}}},
  "additionalProperties":false})json";

// Where each variant (channel, language) and ZNS parameter (language, name) is in the body.
struct BodyPointers {
  std::map<std::pair<templates::Channel, std::string>, std::string> variants;
  std::map<std::pair<std::string, std::string>, std::string> zns_params;

  std::string of(const templates::TemplateIssue& issue) const {
    if (!issue.channel) return "";
    if (*issue.channel == templates::Channel::kZaloZns && !issue.variable.empty()) {
      auto p = zns_params.find({issue.language, issue.variable});
      if (p != zns_params.end()) return p->second;
    }
    auto v = variants.find({*issue.channel, issue.language});
    return v == variants.end() ? "" : v->second;
  }
};

templates::TemplateSource read_template_body(JsonFields& f, const json::value& body,
                                             const std::string& key, BodyPointers& pointers) {
  templates::TemplateSource source;
  source.key = key;
  if (auto v = f.optional_string("topic")) source.topic = *v;
  if (auto v = f.optional_string("description")) source.description = *v;
  for (const templates::Channel channel : {templates::Channel::kSms, templates::Channel::kZaloOa}) {
    const std::string name(templates::to_string(channel));
    auto texts = f.optional_object(name);
    if (!texts) continue;
    for (const std::string& language : texts->keys()) {
      templates::VariantSource variant;
      variant.language = language;
      variant.channel = channel;
      variant.text = texts->required_string(language);
      pointers.variants[{channel, language}] = texts->path_of(language);
      source.variants.push_back(std::move(variant));
    }
    texts->finish();
  }
  if (auto zns = f.optional_object("zalo_zns")) {
    for (const std::string& language : zns->keys()) {
      auto table = zns->optional_object(language);
      if (!table) throw ApiError(400, "expected an object, got null", zns->path_of(language));
      templates::VariantSource variant;
      variant.language = language;
      variant.channel = templates::Channel::kZaloZns;
      pointers.variants[{variant.channel, language}] = zns->path_of(language);
      if (auto id = table->optional_string("template_id")) variant.zns_template_id = *id;
      if (auto params = table->optional_object("params")) {
        const json::object& raw = body.as_object()
                                      .at("zalo_zns")
                                      .as_object()
                                      .at(language)
                                      .as_object()
                                      .at("params")
                                      .as_object();
        for (const std::string& name : params->keys()) {
          templates::ZnsParamSource param;
          param.name = name;
          pointers.zns_params[{language, name}] = params->path_of(name);
          const json::value* value = raw.if_contains(name);
          if (value != nullptr && value->is_string()) {
            param.value = params->required_string(name);
          } else {
            auto fields = params->optional_object(name);
            if (!fields)
              throw ApiError(400, "expected a string or {value, max_chars}, got null",
                             params->path_of(name));
            param.value = fields->required_string("value");
            if (auto max = fields->optional_int("max_chars", 1, 10000))
              param.max_chars = static_cast<std::size_t>(*max);
            fields->finish();
          }
          variant.zns_params.push_back(std::move(param));
        }
        params->finish();
      }
      table->finish();
      source.variants.push_back(std::move(variant));
    }
    zns->finish();
  }
  f.finish();
  if (source.variants.empty())
    throw ApiError(400, "a template needs at least one of sms, zalo_oa and zalo_zns", "/");
  return source;
}

std::string_view issue_kind(templates::TemplateIssue::Kind kind) {
  using Kind = templates::TemplateIssue::Kind;
  switch (kind) {
    case Kind::kSyntax: return "syntax";
    case Kind::kUnknownVariable: return "unknown_variable";
    case Kind::kTooLong: return "too_long";
    case Kind::kRoute: return "route";
    case Kind::kAwaitingTranslation: return "awaiting_translation";
    case Kind::kNoDefaultLanguage: return "no_default_language";
  }
  return "syntax";
}

json::object issue_json(const templates::TemplateIssue& issue, const BodyPointers& pointers) {
  json::object o{{"severity", issue.is_error() ? "error" : "warning"},
                 {"kind", issue_kind(issue.kind)},
                 {"message", issue.describe()}};
  if (const std::string path = pointers.of(issue); !path.empty()) o["path"] = path;
  if (!issue.language.empty()) o["language"] = issue.language;
  if (issue.channel) o["channel"] = templates::to_string(*issue.channel);
  if (!issue.variable.empty()) o["variable"] = issue.variable;
  if (issue.line != 0) {
    o["line"] = issue.line;
    o["column"] = issue.column;
  }
  return o;
}

Response put_template(Request& req, const Config& config) {
  const std::string& key = req.param("key");
  if (!templates::is_identifier(key))
    throw ApiError(400, "template key '" + key + "' must be 1-64 characters of a-z, 0-9 and '_'");
  const json::value body = req.json_body();
  JsonFields f(body, "");
  BodyPointers pointers;
  templates::TemplateSource source = read_template_body(f, body, key, pointers);

  std::vector<templates::TemplateIssue> issues;
  std::optional<templates::TemplateDef> definition = templates::compile_template(source, issues);
  if (definition) {
    auto more = templates::validate_template(*definition, validation_context(config));
    issues.insert(issues.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
  }
  json::array all;
  json::array warnings;
  const templates::TemplateIssue* first_error = nullptr;
  for (const templates::TemplateIssue& issue : issues) {
    all.push_back(issue_json(issue, pointers));
    if (issue.is_error() && first_error == nullptr) first_error = &issue;
    if (!issue.is_error()) warnings.push_back(all.back());
  }
  if (first_error != nullptr || !definition) {
    json::object error{{"error", first_error != nullptr ? first_error->describe()
                                                        : std::string("the template has errors")},
                       {"issues", std::move(all)}};
    if (first_error != nullptr) {
      const json::object described = issue_json(*first_error, pointers);
      for (const char* field : {"path", "line", "column"})
        if (described.contains(field)) error[field] = described.at(field);
    }
    return Response::json(error, 400);
  }

  auto& db = req.db();
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  auto stored = campaigns::read_stored_templates(db, key);
  const std::optional<campaigns::StoredTemplate> existing =
      stored.empty() ? std::nullopt : std::optional<campaigns::StoredTemplate>(stored.front());
  int revision = 0;
  const SaveOutcome outcome = compare_template(existing, definition->source(), &revision);
  if (outcome != SaveOutcome::kUnchanged)
    save_template(db, definition->source(), req.actor(), existing.has_value(), revision,
                  req.actor(), "templates.put");
  tx.commit();
  json::object out = template_json(campaigns::read_stored_templates(db, key).front());
  out["outcome"] = outcome == SaveOutcome::kInserted  ? "created"
                   : outcome == SaveOutcome::kUpdated ? "updated"
                                                      : "unchanged";
  out["warnings"] = std::move(warnings);
  return Response::json(out, outcome == SaveOutcome::kInserted ? 201 : 200);
}

// ---- POST preview --------------------------------------------------------------------------------

constexpr std::int64_t kMaxPreviewHouseholds = 50;
constexpr std::size_t kMaxPreviewLanguages = 10;

constexpr const char* kPreviewBodySchema = R"json({
  "type":"object",
  "properties":{
    "contact":{"type":"string","description":"a household of the store: id or household_code"},
    "sample":{"type":"integer","minimum":1,"maximum":50},
    "household":{"type":"object","description":"household variables","properties":{
      "name":{"type":"string"},"household_code":{"type":"string"},"language":{"type":"string"},
      "ethnicity":{"type":"string"},"category":{"type":"string"},"category_label":{"type":"string"},
      "province":{"type":"string"},"commune":{"type":"string"},"village":{"type":"string"},
      "district":{"type":"string"},"has_zalo":{"type":"boolean"},
      "attributes":{"type":"object","additionalProperties":{"type":"string"}}},
      "additionalProperties":false},
    "languages":{"type":"array","maxItems":10,"items":{"type":"string","example":"rad"}},
    "variables":{"type":"object","description":"campaign variables (campaign.NAME), over the samples","additionalProperties":{"type":"string"}}},
  "additionalProperties":false})json";

PreviewHousehold household_from_body(JsonFields& f) {
  PreviewHousehold h;
  h.origin = "request";
  templates::HouseholdVariables& v = h.variables;
  v.id = "request";
  const std::pair<const char*, std::string*> fields[] = {
      {"name", &v.name},         {"household_code", &v.household_code},
      {"language", &v.language}, {"ethnicity", &v.ethnicity},
      {"category", &v.category}, {"category_label", &v.category_label},
      {"province", &v.province}, {"commune", &v.commune},
      {"village", &v.village},   {"district", &v.district}};
  for (const auto& [name, target] : fields)
    if (auto value = f.optional_string(name)) *target = *value;
  if (auto zalo = f.optional_bool("has_zalo")) v.has_zalo = *zalo;
  if (auto attributes = f.optional_object("attributes")) {
    for (const std::string& name : attributes->keys())
      v.attributes.emplace_back(name, attributes->required_string(name));
    attributes->finish();
  }
  f.finish();
  return h;
}

json::object count_json(const std::string& text, const templates::SegmentCount& count,
                        const templates::Route& route) {
  return json::object{
      {"text", text},
      {"encoding", count.encoding == templates::SmsEncoding::kGsm7 ? "gsm7" : "ucs2"},
      {"characters", count.characters},
      {"units", count.units},
      {"segments", count.segments},
      {"cost_vnd", route.cost_vnd(count.segments)}};
}

json::object message_json(const PreviewMessage& item, const templates::RouteTable& routes) {
  const templates::RenderedMessage& m = item.message;
  json::object o{{"channel", templates::to_string(m.channel)},
                 {"route", m.route},
                 {"language", m.language.language},
                 {"requested_language", m.language.requested},
                 {"fallback_reason", m.language.fell_back()
                                         ? json::value(templates::to_string(m.language.reason))
                                         : json::value(nullptr)},
                 {"ok", m.ok()},
                 {"text", m.text},
                 {"units", m.units},
                 {"cost_vnd", m.cost_vnd}};
  if (m.sms) {
    const templates::SegmentCount& c = m.sms->count;
    o["sms"] = json::object{
        {"encoding", c.encoding == templates::SmsEncoding::kGsm7 ? "gsm7" : "ucs2"},
        {"characters", c.characters},
        {"units", c.units},
        {"segments", c.segments},
        {"chars_per_segment", c.units_per_segment},
        {"unaccented", m.sms->unaccented},
        {"reason", m.sms->reason}};
  }
  if (item.forms) {
    const templates::Route& route = routes.for_channel(m.channel);
    json::array lost;
    for (const auto& character : item.forms->lost) lost.emplace_back(character.character);
    o["forms"] = json::object{
        {"with_diacritics", count_json(item.forms->accented, item.forms->accented_count, route)},
        {"without_diacritics",
         count_json(item.forms->unaccented, item.forms->unaccented_count, route)},
        {"lost", std::move(lost)}};
  }
  if (m.channel == templates::Channel::kZaloZns) {
    json::object data;
    for (const auto& [name, value] : m.zns_data) data[name] = value;
    o["zns_template_id"] = m.zns_template_id;
    o["zns_data"] = std::move(data);
  }
  json::array missing, warnings, errors;
  for (const auto& issue : m.missing) missing.emplace_back(issue.name);
  for (const auto& w : m.warnings) warnings.emplace_back(w);
  for (const auto& e : m.errors) errors.emplace_back(e);
  o["missing"] = std::move(missing);
  o["warnings"] = std::move(warnings);
  o["errors"] = std::move(errors);
  return o;
}

json::object estimate_lines_json(const templates::CampaignEstimate& e) {
  auto lines = [](const std::vector<templates::EstimateLine>& in) {
    json::array out;
    for (const auto& l : in)
      out.push_back(json::object{{"route", l.route},
                                 {"language", l.language},
                                 {"messages", l.messages},
                                 {"units", l.units},
                                 {"cost_vnd", l.cost_vnd}});
    return out;
  };
  return json::object{{"lines", lines(e.lines)},        {"routes", lines(e.routes)},
                      {"messages", e.messages},         {"units", e.units},
                      {"cost_vnd", e.cost_vnd},         {"unsendable", e.unsendable}};
}

Response preview(Request& req, const Config& config) {
  const std::string& key = req.param("key");
  auto& db = req.db();
  auto stored = campaigns::read_stored_templates(db, key);
  if (stored.empty()) throw ApiError(404, "no template '" + key + "'");
  const templates::TemplateDef definition = campaigns::compile_stored(stored.front());

  const bool empty_body = req.http.body().empty();
  const json::value body = empty_body ? json::value(json::object{}) : req.json_body();
  JsonFields f(body, "");
  const auto contact = f.optional_string("contact");
  const auto sample = f.optional_int("sample", 1, kMaxPreviewHouseholds);
  auto household = f.optional_object("household");
  const int given = (contact ? 1 : 0) + (sample ? 1 : 0) + (household ? 1 : 0);
  if (given > 1)
    throw ApiError(400, "give one of contact, household and sample",
                   contact && sample ? "/sample" : "/household");
  const auto languages = f.optional_strings("languages");
  if (languages) {
    if (languages->size() > kMaxPreviewLanguages)
      throw ApiError(400, "at most " + std::to_string(kMaxPreviewLanguages) + " languages",
                     "/languages");
    for (std::size_t i = 0; i < languages->size(); ++i)
      if (!templates::is_language_code((*languages)[i]))
        throw ApiError(400,
                       "'" + (*languages)[i] +
                           "' is not a language code (vi, rad, cmo, jra, or BCP-47 like vi-VN)",
                       "/languages/" + std::to_string(i));
  }
  templates::CampaignVariables campaign = templates::sample_campaign();
  if (auto vars = f.optional_object("variables")) {
    for (const std::string& name : vars->keys())
      set_campaign_variable(campaign, name, vars->required_string(name));
    vars->finish();
  }
  std::vector<PreviewHousehold> households;
  if (household) {
    households.push_back(household_from_body(*household));
  }
  f.finish();
  if (contact) {
    auto found = household_by_id(db, *contact);
    if (!found) throw ApiError(400, "no household with id or code '" + *contact + "'", "/contact");
    households.push_back(std::move(*found));
  } else if (!household) {
    households = sample_households(&db, static_cast<int>(sample.value_or(1)));
  }
  if (languages && !languages->empty()) {
    std::vector<PreviewHousehold> each;
    for (const PreviewHousehold& h : households) {
      for (const std::string& language : *languages) {
        each.push_back(h);
        each.back().variables.language = language;
      }
    }
    households = std::move(each);
  }

  const templates::RouteTable routes = routes_from(config);
  const templates::FallbackChain chain = fallback_from(config);
  const TemplatePreview result =
      preview_template(definition, std::move(households), campaign, chain, routes);

  json::array items;
  for (const HouseholdPreview& h : result.households) {
    const templates::HouseholdVariables& v = h.household.variables;
    json::object o{{"id", v.id},
                   {"household_code", v.household_code},
                   {"name", v.name},
                   {"language", v.language},
                   {"category_label", v.category_label},
                   {"commune", v.commune},
                   {"village", v.village},
                   {"origin", h.household.origin},
                   {"removed_characters", h.removed}};
    if (!h.error.empty()) o["error"] = h.error;
    json::array messages;
    for (const PreviewMessage& m : h.messages) messages.push_back(message_json(m, routes));
    o["messages"] = std::move(messages);
    items.push_back(std::move(o));
  }
  json::array used, fallbacks;
  for (const auto& l : result.languages.languages())
    used.push_back(json::object{{"channel", templates::to_string(l.channel)},
                                {"language", l.language},
                                {"households", l.households}});
  for (const auto& fb : result.languages.fallbacks())
    fallbacks.push_back(json::object{{"channel", templates::to_string(fb.channel)},
                                     {"from", fb.from},
                                     {"to", fb.to},
                                     {"reason", templates::to_string(fb.reason)},
                                     {"households", fb.households}});
  return Response::json(json::object{{"key", key},
                                     {"topic", definition.source().topic},
                                     {"revision", stored.front().revision},
                                     {"routes", describe_routes(routes)},
                                     {"fallback", chain.describe()},
                                     {"ok", !result.problems},
                                     {"households", std::move(items)},
                                     {"languages_used", std::move(used)},
                                     {"fallbacks", std::move(fallbacks)},
                                     {"estimate", estimate_lines_json(result.estimate)}});
}

}  // namespace

void add_template_endpoints(Router& router, const Services& services) {
  const Config& config = services.config;
  router.add({http::verb::get, "/templates", ApiRole::kViewer,
              "The template library, in key order",
              std::string(R"json({"description":"The whole library in one page (it holds tens of templates, not thousands).","responses":{"200":{"description":"{items: [template], next_cursor: null}; a template: )json") +
                  kTemplateDoc + R"json("}}})json",
              [](Request& req) {
                json::array items;
                for (const auto& t : campaigns::read_stored_templates(req.db()))
                  items.push_back(template_json(t));
                return Response::json(
                    json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
              }});
  router.add({http::verb::get, "/templates/{key}", ApiRole::kViewer, "One template",
              std::string(R"json({"responses":{"200":{"description":")json") + kTemplateDoc +
                  R"json("},"404":{"description":"no such template"}}})json",
              [](Request& req) {
                const std::string& key = req.param("key");
                auto found = campaigns::read_stored_templates(req.db(), key);
                if (found.empty()) throw ApiError(404, "no template '" + key + "'");
                return Response::json(template_json(found.front()));
              }});
  router.add({http::verb::put, "/templates/{key}", ApiRole::kOperator,
              "Create or replace a template",
              std::string(R"json({"description":"The body is a template file's [templates.<key>] table as JSON (README \"Templates\"); the whole template is replaced. Validated as `loa templates load` validates: Mustache syntax, known variables, the SMS route's mode and segment limit for every sample household, ZNS parameters. Nothing is written when any error is found.","requestBody":{"required":true,"content":{"application/json":{"schema":)json") +
                  kTemplateBodySchema +
                  R"json(}}},"responses":{"200":{"description":"replaced (or unchanged): the template, with outcome (updated | unchanged) and warnings"},"201":{"description":"created: the template, with outcome created and warnings"},"400":{"description":"{error, path, line, column, issues: [{severity, kind, path, line, column, message}]}; path is the JSON Pointer of the variant (/sms/vi) or ZNS parameter, line and column the position in its text"}}})json",
              [&config](Request& req) { return put_template(req, config); }});
  router.add({http::verb::post, "/templates/{key}/preview", ApiRole::kViewer,
              "Preview a template for households",
              std::string(R"json({"description":"Renders the stored template for households on every channel it has, as `loa template preview` does; writes nothing. Households: contact (one of the store), household (variables given here), or sample (N of the store, each language first; the built-in samples when the store has none; the default is 1). languages renders each household once per language given.","requestBody":{"required":false,"content":{"application/json":{"schema":)json") +
                  kPreviewBodySchema +
                  R"json(}}},"responses":{"200":{"description":"{key, topic, revision, routes, fallback, ok, households: [{id, name, language, origin, removed_characters, error, messages: [{channel, route, language, requested_language, fallback_reason, ok, text, units, cost_vnd, sms: {encoding, characters, units, segments, chars_per_segment, unaccented, reason}, forms: {with_diacritics, without_diacritics: {text, encoding, characters, units, segments, cost_vnd}, lost}, zns_template_id, zns_data, missing, warnings, errors}]}], languages_used, fallbacks, estimate}"},"404":{"description":"no such template"}}})json",
              [&config](Request& req) { return preview(req, config); }});
  router.add(
      {http::verb::delete_, "/templates/{key}", ApiRole::kOperator, "Delete a template",
       R"json({"responses":{"200":{"description":"{deleted: key}"},"404":{"description":"no such template"},"409":{"description":"a campaign that is not a draft uses it: {error, campaigns: [name]}"}}})json",
       [](Request& req) {
         const std::string& key = req.param("key");
         auto& db = req.db();
         SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
         if (campaigns::read_stored_templates(db, key).empty())
           throw ApiError(404, "no template '" + key + "'");
         SQLite::Statement users(db,
                                 "SELECT name FROM campaigns WHERE template_key = ? AND "
                                 "state <> 'draft' ORDER BY name");
         users.bind(1, key);
         json::array names;
         std::string list;
         while (users.executeStep()) {
           names.push_back(json::string(users.getColumn(0).getString()));
           list += (list.empty() ? "" : ", ") + users.getColumn(0).getString();
         }
         if (!names.empty())
           return Response::json(
               json::object{{"error", "template '" + key + "' is used by campaign(s) " + list},
                            {"campaigns", std::move(names)}},
               409);
         for (const char* sql : {"DELETE FROM template_variants WHERE template_key = ?",
                                 "DELETE FROM templates WHERE key = ?"}) {
           SQLite::Statement del(db, sql);
           del.bind(1, key);
           del.exec();
         }
         campaigns::record_audit(db, req.actor(), "templates.delete", "template:" + key, "");
         tx.commit();
         return Response::json(json::object{{"deleted", key}});
       }});
}

}  // namespace loa::engine::api
