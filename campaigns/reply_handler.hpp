// Runs the reply rules (reply_rules.hpp) on replies the results consumer has stored (status
// `new`), in the store writer's transaction, right after they are stored (DESIGN.md 1: inbox:
// match contact, keywords, opt-out):
//  - a sender that matched no household becomes one, marked unknown (households.unknown = 1,
//    source 'reply'), so the operator can see and answer it;
//  - opt-out (TU CHOI, STOP, ...): the household is opted out of SMS and Zalo; its planned and
//    queued bulk messages are cancelled in the outbox ("opted out by reply") and listed in
//    ReplyEffects so the caller removes them from the Redis lanes and adds the household to
//    the opt-out sets at once; a confirmation (template `optout_template`) is queued once,
//    when the household was not opted out already, in its language by the fallback chain;
//  - opt-in (DK, START, ...): the reverse, confirmed once (`optin_template`);
//  - help (HOI, HELP): the auto-reply (`help_template`);
//  - a configurable rule: its answer is recorded in reply_answers against the reply's
//    campaign (the household's latest), one per household, campaign and rule (the last wins);
//  - anything else: status `open`, the operator inbox (inbox.hpp).
// Messages back go through inbox.hpp's queue_reply_message (priority lane).
//
// Contract: handle_new_replies() processes at most `limit` new replies inside the caller's
// transaction and returns what Redis must be told once that commits. A missing template does
// not stop the rules: the opt-out still holds, and the problem is reported in `warnings`.
// Running it again finds nothing new: each reply is processed once.
//
// Thread-safety: one thread per Database (the store writer's).
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "campaigns/local_time.hpp"
#include "campaigns/reply_rules.hpp"
#include "templates/language_fallback.hpp"
#include "templates/sms_route.hpp"

namespace loa::campaigns {

struct ReplySettings {
  ReplyRules rules;
  std::string optout_template = "xac_nhan_tu_choi";
  std::string optin_template = "xac_nhan_dang_ky";
  std::string help_template = "huong_dan_hoi";
  templates::FallbackChain fallback;
  templates::RouteTable routes;
  std::map<std::string, std::string> carrier_routes;  // as PlannerSettings::carrier_routes
  // {{campaign.reply_number}} in a reply: the campaign's own, else the number of the route the
  // reply came in on, else this one. With none, the variable is absent, so a template's
  // {{^campaign.reply_number}} section phrases the sentence without a number; a template that
  // names the number outside such a section is not sent (an empty number would read
  // "soạn TU CHOI gửi ."), and `warnings` says why.
  std::map<std::string, std::string> route_reply_numbers;  // route name -> number
  std::string reply_number;
};

struct ReplyEffects {
  // Households whose opt-out changed: Redis's loa:{optout}:sms and :zalo follow.
  std::vector<std::int64_t> opted_out, opted_in;
  // Bulk messages cancelled by an opt-out: to leave their route's queue now.
  struct Dropped {
    std::string route;
    std::int64_t campaign_id = 0;
    std::int64_t message_id = 0;
  };
  std::vector<Dropped> dropped;
  int processed = 0, to_inbox = 0, unknown_senders = 0, messages_queued = 0;
  std::vector<std::string> warnings;  // for the log; never a phone number

  bool empty() const { return opted_out.empty() && opted_in.empty() && dropped.empty(); }
};

ReplyEffects handle_new_replies(SQLite::Database& db, const ReplySettings& settings,
                                TimePoint now, int limit = 1000);

}  // namespace loa::campaigns
