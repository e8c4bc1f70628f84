#include "campaigns/campaign.hpp"

#include "campaigns/stats_summary.hpp"

#include "campaigns/audit.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace loa::campaigns {
namespace {

constexpr std::array<std::string_view, 6> kStates = {"draft",     "scheduled", "running",
                                                     "paused",    "completed", "cancelled"};
constexpr std::array<std::string_view, 4> kRecurrences = {"none", "daily", "weekly", "monthly"};
constexpr std::array<std::string_view, 5> kRoundStates = {"pending", "expanding", "expanded",
                                                          "skipped", "cancelled"};
constexpr std::array<std::string_view, 3> kChannels = {"sms", "zalo_zns", "zalo_oa"};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string encode_variables(const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string out;
  for (const auto& [k, v] : vars) {
    out += k + "=";
    for (char c : v) out += c == '\n' ? ' ' : c;
    out += '\n';
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> decode_variables(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& line : split(text, '\n')) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

Campaign read_row(SQLite::Statement& st) {
  Campaign c;
  c.id = st.getColumn(0).getInt64();
  c.name = st.getColumn(1).getString();
  c.topic = st.getColumn(2).getString();
  c.template_key = st.getColumn(3).getString();
  c.audience = st.getColumn(4).getString();
  c.segment = st.getColumn(5).getString();
  c.channels = split(st.getColumn(6).getString(), ',');
  c.priority = st.getColumn(7).getString();
  c.start_at = parse_time(st.getColumn(8).getString()).value_or(TimePoint{});
  c.end_at = parse_time(st.getColumn(9).getString()).value_or(TimePoint{});
  c.recurrence = parse_recurrence(st.getColumn(10).getString()).value_or(Recurrence::kNone);
  c.quiet_hours = QuietHours::parse(st.getColumn(11).getString()).value_or(QuietHours{});
  c.frequency_cap = st.getColumn(12).getInt();
  c.frequency_window_days = st.getColumn(13).getInt();
  c.budget_vnd = st.getColumn(14).getInt64();
  c.variables = decode_variables(st.getColumn(15).getString());
  c.state = parse_campaign_state(st.getColumn(16).getString()).value_or(CampaignState::kDraft);
  return c;
}

constexpr const char* kSelect =
    "SELECT id, name, topic, template_key, audience, segment, channels, priority, start_at, "
    "end_at, recurrence, quiet_hours, frequency_cap, frequency_window_days, budget_vnd, "
    "variables, state FROM campaigns";

}  // namespace

std::string_view to_string(CampaignState s) { return kStates[static_cast<std::size_t>(s)]; }
std::optional<CampaignState> parse_campaign_state(std::string_view text) {
  for (std::size_t i = 0; i < kStates.size(); ++i)
    if (kStates[i] == text) return static_cast<CampaignState>(i);
  return std::nullopt;
}

bool transition_allowed(CampaignState from, CampaignState to) {
  using S = CampaignState;
  switch (from) {
    case S::kDraft: return to == S::kScheduled || to == S::kCancelled;
    case S::kScheduled:  // completed: its end passed before any round could run
      return to == S::kRunning || to == S::kPaused || to == S::kCompleted ||
             to == S::kCancelled;
    case S::kRunning:
      return to == S::kPaused || to == S::kCompleted || to == S::kCancelled;
    case S::kPaused:
      return to == S::kRunning || to == S::kScheduled || to == S::kCompleted ||
             to == S::kCancelled;
    case S::kCompleted:
    case S::kCancelled: return false;
  }
  return false;
}

std::string_view to_string(Recurrence r) { return kRecurrences[static_cast<std::size_t>(r)]; }
std::optional<Recurrence> parse_recurrence(std::string_view text) {
  for (std::size_t i = 0; i < kRecurrences.size(); ++i)
    if (kRecurrences[i] == text) return static_cast<Recurrence>(i);
  return std::nullopt;
}

std::string_view to_string(RoundState s) { return kRoundStates[static_cast<std::size_t>(s)]; }

std::optional<TimePoint> round_due(const Campaign& c, int number) {
  using namespace std::chrono;
  if (number < 1) return std::nullopt;
  if (c.recurrence == Recurrence::kNone && number > 1) return std::nullopt;
  TimePoint due = c.start_at;
  const int n = number - 1;
  switch (c.recurrence) {
    case Recurrence::kNone: break;
    case Recurrence::kDaily: due += days(n); break;
    case Recurrence::kWeekly: due += weeks(n); break;
    case Recurrence::kMonthly: {
      // The same local day of the month; a 31st in a 30-day month moves to its last day.
      const auto local = c.start_at + kVietnamOffset;
      const auto day = floor<days>(local);
      const year_month_day ymd{day};
      year_month next = year_month{ymd.year(), ymd.month()} + months(n);
      year_month_day target{next.year(), next.month(), ymd.day()};
      if (!target.ok()) target = year_month_day{year_month_day_last{next.year(), month_day_last{next.month()}}};
      due = TimePoint(sys_days(target).time_since_epoch() + (local - day) - kVietnamOffset);
      break;
    }
  }
  if (due >= c.end_at) return std::nullopt;
  return due;
}

Campaign parse_campaign_text(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw CampaignError(origin + ":" + std::to_string(e.source().begin.line) + ": " +
                        std::string(e.description()));
  }
  const toml::table* t = root["campaign"].as_table();
  if (!t) throw CampaignError(origin + ": no [campaign] table");
  auto at = [&](const toml::node& n) {
    return origin + ":" + std::to_string(n.source().begin.line);
  };
  static const std::array<std::string_view, 16> kKeys = {
      "name",       "topic",         "template",       "audience",   "segment",  "channels",
      "priority",   "start_at",      "end_at",         "recurrence", "quiet_hours",
      "frequency_cap", "frequency_window_days", "budget_vnd", "variables", "description"};
  for (const auto& [k, node] : *t)
    if (std::find(kKeys.begin(), kKeys.end(), k.str()) == kKeys.end())
      throw CampaignError(at(node) + ": unknown key 'campaign." + std::string(k.str()) + "'");

  Campaign c;
  auto str = [&](std::string_view key, bool required) -> std::string {
    const toml::node* n = t->get(key);
    if (!n) {
      if (required) throw CampaignError(origin + ": missing key 'campaign." + std::string(key) + "'");
      return {};
    }
    if (!n->is_string())
      throw CampaignError(at(*n) + ": key 'campaign." + std::string(key) + "' must be a string");
    return n->as_string()->get();
  };
  auto time = [&](std::string_view key) {
    const std::string v = str(key, true);
    auto tp = parse_time(v);
    if (!tp)
      throw CampaignError(at(*t->get(key)) + ": key 'campaign." + std::string(key) + "': '" + v +
                          "' is not a time like 2026-12-01T08:00:00+07:00");
    return *tp;
  };
  auto integer = [&](std::string_view key, std::int64_t def, std::int64_t min, std::int64_t max) {
    const toml::node* n = t->get(key);
    if (!n) return def;
    if (!n->is_integer())
      throw CampaignError(at(*n) + ": key 'campaign." + std::string(key) + "' must be an integer");
    const auto v = n->as_integer()->get();
    if (v < min || v > max)
      throw CampaignError(at(*n) + ": key 'campaign." + std::string(key) + "' must be between " +
                          std::to_string(min) + " and " + std::to_string(max));
    return v;
  };

  c.name = str("name", true);
  if (c.name.empty() || c.name.size() > 100)
    throw CampaignError(at(*t->get("name")) + ": key 'campaign.name' must be 1-100 characters");
  c.topic = str("topic", false);
  c.template_key = str("template", true);
  c.audience = str("audience", false);
  c.segment = str("segment", false);
  if (!c.audience.empty() && !c.segment.empty())
    throw CampaignError(origin + ": give either campaign.audience or campaign.segment, not both");
  if (const toml::node* n = t->get("channels")) {
    const toml::array* a = n->as_array();
    if (!a || a->empty())
      throw CampaignError(at(*n) + ": key 'campaign.channels' must be a list like [\"zalo_zns\", \"sms\"]");
    c.channels.clear();
    for (const auto& item : *a) {
      if (!item.is_string())
        throw CampaignError(at(item) + ": key 'campaign.channels' holds a non-string");
      const std::string ch = item.as_string()->get();
      if (std::find(kChannels.begin(), kChannels.end(), ch) == kChannels.end())
        throw CampaignError(at(item) + ": unknown channel '" + ch +
                            "' (channels: sms, zalo_zns, zalo_oa)");
      if (std::find(c.channels.begin(), c.channels.end(), ch) != c.channels.end())
        throw CampaignError(at(item) + ": channel '" + ch + "' is listed twice");
      c.channels.push_back(ch);
    }
  }
  c.priority = str("priority", false);
  if (c.priority.empty()) c.priority = "bulk";
  if (c.priority != "bulk" && c.priority != "transactional")
    throw CampaignError(at(*t->get("priority")) +
                        ": key 'campaign.priority' must be bulk or transactional");
  c.start_at = time("start_at");
  if (!t->get("end_at"))
    throw CampaignError(origin + ": missing key 'campaign.end_at': every campaign ends (messages "
                                 "not sent by then expire)");
  c.end_at = time("end_at");
  if (c.end_at <= c.start_at)
    throw CampaignError(at(*t->get("end_at")) + ": campaign.end_at (" + format_time(c.end_at) +
                        ") must be after campaign.start_at (" + format_time(c.start_at) + ")");
  const std::string rec = str("recurrence", false);
  if (!rec.empty()) {
    auto r = parse_recurrence(rec);
    if (!r)
      throw CampaignError(at(*t->get("recurrence")) +
                          ": key 'campaign.recurrence' must be none, daily, weekly or monthly");
    c.recurrence = *r;
  }
  const std::string quiet = str("quiet_hours", false);
  if (!quiet.empty()) {
    auto q = QuietHours::parse(quiet);
    if (!q)
      throw CampaignError(at(*t->get("quiet_hours")) +
                          ": key 'campaign.quiet_hours' must look like 21:00-07:00");
    c.quiet_hours = *q;
  }
  c.frequency_cap = static_cast<int>(integer("frequency_cap", 0, 0, 100));
  c.frequency_window_days = static_cast<int>(integer("frequency_window_days", 7, 1, 366));
  c.budget_vnd = integer("budget_vnd", 0, 0, 1'000'000'000'000);
  if (const toml::node* n = t->get("variables")) {
    const toml::table* vars = n->as_table();
    if (!vars) throw CampaignError(at(*n) + ": [campaign.variables] must be a table");
    for (const auto& [k, v] : *vars) {
      if (!v.is_string())
        throw CampaignError(at(v) + ": campaign.variables." + std::string(k.str()) +
                            " must be a string");
      c.variables.emplace_back(std::string(k.str()), v.as_string()->get());
    }
  }
  return c;
}

Campaign parse_campaign_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CampaignError(path + ": cannot read the campaign file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_campaign_text(text.str(), path);
}

namespace {
// Binds every column but name, id and state, from `first` on, in the order of the table.
void bind_settings(SQLite::Statement& st, const Campaign& c, int first) {
  int i = first;
  st.bind(i++, c.topic);
  st.bind(i++, c.template_key);
  st.bind(i++, c.audience);
  st.bind(i++, c.segment);
  st.bind(i++, join(c.channels, ","));
  st.bind(i++, c.priority);
  st.bind(i++, format_time(c.start_at));
  st.bind(i++, format_time(c.end_at));
  st.bind(i++, std::string(to_string(c.recurrence)));
  st.bind(i++, c.quiet_hours.describe());
  st.bind(i++, c.frequency_cap);
  st.bind(i++, c.frequency_window_days);
  st.bind(i++, static_cast<std::int64_t>(c.budget_vnd));
  st.bind(i++, encode_variables(c.variables));
}
}  // namespace

std::int64_t create_campaign(SQLite::Database& db, const Campaign& c, const std::string& actor) {
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement exists(db, "SELECT 1 FROM campaigns WHERE name = ?");
  exists.bind(1, c.name);
  if (exists.executeStep())
    throw CampaignError("a campaign named '" + c.name + "' exists already");
  SQLite::Statement st(db,
                       "INSERT INTO campaigns(name, topic, template_key, audience, segment, "
                       "channels, priority, start_at, end_at, recurrence, quiet_hours, "
                       "frequency_cap, frequency_window_days, budget_vnd, variables, state) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'draft')");
  st.bind(1, c.name);
  bind_settings(st, c, 2);
  st.exec();
  const auto id = db.getLastInsertRowid();
  record_audit(db, actor, "campaign.create", "campaign:" + c.name, "draft");
  tx.commit();
  return id;
}

void update_draft(SQLite::Database& db, const Campaign& c, const std::string& actor) {
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement state(db, "SELECT state FROM campaigns WHERE id = ?");
  state.bind(1, c.id);
  if (!state.executeStep()) throw CampaignError("no campaign with id " + std::to_string(c.id));
  if (state.getColumn(0).getString() != "draft")
    throw CampaignError("campaign '" + c.name + "' is " + state.getColumn(0).getString() +
                        "; only a draft can be changed");
  SQLite::Statement st(db,
                       "UPDATE campaigns SET topic = ?, template_key = ?, audience = ?, "
                       "segment = ?, channels = ?, priority = ?, start_at = ?, end_at = ?, "
                       "recurrence = ?, quiet_hours = ?, frequency_cap = ?, "
                       "frequency_window_days = ?, budget_vnd = ?, variables = ?, "
                       "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");
  bind_settings(st, c, 1);
  st.bind(15, c.id);
  st.exec();
  record_audit(db, actor, "campaign.update", "campaign:" + c.name, "draft");
  tx.commit();
}

void delete_draft(SQLite::Database& db, const Campaign& c, const std::string& actor) {
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement st(db, "DELETE FROM campaigns WHERE id = ? AND state = 'draft' AND NOT "
                           "EXISTS (SELECT 1 FROM rounds WHERE campaign_id = campaigns.id)");
  st.bind(1, c.id);
  if (st.exec() == 0)
    throw CampaignError("campaign '" + c.name +
                        "' is not a draft; cancel it instead (its record stays)");
  record_audit(db, actor, "campaign.delete", "campaign:" + c.name, "draft");
  tx.commit();
}

std::optional<Campaign> find_campaign(SQLite::Database& db, const std::string& name) {
  SQLite::Statement st(db, std::string(kSelect) + " WHERE name = ?");
  st.bind(1, name);
  if (!st.executeStep()) return std::nullopt;
  return read_row(st);
}

std::optional<Campaign> find_campaign(SQLite::Database& db, std::int64_t id) {
  SQLite::Statement st(db, std::string(kSelect) + " WHERE id = ?");
  st.bind(1, id);
  if (!st.executeStep()) return std::nullopt;
  return read_row(st);
}

std::vector<Campaign> list_campaigns(SQLite::Database& db) {
  std::vector<Campaign> out;
  SQLite::Statement st(db, std::string(kSelect) + " ORDER BY id");
  while (st.executeStep()) out.push_back(read_row(st));
  return out;
}

void transition(SQLite::Database& db, std::int64_t campaign_id, CampaignState to,
                const std::string& actor, const std::string& why) {
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  auto c = find_campaign(db, campaign_id);
  if (!c) throw CampaignError("no campaign with id " + std::to_string(campaign_id));
  if (!transition_allowed(c->state, to))
    throw CampaignError("campaign '" + c->name + "' is " + std::string(to_string(c->state)) +
                        "; it cannot become " + std::string(to_string(to)));
  SQLite::Statement st(db,
                       "UPDATE campaigns SET state = ?, updated_at = "
                       "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");
  st.bind(1, std::string(to_string(to)));
  st.bind(2, campaign_id);
  st.exec();
  if (to == CampaignState::kCancelled) {
    // Cancel expires what is not yet sent.
    count_outbox_rows(db, "cancelled", "o.campaign_id = ? AND o.state IN ('planned', 'queued')",
                      [&](SQLite::Statement& s) { s.bind(1, campaign_id); });
    db.exec("UPDATE outbox SET state = 'cancelled', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', "
            "'now') WHERE campaign_id = " +
            std::to_string(campaign_id) + " AND state IN ('planned', 'queued')");
    db.exec("UPDATE rounds SET state = 'cancelled' WHERE campaign_id = " +
            std::to_string(campaign_id) + " AND state = 'pending'");
  }
  record_audit(db, actor, "campaign." + std::string(to_string(to)), "campaign:" + c->name,
        std::string(to_string(c->state)) + " -> " + std::string(to_string(to)) +
            (why.empty() ? "" : ": " + why));
  tx.commit();
}

Round ensure_round(SQLite::Database& db, const Campaign& c, int number) {
  const auto due = round_due(c, number);
  if (!due) throw CampaignError("campaign '" + c.name + "' has no round " + std::to_string(number));
  SQLite::Statement ins(db,
                        "INSERT OR IGNORE INTO rounds(campaign_id, number, due_at) VALUES (?,?,?)");
  ins.bind(1, c.id);
  ins.bind(2, number);
  ins.bind(3, format_time(*due));
  ins.exec();
  for (const auto& r : rounds_of(db, c.id))
    if (r.number == number) return r;
  throw CampaignError("round " + std::to_string(number) + " vanished");
}

std::vector<Round> rounds_of(SQLite::Database& db, std::int64_t campaign_id) {
  std::vector<Round> out;
  SQLite::Statement st(db,
                       "SELECT id, campaign_id, number, due_at, state, cursor, planned FROM rounds "
                       "WHERE campaign_id = ? ORDER BY number");
  st.bind(1, campaign_id);
  while (st.executeStep()) {
    Round r;
    r.id = st.getColumn(0).getInt64();
    r.campaign_id = st.getColumn(1).getInt64();
    r.number = st.getColumn(2).getInt();
    r.due_at = parse_time(st.getColumn(3).getString()).value_or(TimePoint{});
    const std::string state = st.getColumn(4).getString();
    for (std::size_t i = 0; i < kRoundStates.size(); ++i)
      if (kRoundStates[i] == state) r.state = static_cast<RoundState>(i);
    r.cursor = st.getColumn(5).getInt64();
    r.planned = st.getColumn(6).getInt64();
    out.push_back(r);
  }
  return out;
}

}  // namespace loa::campaigns
