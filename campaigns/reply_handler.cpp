#include "campaigns/reply_handler.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <map>
#include <optional>

#include "campaigns/campaign.hpp"
#include "campaigns/inbox.hpp"
#include "campaigns/phone.hpp"
#include "campaigns/template_store.hpp"
#include "templates/rendered_message.hpp"
#include "templates/variables.hpp"

namespace loa::campaigns {
namespace {

struct NewReply {
  std::int64_t id = 0;
  std::string route, phone, zalo_user, text;
  std::int64_t household_id = 0, campaign_id = 0;
};

struct HouseholdRow {
  templates::HouseholdVariables vars;
  bool opted_out_sms = false, opted_out_zalo = false;
};

std::optional<HouseholdRow> read_household(SQLite::Database& db, std::int64_t id) {
  SQLite::Statement st(db,
                       "SELECT COALESCE(household_code, ''), name, language, "
                       "COALESCE(ethnicity, ''), COALESCE(category, ''), COALESCE(province, ''), "
                       "COALESCE(commune, ''), COALESCE(village, ''), COALESCE(district, ''), "
                       "has_zalo, opt_out_sms, opt_out_zalo FROM households WHERE id = ?");
  st.bind(1, id);
  if (!st.executeStep()) return std::nullopt;
  HouseholdRow h;
  h.vars.id = std::to_string(id);
  h.vars.household_code = st.getColumn(0).getString();
  h.vars.name = st.getColumn(1).getString();
  h.vars.language = st.getColumn(2).getString();
  h.vars.ethnicity = st.getColumn(3).getString();
  h.vars.category = st.getColumn(4).getString();
  h.vars.category_label = h.vars.category;
  h.vars.province = st.getColumn(5).getString();
  h.vars.commune = st.getColumn(6).getString();
  h.vars.village = st.getColumn(7).getString();
  h.vars.district = st.getColumn(8).getString();
  h.vars.has_zalo = st.getColumn(9).getInt() != 0;
  h.opted_out_sms = st.getColumn(10).getInt() != 0;
  h.opted_out_zalo = st.getColumn(11).getInt() != 0;
  return h;
}

// A household for a sender nobody knows, so the operator can answer it.
std::int64_t create_unknown_household(SQLite::Database& db, const NewReply& r) {
  const bool phone_ok = !r.phone.empty() && r.phone[0] == '+';
  SQLite::Statement st(db,
                       "INSERT INTO households(name, phone_e164, phone_raw, carrier, language, "
                       "language_source, has_zalo, zalo_user_id, unknown, source) "
                       "VALUES ('', ?1, ?2, ?3, 'vi', 'default', ?4, ?5, 1, 'reply')");
  if (phone_ok) {
    st.bind(1, r.phone);
    st.bind(3, std::string(carrier_code(normalize_phone(r.phone).carrier)));
  } else {
    st.bind(1);
    st.bind(3);
  }
  st.bind(2, r.phone);
  st.bind(4, r.zalo_user.empty() ? 0 : 1);
  if (r.zalo_user.empty()) st.bind(5); else st.bind(5, r.zalo_user);
  st.exec();
  return db.getLastInsertRowid();
}

class Renderer {
 public:
  Renderer(SQLite::Database& db, const ReplySettings& s) : db_(db), s_(s) {}

  // The template's text for the household on the channel it used, or nullopt with a warning.
  // {{campaign.*}} are those of the campaign the household answered (its hotline, its reply
  // number), when there is one; the reply number falls back as ReplySettings says.
  std::optional<std::pair<std::string, std::string>> render(const std::string& key,
                                                            const HouseholdRow& h,
                                                            std::int64_t campaign_id,
                                                            const std::string& route, bool zalo,
                                                            std::vector<std::string>& warnings) {
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, load_template(db_, key)).first;
    if (!it->second) {
      warnings.push_back("template '" + key + "' is not loaded; no message sent");
      return std::nullopt;
    }
    templates::CampaignVariables vars;
    if (campaign_id != 0) {
      if (auto c = find_campaign(db_, campaign_id)) {
        vars = c->variables;
        vars.emplace_back("name", c->name);
        vars.emplace_back("topic", c->topic);
      }
    }
    const bool has_number = with_reply_number(vars, route);
    auto context = templates::make_context(h.vars, vars);
    if (!context) {
      warnings.push_back("household " + h.vars.id + ": " + context.error().message);
      return std::nullopt;
    }
    const auto& def = *it->second;
    std::optional<templates::RenderedMessage> m;
    if (zalo && def.has_channel(templates::Channel::kZaloOa))
      m = templates::render_message(def, templates::Channel::kZaloOa, context.value(),
                                    h.vars.language, s_.fallback, s_.routes);
    if (!m || !m->ok())
      m = templates::render_message(def, templates::Channel::kSms, context.value(),
                                    h.vars.language, s_.fallback, s_.routes);
    if (!m->ok()) {
      warnings.push_back("template '" + key + "' for household " + h.vars.id + ": " +
                         m->errors.front());
      return std::nullopt;
    }
    if (!has_number) {
      for (const auto& issue : m->missing) {
        if (issue.use == templates::UseKind::kVariable && issue.name == kReplyNumber) {
          warnings.push_back("template '" + key + "' names {{" + kReplyNumber + "}} outside a {{#" +
                             kReplyNumber + "}} section, and no reply " +
                             "number is known for route '" + route + "' (set the campaign's " +
                             "reply_number, routes." + route + ".reply_number or " +
                             "replies.reply_number); no message sent");
          return std::nullopt;
        }
      }
    }
    return std::make_pair(m->text, m->language.language);
  }

 private:
  static constexpr const char* kReplyNumber = "campaign.reply_number";

  // Gives `vars` a non-empty reply_number: the campaign's, the route's or the global one.
  // With none known, removes it: an absent variable is falsy in a section and reported when
  // used bare, where an empty one would render "gửi ." unnoticed.
  bool with_reply_number(templates::CampaignVariables& vars, const std::string& route) const {
    auto it = std::find_if(vars.begin(), vars.end(),
                           [](const auto& v) { return v.first == "reply_number"; });
    if (it != vars.end() && !is_blank(it->second)) return true;
    if (it != vars.end()) vars.erase(it);
    const auto by_route = s_.route_reply_numbers.find(route);
    const std::string& number =
        by_route != s_.route_reply_numbers.end() ? by_route->second : s_.reply_number;
    if (is_blank(number)) return false;
    vars.emplace_back("reply_number", number);
    return true;
  }

  static bool is_blank(const std::string& text) {
    return text.find_first_not_of(" \t") == std::string::npos;
  }

  SQLite::Database& db_;
  const ReplySettings& s_;
  std::map<std::string, std::optional<templates::TemplateDef>> cache_;
};

}  // namespace

ReplyEffects handle_new_replies(SQLite::Database& db, const ReplySettings& settings,
                                TimePoint now, int limit) {
  ReplyEffects fx;
  std::vector<NewReply> todo;
  {
    SQLite::Statement st(db,
                         "SELECT id, route, phone, zalo_user, text, COALESCE(household_id, 0), "
                         "COALESCE(campaign_id, 0) FROM replies WHERE status = 'new' "
                         "ORDER BY id LIMIT ?");
    st.bind(1, limit);
    while (st.executeStep())
      todo.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(),
                      st.getColumn(2).getString(), st.getColumn(3).getString(),
                      st.getColumn(4).getString(), st.getColumn(5).getInt64(),
                      st.getColumn(6).getInt64()});
  }
  if (todo.empty()) return fx;
  Renderer renderer(db, settings);
  const std::string now_text = format_time(now);
  SQLite::Statement mark(db,
                         "UPDATE replies SET status = ?2, rule = ?3, household_id = ?4, "
                         "updated_at = ?5 WHERE id = ?1");
  for (NewReply& r : todo) {
    ++fx.processed;
    if (r.household_id == 0) {
      r.household_id = create_unknown_household(db, r);
      ++fx.unknown_senders;
    }
    const auto household = read_household(db, r.household_id);
    const ReplyClassification c = settings.rules.classify(r.text);
    const bool zalo = !r.zalo_user.empty();
    std::string status = "handled";
    std::string rule(to_string(c.intent));
    std::optional<std::string> template_key;

    if (c.intent == ReplyIntent::kOptOut || c.intent == ReplyIntent::kOptIn) {
      const int value = c.intent == ReplyIntent::kOptOut ? 1 : 0;
      SQLite::Statement up(db,
                           "UPDATE households SET opt_out_sms = ?2, opt_out_zalo = ?2, "
                           "updated_at = ?3 WHERE id = ?1 AND "
                           "(opt_out_sms <> ?2 OR opt_out_zalo <> ?2)");
      up.bind(1, r.household_id);
      up.bind(2, value);
      up.bind(3, now_text);
      const bool changed = up.exec() > 0;
      if (changed) {
        (value ? fx.opted_out : fx.opted_in).push_back(r.household_id);
        template_key = value ? settings.optout_template : settings.optin_template;
      }
      if (value) {
        // Its waiting bulk messages stop now, not only when a dispatcher meets them.
        SQLite::Statement q(db,
                            "SELECT id, route, campaign_id FROM outbox WHERE household_id = ? "
                            "AND state IN ('planned', 'queued') AND priority = 'bulk'");
        q.bind(1, r.household_id);
        while (q.executeStep())
          fx.dropped.push_back({q.getColumn(1).getString(), q.getColumn(2).getInt64(),
                                q.getColumn(0).getInt64()});
        SQLite::Statement cancel(db,
                                 "UPDATE outbox SET state = 'cancelled', last_error = "
                                 "'opted out by reply', updated_at = ?2 WHERE household_id = ?1 "
                                 "AND state IN ('planned', 'queued') AND priority = 'bulk'");
        cancel.bind(1, r.household_id);
        cancel.bind(2, now_text);
        cancel.exec();
      }
    } else if (c.intent == ReplyIntent::kHelp) {
      template_key = settings.help_template;
    } else if (c.intent == ReplyIntent::kRule) {
      rule = "rule:" + c.rule;
      SQLite::Statement ans(db,
                            "INSERT INTO reply_answers(reply_id, campaign_id, household_id, rule, "
                            "answer, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                            "ON CONFLICT(campaign_id, household_id, rule) DO UPDATE SET "
                            "reply_id = excluded.reply_id, answer = excluded.answer, "
                            "at = excluded.at");
      ans.bind(1, r.id);
      if (r.campaign_id) ans.bind(2, r.campaign_id); else ans.bind(2);
      ans.bind(3, r.household_id);
      ans.bind(4, c.rule);
      ans.bind(5, c.answer);
      ans.bind(6, now_text);
      ans.exec();
    } else {
      status = "open";
      ++fx.to_inbox;
    }

    if (template_key && household) {
      if (auto text = renderer.render(*template_key, *household, r.campaign_id, r.route, zalo,
                                      fx.warnings)) {
        try {
          queue_reply_message(db, {r.household_id, r.route, r.phone, r.zalo_user}, text->first,
                              text->second, settings.routes, now, settings.carrier_routes);
          ++fx.messages_queued;
        } catch (const InboxError& e) {
          fx.warnings.push_back("reply " + std::to_string(r.id) + ": " + e.what());
        }
      }
    }
    mark.reset();
    mark.bind(1, r.id);
    mark.bind(2, status);
    mark.bind(3, rule);
    mark.bind(4, r.household_id);
    mark.bind(5, now_text);
    mark.exec();
  }
  return fx;
}

}  // namespace loa::campaigns
