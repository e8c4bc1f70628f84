// The variables a template may use, and the render context built from a household and a
// campaign.
//
// The schema (what `{{...}}` may name), from the root of the context:
//   text:     name, household_code, language, ethnicity, category (its code: poor, near_poor,
//             escaped, officer), category_label (its Vietnamese label)
//   flags:    is_poor, is_near_poor, is_escaped, is_officer, has_zalo, for sections such as
//             {{#is_near_poor}}…{{/is_near_poor}}
//   area:     area.province, area.commune, area.village, area.district (district is only the
//             legacy attribute: there is no district level since 2025)
//   attr:     attr.<name>, the household's free-form attributes
//   campaign: campaign.name, campaign.topic, campaign.sender, campaign.hotline,
//             campaign.reply_number, campaign.end_date, plus any variable the campaign defines
// A name outside the schema is a validation error before launch (library_validation.hpp).
// `attr.*` names are accepted by the schema because attributes differ per household; one that a
// household lacks renders empty and is reported as missing for that household.
//
// Values are cleaned by the rule in clean_text.hpp (controls removed); invalid UTF-8 in a value
// is an error naming the variable.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "templates/mustache.hpp"
#include "templates/sms_text.hpp"

namespace loa::templates {

// A household's fields as templates see them (the store's households row, engine side).
struct HouseholdVariables {
  std::string id;  // the store's id, or a sample's label; not a template variable
  std::string household_code;
  std::string name;
  std::string language;
  std::string ethnicity;
  std::string category;        // code: poor, near_poor, escaped, officer, ...
  std::string category_label;  // Vietnamese label from the categories table
  std::string province;
  std::string commune;
  std::string village;
  std::string district;
  bool has_zalo = false;
  std::vector<std::pair<std::string, std::string>> attributes;
};

// A campaign's variables: (name, value) for campaign.<name>. The standard names are listed in
// the schema above; a campaign may add its own ([a-z0-9_] names).
using CampaignVariables = std::vector<std::pair<std::string, std::string>>;

struct VariableSchema {
  std::vector<std::string> known;          // dotted names from the root
  std::vector<std::string> open_prefixes;  // "attr.": any name below it is accepted
};

// The schema above. `campaign` adds that campaign's own variable names.
VariableSchema standard_schema(const CampaignVariables& campaign = {});

// The uses in `tmpl` that cannot resolve against `schema` (Template::check, plus open prefixes).
std::vector<VariableUse> unknown_variables(const Template& tmpl, const VariableSchema& schema);

// The render context. Errors (invalid UTF-8) name the variable, e.g. "variable 'name': invalid
// UTF-8 at character 3 (...)". `removed`, if given, receives the number of characters that the
// cleaning rule removed from values.
TextResult<Value> make_context(const HouseholdVariables& household,
                               const CampaignVariables& campaign, std::size_t* removed = nullptr);
// The same in two steps, for callers that render many households of one campaign: the
// campaign's values are cleaned once (campaign_context), then shared by every context.
TextResult<Value> campaign_context(const CampaignVariables& campaign,
                                   std::size_t* removed = nullptr);
TextResult<Value> make_context(const HouseholdVariables& household, const Value& campaign,
                               std::size_t* removed = nullptr);
// The same in place, for a caller that renders household after household: `context` becomes
// what make_context(household, campaign) returns, reusing its maps' storage; when it already
// came from make_context or fill_context with this `campaign`, the campaign's values are not
// copied again. On an error `context` is left unspecified (fill it again before use).
std::optional<TextError> fill_context(Value& context, const HouseholdVariables& household,
                                      const Value& campaign, std::size_t* removed = nullptr);

// Built-in samples for previews and library validation before any list is imported: one
// household per language the province writes in (vi, rad, cmo, jra), with names shaped like the
// department's lists (synthetic; reference fixtures/gen_households.py), including an Ê Đê name
// with Ƀ that no GSM-7 route can carry.
std::vector<HouseholdVariables> sample_households();
// Sample campaign values (clearly sample data: the hotline and reply number are placeholders).
CampaignVariables sample_campaign();

}  // namespace loa::templates
