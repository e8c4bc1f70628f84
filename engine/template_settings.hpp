// Configuration turned into the objects that rendering and planning use: the route table
// (text policy, segment limits, prices, rates) and the language fallback chain.
//
// Thread-safety: pure functions of a Config.
#pragma once

#include <string_view>

#include <SQLiteCpp/Database.h>

#include "campaigns/planner.hpp"
#include "engine/config.hpp"
#include "templates/language_fallback.hpp"
#include "campaigns/reply_handler.hpp"
#include "templates/sms_route.hpp"

namespace loa::engine {

templates::RouteTable routes_from(const Config& config);
// Throws ConfigError naming languages.fallback (load_config has checked it already).
templates::FallbackChain fallback_from(const Config& config);

// What the planner needs for `campaign`: its template (from the store), the fallback chain and
// the routes. Throws campaigns::CampaignError naming an unknown template, a channel the
// template lacks, an unknown segment or a bad filter, before anything is written.
// The reply rules and the templates and routes of the messages back (replies.* keys). Throws
// ConfigError naming replies.rules (load_config has checked it already).
campaigns::ReplySettings reply_settings(const Config& config);

campaigns::PlannerSettings planner_settings(const Config& config, SQLite::Database& db,
                                            const campaigns::Campaign& campaign);

}  // namespace loa::engine
