// What the CLI (`loa campaign …`) and the REST API (engine/api_campaigns.cpp) both do to a
// campaign, in one place: estimate it (plan the whole audience without writing), decide
// whether it may launch, launch it, change its state, and describe it and its funnel as JSON.
//
// Contract:
//  - estimate() writes nothing; it reads the store through `db` and the route rates from the
//    configuration. Throws campaigns::CampaignError for an unknown template, segment or a bad
//    filter (planner_settings), like the planner would.
//  - launch() refuses (returns the problems, changes nothing) when launch_problems() has any;
//    otherwise moves the campaign to `scheduled`, audited as `actor`. Expanding rounds is the
//    scheduler's job (the daemon's, or `loa campaign launch` without --detach).
//  - change_state() is pause, resume or cancel; a resume before any round began goes back to
//    `scheduled`. CampaignError when the lifecycle forbids it.
//
// Thread-safety: functions over a Database used by one thread at a time.
#pragma once

#include <SQLiteCpp/Database.h>

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "campaigns/audience.hpp"
#include "campaigns/campaign.hpp"
#include "campaigns/funnel.hpp"
#include "campaigns/planner.hpp"
#include "engine/config.hpp"

namespace loa::engine {

struct LaunchEstimate {
  campaigns::AudienceCount audience;
  campaigns::PlanStats stats;
  templates::CampaignEstimate cost;
  campaigns::TimePoint first_send{};
  campaigns::TimePoint last_send{};
};

LaunchEstimate estimate_campaign(const Config& config, SQLite::Database& db,
                                   const campaigns::Campaign& campaign, campaigns::TimePoint now);
// Problems that refuse a launch; empty when it may go.
std::vector<std::string> launch_problems(const campaigns::Campaign& campaign,
                                         const LaunchEstimate& estimate);

struct LaunchResult {
  std::vector<std::string> problems;  // non-empty: refused, nothing changed
  LaunchEstimate estimate;
};
LaunchResult launch_campaign(const Config& config, SQLite::Database& db,
                             const campaigns::Campaign& campaign, campaigns::TimePoint now,
                             const std::string& actor);

// `to` is paused, running (resume) or cancelled. Returns the state reached.
campaigns::CampaignState change_state(SQLite::Database& db, const campaigns::Campaign& campaign,
                                      campaigns::CampaignState to, const std::string& actor);

boost::json::object funnel_json(const campaigns::Funnel& funnel);
boost::json::object campaign_json(const campaigns::Campaign& campaign);
boost::json::object estimate_json(const LaunchEstimate& estimate);

}  // namespace loa::engine
