#include "engine/template_settings.hpp"

#include "campaigns/template_store.hpp"

namespace loa::engine {

namespace tpl = loa::templates;

tpl::RouteTable routes_from(const Config& config) {
  tpl::RouteTable routes;
  const SmsRouteConfig& sms = config.routes.sms;
  routes.sms.sms_mode = tpl::parse_sms_mode(sms.policy).value_or(tpl::SmsMode::kAuto);
  routes.sms.strip_minority_letters = sms.minority_letters == "strip";
  routes.sms.max_segments = static_cast<std::size_t>(sms.max_segments);
  routes.sms.price_vnd = sms.price_vnd_per_segment;
  routes.zalo_zns.price_vnd = config.routes.zalo_zns.price_vnd_per_message;
  routes.zalo_oa.price_vnd = config.routes.zalo_oa.price_vnd_per_message;
  return routes;
}

tpl::FallbackChain fallback_from(const Config& config) {
  std::string error;
  auto chain = tpl::FallbackChain::parse(config.languages.fallback,
                                         config.languages.default_language, &error);
  if (!chain) throw ConfigError("key 'languages.fallback': " + error);
  return *chain;
}

campaigns::ReplySettings reply_settings(const Config& config) {
  campaigns::ReplySettings s;
  try {
    s.rules = campaigns::ReplyRules::parse(config.replies.rules);
  } catch (const campaigns::ReplyRulesError& e) {
    throw ConfigError("key 'replies.rules': " + std::string(e.what()));
  }
  s.optout_template = config.replies.optout_template;
  s.optin_template = config.replies.optin_template;
  s.help_template = config.replies.help_template;
  s.reply_number = config.replies.reply_number;
  for (const char* route : kRouteNames)
    if (const auto& number = route_gateway(config, route).reply_number; !number.empty())
      s.route_reply_numbers[route] = number;
  s.fallback = fallback_from(config);
  s.routes = routes_from(config);
  s.carrier_routes = carrier_routes(config);
  return s;
}

campaigns::PlannerSettings planner_settings(const Config& config, SQLite::Database& db,
                                            const campaigns::Campaign& c) {
  using campaigns::CampaignError;
  auto def = campaigns::load_template(db, c.template_key);
  if (!def)
    throw CampaignError("campaign '" + c.name + "': unknown template '" + c.template_key +
                        "' (load it with `loa templates load FILE`)");
  for (const auto& ch : c.channels) {
    const auto channel = tpl::parse_channel(ch);
    if (!channel) throw CampaignError("campaign '" + c.name + "': unknown channel '" + ch + "'");
    if (!def->has_channel(*channel))
      throw CampaignError("campaign '" + c.name + "': template '" + c.template_key +
                          "' has no " + ch + " variant");
  }
  campaigns::campaign_audience(db, c);  // throws on an unknown segment or a bad filter
  campaigns::PlannerSettings s;
  s.definition = std::make_shared<const tpl::TemplateDef>(std::move(*def));
  s.fallback = fallback_from(config);
  s.routes = routes_from(config);
  s.carrier_routes = carrier_routes(config);
  s.page_rows = static_cast<std::size_t>(config.planner.page_rows);
  s.commit_rows = static_cast<std::size_t>(config.planner.commit_rows);
  return s;
}

}  // namespace loa::engine
