#include "campaigns/template_store.hpp"

#include <SQLiteCpp/Statement.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

namespace loa::campaigns {

namespace json = boost::json;
namespace tpl = loa::templates;

std::vector<StoredTemplate> read_stored_templates(SQLite::Database& db,
                                                  const std::optional<std::string>& key) {
  std::vector<StoredTemplate> out;
  SQLite::Statement templates(
      db, std::string("SELECT key, topic, description, source_file, revision, updated_at "
                      "FROM templates") +
              (key ? " WHERE key = ?" : "") + " ORDER BY key");  // sql-trusted: literals
  if (key) templates.bind(1, *key);
  SQLite::Statement variants(db,
                             "SELECT language, channel, body, zns_template_id, zns_params "
                             "FROM template_variants WHERE template_key = ? "
                             "ORDER BY channel, language");
  while (templates.executeStep()) {
    StoredTemplate stored;
    stored.source.key = templates.getColumn(0).getString();
    stored.source.topic = templates.getColumn(1).getString();
    stored.source.description = templates.getColumn(2).getString();
    stored.source_file = templates.getColumn(3).getString();
    stored.revision = templates.getColumn(4).getInt();
    stored.updated_at = templates.getColumn(5).getString();
    stored.source.where.file = "store (from " + stored.source_file + ")";
    variants.reset();
    variants.bind(1, stored.source.key);
    while (variants.executeStep()) {
      tpl::VariantSource variant;
      variant.language = variants.getColumn(0).getString();
      const std::string channel = variants.getColumn(1).getString();
      variant.channel = tpl::parse_channel(channel).value_or(tpl::Channel::kSms);
      variant.text = variants.getColumn(2).getString();
      variant.zns_template_id = variants.getColumn(3).getString();
      variant.where = stored.source.where;
      const std::string params = variants.getColumn(4).getString();
      try {
        const json::value parsed = json::parse(params);
        for (const json::value& item : parsed.as_array()) {
          const json::object& object = item.as_object();
          tpl::ZnsParamSource param;
          param.name = json::value_to<std::string>(object.at("name"));
          param.value = json::value_to<std::string>(object.at("value"));
          param.max_chars =
              static_cast<std::size_t>(object.at("max_chars").to_number<std::int64_t>());
          variant.zns_params.push_back(std::move(param));
        }
      } catch (const std::exception& e) {
        throw TemplateStoreError("template '" + stored.source.key + "' (" + variant.language +
                                 ", " + channel + "): unreadable zns_params in the store: " +
                                 e.what());
      }
      stored.source.variants.push_back(std::move(variant));
    }
    out.push_back(std::move(stored));
  }
  return out;
}

tpl::TemplateDef compile_stored(const StoredTemplate& stored) {
  std::vector<tpl::TemplateIssue> issues;
  auto compiled = tpl::compile_template(stored.source, issues);
  if (!compiled) {
    std::string text;
    for (const auto& issue : issues) text += "\n  " + issue.describe();
    throw TemplateStoreError("template '" + stored.source.key +
                             "' in the store does not compile:" + text);
  }
  return std::move(*compiled);
}

std::optional<tpl::TemplateDef> load_template(SQLite::Database& db, const std::string& key) {
  auto stored = read_stored_templates(db, key);
  if (stored.empty()) return std::nullopt;
  return compile_stored(stored.front());
}

}  // namespace loa::campaigns
