// REST: campaigns. CRUD of drafts, validate and estimate, launch, pause, resume, cancel; the
// work itself is engine/campaign_operations.* and campaigns/campaign.*, shared with the CLI.
// A campaign's JSON has the keys of a campaign file's [campaign] table (README "Campaigns").
#include <SQLiteCpp/Statement.h>

#include <algorithm>

#include "campaigns/campaign.hpp"
#include "campaigns/funnel.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/campaign_operations.hpp"
#include "engine/template_settings.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;
using namespace loa::campaigns;

namespace {

constexpr const char* kCampaignSchema = R"json({
  "type":"object",
  "properties":{
    "name":{"type":"string"},"topic":{"type":"string"},"template":{"type":"string"},
    "audience":{"type":"string","description":"a filter; or segment"},
    "segment":{"type":"string"},
    "channels":{"type":"array","items":{"type":"string","enum":["sms","zalo_zns","zalo_oa"]}},
    "priority":{"type":"string","enum":["bulk","transactional"]},
    "start_at":{"type":"string","example":"2026-12-01T08:00:00+07:00"},
    "end_at":{"type":"string"},
    "recurrence":{"type":"string","enum":["none","daily","weekly","monthly"]},
    "quiet_hours":{"type":"string","example":"21:00-07:00"},
    "frequency_cap":{"type":"integer"},"frequency_window_days":{"type":"integer"},
    "budget_vnd":{"type":"integer"},
    "variables":{"type":"object","additionalProperties":{"type":"string"}}},
  "additionalProperties":false})json";

std::string body_doc(const char* description, const char* responses) {
  return std::string(R"json({"requestBody":{"required":true,"content":{"application/json":{"schema":)json") +
         kCampaignSchema + R"json(}},"description":")json" + description +
         R"json("},"responses":)json" + responses + "}";
}

Campaign by_name(SQLite::Database& db, const std::string& name) {
  auto c = find_campaign(db, name);
  if (!c) throw ApiError(404, "no campaign named '" + name + "'");
  return *c;
}

// Reads a campaign's fields over `c`; `creating` makes name, template and the times required.
void read_campaign(JsonFields& f, Campaign& c, bool creating) {
  auto time = [&f](std::string_view key, TimePoint& out) {
    if (auto v = f.optional_string(key)) {
      auto t = parse_time(*v);
      if (!t)
        throw ApiError(400, "'" + *v + "' is not a time like 2026-12-01T08:00:00+07:00",
                       f.path_of(key));
      out = *t;
    }
  };
  if (creating) {
    c.name = f.required_string("name");
    if (c.name.empty() || c.name.size() > 100 || c.name.find('/') != std::string::npos)
      throw ApiError(400, "a campaign name has 1-100 characters and no '/'", "/name");
    c.template_key = f.required_string("template");
    if (!f.has("start_at")) throw ApiError(400, "missing required field 'start_at'", "/start_at");
    if (!f.has("end_at"))
      throw ApiError(400, "missing required field 'end_at': every campaign ends", "/end_at");
  } else {
    if (f.has("name")) throw ApiError(400, "a campaign's name cannot change", "/name");
    if (auto t = f.optional_string("template")) c.template_key = *t;
  }
  if (auto v = f.optional_string("topic")) c.topic = *v;
  if (auto v = f.optional_string("audience")) {
    c.audience = *v;
    if (!f.has("segment")) c.segment.clear();
  }
  if (auto v = f.optional_string("segment")) {
    c.segment = *v;
    if (!f.has("audience")) c.audience.clear();
  }
  if (!c.audience.empty() && !c.segment.empty())
    throw ApiError(400, "give either audience or segment, not both", "/segment");
  if (auto chs = f.optional_strings("channels")) {
    if (chs->empty()) throw ApiError(400, "at least one channel", "/channels");
    for (std::size_t i = 0; i < chs->size(); ++i) {
      const auto& ch = (*chs)[i];
      if (ch != "sms" && ch != "zalo_zns" && ch != "zalo_oa")
        throw ApiError(400, "unknown channel '" + ch + "' (channels: sms, zalo_zns, zalo_oa)",
                       "/channels/" + std::to_string(i));
      if (std::find(chs->begin(), chs->begin() + static_cast<long>(i), ch) !=
          chs->begin() + static_cast<long>(i))
        throw ApiError(400, "channel '" + ch + "' is listed twice",
                       "/channels/" + std::to_string(i));
    }
    c.channels = *chs;
  }
  if (auto v = f.optional_string("priority")) {
    if (*v != "bulk" && *v != "transactional")
      throw ApiError(400, "priority must be bulk or transactional", "/priority");
    c.priority = *v;
  }
  time("start_at", c.start_at);
  time("end_at", c.end_at);
  if (c.end_at <= c.start_at)
    throw ApiError(400,
                   "end_at (" + format_time(c.end_at) + ") must be after start_at (" +
                       format_time(c.start_at) + ")",
                   "/end_at");
  if (auto v = f.optional_string("recurrence")) {
    auto r = parse_recurrence(*v);
    if (!r) throw ApiError(400, "recurrence must be none, daily, weekly or monthly", "/recurrence");
    c.recurrence = *r;
  }
  if (auto v = f.optional_string("quiet_hours")) {
    auto q = QuietHours::parse(*v);
    if (!q) throw ApiError(400, "quiet_hours must look like 21:00-07:00", "/quiet_hours");
    c.quiet_hours = *q;
  }
  if (auto v = f.optional_int("frequency_cap", 0, 100)) c.frequency_cap = static_cast<int>(*v);
  if (auto v = f.optional_int("frequency_window_days", 1, 366))
    c.frequency_window_days = static_cast<int>(*v);
  if (auto v = f.optional_int("budget_vnd", 0, 1'000'000'000'000)) c.budget_vnd = *v;
  if (auto vars = f.optional_object("variables")) {
    c.variables.clear();
    std::vector<std::string> keys;
    for (const auto& key : vars->keys()) keys.push_back(key);
    for (const auto& key : keys) c.variables.emplace_back(key, vars->required_string(key));
    vars->finish();
  }
  f.finish();
}

json::object with_funnel(SQLite::Database& db, const Campaign& c) {
  json::object o = campaign_json(c);
  o["funnel"] = funnel_json(campaign_funnel(db, c.id));
  json::array rounds;
  for (const auto& r : rounds_of(db, c.id))
    rounds.push_back(json::object{{"number", r.number},
                                  {"due_at", format_time(r.due_at)},
                                  {"state", std::string(to_string(r.state))},
                                  {"planned", r.planned}});
  o["rounds"] = std::move(rounds);
  return o;
}

}  // namespace

void add_campaign_endpoints(Router& router, const Services& services) {
  const Config& config = services.config;
  const Clock& clock = services.clock;

  router.add({http::verb::get, "/campaigns", ApiRole::kViewer, "List campaigns",
              R"json({"parameters":[
                  {"name":"state","in":"query","schema":{"type":"string","enum":["draft","scheduled","running","paused","completed","cancelled"]}},
                  {"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":500}},
                  {"name":"cursor","in":"query","schema":{"type":"string"}}],
                 "responses":{"200":{"description":"{items: [campaign], next_cursor}"}}})json",
              [](Request& req) {
                const Page page = req.page();
                const auto state = req.query("state");
                if (state && !parse_campaign_state(*state))
                  throw ApiError(400, "unknown state '" + *state + "'", {}, "state");
                SQLite::Statement st(req.db(),
                                     "SELECT id FROM campaigns WHERE id > ? AND (? IS NULL OR "
                                     "state = ?) ORDER BY id LIMIT ?");
                st.bind(1, page.after);
                if (state) {
                  st.bind(2, *state);
                  st.bind(3, *state);
                }
                st.bind(4, page.limit);
                json::array items;
                std::int64_t last = 0;
                std::vector<std::int64_t> ids;
                while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
                for (auto id : ids) {
                  auto c = find_campaign(req.db(), id);
                  if (!c) continue;
                  json::object o = campaign_json(*c);
                  o["funnel"] = funnel_json(campaign_funnel(req.db(), c->id));
                  items.push_back(std::move(o));
                  last = id;
                }
                return Response::json(paged(std::move(items), page, last));
              }});

  router.add({http::verb::post, "/campaigns", ApiRole::kOperator,
              "Create a draft campaign",
              body_doc("the campaign; name, template, start_at and end_at are required",
                       R"json({"201":{"description":"the draft"}})json"),
              [&config](Request& req) {
                JsonFields f(req.json_body(), "");
                Campaign c;
                read_campaign(f, c, true);
                try {
                  planner_settings(config, req.db(), c);  // template, segment, filter
                } catch (const CampaignError& e) {
                  throw ApiError(400, e.what(), c.segment.empty() ? "/audience" : "/segment");
                }
                if (find_campaign(req.db(), c.name))
                  throw ApiError(409, "a campaign named '" + c.name + "' exists already", "/name");
                c.id = create_campaign(req.db(), c, req.actor());
                return Response::json(with_funnel(req.db(), by_name(req.db(), c.name)), 201);
              }});

  router.add({http::verb::get, "/campaigns/{name}", ApiRole::kViewer,
              "A campaign, its rounds and its funnel",
              R"json({"responses":{"200":{"description":"the campaign with funnel and rounds"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [](Request& req) {
                return Response::json(with_funnel(req.db(), by_name(req.db(), req.param("name"))));
              }});

  router.add({http::verb::patch, "/campaigns/{name}", ApiRole::kOperator,
              "Change a draft campaign (any field but its name)",
              body_doc("the fields to change", R"json({"200":{"description":"the draft"},"404":{"$ref":"#/components/responses/NotFound"},"409":{"description":"not a draft"}})json"),
              [&config](Request& req) {
                Campaign c = by_name(req.db(), req.param("name"));
                if (c.state != CampaignState::kDraft)
                  throw ApiError(409, "campaign '" + c.name + "' is " +
                                          std::string(to_string(c.state)) +
                                          "; only a draft can be changed");
                JsonFields f(req.json_body(), "");
                read_campaign(f, c, false);
                try {
                  planner_settings(config, req.db(), c);
                } catch (const CampaignError& e) {
                  throw ApiError(400, e.what());
                }
                update_draft(req.db(), c, req.actor());
                return Response::json(with_funnel(req.db(), by_name(req.db(), c.name)));
              }});

  router.add({http::verb::delete_, "/campaigns/{name}", ApiRole::kOperator,
              "Delete a draft campaign",
              R"json({"responses":{"204":{"description":"deleted"},"404":{"$ref":"#/components/responses/NotFound"},"409":{"description":"not a draft: cancel it instead"}}})json",
              [](Request& req) {
                Campaign c = by_name(req.db(), req.param("name"));
                if (c.state != CampaignState::kDraft)
                  throw ApiError(409, "campaign '" + c.name + "' is " +
                                          std::string(to_string(c.state)) +
                                          "; only a draft can be deleted (cancel it instead)");
                delete_draft(req.db(), c, req.actor());
                return Response{204, "", "application/json", {}};
              }});

  auto estimate_answer = [&config, &clock](SQLite::Database& db, const Campaign& c) {
    const LaunchEstimate e = estimate_campaign(config, db, c, clock.now());
    json::array problems;
    for (const auto& p : launch_problems(c, e)) problems.emplace_back(p);
    json::object out{{"campaign", c.name},
                     {"valid", problems.empty()},
                     {"problems", std::move(problems)},
                     {"estimate", estimate_json(e)}};
    return Response::json(out);
  };

  router.add({http::verb::post, "/campaigns/validate", ApiRole::kOperator,
              "Validate and estimate a campaign not yet created (nothing is written)",
              body_doc("the campaign, as for create",
                       R"json({"200":{"description":"{campaign, valid, problems, estimate}"}})json"),
              [estimate_answer](Request& req) {
                JsonFields f(req.json_body(), "");
                Campaign c;
                read_campaign(f, c, true);
                return estimate_answer(req.db(), c);
              }});

  router.add({http::verb::post, "/campaigns/{name}/validate", ApiRole::kOperator,
              "Validate and estimate a campaign: audience, messages, cost, first and last send",
              R"json({"responses":{"200":{"description":"{campaign, valid, problems, estimate}"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [estimate_answer](Request& req) {
                return estimate_answer(req.db(), by_name(req.db(), req.param("name")));
              }});

  router.add({http::verb::post, "/campaigns/{name}/launch", ApiRole::kOperator,
              "Validate and schedule a campaign; the daemon expands its rounds on time",
              R"json({"responses":{"200":{"description":"scheduled, with the estimate"},"404":{"$ref":"#/components/responses/NotFound"},"409":{"description":"refused: {error, problems}, or not a draft"}}})json",
              [&config, &clock](Request& req) {
                Campaign c = by_name(req.db(), req.param("name"));
                if (c.state != CampaignState::kDraft)
                  throw ApiError(409, "campaign '" + c.name + "' is " +
                                          std::string(to_string(c.state)) +
                                          "; only a draft can be launched");
                const LaunchResult r = launch_campaign(config, req.db(), c, clock.now(), req.actor());
                if (!r.problems.empty()) {
                  json::array problems;
                  for (const auto& p : r.problems) problems.emplace_back(p);
                  return Response::json(json::object{{"error", "launch refused"},
                                                     {"problems", std::move(problems)},
                                                     {"estimate", estimate_json(r.estimate)}},
                                        409);
                }
                json::object out = with_funnel(req.db(), by_name(req.db(), c.name));
                out["estimate"] = estimate_json(r.estimate);
                return Response::json(out);
              }});

  struct Verb {
    const char* path;
    const char* summary;
    CampaignState to;
  };
  for (const Verb& v : {Verb{"/campaigns/{name}/pause", "Pause: nothing more is planned or sent",
                             CampaignState::kPaused},
                        Verb{"/campaigns/{name}/resume", "Resume a paused campaign",
                             CampaignState::kRunning},
                        Verb{"/campaigns/{name}/cancel",
                             "Cancel: what is not yet sent expires", CampaignState::kCancelled}}) {
    const CampaignState to = v.to;
    router.add({http::verb::post, v.path, ApiRole::kOperator, v.summary,
                R"json({"responses":{"200":{"description":"the campaign after the change"},"404":{"$ref":"#/components/responses/NotFound"},"409":{"description":"the lifecycle forbids it"}}})json",
                [to](Request& req) {
                  Campaign c = by_name(req.db(), req.param("name"));
                  if (!transition_allowed(c.state, to) &&
                      !(to == CampaignState::kRunning && c.state == CampaignState::kPaused))
                    throw ApiError(409, "campaign '" + c.name + "' is " +
                                            std::string(to_string(c.state)) + "; cannot go to " +
                                            std::string(to_string(to)));
                  try {
                    change_state(req.db(), c, to, req.actor());
                  } catch (const CampaignError& e) {
                    throw ApiError(409, e.what());
                  }
                  return Response::json(with_funnel(req.db(), by_name(req.db(), c.name)));
                }});
  }
}

}  // namespace loa::engine::api
