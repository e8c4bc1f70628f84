// What the CLI (`loa templates load`, `loa template preview`, engine/cli_templates.cpp) and the
// REST API (engine/api_templates.cpp) both do to the template library, in one place: validate a
// template against the configured routes and languages, write it to the store with its
// revision and audit record, pick households to preview with, and render a preview.
//
// Contract:
//  - validation_context() is the context `loa templates load` validates with: the configured
//    routes and fallback chain, the standard variable schema, the built-in sample households.
//  - compare_template() writes nothing; save_template() writes one template (its row, all its
//    variants, an audit row) and must run inside the caller's transaction, after
//    compare_template() found it new or changed.
//  - The household functions read the store's households (and categories) tables; none writes.
//  - preview_template() is a pure function of its inputs: it renders every household on every
//    channel the template has, exactly as the planner would (templates/rendered_message.hpp),
//    and never throws for bad text (problems are in the messages' errors).
//
// Thread-safety: functions over a Database used by one thread at a time; the rest are pure.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/template_store.hpp"
#include "engine/config.hpp"
#include "templates/campaign_estimate.hpp"
#include "templates/language_fallback.hpp"
#include "templates/library_validation.hpp"
#include "templates/rendered_message.hpp"
#include "templates/sms_route.hpp"
#include "templates/template_library.hpp"
#include "templates/variables.hpp"

namespace loa::engine {

// ---- Validation and the store ------------------------------------------------------------------

templates::ValidationContext validation_context(const Config& config);

enum class SaveOutcome { kInserted, kUpdated, kUnchanged };

// What saving `source` (compiled, so in normal form) does to the store, given what it holds
// now, and the revision the template then has (1 for a new one, +1 when changed).
SaveOutcome compare_template(const std::optional<campaigns::StoredTemplate>& existing,
                             const templates::TemplateSource& source, int* revision);

// Writes a template that compare_template() found new (`existing` false) or changed. `origin`
// becomes its source_file (a file name, or "api:<token>"); the audit row is
// (`actor`, `action`, "template:<key>").
void save_template(SQLite::Database& db, const templates::TemplateSource& source,
                   const std::string& origin, bool existing, int revision,
                   const std::string& actor, const std::string& action);

// "sms ascii, at most 3 segments, 500 VND/segment; zalo_zns 300 VND/message; ..."
std::string describe_routes(const templates::RouteTable& routes);

// ---- Households for a preview ------------------------------------------------------------------

struct PreviewHousehold {
  templates::HouseholdVariables variables;
  std::string origin;  // "store", "built-in sample" or "request"
};

// The household with this id or household code, or nullopt.
std::optional<PreviewHousehold> household_by_id(SQLite::Database& db, const std::string& id);

// `count` households that cover the languages first: the first of each language, then the
// second of each, and so on; the built-in samples when `db` is null or holds no households.
std::vector<PreviewHousehold> sample_households(SQLite::Database* db, int count);

// Sets campaign.<name> (a leading "campaign." is dropped), replacing a sample value.
void set_campaign_variable(templates::CampaignVariables& campaign, std::string name,
                           std::string value);

// ---- Preview -----------------------------------------------------------------------------------

struct PreviewMessage {
  templates::RenderedMessage message;
  // sms with a usable variant: both spellings, whatever the route decides, so the operator sees
  // the trade-off; nullopt when the text cannot be rendered.
  std::optional<templates::SmsForms> forms;
};

struct HouseholdPreview {
  PreviewHousehold household;
  std::size_t removed = 0;  // control or invisible characters removed from its values
  std::string error;        // its values cannot make a context (invalid UTF-8); no messages
  std::vector<PreviewMessage> messages;  // one per channel of the template, in channel order
};

struct TemplatePreview {
  std::vector<HouseholdPreview> households;
  templates::LanguageReport languages;
  templates::CampaignEstimate estimate;  // if every household got the template on each channel
  bool problems = false;                 // a household or a message cannot be sent as is
};

// The messages hold pointers into `definition`, which must outlive the result.
TemplatePreview preview_template(const templates::TemplateDef& definition,
                                 std::vector<PreviewHousehold> households,
                                 const templates::CampaignVariables& campaign,
                                 const templates::FallbackChain& chain,
                                 const templates::RouteTable& routes);

}  // namespace loa::engine
