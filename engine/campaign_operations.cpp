#include "engine/campaign_operations.hpp"

#include "campaigns/round_scheduler.hpp"
#include "engine/template_settings.hpp"
#include "templates/campaign_estimate.hpp"

namespace loa::engine {

namespace json = boost::json;
using namespace loa::campaigns;

LaunchEstimate estimate_campaign(const Config& config, SQLite::Database& db, const Campaign& c,
                                   TimePoint now) {
  PlannerSettings settings = planner_settings(config, db, c);
  LaunchEstimate e;
  const SqlFilter audience = campaign_audience(db, c);
  e.audience = count_audience(db, audience);
  settings.page_rows = 5000;
  settings.dedupe_phones = true;
  Planner planner(db, c, audience, settings);
  std::int64_t cursor = 0;
  for (;;) {
    PlanPage page = planner.next_page(cursor);
    cursor = page.last_household_id;
    if (page.end) break;
  }
  e.stats = planner.stats();
  e.cost = e.stats.estimate.result();
  // Sending starts at start_at (or now, if later) outside quiet hours, and goes on at the
  // routes' rates only while the window is open.
  const TimePoint start = std::max(c.start_at, now);
  e.first_send = c.quiet_hours.next_allowed(start);
  double seconds_needed = 0;
  for (const auto& r : e.cost.routes) {
    const int rate = route_rate(config, r.route);
    if (rate <= 0) continue;  // no limit: the gateway's own speed, not estimated here
    seconds_needed =
        std::max(seconds_needed, static_cast<double>(r.units) / static_cast<double>(rate));
  }
  const double open_share = c.quiet_hours.open_minutes_per_day() / (24.0 * 60.0);
  e.last_send = e.first_send + std::chrono::seconds(static_cast<long long>(
                                   open_share > 0 ? seconds_needed / open_share : 0));
  e.last_send = c.quiet_hours.next_allowed(e.last_send);
  return e;
}

std::vector<std::string> launch_problems(const Campaign& c, const LaunchEstimate& e) {
  std::vector<std::string> out;
  if (e.cost.messages == 0) out.push_back("the audience yields no message");
  if (e.stats.unrenderable > 0)
    out.push_back(std::to_string(e.stats.unrenderable) + " message(s) cannot be rendered");
  if (c.budget_vnd > 0 && e.cost.cost_vnd > c.budget_vnd)
    out.push_back("the estimated cost " + templates::format_vnd(e.cost.cost_vnd) +
                  " exceeds the budget " + templates::format_vnd(c.budget_vnd));
  return out;
}

LaunchResult launch_campaign(const Config& config, SQLite::Database& db, const Campaign& c,
                             TimePoint now, const std::string& actor) {
  LaunchResult r;
  r.estimate = estimate_campaign(config, db, c, now);
  r.problems = launch_problems(c, r.estimate);
  if (!r.problems.empty()) return r;
  transition(db, c.id, CampaignState::kScheduled, actor,
             std::to_string(r.estimate.cost.messages) + " messages, " +
                 templates::format_vnd(r.estimate.cost.cost_vnd));
  return r;
}

CampaignState change_state(SQLite::Database& db, const Campaign& c, CampaignState to,
                           const std::string& actor) {
  CampaignState target = to;
  if (to == CampaignState::kRunning && rounds_of(db, c.id).empty())
    target = CampaignState::kScheduled;  // resumed before any round started
  transition(db, c.id, target, actor);
  return target;
}

json::object funnel_json(const Funnel& f) {
  json::object reasons, fallbacks;
  for (const auto& [reason, n] : f.failed_by_reason) reasons[reason] = n;
  for (const auto& [from, n] : f.fallbacks) fallbacks[from] = n;
  return json::object{{"planned", f.planned},
                      {"queued", f.queued},
                      {"sent", f.sent},
                      {"delivered", f.delivered},
                      {"failed", f.failed},
                      {"expired", f.expired},
                      {"cancelled", f.cancelled},
                      {"unknown", f.unknown},
                      {"total", f.total()},
                      {"failed_by_reason", std::move(reasons)},
                      {"cost_vnd", f.cost_vnd},
                      {"replies", f.replies},
                      {"fallbacks", std::move(fallbacks)}};
}

json::object campaign_json(const Campaign& c) {
  json::array channels;
  for (const auto& ch : c.channels) channels.emplace_back(ch);
  json::object variables;
  for (const auto& [k, v] : c.variables) variables[k] = v;
  return json::object{{"id", c.id},
                      {"name", c.name},
                      {"state", std::string(to_string(c.state))},
                      {"topic", c.topic},
                      {"template", c.template_key},
                      {"audience", c.audience},
                      {"segment", c.segment},
                      {"channels", std::move(channels)},
                      {"priority", c.priority},
                      {"start_at", format_time(c.start_at)},
                      {"end_at", format_time(c.end_at)},
                      {"recurrence", std::string(to_string(c.recurrence))},
                      {"quiet_hours", c.quiet_hours.describe()},
                      {"frequency_cap", c.frequency_cap},
                      {"frequency_window_days", c.frequency_window_days},
                      {"budget_vnd", c.budget_vnd},
                      {"variables", std::move(variables)}};
}

json::object estimate_json(const LaunchEstimate& e) {
  auto breakdown = [](const AudienceCount::Breakdown& b) {
    json::object o;
    for (const auto& [k, n] : b) o[k] = n;
    return o;
  };
  json::object by_channel;
  for (const auto& [k, n] : e.stats.by_channel) by_channel[k] = n;
  json::array lines;
  for (const auto& l : e.cost.lines)
    lines.push_back(json::object{{"route", l.route},
                                 {"language", l.language},
                                 {"messages", l.messages},
                                 {"units", l.units},
                                 {"cost_vnd", l.cost_vnd}});
  json::array errors;
  for (const auto& err : e.stats.render_errors) errors.emplace_back(err);
  return json::object{
      {"households", e.audience.households},
      {"by_category", breakdown(e.audience.by_category)},
      {"by_language", breakdown(e.audience.by_language)},
      {"without_channel", e.stats.no_channel},
      {"shared_phones", e.stats.duplicate_phones},
      {"unrenderable", e.stats.unrenderable},
      {"by_channel", std::move(by_channel)},
      {"messages", e.cost.messages},
      {"units", e.cost.units},
      {"cost_vnd", e.cost.cost_vnd},
      {"lines", std::move(lines)},
      {"first_send", format_time(e.first_send)},
      {"last_send", format_time(e.last_send)},
      {"render_errors", std::move(errors)}};
}

}  // namespace loa::engine
