// The operator inbox (issue [7/10]): household replies that no keyword or rule answered wait
// here to be read, assigned, answered and closed; and the one way a message goes back to a
// household that wrote (an operator's answer, an opt-out confirmation, a help auto-reply).
//
// A reply's status (replies.status, engine/migrations/0008_twoway.sql):
//   new       stored by the results consumer; its rules have not run (reply_handler.hpp)
//   handled   a keyword or rule answered it (opt-out, opt-in, help, a poll answer)
//   open      waits in the inbox            -> assigned | answered | closed
//   assigned  an operator took it           -> answered | closed | assigned (to another)
//   answered  an answer is queued           -> answered (again) | closed
//   closed    done                          -> assigned | answered (re-opened by acting on it)
//
// Messages back to a household go through the channel it used (a reply by SMS on route
// sms_viettel is answered on sms_viettel; one from a Zalo user on zalo_oa) as rows of the
// `inbox` campaign (kInboxCampaign, created on first use): priority `reply`, so they take
// the route's priority lane ahead of any bulk traffic, are not held back by the household's
// opt-out (they answer what it wrote; DESIGN.md 3.5), and are never held for quiet hours. Each
// is a round of its own, so the outbox's one message per household and round holds; the
// enqueuer puts them in Redis like any planned row, within a pass (enqueuer.interval).
//
// Contract: every function runs in the caller's connection; those that write want the
// caller's transaction (they write several rows). Errors are InboxError naming the reply id
// and what is wrong (no such reply, empty text, text too long for the route). Phones are
// returned as stored; callers mask them for logs.
//
// Thread-safety: one thread per Database.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "campaigns/local_time.hpp"
#include "templates/sms_route.hpp"

namespace loa::campaigns {

inline constexpr std::string_view kInboxCampaign = "inbox";

class InboxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct InboxFilter {
  // Statuses to list; empty: the ones waiting for an operator (open, assigned).
  std::vector<std::string> statuses;
  std::string campaign;     // a campaign's name; "" for any
  std::string area;         // matches the household's province, commune or village; "" any
  std::string assigned_to;  // "" for anyone
  int limit = 50;           // newest first
  // Keyset paging: only replies listed after this one (older, in the list's order); 0: none.
  std::int64_t after_id = 0;
};

struct InboxItem {
  std::int64_t id = 0;
  std::string received_at;
  std::string route;
  std::string phone;
  std::string zalo_user;
  std::string text;
  std::string status;
  std::string rule;  // opt_out | opt_in | help | rule:<name> | inbox
  std::string assigned_to;
  std::int64_t household_id = 0;  // 0: none matched (and no contact could be made)
  std::string household_name, household_code, language, province, commune, village;
  bool unknown_sender = false;   // the household was created for this sender
  std::int64_t campaign_id = 0;  // 0: no campaign had reached the household
  std::string campaign;
  std::int64_t answer_message_id = 0;
  std::string answer_state;  // the answer's outbox state: planned|queued|sent|delivered|...
  std::string updated_at;
};

// Whom a message back goes to, and by which route (the one the household wrote through).
struct ReplyTarget {
  std::int64_t household_id = 0;
  std::string route;
  std::string phone;
  std::string zalo_user;
};

std::vector<InboxItem> list_inbox(SQLite::Database& db, const InboxFilter& filter);
std::optional<InboxItem> find_inbox_item(SQLite::Database& db, std::int64_t reply_id);

// Counts of replies by status (for `loa inbox list` and the API's summary).
std::vector<std::pair<std::string, std::int64_t>> inbox_counts(SQLite::Database& db);

void assign_reply(SQLite::Database& db, std::int64_t reply_id, const std::string& operator_name,
                  TimePoint now);
// Queues `text` to the household through the channel it used, in the priority lane, and marks
// the reply answered. Returns the answer's outbox id.
// `carrier_routes` as PlannerSettings::carrier_routes: an SMS answer to a household that wrote
// by Zalo goes through its carrier's route when that route is enabled.
std::int64_t answer_reply(SQLite::Database& db, std::int64_t reply_id, const std::string& text,
                          const std::string& operator_name, const templates::RouteTable& routes,
                          TimePoint now,
                          const std::map<std::string, std::string>& carrier_routes = {});
void close_reply(SQLite::Database& db, std::int64_t reply_id, const std::string& operator_name,
                 TimePoint now);

// Queues one message of the inbox campaign to `to` (see above); `text` is encoded for the
// route (the SMS policy of routes.sms, segments counted). Returns its outbox id. Throws
// InboxError when the target has no usable address or the text cannot be sent.
std::int64_t queue_reply_message(SQLite::Database& db, const ReplyTarget& to,
                                 const std::string& text, const std::string& language,
                                 const templates::RouteTable& routes, TimePoint now,
                                 const std::map<std::string, std::string>& carrier_routes = {});

// The inbox campaign's id; it is created on first use (inside the caller's transaction).
std::int64_t inbox_campaign_id(SQLite::Database& db);

}  // namespace loa::campaigns
