#include "templates/variables.hpp"

#include <algorithm>

#include "templates/clean_text.hpp"

namespace loa::templates {
namespace {

const char* const kHouseholdNames[] = {
    "name",           "household_code", "language",     "ethnicity",    "category",
    "category_label", "is_poor",        "is_near_poor", "is_escaped",   "is_officer",
    "has_zalo",       "area.province",  "area.commune", "area.village", "area.district",
};

const char* const kCampaignNames[] = {"name",    "topic",        "sender",
                                      "hotline", "reply_number", "end_date"};

bool is_plain_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

}  // namespace

VariableSchema standard_schema(const CampaignVariables& campaign) {
  VariableSchema schema;
  for (const char* name : kHouseholdNames) schema.known.emplace_back(name);
  for (const char* name : kCampaignNames) schema.known.push_back(std::string("campaign.") + name);
  for (const auto& [name, value] : campaign) {
    if (is_plain_name(name)) schema.known.push_back("campaign." + name);
  }
  schema.open_prefixes.emplace_back("attr.");
  return schema;
}

std::vector<VariableUse> unknown_variables(const Template& tmpl, const VariableSchema& schema) {
  std::vector<VariableUse> unknown = tmpl.check(schema.known);
  std::erase_if(unknown, [&](const VariableUse& use) {
    // Accepted when the name, or the name as seen from an enclosing section, is under an open
    // prefix: {{attr.x}}, or {{#attr}}{{x}}{{/attr}}.
    std::vector<std::string> candidates{use.name};
    for (const std::string& section : use.sections) {
      candidates.push_back(section + "." + use.name);
    }
    for (const std::string& candidate : candidates) {
      for (const std::string& prefix : schema.open_prefixes) {
        const std::string_view bare(prefix.data(), prefix.size() - (prefix.ends_with('.') ? 1 : 0));
        if (candidate.starts_with(prefix) || candidate == bare) return true;
      }
    }
    return false;
  });
  return unknown;
}

namespace {

// Cleans values for the context; the first invalid one fails the whole context.
class Cleaner {
 public:
  Value operator()(std::string_view variable, const std::string& value) {
    if (failure) return Value();
    auto cleaned = clean_text(value);
    if (!cleaned) {
      failure = cleaned.error();
      failure->message = "variable '" + std::string(variable) + "': " + failure->message;
      return Value();
    }
    removed += cleaned->removed;
    return Value(std::move(cleaned->text));
  }
  std::optional<TextError> failure;
  std::size_t removed = 0;
};

}  // namespace

TextResult<Value> campaign_context(const CampaignVariables& campaign, std::size_t* removed) {
  Cleaner clean;
  Value campaign_value = Value::map({});
  for (const auto& [name, value] : campaign) {
    if (!is_plain_name(name)) continue;
    campaign_value.set(name, clean("campaign." + name, value));
  }
  if (clean.failure) return std::move(*clean.failure);
  if (removed != nullptr) *removed = clean.removed;
  return campaign_value;
}

TextResult<Value> make_context(const HouseholdVariables& household, const Value& campaign,
                               std::size_t* removed) {
  Value context;
  if (auto failure = fill_context(context, household, campaign, removed))
    return std::move(*failure);
  return context;
}

std::optional<TextError> fill_context(Value& context, const HouseholdVariables& household,
                                      const Value& campaign, std::size_t* removed) {
  Value* area = context.find("area");
  Value* attributes = context.find("attr");
  if (area == nullptr || attributes == nullptr || context.find("campaign") == nullptr) {
    // A fresh context: its maps, with the campaign's values copied in once.
    context = Value::map({});
    context.set("campaign", campaign);
    context.set("area", Value::map({}));
    context.set("attr", Value::map({}));
    area = context.find("area");  // stable while only existing members are set again
    attributes = context.find("attr");
  }
  // Every member is set again (set() keeps the map's storage), in the order the cleaning rule
  // reports the first bad value.
  Cleaner clean;
  area->set("province", clean("area.province", household.province));
  area->set("commune", clean("area.commune", household.commune));
  area->set("village", clean("area.village", household.village));
  area->set("district", clean("area.district", household.district));

  *attributes = Value::map({});
  for (const auto& [name, value] : household.attributes) {
    if (!is_plain_name(name)) continue;  // not addressable as attr.<name>
    attributes->set(name, clean("attr." + name, value));
  }

  context.set("name", clean("name", household.name));
  context.set("household_code", clean("household_code", household.household_code));
  context.set("language", clean("language", household.language));
  context.set("ethnicity", clean("ethnicity", household.ethnicity));
  context.set("category", clean("category", household.category));
  context.set("category_label", clean("category_label", household.category_label));
  context.set("is_poor", household.category == "poor");
  context.set("is_near_poor", household.category == "near_poor");
  context.set("is_escaped", household.category == "escaped");
  context.set("is_officer", household.category == "officer");
  context.set("has_zalo", household.has_zalo);
  if (clean.failure) return std::move(*clean.failure);
  if (removed != nullptr) *removed = clean.removed;
  return std::nullopt;
}

TextResult<Value> make_context(const HouseholdVariables& household,
                               const CampaignVariables& campaign, std::size_t* removed) {
  std::size_t campaign_removed = 0;
  auto campaign_value = campaign_context(campaign, &campaign_removed);
  if (!campaign_value) return campaign_value.error();
  std::size_t household_removed = 0;
  auto context = make_context(household, campaign_value.value(), &household_removed);
  if (context && removed != nullptr) *removed = household_removed + campaign_removed;
  return context;
}

std::vector<HouseholdVariables> sample_households() {
  std::vector<HouseholdVariables> samples(4);
  HouseholdVariables& kinh = samples[0];
  kinh.id = "sample-vi";
  kinh.household_code = "DL-06-0000001";
  kinh.name = "Phạm Thị Hương";
  kinh.language = "vi";
  kinh.ethnicity = "Kinh";
  kinh.category = "near_poor";
  kinh.category_label = "Hộ cận nghèo";
  kinh.province = "Đắk Lắk";
  kinh.commune = "Xã Ia Lốp";
  kinh.village = "Thôn 17";
  kinh.has_zalo = true;

  HouseholdVariables& ede = samples[1];
  ede.id = "sample-rad";
  ede.household_code = "DL-10-0000007";
  ede.name = "H'Ƀlơi Mlô";
  ede.language = "rad";
  ede.ethnicity = "Ê Đê";
  ede.category = "poor";
  ede.category_label = "Hộ nghèo";
  ede.province = "Đắk Lắk";
  ede.commune = "Xã Ea Kar";
  ede.village = "Buôn 13";
  ede.has_zalo = true;

  HouseholdVariables& mnong = samples[2];
  mnong.id = "sample-cmo";
  mnong.household_code = "DL-07-0000005";
  mnong.name = "Y Srêh";
  mnong.language = "cmo";
  mnong.ethnicity = "M'Nông";
  mnong.category = "poor";
  mnong.category_label = "Hộ nghèo";
  mnong.province = "Đắk Lắk";
  mnong.commune = "Xã Ea Huar";
  mnong.village = "Buôn 3";

  HouseholdVariables& jarai = samples[3];
  jarai.id = "sample-jra";
  jarai.household_code = "DL-14-0000014";
  jarai.name = "Rơ Lan H'Nơi";
  jarai.language = "jra";
  jarai.ethnicity = "Gia Rai";
  jarai.category = "escaped";
  jarai.category_label = "Hộ mới thoát nghèo";
  jarai.province = "Đắk Lắk";
  jarai.commune = "Xã Ea Yiêng";
  jarai.village = "Buôn 12";
  jarai.has_zalo = true;
  return samples;
}

CampaignVariables sample_campaign() {
  return {
      {"name", "Truyền thông giảm nghèo bền vững (mẫu)"},
      {"topic", "Giảm nghèo bền vững"},
      {"sender", "UBND tỉnh Đắk Lắk"},
      {"hotline", "0262 3 000 000"},
      {"reply_number", "8000"},
      {"end_date", "31/12/2025"},
  };
}

}  // namespace loa::templates
