#include "engine/template_operations.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <exception>
#include <utility>

#include "campaigns/audit.hpp"
#include "engine/template_settings.hpp"

namespace loa::engine {

namespace json = boost::json;
namespace tpl = loa::templates;

// ---- Validation and the store ------------------------------------------------------------------

tpl::ValidationContext validation_context(const Config& config) {
  tpl::ValidationContext context;
  context.routes = routes_from(config);
  context.fallback = fallback_from(config);
  return context;
}

SaveOutcome compare_template(const std::optional<campaigns::StoredTemplate>& existing,
                             const tpl::TemplateSource& source, int* revision) {
  if (!existing) {
    *revision = 1;
    return SaveOutcome::kInserted;
  }
  // Both compiled, so that both are in the same normal form (NFC, sorted).
  if (campaigns::compile_stored(*existing).source() == source) {
    *revision = existing->revision;
    return SaveOutcome::kUnchanged;
  }
  *revision = existing->revision + 1;
  return SaveOutcome::kUpdated;
}

namespace {

std::string zns_params_json(const std::vector<tpl::ZnsParamSource>& params) {
  json::array array;
  for (const tpl::ZnsParamSource& param : params) {
    array.push_back(
        json::object{{"name", param.name}, {"value", param.value}, {"max_chars", param.max_chars}});
  }
  return json::serialize(array);
}

}  // namespace

void save_template(SQLite::Database& db, const tpl::TemplateSource& source,
                   const std::string& origin, bool existing, int revision,
                   const std::string& actor, const std::string& action) {
  if (existing) {
    SQLite::Statement update(db,
                             "UPDATE templates SET topic = ?, description = ?, source_file = ?, "
                             "revision = ?, "
                             "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE key = ?");
    update.bind(1, source.topic);
    update.bind(2, source.description);
    update.bind(3, origin);
    update.bind(4, revision);
    update.bind(5, source.key);
    update.exec();
  } else {
    SQLite::Statement insert(
        db, "INSERT INTO templates (key, topic, description, source_file) VALUES (?, ?, ?, ?)");
    insert.bind(1, source.key);
    insert.bind(2, source.topic);
    insert.bind(3, source.description);
    insert.bind(4, origin);
    insert.exec();
  }
  SQLite::Statement clear(db, "DELETE FROM template_variants WHERE template_key = ?");
  clear.bind(1, source.key);
  clear.exec();
  SQLite::Statement variant_row(db,
                                "INSERT INTO template_variants (template_key, language, channel, "
                                "body, zns_template_id, zns_params) VALUES (?, ?, ?, ?, ?, ?)");
  for (const tpl::VariantSource& variant : source.variants) {
    variant_row.reset();
    variant_row.bind(1, source.key);
    variant_row.bind(2, variant.language);
    variant_row.bind(3, std::string(tpl::to_string(variant.channel)));
    variant_row.bind(4, variant.text);
    variant_row.bind(5, variant.zns_template_id);
    variant_row.bind(6, zns_params_json(variant.zns_params));
    variant_row.exec();
  }
  campaigns::record_audit(db, actor, action, "template:" + source.key,
                          (existing ? "updated to revision " : "created at revision ") +
                              std::to_string(revision) + " from " + origin);
}

std::string describe_routes(const tpl::RouteTable& routes) {
  const tpl::Route& sms = routes.sms;
  std::string out = "sms " + std::string(tpl::to_string(sms.sms_mode));
  if (sms.sms_mode == tpl::SmsMode::kAscii && sms.strip_minority_letters) {
    out += " (strips minority letters)";
  }
  out += ", at most " + std::to_string(sms.max_segments) + " segments, " +
         tpl::format_vnd(sms.price_vnd) + " VND/segment; zalo_zns " +
         tpl::format_vnd(routes.zalo_zns.price_vnd) + " VND/message; zalo_oa " +
         tpl::format_vnd(routes.zalo_oa.price_vnd) + " VND/message";
  return out;
}

// ---- Households for a preview ------------------------------------------------------------------

namespace {

const char* const kHouseholdColumns =
    "SELECT h.id, COALESCE(h.household_code, ''), h.name, h.language, "
    "COALESCE(h.ethnicity, ''), COALESCE(h.category, ''), COALESCE(c.label_vi, ''), "
    "COALESCE(h.province, ''), COALESCE(h.commune, ''), COALESCE(h.village, ''), "
    "COALESCE(h.district, ''), h.has_zalo, h.attributes "
    "FROM households h LEFT JOIN categories c ON c.code = h.category ";

PreviewHousehold household_from_row(SQLite::Statement& row) {
  PreviewHousehold household;
  tpl::HouseholdVariables& v = household.variables;
  v.id = std::to_string(row.getColumn(0).getInt64());
  v.household_code = row.getColumn(1).getString();
  v.name = row.getColumn(2).getString();
  v.language = row.getColumn(3).getString();
  v.ethnicity = row.getColumn(4).getString();
  v.category = row.getColumn(5).getString();
  v.category_label = row.getColumn(6).getString();
  v.province = row.getColumn(7).getString();
  v.commune = row.getColumn(8).getString();
  v.village = row.getColumn(9).getString();
  v.district = row.getColumn(10).getString();
  v.has_zalo = row.getColumn(11).getInt() != 0;
  // Attributes are a JSON object; a value that is not a string is used in its JSON spelling.
  try {
    const json::value attributes = json::parse(row.getColumn(12).getString());
    if (attributes.is_object()) {
      for (const auto& member : attributes.get_object()) {
        v.attributes.emplace_back(std::string(member.key()),
                                  member.value().is_string()
                                      ? std::string(member.value().get_string())
                                      : json::serialize(member.value()));
      }
    }
  } catch (const std::exception&) {
    // Unreadable attributes: the household renders without them (reported as missing).
  }
  household.origin = "store";
  return household;
}

}  // namespace

std::optional<PreviewHousehold> household_by_id(SQLite::Database& db, const std::string& id) {
  SQLite::Statement query(
      db, std::string(kHouseholdColumns) + "WHERE h.id = ? OR h.household_code = ? LIMIT 1");
  std::int64_t numeric = -1;
  if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos && id.size() < 19) {
    numeric = std::stoll(id);
  }
  query.bind(1, numeric);
  query.bind(2, id);
  if (!query.executeStep()) return std::nullopt;
  return household_from_row(query);
}

std::vector<PreviewHousehold> sample_households(SQLite::Database* db, int count) {
  std::vector<PreviewHousehold> out;
  if (db != nullptr) {
    SQLite::Statement query(
        *db, std::string(kHouseholdColumns) +
                 "ORDER BY row_number() OVER (PARTITION BY h.language ORDER BY h.id), h.language "
                 "LIMIT ?");
    query.bind(1, count);
    while (query.executeStep()) out.push_back(household_from_row(query));
  }
  if (out.empty()) {
    for (tpl::HouseholdVariables& sample : tpl::sample_households()) {
      if (static_cast<int>(out.size()) >= count) break;
      out.push_back({std::move(sample), "built-in sample"});
    }
  }
  return out;
}

void set_campaign_variable(tpl::CampaignVariables& campaign, std::string name, std::string value) {
  if (name.starts_with("campaign.")) name = name.substr(9);
  const auto it = std::find_if(campaign.begin(), campaign.end(),
                               [&](const auto& pair) { return pair.first == name; });
  if (it != campaign.end()) {
    it->second = std::move(value);
  } else {
    campaign.emplace_back(std::move(name), std::move(value));
  }
}

// ---- Preview -----------------------------------------------------------------------------------

TemplatePreview preview_template(const tpl::TemplateDef& definition,
                                 std::vector<PreviewHousehold> households,
                                 const tpl::CampaignVariables& campaign,
                                 const tpl::FallbackChain& chain, const tpl::RouteTable& routes) {
  TemplatePreview preview;
  tpl::EstimateBuilder estimate;
  for (PreviewHousehold& household : households) {
    HouseholdPreview& out = preview.households.emplace_back();
    out.household = std::move(household);
    const tpl::HouseholdVariables& v = out.household.variables;
    auto context = tpl::make_context(v, campaign, &out.removed);
    if (!context) {
      out.error = context.error().message;
      preview.problems = true;
      continue;
    }
    for (const tpl::Channel channel : tpl::kAllChannels) {
      if (!definition.has_channel(channel)) continue;
      PreviewMessage& item = out.messages.emplace_back();
      item.message = tpl::render_message(definition, channel, *context, v.language, chain, routes);
      const tpl::Variant* variant = item.message.language.variant;
      if (channel == tpl::Channel::kSms && variant != nullptr) {
        auto rendered = tpl::render_clean(variant->text, *context, nullptr);
        if (rendered) {
          auto forms = tpl::sms_forms(*rendered);
          if (forms) item.forms = std::move(*forms);
        }
      }
      preview.languages.add(channel, item.message.language);
      estimate.add(item.message);
      preview.problems = preview.problems || !item.message.ok();
    }
  }
  preview.estimate = estimate.result();
  return preview;
}

}  // namespace loa::engine
