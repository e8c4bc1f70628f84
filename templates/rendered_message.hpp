// One message, rendered: a template for one household on one channel, with the language chosen
// by the fallback rule, the route's encoding applied, and its segments and cost.
//
// What it is for: the single path from (template, household, channel) to what leaves, shared by
// `loa template preview`, validation before launch and the campaign planner, so that a preview
// shows exactly what a household will get.
//
// Contract: never throws. A message that cannot be sent as is carries `errors` (no usable
// variant, invalid UTF-8, a character the route cannot carry, more segments than the route
// allows, a ZNS parameter over its length); `warnings` carry what is sent but worth knowing
// (fallback reasons are in `language`; variables that rendered empty; minority letters
// stripped). Rendered text is cleaned (clean_text.hpp) before it is encoded.
//
// Thread-safety: pure function over const inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "templates/language_fallback.hpp"
#include "templates/mustache.hpp"
#include "templates/sms_route.hpp"
#include "templates/template_library.hpp"

namespace loa::templates {

struct RenderedMessage {
  Channel channel = Channel::kSms;
  std::string route;
  LanguageChoice language;

  // sms: what goes to the gateway; zalo_oa: the text; zalo_zns: empty.
  std::string text;
  std::optional<SmsDecision> sms;  // sms, when encoded
  // zalo_zns: the approved template and its `template_data` (vietnam-channels.md §1.1).
  std::string zns_template_id;
  std::vector<std::pair<std::string, std::string>> zns_data;

  std::size_t units = 0;  // SMS segments, or 1 Zalo message; 0 when not sendable
  std::int64_t cost_vnd = 0;

  std::vector<RenderIssue> missing;  // variables that rendered empty for this household
  std::vector<std::string> warnings;
  std::vector<std::string> errors;
  // One of the errors is a length: more SMS segments than the route allows, or a ZNS parameter
  // over its max_chars. (Validation treats those as errors of the template for any household.)
  bool over_limit = false;

  bool ok() const { return errors.empty(); }
};

RenderedMessage render_message(const TemplateDef& definition, Channel channel, const Value& context,
                               std::string_view language, const FallbackChain& chain,
                               const RouteTable& routes);

// Renders one Mustache text and cleans it (clean_text.hpp); `missing` receives render issues.
// Error only for invalid UTF-8 coming from the values.
TextResult<std::string> render_clean(const Template& text, const Value& context,
                                     std::vector<RenderIssue>* missing);

}  // namespace loa::templates
