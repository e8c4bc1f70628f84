// The template library over the REST API: GET /api/v1/templates and GET /api/v1/templates/{key}
// (viewer), from the store as `loa templates list` reads it (campaigns/template_store.hpp), and
// DELETE /api/v1/templates/{key} (operator), refused with 409 while a campaign that is not a
// draft uses it. Creating or replacing (PUT) and preview are not served yet: templates are
// loaded with `loa templates load` and previewed with `loa template preview`.
#include <SQLiteCpp/Transaction.h>

#include <boost/json/value.hpp>

#include "campaigns/audit.hpp"
#include "campaigns/template_store.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"

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

}  // namespace

void add_template_endpoints(Router& router, const Services&) {
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
