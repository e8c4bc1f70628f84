// Validation of templates before launch, beyond syntax (which compile_template checks):
//   - every variable is in the schema (variables.hpp), else an ERROR naming the template,
//     language, channel, variable and its line:column;
//   - an SMS text must fit its route: rendered for every sample household, it may not need
//     more segments than the route allows (ERROR), and its literal text must be sendable in the
//     route's mode (ERROR: e.g. Vietnamese on a gsm7_strict route);
//   - a ZNS parameter may not exceed its max_chars for any sample (ERROR);
//   - a variant awaiting translation is reported with the language its households get instead
//     (WARNING), and so is a channel with no usable variant in the default language, whose
//     households outside the written languages would get nothing (WARNING).
// Campaign validation (issue [4/10]) runs the same render for real households.
//
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "templates/language_fallback.hpp"
#include "templates/sms_route.hpp"
#include "templates/template_library.hpp"
#include "templates/variables.hpp"

namespace loa::templates {

struct ValidationContext {
  VariableSchema schema = standard_schema();
  FallbackChain fallback;
  RouteTable routes;
  std::vector<HouseholdVariables> samples = sample_households();
  CampaignVariables campaign = sample_campaign();
};

std::vector<TemplateIssue> validate_template(const TemplateDef& definition,
                                             const ValidationContext& context);

// All templates, in key order.
std::vector<TemplateIssue> validate_library(const TemplateLibrary& library,
                                            const ValidationContext& context);

}  // namespace loa::templates
