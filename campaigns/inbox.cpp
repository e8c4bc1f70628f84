#include "campaigns/inbox.hpp"

#include <SQLiteCpp/Statement.h>

#include <chrono>

#include "campaigns/audit.hpp"
#include "campaigns/stats_summary.hpp"
#include "templates/sms_text.hpp"

namespace loa::campaigns {
namespace {

// An answer that has not left within a week is stale (and Zalo's OA window is 7 days).
constexpr auto kAnswerValidity = std::chrono::hours(24 * 7);

constexpr const char* kItemColumns =
    "r.id, r.received_at, r.route, r.phone, r.zalo_user, r.text, r.status, r.rule, "
    "r.assigned_to, COALESCE(r.household_id, 0), COALESCE(h.name, ''), "
    "COALESCE(h.household_code, ''), COALESCE(h.language, ''), COALESCE(h.province, ''), "
    "COALESCE(h.commune, ''), COALESCE(h.village, ''), COALESCE(h.unknown, 0), "
    "COALESCE(r.campaign_id, 0), COALESCE(c.name, ''), COALESCE(r.answer_message_id, 0), "
    "COALESCE(o.state, ''), COALESCE(r.updated_at, r.received_at) "
    "FROM replies r LEFT JOIN households h ON h.id = r.household_id "
    "LEFT JOIN campaigns c ON c.id = r.campaign_id "
    "LEFT JOIN outbox o ON o.id = r.answer_message_id ";

InboxItem read_item(SQLite::Statement& st) {
  InboxItem i;
  i.id = st.getColumn(0).getInt64();
  i.received_at = st.getColumn(1).getString();
  i.route = st.getColumn(2).getString();
  i.phone = st.getColumn(3).getString();
  i.zalo_user = st.getColumn(4).getString();
  i.text = st.getColumn(5).getString();
  i.status = st.getColumn(6).getString();
  i.rule = st.getColumn(7).getString();
  i.assigned_to = st.getColumn(8).getString();
  i.household_id = st.getColumn(9).getInt64();
  i.household_name = st.getColumn(10).getString();
  i.household_code = st.getColumn(11).getString();
  i.language = st.getColumn(12).getString();
  i.province = st.getColumn(13).getString();
  i.commune = st.getColumn(14).getString();
  i.village = st.getColumn(15).getString();
  i.unknown_sender = st.getColumn(16).getInt() != 0;
  i.campaign_id = st.getColumn(17).getInt64();
  i.campaign = st.getColumn(18).getString();
  i.answer_message_id = st.getColumn(19).getInt64();
  i.answer_state = st.getColumn(20).getString();
  i.updated_at = st.getColumn(21).getString();
  return i;
}

InboxItem require_item(SQLite::Database& db, std::int64_t id) {
  auto item = find_inbox_item(db, id);
  if (!item) throw InboxError("reply " + std::to_string(id) + ": no such reply");
  if (item->status == "new")
    throw InboxError("reply " + std::to_string(id) + ": its rules have not run yet; try again");
  return *item;
}

void set_status(SQLite::Database& db, std::int64_t id, const std::string& status,
                const std::string* assigned_to, TimePoint now) {
  SQLite::Statement st(db,
                       "UPDATE replies SET status = ?2, assigned_to = COALESCE(?3, assigned_to), "
                       "updated_at = ?4 WHERE id = ?1");
  st.bind(1, id);
  st.bind(2, status);
  if (assigned_to)
    st.bind(3, *assigned_to);
  else
    st.bind(3);
  st.bind(4, format_time(now));
  st.exec();
}

}  // namespace

std::int64_t inbox_campaign_id(SQLite::Database& db) {
  // Runs for ever (end_at 2100) and never completes (round_scheduler.cpp); no quiet hours:
  // an answer goes while the household is waiting for it.
  SQLite::Statement add(db,
                        "INSERT OR IGNORE INTO campaigns(name, topic, template_key, audience, "
                        "channels, priority, start_at, end_at, recurrence, quiet_hours, state) "
                        "VALUES (?1, 'Trả lời hộ dân', '', '', 'sms,zalo_oa', 'transactional', "
                        "'2020-01-01T00:00:00+07:00', '2100-01-01T00:00:00+07:00', 'none', "
                        "'00:00-00:00', 'running')");
  add.bind(1, std::string(kInboxCampaign));
  add.exec();
  SQLite::Statement st(db, "SELECT id FROM campaigns WHERE name = ?");
  st.bind(1, std::string(kInboxCampaign));
  if (!st.executeStep()) throw InboxError("the inbox campaign could not be created");
  return st.getColumn(0).getInt64();
}

std::vector<InboxItem> list_inbox(SQLite::Database& db, const InboxFilter& filter) {
  std::string sql = std::string("SELECT ") + kItemColumns + "WHERE 1 = 1";
  std::vector<std::string> binds;
  std::vector<std::string> statuses = filter.statuses;
  if (statuses.empty()) statuses = {"open", "assigned"};
  sql += " AND r.status IN (";
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    sql += i ? ", ?" : "?";
    binds.push_back(statuses[i]);
  }
  sql += ")";
  if (!filter.campaign.empty()) {
    sql += " AND c.name = ?";
    binds.push_back(filter.campaign);
  }
  if (!filter.area.empty()) {
    sql += " AND (h.province = ? OR h.commune = ? OR h.village = ?)";
    for (int k = 0; k < 3; ++k) binds.push_back(filter.area);
  }
  if (!filter.assigned_to.empty()) {
    sql += " AND r.assigned_to = ?";
    binds.push_back(filter.assigned_to);
  }
  if (filter.after_id > 0) {
    sql += " AND (r.received_at, r.id) < ((SELECT received_at FROM replies WHERE id = ?), ?)";
  }
  sql += " ORDER BY r.received_at DESC, r.id DESC LIMIT ?";
  SQLite::Statement st(db, sql);
  int index = 0;
  for (const auto& b : binds) st.bind(++index, b);
  if (filter.after_id > 0) {
    st.bind(++index, filter.after_id);
    st.bind(++index, filter.after_id);
  }
  st.bind(++index, std::max(1, filter.limit));
  std::vector<InboxItem> out;
  while (st.executeStep()) out.push_back(read_item(st));
  return out;
}

std::optional<InboxItem> find_inbox_item(SQLite::Database& db, std::int64_t reply_id) {
  SQLite::Statement st(db, std::string("SELECT ") + kItemColumns + "WHERE r.id = ?");
  st.bind(1, reply_id);
  if (!st.executeStep()) return std::nullopt;
  return read_item(st);
}

std::vector<std::pair<std::string, std::int64_t>> inbox_counts(SQLite::Database& db) {
  SQLite::Statement st(db, "SELECT status, COUNT(*) FROM replies GROUP BY status ORDER BY status");
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (st.executeStep()) out.emplace_back(st.getColumn(0).getString(), st.getColumn(1).getInt64());
  return out;
}

void assign_reply(SQLite::Database& db, std::int64_t reply_id, const std::string& operator_name,
                  TimePoint now) {
  if (operator_name.empty()) throw InboxError("reply " + std::to_string(reply_id) + ": no operator");
  const InboxItem item = require_item(db, reply_id);
  if (item.status == "handled")
    throw InboxError("reply " + std::to_string(reply_id) + " was handled by rule '" + item.rule +
                     "'; it is not in the inbox");
  const std::string status = item.status == "answered" ? item.status : "assigned";
  set_status(db, reply_id, status, &operator_name, now);
  record_audit(db, operator_name, "inbox.assign", "reply " + std::to_string(reply_id), "");
}

std::int64_t answer_reply(SQLite::Database& db, std::int64_t reply_id, const std::string& text,
                          const std::string& operator_name, const templates::RouteTable& routes,
                          TimePoint now, const std::map<std::string, std::string>& carrier_routes) {
  const InboxItem item = require_item(db, reply_id);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw InboxError("reply " + std::to_string(reply_id) + ": the answer is empty");
  ReplyTarget to{item.household_id, item.route, item.phone, item.zalo_user};
  std::int64_t message = 0;
  try {
    message = queue_reply_message(db, to, text, item.language, routes, now, carrier_routes);
  } catch (const InboxError& e) {
    throw InboxError("reply " + std::to_string(reply_id) + ": " + e.what());
  }
  SQLite::Statement st(db,
                       "UPDATE replies SET status = 'answered', answer_message_id = ?2, "
                       "assigned_to = CASE WHEN assigned_to = '' THEN ?3 ELSE assigned_to END, "
                       "updated_at = ?4 WHERE id = ?1");
  st.bind(1, reply_id);
  st.bind(2, message);
  st.bind(3, operator_name);
  st.bind(4, format_time(now));
  st.exec();
  record_audit(db, operator_name.empty() ? "operator" : operator_name, "inbox.answer",
               "reply " + std::to_string(reply_id), "message " + std::to_string(message));
  return message;
}

void close_reply(SQLite::Database& db, std::int64_t reply_id, const std::string& operator_name,
                 TimePoint now) {
  const InboxItem item = require_item(db, reply_id);
  if (item.status == "handled")
    throw InboxError("reply " + std::to_string(reply_id) + " was handled by rule '" + item.rule +
                     "'; it is not in the inbox");
  set_status(db, reply_id, "closed", nullptr, now);
  record_audit(db, operator_name.empty() ? "operator" : operator_name, "inbox.close",
               "reply " + std::to_string(reply_id), "");
}

std::int64_t queue_reply_message(SQLite::Database& db, const ReplyTarget& to,
                                 const std::string& text, const std::string& language,
                                 const templates::RouteTable& routes, TimePoint now,
                                 const std::map<std::string, std::string>& carrier_routes) {
  if (to.household_id <= 0) throw InboxError("the sender matches no household");
  std::string channel, route, body;
  std::size_t units = 1;
  std::int64_t cost = 0;
  if (!to.zalo_user.empty()) {
    // Zalo users are answered by OA message: ZNS needs an approved template, and the user
    // wrote to the OA, which opens its interaction window.
    channel = "zalo_oa";
    route = "zalo_oa";
    auto nfc = templates::to_nfc(text);
    if (!nfc) throw InboxError("the answer: " + nfc.error().message);
    body = nfc.value();
    cost = routes.zalo_oa.cost_vnd(1);
  } else if (!to.phone.empty()) {
    channel = "sms";
    route = to.route.rfind("sms", 0) == 0 ? to.route : "sms";
    if (route == "sms" && !carrier_routes.empty()) {  // wrote by Zalo: its carrier's route
      SQLite::Statement carrier(db, "SELECT COALESCE(carrier, '') FROM households WHERE id = ?");
      carrier.bind(1, to.household_id);
      if (carrier.executeStep()) {
        auto it = carrier_routes.find(carrier.getColumn(0).getString());
        if (it != carrier_routes.end() && to.route.rfind("sms", 0) != 0) route = it->second;
      }
    }
    auto encoded = templates::encode_sms(text, routes.sms);
    if (!encoded) throw InboxError("the answer: " + encoded.error().message);
    body = encoded->text;
    units = encoded->count.segments;
    cost = routes.sms.cost_vnd(units);
  } else {
    throw InboxError("the sender has neither a phone nor a Zalo user id");
  }
  const std::int64_t campaign = inbox_campaign_id(db);
  const std::string created = format_time(now);
  SQLite::Statement round(db,
                          "INSERT INTO rounds(campaign_id, number, due_at, state, started_at, "
                          "expanded_at) VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM "
                          "rounds WHERE campaign_id = ?1), ?2, 'expanded', ?2, ?2)");
  round.bind(1, campaign);
  round.bind(2, created);
  round.exec();
  const std::int64_t round_id = db.getLastInsertRowid();
  SQLite::Statement ins(db,
                        "INSERT INTO outbox(round_id, campaign_id, household_id, phone_e164, "
                        "zalo_user_id, channel, fallback, route, language, body, units, cost_vnd, "
                        "priority, expires_at, created_at, updated_at) "
                        "VALUES (?,?,?,?,?,?,'',?,?,?,?,?,'reply',?,?,?)");
  ins.bind(1, round_id);
  ins.bind(2, campaign);
  ins.bind(3, to.household_id);
  if (to.phone.empty()) ins.bind(4); else ins.bind(4, to.phone);
  if (to.zalo_user.empty()) ins.bind(5); else ins.bind(5, to.zalo_user);
  ins.bind(6, channel);
  ins.bind(7, route);
  ins.bind(8, language.empty() ? std::string("vi") : language);
  ins.bind(9, body);
  ins.bind(10, static_cast<std::int64_t>(units));
  ins.bind(11, cost);
  ins.bind(12, format_time(now + kAnswerValidity));
  ins.bind(13, created);
  ins.bind(14, created);
  ins.exec();
  const std::int64_t id = db.getLastInsertRowid();
  // The statistics count an answer as planned, as the planner does each bulk message (migration
  // 0010); the enqueuer and the results applier count the rest of its way.
  if (auto facts = OutboxRowReader(db).read(id)) {
    StatsDeltas planned;
    ++planned.at(facts->key).planned;
    planned.apply(db);
  }
  return id;
}

}  // namespace loa::campaigns
