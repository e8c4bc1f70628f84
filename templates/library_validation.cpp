#include "templates/library_validation.hpp"

#include "templates/rendered_message.hpp"

namespace loa::templates {
namespace {

TemplateIssue make_issue(const TemplateDef& definition, const Variant& variant,
                         TemplateIssue::Severity severity, TemplateIssue::Kind kind,
                         std::string message) {
  TemplateIssue issue;
  issue.severity = severity;
  issue.kind = kind;
  issue.key = definition.key();
  issue.language = variant.language();
  issue.channel = variant.channel();
  issue.where = variant.source.where;
  issue.message = std::move(message);
  return issue;
}

void check_variables(const TemplateDef& definition, const Variant& variant, const Template& text,
                     const SourceLocation& where, const std::string& parameter,
                     const VariableSchema& schema, std::vector<TemplateIssue>& issues) {
  for (const VariableUse& use : unknown_variables(text, schema)) {
    std::string what = use.kind == UseKind::kVariable ? "variable" : "section";
    std::string message = "unknown " + what + " '" + use.name + "'";
    if (!parameter.empty()) message += " in ZNS parameter '" + parameter + "'";
    TemplateIssue issue = make_issue(definition, variant, TemplateIssue::Severity::kError,
                                     TemplateIssue::Kind::kUnknownVariable, std::move(message));
    if (!where.file.empty()) issue.where = where;
    issue.variable = use.name;
    issue.line = use.line;
    issue.column = use.column;
    issues.push_back(std::move(issue));
  }
}

// The samples with every value spelled in ASCII: rendering with them shows whether the
// template's own text can travel on a route, whatever the households' names.
std::pair<HouseholdVariables, CampaignVariables> ascii_probe(const ValidationContext& context) {
  const auto ascii = [](const std::string& text) {
    auto result = transliterate_vi(text);
    if (!result) return std::string();
    std::string out;
    for (const char c : result->text) {
      if (static_cast<unsigned char>(c) < 0x80) out.push_back(c);  // drop ñ, Ü, ... as well
    }
    return out;
  };
  HouseholdVariables household =
      context.samples.empty() ? HouseholdVariables{} : context.samples.front();
  for (std::string* field :
       {&household.name, &household.household_code, &household.ethnicity, &household.category_label,
        &household.province, &household.commune, &household.village, &household.district}) {
    *field = ascii(*field);
  }
  for (auto& [name, value] : household.attributes) value = ascii(value);
  CampaignVariables campaign = context.campaign;
  for (auto& [name, value] : campaign) value = ascii(value);
  return {household, campaign};
}

void check_route(const TemplateDef& definition, const Variant& variant,
                 const ValidationContext& context, std::vector<TemplateIssue>& issues) {
  const Channel channel = variant.channel();
  // Asked for in its own language, a usable variant is always the one chosen.
  const auto render = [&](const HouseholdVariables& household,
                          const CampaignVariables& campaign) -> std::optional<RenderedMessage> {
    auto values = make_context(household, campaign);
    if (!values) return std::nullopt;
    const FallbackChain own;  // the variant's language is asked for directly
    return render_message(definition, channel, *values, variant.language(), own, context.routes);
  };

  if (channel == Channel::kSms) {
    const auto [household, campaign] = ascii_probe(context);
    if (const auto probe = render(household, campaign); probe && !probe->ok()) {
      issues.push_back(make_issue(
          definition, variant, TemplateIssue::Severity::kError,
          probe->over_limit ? TemplateIssue::Kind::kTooLong : TemplateIssue::Kind::kRoute,
          "cannot go on route '" + context.routes.sms.name + "' (" +
              std::string(to_string(context.routes.sms.sms_mode)) + "): " + probe->errors.front()));
      return;
    }
  }
  // One report of each kind per variant: the first sample household that shows it.
  bool too_long = false;
  bool refused = false;
  for (const HouseholdVariables& sample : context.samples) {
    const auto message = render(sample, context.campaign);
    if (!message || message->ok()) continue;
    const bool length = message->over_limit;
    if (length ? too_long : refused) continue;
    (length ? too_long : refused) = true;
    issues.push_back(
        make_issue(definition, variant,
                   length ? TemplateIssue::Severity::kError : TemplateIssue::Severity::kWarning,
                   length ? TemplateIssue::Kind::kTooLong : TemplateIssue::Kind::kRoute,
                   "for sample household '" + sample.name + "': " + message->errors.front()));
  }
}

}  // namespace

std::vector<TemplateIssue> validate_template(const TemplateDef& definition,
                                             const ValidationContext& context) {
  std::vector<TemplateIssue> issues;
  if (definition.variants().empty()) {
    TemplateIssue issue;
    issue.key = definition.key();
    issue.where = definition.source().where;
    issue.message = "has no variants";
    issues.push_back(std::move(issue));
    return issues;
  }
  for (const Variant& variant : definition.variants()) {
    if (variant.awaiting_translation()) {
      const LanguageChoice choice =
          choose_variant(definition, variant.channel(), variant.language(), context.fallback);
      issues.push_back(
          make_issue(definition, variant, TemplateIssue::Severity::kWarning,
                     TemplateIssue::Kind::kAwaitingTranslation,
                     "awaiting translation; households speaking '" + variant.language() + "' get " +
                         (choice.variant != nullptr ? "'" + choice.language + "'" : "nothing") +
                         " (fallback " + context.fallback.describe() + ")"));
      continue;
    }
    const std::size_t before = issues.size();
    if (variant.channel() == Channel::kZaloZns) {
      for (std::size_t k = 0; k < variant.zns_params.size(); ++k) {
        const ZnsParamSource& param = variant.source.zns_params[k];
        check_variables(definition, variant, variant.zns_params[k], param.where, param.name,
                        context.schema, issues);
      }
    } else {
      check_variables(definition, variant, variant.text, variant.source.where, "", context.schema,
                      issues);
    }
    if (issues.size() == before) check_route(definition, variant, context, issues);
  }
  for (const Channel channel : kAllChannels) {
    if (!definition.has_channel(channel)) continue;
    const Variant* fallback = definition.find(context.fallback.default_language(), channel);
    if (fallback == nullptr || fallback->awaiting_translation()) {
      TemplateIssue issue;
      issue.severity = TemplateIssue::Severity::kWarning;
      issue.kind = TemplateIssue::Kind::kNoDefaultLanguage;
      issue.key = definition.key();
      issue.channel = channel;
      issue.where = definition.source().where;
      issue.message = "no usable variant in the default language '" +
                      context.fallback.default_language() +
                      "': households whose language has no variant get nothing on this channel";
      issues.push_back(std::move(issue));
    }
  }
  return issues;
}

std::vector<TemplateIssue> validate_library(const TemplateLibrary& library,
                                            const ValidationContext& context) {
  std::vector<TemplateIssue> issues;
  for (const TemplateDef& definition : library.templates()) {
    auto more = validate_template(definition, context);
    issues.insert(issues.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
  }
  return issues;
}

}  // namespace loa::templates
