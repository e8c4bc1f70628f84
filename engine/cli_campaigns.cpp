// `loa campaign create|validate|launch|pause|resume|cancel|show|list|expand`.
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <iomanip>
#include <iostream>

#include "campaigns/audience.hpp"
#include "campaigns/campaign.hpp"
#include "campaigns/funnel.hpp"
#include "campaigns/planner.hpp"
#include "campaigns/round_scheduler.hpp"
#include "engine/campaign_operations.hpp"
#include "engine/cli.hpp"
#include "engine/clock.hpp"
#include "engine/scheduler.hpp"
#include "engine/template_settings.hpp"

namespace loa::engine::cli {
namespace tpl = loa::templates;
namespace json = boost::json;
using namespace loa::campaigns;

namespace {

Campaign campaign_by_name(SQLite::Database& db, const std::string& name) {
  auto c = find_campaign(db, name);
  if (!c) throw CampaignError("no campaign named '" + name + "' (see `loa campaign list`)");
  return *c;
}

PlannerSettings settings_for(Context& ctx, SQLite::Database& db, const Campaign& c) {
  return planner_settings(ctx.config(), db, c);
}

using Estimate = LaunchEstimate;

Estimate estimate(Context& ctx, SQLite::Database& db, const Campaign& c, TimePoint now) {
  return estimate_campaign(ctx.config(), db, c, now);
}

void print_estimate(const Campaign& c, const Estimate& e) {
  auto line = [](const std::string& label, const std::string& value) {
    std::cout << "  " << std::left << std::setw(36) << label << value << "\n";
  };
  std::cout << "Campaign " << c.name << " (" << c.topic << "), template " << c.template_key
            << ", channels ";
  for (std::size_t i = 0; i < c.channels.size(); ++i) std::cout << (i ? " then " : "") << c.channels[i];
  std::cout << "\n";
  std::cout << "Audience: " << (c.segment.empty() ? c.audience : "segment " + c.segment) << "\n";
  line("households", with_commas(e.audience.households));
  line("without a usable channel", with_commas(e.stats.no_channel));
  line("phone already messaged (shared)", with_commas(e.stats.duplicate_phones));
  line("messages", with_commas(e.cost.messages));
  line("unrenderable", with_commas(e.stats.unrenderable));
  std::cout << "By category:";
  for (const auto& [k, n] : e.audience.by_category) std::cout << "  " << k << " " << with_commas(n);
  std::cout << "\nBy language:";
  for (const auto& [k, n] : e.audience.by_language) std::cout << "  " << k << " " << with_commas(n);
  std::cout << "\nBy channel:";
  for (const auto& [k, n] : e.stats.by_channel) std::cout << "  " << k << " " << with_commas(n);
  std::cout << "\nLanguages sent: " << e.stats.languages.describe() << "\n";
  std::cout << "Cost by route and language:\n";
  for (const auto& l : e.cost.lines)
    std::cout << "  " << std::left << std::setw(10) << l.route << std::setw(6) << l.language
              << std::right << std::setw(10) << with_commas(l.messages) << " msgs " << std::setw(10)
              << with_commas(l.units) << " units " << std::setw(16) << tpl::format_vnd(l.cost_vnd)
              << "\n";
  line("total", with_commas(e.cost.units) + " units, " + tpl::format_vnd(e.cost.cost_vnd) +
                    (c.budget_vnd ? " (budget " + tpl::format_vnd(c.budget_vnd) + ")" : ""));
  line("first send", format_time(e.first_send) + " (quiet hours " + c.quiet_hours.describe() + ")");
  line("last send (estimate)", format_time(e.last_send));
  for (const auto& err : e.stats.render_errors) std::cout << "  render error: " << err << "\n";
}

int run_expand(Context& ctx, SQLite::Database& db) {
  SystemClock clock;
  (void)db;
  Scheduler scheduler(
      ctx.config().store_path(), clock,
      [&ctx](SQLite::Database& d, const Campaign& c) { return settings_for(ctx, d, c); },
      std::chrono::seconds(1), std::chrono::seconds(ctx.config().planner.stale_after_seconds));
  return scheduler.run_once();
}

std::string count_text(long long n) { return with_commas(static_cast<std::uint64_t>(n)); }

// The funnel as lines: each state with its share of all messages, failures by reason.
void print_funnel(const Funnel& f) {
  const long long total = f.total();
  std::cout << "  messages    " << count_text(total) << "\n";
  auto line = [&](const char* label, long long n) {
    std::cout << "    " << std::left << std::setw(12) << label << std::right << std::setw(12)
              << count_text(n);
    if (total > 0)
      std::cout << fmt::format("  {:5.1f} %",
                               100.0 * static_cast<double>(n) / static_cast<double>(total));
    std::cout << "\n";
  };
  line("planned", f.planned);
  line("queued", f.queued);
  line("sent", f.sent);
  line("delivered", f.delivered);
  line("failed", f.failed);
  for (const auto& [reason, n] : f.failed_by_reason)
    std::cout << "      " << std::left << std::setw(32) << (reason.empty() ? "(no reason)" : reason)
              << std::right << std::setw(10) << count_text(n) << "\n";
  line("expired", f.expired);
  line("cancelled", f.cancelled);
  line("unknown", f.unknown);
  for (const auto& [from, n] : f.fallbacks)
    std::cout << "  fallback    " << count_text(n) << " from " << from
              << " (the household was unreachable there)\n";
  std::cout << "  cost so far " << tpl::format_vnd(f.cost_vnd) << "\n"
            << "  replies     " << count_text(f.replies) << "\n";
}

void print_funnel_json(const Campaign& c, const Funnel& f) {
  json::object out{{"name", c.name},
                   {"state", std::string(to_string(c.state))},
                   {"funnel", funnel_json(f)}};
  std::cout << json::serialize(out) << "\n";
}

}  // namespace

void register_campaign_commands(CLI::App& app, Context& ctx) {
  auto* campaign = app.add_subcommand("campaign", "Campaigns: create, validate, launch, …");
  campaign->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  auto* create = campaign->add_subcommand("create", "Create a draft from a campaign file (TOML)");
  create->add_option("FILE", *file, "e.g. ops/examples/campaign.toml")->required();
  create->callback([&ctx, file] {
    auto& db = ctx.store();
    Campaign c = parse_campaign_file(*file);
    settings_for(ctx, db, c);  // refuse before writing anything
    const auto id = create_campaign(db, c, actor());
    std::cout << "created campaign " << c.name << " (id " << id << ", draft); next: loa campaign "
              << "validate " << c.name << "\n";
    ctx.exit_code = kExitOk;
  });

  auto target = std::make_shared<std::string>();
  auto* validate = campaign->add_subcommand(
      "validate", "Validate and estimate a campaign (a name, or a file not yet created)");
  validate->add_option("CAMPAIGN", *target, "Campaign name or .toml file")->required();
  validate->callback([&ctx, target] {
    auto& db = ctx.store();
    Campaign c = target->ends_with(".toml") ? parse_campaign_file(*target)
                                            : campaign_by_name(db, *target);
    const Estimate e = estimate(ctx, db, c, SystemClock().now());
    print_estimate(c, e);
    const auto problems = launch_problems(c, e);
    for (const auto& p : problems) std::cout << "PROBLEM: " << p << "\n";
    std::cout << (problems.empty() ? "valid: ready to launch\n" : "not valid: launch refused\n");
    ctx.exit_code = problems.empty() ? kExitOk : kExitFailure;
  });

  auto name = std::make_shared<std::string>();
  auto detach = std::make_shared<bool>(false);
  auto* launch = campaign->add_subcommand(
      "launch",
      "Validate, schedule, and expand the rounds that are due now into the outbox (a running "
      "daemon does the same; only one of them plans each round)");
  launch->add_option("NAME", *name, "Campaign name")->required();
  launch->add_flag("--detach", *detach, "Only schedule; leave the expansion to the daemon");
  launch->callback([&ctx, name, detach] {
    auto& db = ctx.store();
    Campaign c = campaign_by_name(db, *name);
    const LaunchResult launched = launch_campaign(ctx.config(), db, c, SystemClock().now(), actor());
    if (!launched.problems.empty()) {
      for (const auto& p : launched.problems) std::cerr << "loa: launch refused: " << p << "\n";
      ctx.exit_code = kExitFailure;
      return;
    }
    const Estimate& e = launched.estimate;
    std::cout << "campaign " << c.name << " scheduled: " << with_commas(e.cost.messages)
              << " messages, " << tpl::format_vnd(e.cost.cost_vnd) << ", first round "
              << format_time(*round_due(c, 1)) << "\n";
    if (!*detach) {
      const int rounds = run_expand(ctx, db);
      for (const auto& r : rounds_of(db, c.id))
        std::cout << "round " << r.number << " (" << format_time(r.due_at) << "): "
                  << to_string(r.state) << ", " << with_commas(static_cast<std::uint64_t>(r.planned))
                  << " message(s) in the outbox\n";
      if (rounds == 0) std::cout << "no round is due yet; the daemon starts it on time\n";
    }
    ctx.exit_code = kExitOk;
  });

  auto simple = [&](const char* verb, const char* help, CampaignState to) {
    auto n = std::make_shared<std::string>();
    auto* cmd = campaign->add_subcommand(verb, help);
    cmd->add_option("NAME", *n, "Campaign name")->required();
    cmd->callback([&ctx, n, to, verb] {
      auto& db = ctx.store();
      Campaign c = campaign_by_name(db, *n);
      const CampaignState target_state = change_state(db, c, to, actor());
      std::cout << "campaign " << c.name << ": " << to_string(c.state) << " -> "
                << to_string(target_state) << " (" << verb << ")\n";
      ctx.exit_code = kExitOk;
    });
  };
  simple("pause", "Pause: nothing more is planned or sent until resume", CampaignState::kPaused);
  simple("resume", "Resume a paused campaign", CampaignState::kRunning);
  simple("cancel", "Cancel: what is not yet sent expires", CampaignState::kCancelled);

  auto shown = std::make_shared<std::string>();
  auto show_json = std::make_shared<bool>(false);
  auto* show = campaign->add_subcommand(
      "show", "Show a campaign, its rounds and its funnel (planned → sent → delivered)");
  show->add_option("NAME", *shown, "Campaign name")->required();
  show->add_flag("--json", *show_json, "Print the state and the funnel as JSON (for scripts)");
  show->callback([&ctx, shown, show_json] {
    auto& db = ctx.store();
    Campaign c = campaign_by_name(db, *shown);
    const Funnel f = campaign_funnel(db, c.id);
    if (*show_json) {
      print_funnel_json(c, f);
      ctx.exit_code = kExitOk;
      return;
    }
    std::cout << "campaign " << c.name << " [" << to_string(c.state) << "]\n"
              << "  topic       " << c.topic << "\n  template    " << c.template_key
              << "\n  audience    " << (c.segment.empty() ? c.audience : "segment " + c.segment)
              << "\n  channels    ";
    for (std::size_t i = 0; i < c.channels.size(); ++i)
      std::cout << (i ? ", " : "") << c.channels[i];
    std::cout << "\n  schedule    " << format_time(c.start_at) << " to " << format_time(c.end_at)
              << ", " << to_string(c.recurrence) << ", quiet hours " << c.quiet_hours.describe()
              << "\n";
    for (const auto& r : rounds_of(db, c.id))
      std::cout << "  round " << r.number << "  due " << format_time(r.due_at) << "  "
                << to_string(r.state) << "  planned " << with_commas(static_cast<std::uint64_t>(r.planned))
                << "\n";
    print_funnel(f);
    ctx.exit_code = kExitOk;
  });

  campaign->add_subcommand("list", "List campaigns")->callback([&ctx] {
    for (const auto& c : list_campaigns(ctx.store()))
      std::cout << c.name << "\t" << to_string(c.state) << "\t" << format_time(c.start_at)
                << "\t" << c.template_key << "\n";
    ctx.exit_code = kExitOk;
  });

  campaign->add_subcommand("expand", "Expand every due round now, in the foreground")
      ->callback([&ctx] {
        const int rounds = run_expand(ctx, ctx.store());
        std::cout << rounds << " round(s) expanded\n";
        ctx.exit_code = kExitOk;
      });
}

}  // namespace loa::engine::cli
