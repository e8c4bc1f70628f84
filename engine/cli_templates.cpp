// `loa sms inspect`, `loa templates load|list`, `loa template preview` (issue [3/10]).
//
// The template library lives in the store (engine/migrations/0003_templates.sql) as the texts
// that were loaded; campaigns/template_store.hpp reads it back and compiles it. Everything about
// text — syntax, fallback, encoding, segments, prices — is in templates/; validating, writing
// the store and rendering a preview are in engine/template_operations.* (shared with the REST
// API, engine/api_templates.cpp); this file reads files and arguments and prints.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "campaigns/template_store.hpp"
#include "engine/cli.hpp"
#include "engine/template_operations.hpp"
#include "engine/template_settings.hpp"
#include "templates/campaign_estimate.hpp"
#include "templates/clean_text.hpp"
#include "templates/language_fallback.hpp"
#include "templates/library_validation.hpp"
#include "templates/rendered_message.hpp"
#include "templates/sms_route.hpp"
#include "templates/sms_text.hpp"
#include "templates/template_file.hpp"
#include "templates/template_library.hpp"
#include "templates/variables.hpp"

namespace loa::engine::cli {
namespace {

namespace json = boost::json;
namespace tpl = loa::templates;
using campaigns::compile_stored;
using campaigns::StoredTemplate;

// ---- JSON output -------------------------------------------------------------------------------

void write_json(std::ostream& os, const json::value& value, int indent = 0) {
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  if (value.is_object() && !value.get_object().empty()) {
    os << "{\n";
    bool first = true;
    for (const auto& member : value.get_object()) {
      os << (first ? "" : ",\n") << pad << json::serialize(json::value(member.key())) << ": ";
      write_json(os, member.value(), indent + 2);
      first = false;
    }
    os << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "}";
  } else if (value.is_array() && !value.get_array().empty()) {
    os << "[\n";
    bool first = true;
    for (const auto& item : value.get_array()) {
      os << (first ? "" : ",\n") << pad;
      write_json(os, item, indent + 2);
      first = false;
    }
    os << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "]";
  } else {
    os << json::serialize(value);
  }
}

std::string_view encoding_name(tpl::SmsEncoding encoding) {
  return encoding == tpl::SmsEncoding::kGsm7 ? "gsm7" : "ucs2";
}

// ---- loa sms inspect ---------------------------------------------------------------------------

int run_sms_inspect(const std::string& argument) {
  std::string input = argument;
  if (argument == "-") {
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto cleaned = tpl::clean_text(input);
  if (!cleaned) {
    std::cerr << "loa: sms inspect: " << cleaned.error().message << "\n";
    return kExitFailure;
  }
  auto normalized = tpl::nfc(cleaned->text);
  if (!normalized) {
    std::cerr << "loa: sms inspect: " << normalized.error().message << "\n";
    return kExitFailure;
  }
  const auto count = tpl::count_segments(*normalized);
  const auto ascii = tpl::transliterate_vi(*normalized);
  if (!count || !ascii) {  // unreachable after clean_text validated the input
    std::cerr << "loa: sms inspect: cannot count the text\n";
    return kExitFailure;
  }
  const auto ascii_count = tpl::count_segments(ascii->text);

  json::object out;
  out["normalized"] = *normalized;
  out["encoding"] = encoding_name(count->encoding);
  out["characters"] = count->characters;
  out["units"] = count->units;
  out["segments"] = count->segments;
  out["chars_per_segment"] = count->units_per_segment;
  out["ascii_text"] = ascii->text;
  out["ascii_units"] = ascii_count ? ascii_count->units : 0;
  out["ascii_segments"] = ascii_count ? ascii_count->segments : 0;
  out["ascii_lossless"] = ascii->lossless();
  json::array lost;
  for (const tpl::LostCharacter& character : ascii->lost) {
    lost.push_back(
        json::object{{"position", character.position}, {"character", character.character}});
  }
  out["ascii_lost"] = std::move(lost);
  out["removed_characters"] = cleaned->removed;
  write_json(std::cout, out);
  std::cout << "\n";
  return kExitOk;
}

// ---- The library in the store ------------------------------------------------------------------

// "sms: vi; awaiting rad, cmo, jra · zalo_oa: vi · zalo_zns: vi"
std::string describe_variants(const tpl::TemplateDef& definition) {
  std::string out;
  for (const tpl::Channel channel : tpl::kAllChannels) {
    std::string ready;
    std::string awaiting;
    for (const tpl::Variant& variant : definition.variants()) {
      if (variant.channel() != channel) continue;
      std::string& list = variant.awaiting_translation() ? awaiting : ready;
      list += (list.empty() ? "" : ", ") + variant.language();
    }
    if (ready.empty() && awaiting.empty()) continue;
    out += (out.empty() ? "" : " · ") + std::string(tpl::to_string(channel)) + ": " +
           (ready.empty() ? "none" : ready);
    if (!awaiting.empty()) out += " (awaiting translation: " + awaiting + ")";
  }
  return out;
}

// ---- loa templates load ------------------------------------------------------------------------

int run_templates_load(Context& ctx, const std::string& file, bool dry_run) {
  const Config& config = ctx.config();
  tpl::TemplateFile parsed = tpl::read_template_file(file);
  std::vector<tpl::TemplateIssue> issues = std::move(parsed.issues);
  {
    // Templates that compiled are validated even when others did not, so one run reports all.
    tpl::TemplateLibrary library;
    for (const tpl::TemplateDef& definition : parsed.templates) library.add(definition);
    auto more = tpl::validate_library(library, validation_context(config));
    issues.insert(issues.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
  }
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t awaiting = 0;
  for (const tpl::TemplateIssue& issue : issues) {
    // Variants awaiting translation are listed per template below, not one line each.
    if (issue.kind == tpl::TemplateIssue::Kind::kAwaitingTranslation) {
      ++awaiting;
      continue;
    }
    (issue.is_error() ? std::cerr : std::cout) << issue.describe() << "\n";
    ++(issue.is_error() ? errors : warnings);
  }
  if (errors != 0) {
    std::cerr << "loa: " << file << ": " << errors << (errors == 1 ? " error" : " errors")
              << "; nothing was loaded\n";
    return kExitFailure;
  }

  std::map<std::string, StoredTemplate> existing;
  if (!dry_run || ctx.store_exists()) {
    for (StoredTemplate& stored : campaigns::read_stored_templates(ctx.store())) {
      existing.emplace(stored.source.key, std::move(stored));
    }
  }
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
  std::vector<std::string> lines;
  std::unique_ptr<SQLite::Transaction> transaction;
  if (!dry_run) transaction = std::make_unique<SQLite::Transaction>(ctx.store());
  for (const tpl::TemplateDef& definition : parsed.templates) {
    const auto it = existing.find(definition.key());
    const std::optional<StoredTemplate> stored =
        it == existing.end() ? std::nullopt : std::optional<StoredTemplate>(it->second);
    int revision = 0;
    const SaveOutcome outcome = compare_template(stored, definition.source(), &revision);
    if (!dry_run && outcome != SaveOutcome::kUnchanged) {
      save_template(ctx.store(), definition.source(), file, stored.has_value(), revision, actor(),
                    "templates.load");
    }
    const char* verb = outcome == SaveOutcome::kInserted  ? "new"
                       : outcome == SaveOutcome::kUpdated ? "updated"
                                                          : "unchanged";
    ++(outcome == SaveOutcome::kInserted  ? inserted
       : outcome == SaveOutcome::kUpdated ? updated
                                          : unchanged);
    lines.push_back(fmt::format("  {:<24} {:<9} rev {:<3} {}", definition.key(), verb, revision,
                                describe_variants(definition)));
  }
  if (transaction) transaction->commit();

  std::size_t kept = 0;
  for (const auto& [key, stored] : existing) {
    const bool in_file =
        std::any_of(parsed.templates.begin(), parsed.templates.end(),
                    [&](const tpl::TemplateDef& definition) { return definition.key() == key; });
    if (!in_file) ++kept;
  }
  std::cout << (dry_run ? "dry run, nothing written: " : "loaded ") << file << ": "
            << parsed.templates.size() << " templates (" << inserted << " new, " << updated
            << " updated, " << unchanged << " unchanged)";
  if (kept != 0) std::cout << "; " << kept << " other templates in the store are kept";
  if (warnings != 0) std::cout << "; " << warnings << (warnings == 1 ? " warning" : " warnings");
  std::cout << "\n";
  for (const std::string& line : lines) std::cout << line << "\n";
  if (awaiting != 0) {
    std::cout << awaiting << " variants await translation; until they are filled their "
              << "households get the fallback language (" << fallback_from(config).describe()
              << ")\n";
  } else {
    std::cout << "languages: " << fallback_from(config).describe() << "\n";
  }
  return kExitOk;
}

// ---- loa templates list ------------------------------------------------------------------------

int run_templates_list(Context& ctx) {
  if (!ctx.store_exists()) {
    std::cout << "no templates: the store " << ctx.config().store_path().string()
              << " does not exist yet (loa templates load FILE)\n";
    return kExitOk;
  }
  const auto stored = campaigns::read_stored_templates(ctx.store());
  if (stored.empty()) {
    std::cout << "no templates in the store (loa templates load FILE)\n";
    return kExitOk;
  }
  for (const StoredTemplate& item : stored) {
    const tpl::TemplateDef definition = compile_stored(item);
    std::cout << fmt::format("{:<24} rev {:<3} {}  [{}]\n", item.source.key, item.revision,
                             item.source.topic, item.source_file);
    std::cout << "    " << describe_variants(definition) << "\n";
  }
  return kExitOk;
}

// ---- loa template preview ----------------------------------------------------------------------

struct PreviewArgs {
  std::string key;
  std::string contact;
  int sample = 0;
  std::string file;
  std::vector<std::string> vars;
};

void print_indented(std::ostream& os, std::string_view text, std::string_view indent) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find('\n', start);
    os << indent << text.substr(start, end == std::string_view::npos ? end : end - start) << "\n";
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string form_line(std::string_view label, const tpl::SegmentCount& count,
                      const tpl::Route& route) {
  const bool gsm7 = count.encoding == tpl::SmsEncoding::kGsm7;
  return fmt::format("  {:<19} {}  {:>4} {:<8} {:<12} {:>9} VND", label, gsm7 ? "GSM-7" : "UCS-2",
                     count.units, gsm7 ? "septets" : "units",
                     plural(count.segments, "segment", "segments"),
                     tpl::format_vnd(route.cost_vnd(count.segments)));
}

std::string language_label(const tpl::LanguageChoice& choice) {
  if (choice.variant == nullptr) return "no variant";
  if (!choice.fell_back()) return choice.language;
  return choice.language + " ← " + (choice.requested.empty() ? "(none)" : choice.requested) + ": " +
         std::string(tpl::to_string(choice.reason));
}

void print_message(std::ostream& os, const PreviewMessage& item, const tpl::RouteTable& routes) {
  const tpl::RenderedMessage& message = item.message;
  const tpl::Route& route = routes.for_channel(message.channel);
  os << tpl::to_string(message.channel) << " [" << language_label(message.language) << "]\n";
  const tpl::Variant* variant = message.language.variant;
  if (message.channel == tpl::Channel::kSms && variant != nullptr) {
    if (const auto& forms = item.forms) {
      os << form_line("with diacritics", forms->accented_count, route) << "\n";
      print_indented(os, forms->accented, "    ");
      os << form_line("without diacritics", forms->unaccented_count, route) << "\n";
      print_indented(os, forms->unaccented, "    ");
      if (!forms->lost.empty()) {
        std::string lost;
        for (const auto& character : forms->lost) {
          lost += (lost.empty() ? "'" : ", '") + character.character + "'";
        }
        os << "    (cannot be written without diacritics: " << lost << ")\n";
      }
    }
  } else if (message.channel == tpl::Channel::kZaloZns && variant != nullptr) {
    json::object data;
    for (const auto& [name, value] : message.zns_data) data[name] = value;
    os << "  template_id " << message.zns_template_id << "\n";
    os << "  template_data " << json::serialize(data) << "\n";
  } else if (!message.text.empty()) {
    print_indented(os, message.text, "    ");
  }
  for (const std::string& warning : message.warnings) os << "  warning: " << warning << "\n";
  for (const std::string& error : message.errors) os << "  error: " << error << "\n";
  if (!message.ok()) return;
  if (message.sms) {
    const tpl::SmsDecision& sms = *message.sms;
    os << "  sends: " << (sms.unaccented ? "without diacritics" : "with diacritics") << ", "
       << (sms.count.encoding == tpl::SmsEncoding::kGsm7 ? "GSM-7" : "UCS-2") << ", "
       << plural(message.units, "segment", "segments") << ", " << tpl::format_vnd(message.cost_vnd)
       << " VND on route '" << message.route << "' (" << sms.reason << ")\n";
  } else {
    os << "  sends: 1 message, " << tpl::format_vnd(message.cost_vnd) << " VND on route '"
       << message.route << "'\n";
  }
}

int run_template_preview(Context& ctx, const PreviewArgs& args) {
  const Config& config = ctx.config();
  const tpl::RouteTable routes = routes_from(config);
  const tpl::FallbackChain chain = fallback_from(config);

  // The template: from --file, else from the store.
  std::optional<tpl::TemplateDef> definition;
  std::string origin;
  if (!args.file.empty()) {
    tpl::TemplateFile parsed = tpl::read_template_file(args.file);
    for (const auto& issue : parsed.issues) {
      if (issue.is_error()) std::cerr << issue.describe() << "\n";
    }
    if (tpl::has_errors(parsed.issues)) {
      std::cerr << "loa: " << args.file << " has errors\n";
      return kExitFailure;
    }
    for (tpl::TemplateDef& candidate : parsed.templates) {
      if (candidate.key() == args.key) definition = std::move(candidate);
    }
    origin = args.file;
  } else if (ctx.store_exists()) {
    const auto stored = campaigns::read_stored_templates(ctx.store(), args.key);
    if (!stored.empty()) {
      definition = compile_stored(stored.front());
      origin = "store, revision " + std::to_string(stored.front().revision) + ", from " +
               stored.front().source_file;
    }
  }
  if (!definition) {
    std::cerr << "loa: no template '" << args.key << "' in "
              << (args.file.empty() ? "the store (load one with `loa templates load FILE`)"
                                    : args.file)
              << "\n";
    return kExitFailure;
  }

  // Campaign variables: samples, overridden by --var.
  tpl::CampaignVariables campaign = tpl::sample_campaign();
  for (const std::string& assignment : args.vars) {
    const std::size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "loa: --var takes NAME=VALUE (campaign.NAME), got '" << assignment << "'\n";
      return kExitUsage;
    }
    set_campaign_variable(campaign, assignment.substr(0, eq), assignment.substr(eq + 1));
  }

  // Households.
  std::vector<PreviewHousehold> households;
  if (!args.contact.empty()) {
    if (!ctx.store_exists()) {
      std::cerr << "loa: no household '" << args.contact << "': the store "
                << config.store_path().string() << " does not exist\n";
      return kExitFailure;
    }
    auto household = household_by_id(ctx.store(), args.contact);
    if (!household) {
      std::cerr << "loa: no household with id or code '" << args.contact << "'\n";
      return kExitFailure;
    }
    households.push_back(std::move(*household));
  } else {
    households = sample_households(ctx.store_exists() ? &ctx.store() : nullptr,
                                   args.sample > 0 ? args.sample : 1);
  }

  std::ostream& os = std::cout;
  const tpl::TemplateSource& source = definition->source();
  os << "template " << source.key;
  if (!source.topic.empty()) os << ": " << source.topic;
  os << " (" << origin << ")\n";
  os << "routes: " << describe_routes(routes) << "\n";
  os << "languages: " << chain.describe() << "\n";

  const TemplatePreview preview =
      preview_template(*definition, std::move(households), campaign, chain, routes);
  for (const HouseholdPreview& item : preview.households) {
    const tpl::HouseholdVariables& v = item.household.variables;
    os << "\n── household " << v.id << ": " << v.name << " (language "
       << (v.language.empty() ? "none" : v.language);
    for (const std::string* part : {&v.category_label, &v.village, &v.commune}) {
      if (!part->empty()) os << ", " << *part;
    }
    os << ") [" << item.household.origin << "]\n";
    if (!item.error.empty()) {
      os << "  error: " << item.error << "\n";
      continue;
    }
    if (item.removed != 0) {
      os << "  note: " << item.removed
         << " control or invisible characters removed from its values\n";
    }
    for (const PreviewMessage& message : item.messages) print_message(os, message, routes);
  }

  os << "\nlanguages used:\n";
  std::istringstream lines(preview.languages.describe());
  for (std::string line; std::getline(lines, line);) os << "  " << line << "\n";
  const tpl::CampaignEstimate& total = preview.estimate;
  os << "estimate, if every household above got this template on each channel:\n";
  os << fmt::format("  {:<10} {:<9} {:>8} {:>14} {:>12}\n", "route", "language", "messages",
                    "segments/msgs", "VND");
  for (const tpl::EstimateLine& line : total.lines) {
    os << fmt::format("  {:<10} {:<9} {:>8} {:>14} {:>12}\n", line.route, line.language,
                      line.messages, line.units, tpl::format_vnd(line.cost_vnd));
  }
  for (const tpl::EstimateLine& line : total.routes) {
    os << fmt::format("  {:<10} {:<9} {:>8} {:>14} {:>12}\n", line.route, "total", line.messages,
                      line.units, tpl::format_vnd(line.cost_vnd));
  }
  if (total.unsendable != 0) {
    os << "  " << plural(total.unsendable, "message", "messages")
       << " cannot be sent as is (see the errors above)\n";
  }
  return preview.problems ? kExitFailure : kExitOk;
}

}  // namespace

void register_template_commands(CLI::App& app, Context& ctx) {
  // loa sms inspect TEXT
  auto* sms = app.add_subcommand("sms", "SMS text engineering");
  sms->require_subcommand(1);
  auto text = std::make_shared<std::string>();
  auto* inspect = sms->add_subcommand(
      "inspect",
      "Print as JSON how a text travels as SMS: NFC form, GSM-7 or UCS-2, units, segments, "
      "and its unaccented form");
  inspect->add_option("text", *text, "The text; - reads standard input")->required();
  inspect->callback([&ctx, text] { ctx.exit_code = run_sms_inspect(*text); });

  // loa templates load FILE [--dry-run] | list
  auto* templates = app.add_subcommand("templates", "The template library");
  templates->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  auto* load = templates->add_subcommand(
      "load", "Validate a template library file (TOML) and store its templates");
  load->add_option("file", *file, "Template library file, e.g. ops/examples/templates.toml")
      ->required()
      ->check(CLI::ExistingFile);
  load->add_flag("--dry-run", *dry_run, "Validate and report, write nothing");
  load->callback(
      [&ctx, file, dry_run] { ctx.exit_code = run_templates_load(ctx, *file, *dry_run); });
  templates->add_subcommand("list", "List the stored templates and their variants")
      ->callback([&ctx] { ctx.exit_code = run_templates_list(ctx); });

  // loa template preview KEY (--contact ID | --sample N)
  auto* tmpl = app.add_subcommand("template", "One template");
  tmpl->require_subcommand(1);
  auto args = std::make_shared<PreviewArgs>();
  auto* preview = tmpl->add_subcommand(
      "preview",
      "Show what households get: per channel and language, the text, encoding, segments and "
      "cost");
  preview->add_option("key", args->key, "Template key")->required();
  auto* contact =
      preview->add_option("--contact", args->contact, "A household of the store (id or code)");
  auto* sample = preview->add_option(
      "--sample", args->sample,
      "N households of the store, covering each language first (built-in samples when the "
      "store has none); the default is 1");
  sample->check(CLI::Range(1, 1000));
  contact->excludes(sample);
  preview
      ->add_option("--file", args->file,
                   "Read the template from this library file instead of the store")
      ->check(CLI::ExistingFile);
  preview->add_option("--var", args->vars,
                      "Campaign variable NAME=VALUE (campaign.NAME), e.g. --var hotline=0262...");
  preview->callback([&ctx, args] { ctx.exit_code = run_template_preview(ctx, *args); });
}

}  // namespace loa::engine::cli
