#include "campaigns/planner.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <algorithm>
#include <thread>
#include <variant>

#include "campaigns/audience.hpp"
#include "campaigns/fault_point.hpp"
#include "templates/variables.hpp"

namespace loa::campaigns {
namespace {

void bind_params(SQLite::Statement& st, const SqlFilter& filter, int& index) {
  for (const auto& v : filter.params) {
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      st.bind(index++, static_cast<int64_t>(*n));
    } else {
      st.bind(index++, std::get<std::string>(v));
    }
  }
}

// Appends `text` as a JSON string, escaped exactly as boost::json::serialize escapes it (UTF-8
// passes through; quote, backslash and control characters are escaped), without building a
// json::object per message.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (b < 0x20) {
          out += "\\u00";
          out.push_back(kHex[b >> 4]);
          out.push_back(kHex[b & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// {"template_id":"…","template_data":{"name":"value",…}}: the ZNS body (vietnam-channels.md
// §1.1), parameters in the template's order.
std::string zns_body(const templates::RenderedMessage& m) {
  std::string out;
  out.reserve(64 + m.zns_template_id.size() + m.zns_data.size() * 48);
  out += "{\"template_id\":";
  append_json_string(out, m.zns_template_id);
  out += ",\"template_data\":{";
  for (std::size_t i = 0; i < m.zns_data.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_string(out, m.zns_data[i].first);
    out.push_back(':');
    append_json_string(out, m.zns_data[i].second);
  }
  out += "}}";
  return out;
}

}  // namespace

SqlFilter campaign_audience(SQLite::Database& db, const Campaign& c) {
  std::string expression = c.audience;
  if (!c.segment.empty()) {
    auto seg = find_segment(db, c.segment);
    if (!seg) throw CampaignError("campaign '" + c.name + "': no segment named '" + c.segment + "'");
    expression = seg->expression;
  }
  if (expression == "*") return SqlFilter{};  // every household, said explicitly
  if (expression.empty())
    throw CampaignError("campaign '" + c.name +
                        "' has no audience: set campaign.audience (a filter, or \"*\" for every "
                        "household) or campaign.segment");
  auto compiled = compile_filter(expression);
  if (!compiled.ok())
    throw CampaignError("campaign '" + c.name + "': audience filter error at column " +
                        std::to_string(compiled.error->column) + ": " + compiled.error->message);
  return compiled.sql;
}

Planner::Planner(SQLite::Database& db, const Campaign& campaign, SqlFilter audience,
                 PlannerSettings settings)
    : db_(db), campaign_(campaign), audience_(std::move(audience)), settings_(std::move(settings)) {
  templates::CampaignVariables vars = campaign_.variables;
  vars.emplace_back("name", campaign_.name);
  vars.emplace_back("topic", campaign_.topic);
  vars.emplace_back("end_date", format_time(campaign_.end_at).substr(0, 10));
  auto cleaned = templates::campaign_context(vars);
  if (!cleaned)
    throw CampaignError("campaign '" + campaign_.name + "': " + cleaned.error().message);
  campaign_context_ = std::move(cleaned.value());
  SQLite::Statement cats(db_, "SELECT code, label_vi FROM categories");
  while (cats.executeStep())
    category_labels_[cats.getColumn(0).getString()] = cats.getColumn(1).getString();
  select_ = std::make_unique<SQLite::Statement>(
      db_,
      "SELECT h.id, h.household_code, h.name, h.phone_e164, h.language, h.ethnicity, "
      "h.category, h.province, h.commune, h.village, h.district, h.has_zalo, h.zalo_user_id, "
      "h.consent_sms, h.consent_zalo, h.opt_out_sms, h.opt_out_zalo, h.carrier "
      // sql-trusted: the compiled audience filter (whitelisted columns, ? placeholders)
      "FROM households h WHERE h.id > ? AND " +
          audience_condition(audience_) + " ORDER BY h.id LIMIT ?");
}

PlanPage Planner::next_page(std::int64_t cursor) {
  PlanPage page;
  page.last_household_id = cursor;
  auto& st = *select_;
  st.reset();
  int index = 1;
  st.bind(index++, static_cast<int64_t>(cursor));
  bind_params(st, audience_, index);
  st.bind(index, static_cast<int64_t>(settings_.page_rows));
  templates::HouseholdVariables& vars = vars_;
  page_keys_.clear();
  std::vector<const std::string*> usable;  // the household's usable channels, in order
  // A column's text (NULL: "") into `out`, reusing its storage from household to household.
  const auto text = [&st](int column, std::string& out) {
    assign_column_text(out, st.getColumn(column));
  };
  std::string& phone = phone_;
  std::string& zalo_id = zalo_id_;
  while (st.executeStep()) {
    ++page.households;
    const std::int64_t id = st.getColumn(0).getInt64();
    page.last_household_id = id;
    text(3, phone);
    text(12, zalo_id);
    const bool has_zalo = st.getColumn(11).getInt() != 0 || !zalo_id.empty();
    const bool sms_ok = st.getColumn(13).getInt() != 0 && st.getColumn(15).getInt() == 0;
    const bool zalo_ok = st.getColumn(14).getInt() != 0 && st.getColumn(16).getInt() == 0;

    usable.clear();  // reused: no allocation per household
    for (const auto& ch : campaign_.channels) {
      if (ch == "sms" && !phone.empty() && sms_ok) usable.push_back(&ch);
      if (ch == "zalo_zns" && !phone.empty() && has_zalo && zalo_ok) usable.push_back(&ch);
      if (ch == "zalo_oa" && !zalo_id.empty() && zalo_ok) usable.push_back(&ch);
    }
    if (usable.empty()) {
      ++page.no_channel;
      continue;
    }
    if (settings_.dedupe_phones && *usable.front() != "zalo_oa" &&
        !phones_seen_.insert(std::hash<std::string>{}(phone)).second) {
      ++page.duplicate_phones;
      continue;
    }
    vars.id = std::to_string(id);
    text(1, vars.household_code);
    text(2, vars.name);
    text(4, vars.language);
    text(5, vars.ethnicity);
    text(6, vars.category);
    auto label = category_labels_.find(vars.category);
    vars.category_label = label == category_labels_.end() ? vars.category : label->second;
    text(7, vars.province);
    text(8, vars.commune);
    text(9, vars.village);
    text(10, vars.district);
    vars.has_zalo = has_zalo;

    const auto channel = templates::parse_channel(*usable.front()).value_or(templates::Channel::kSms);
    // One context for the whole pass, refilled per household (the campaign's values stay).
    if (auto failure = templates::fill_context(context_, vars, campaign_context_)) {
      ++page.unrenderable;
      if (stats_.render_errors.size() < 5)
        stats_.render_errors.push_back("household " + vars.id + ": " + failure->message);
      continue;
    }
    templates::RenderedMessage m = templates::render_message(
        *settings_.definition, channel, context_, vars.language, settings_.fallback,
        settings_.routes);
    stats_.languages.add(channel, m.language);
    if (!m.ok()) {
      ++page.unrenderable;
      if (stats_.render_errors.size() < 5)
        stats_.render_errors.push_back("household " + vars.id + ": " + m.errors.front());
      continue;
    }
    stats_.estimate.add(m);
    PlannedMessage pm;
    pm.household_id = id;
    pm.phone_e164 = phone;
    pm.zalo_user_id = zalo_id;
    pm.channel = *usable.front();
    for (std::size_t i = 1; i < usable.size(); ++i) {
      if (i > 1) pm.fallback += ',';
      pm.fallback += *usable[i];
    }
    pm.route = m.route;
    if (channel == templates::Channel::kSms && !settings_.carrier_routes.empty() &&
        !st.getColumn(17).isNull()) {
      auto carrier = settings_.carrier_routes.find(st.getColumn(17).getString());
      if (carrier != settings_.carrier_routes.end()) pm.route = carrier->second;
    }
    pm.language = m.language.language;
    if (channel == templates::Channel::kZaloZns) {
      pm.body = zns_body(m);
    } else {
      pm.body = m.text;
    }
    pm.units = static_cast<std::int64_t>(m.units);
    pm.cost_vnd = m.cost_vnd;
    {
      const std::string carrier = st.getColumn(17).isNull() ? "" : st.getColumn(17).getString();
      key_buffer_.clear();
      for (const std::string* part : std::initializer_list<const std::string*>{&pm.channel, &pm.route, &carrier, &vars.commune,
                                      &vars.district, &pm.language, &vars.category}) {
        key_buffer_ += *part;
        key_buffer_ += '\x1f';
      }
      auto [it, added] =
          page_keys_.try_emplace(key_buffer_, static_cast<std::uint32_t>(page.stats_keys.size()));
      if (added)
        page.stats_keys.push_back(StatsKey{0, {}, pm.channel, pm.route, carrier, vars.commune,
                                           vars.district, pm.language, vars.category});
      pm.stats_key = it->second;
    }
    ++stats_.by_channel[pm.channel];
    page.messages.push_back(std::move(pm));
  }
  st.reset();
  page.end = page.households < settings_.page_rows;
  stats_.households += page.households;
  stats_.no_channel += page.no_channel;
  stats_.unrenderable += page.unrenderable;
  stats_.duplicate_phones += page.duplicate_phones;
  return page;
}

PageWriteResult write_page(SQLite::Database& db, const Campaign& campaign, const Round& round,
                           const PlanPage& page, TimePoint now, StatsDeltas* planned_counts) {
  PageWriteResult result;
  const std::string created = format_time(now);
  const std::string expires = format_time(campaign.end_at);
  SQLite::Statement ins(db,
                        "INSERT OR IGNORE INTO outbox(round_id, campaign_id, household_id, "
                        "phone_e164, zalo_user_id, channel, fallback, route, language, body, "
                        "units, cost_vnd, priority, expires_at, created_at, updated_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  std::vector<long long> planned(page.stats_keys.size(), 0);  // per stats key
  for (const auto& m : page.messages) {
    ins.reset();
    ins.bind(1, round.id);
    ins.bind(2, campaign.id);
    ins.bind(3, m.household_id);
    if (m.phone_e164.empty()) ins.bind(4); else ins.bindNoCopy(4, m.phone_e164);
    if (m.zalo_user_id.empty()) ins.bind(5); else ins.bindNoCopy(5, m.zalo_user_id);
    ins.bindNoCopy(6, m.channel);
    ins.bindNoCopy(7, m.fallback);
    ins.bindNoCopy(8, m.route);
    ins.bindNoCopy(9, m.language);
    ins.bindNoCopy(10, m.body);
    ins.bind(11, static_cast<int64_t>(m.units));
    ins.bind(12, static_cast<int64_t>(m.cost_vnd));
    ins.bindNoCopy(13, campaign.priority);
    ins.bindNoCopy(14, expires);
    ins.bindNoCopy(15, created);
    ins.bindNoCopy(16, created);
    if (ins.exec() == 1) {
      ++result.inserted;
      if (m.stats_key < planned.size()) ++planned[m.stats_key];
    } else {
      ++result.duplicates;
    }
  }
  SQLite::Statement cur(db,
                        "UPDATE rounds SET cursor = ?, planned = planned + ?, skipped = skipped + "
                        "?, heartbeat_at = ? WHERE id = ?");
  cur.bind(1, static_cast<int64_t>(page.last_household_id));
  cur.bind(2, static_cast<int64_t>(result.inserted));
  cur.bind(3, static_cast<int64_t>(result.duplicates + page.no_channel + page.unrenderable));
  cur.bind(4, created);
  cur.bind(5, round.id);
  cur.exec();
  StatsDeltas own;
  StatsDeltas& deltas = planned_counts ? *planned_counts : own;
  const std::string day = created.substr(0, 10);  // format_time: local time, +07:00
  for (std::size_t i = 0; i < planned.size(); ++i) {
    if (planned[i] == 0) continue;
    StatsKey key = page.stats_keys[i];
    key.campaign_id = campaign.id;
    key.day = day;
    deltas.at(key).planned += planned[i];
  }
  if (!planned_counts) deltas.apply(db);
  return result;
}

std::optional<PlannedMessage> plan_household(SQLite::Database& db, const Campaign& campaign,
                                             std::int64_t household_id,
                                             std::vector<std::string> channels,
                                             PlannerSettings settings) {
  Campaign narrowed = campaign;
  narrowed.channels = std::move(channels);
  settings.page_rows = 1;
  settings.dedupe_phones = false;
  Planner planner(db, narrowed, SqlFilter{"h.id = ?", {SqlValue(household_id)}},
                  std::move(settings));
  PlanPage page = planner.next_page(household_id - 1);
  if (page.messages.empty()) return std::nullopt;
  return std::move(page.messages.front());
}

void finish_round(SQLite::Database& db, std::int64_t round_id) {
  SQLite::Statement st(db,
                       "UPDATE rounds SET state = 'expanded', expanded_at = "
                       "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");
  st.bind(1, round_id);
  st.exec();
}

}  // namespace loa::campaigns

namespace loa::campaigns {

ExpandResult expand_round(SQLite::Database& db, const Campaign& campaign, Round round,
                          PlannerSettings settings, const std::function<TimePoint()>& now,
                          const std::function<void(const ExpandResult&)>& progress,
                          const std::function<bool()>& keep_going) {
  // Two stages on two cores: this thread reads and renders pages through its own read-only
  // connection (a WAL snapshot), a writer thread stores them on `db`, one transaction a page.
  // At most two pages wait between them, so memory stays flat. The pages waiting when the
  // writer is ready go into one transaction (settings.commit_rows).
  // Used by this thread only: no SQLite mutex on every call (SQLITE_OPEN_NOMUTEX).
  SQLite::Database reader(db.getFilename(), SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX, 5000);
  const std::size_t planner_commit_rows = settings.commit_rows;
  const auto max_transaction = settings.max_transaction;
  Planner planner(reader, campaign, campaign_audience(db, campaign), std::move(settings));

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<PlanPage> queue;  // guarded by mutex
  bool produced_all = false;   // guarded by mutex
  bool stop = false;           // guarded by mutex: the writer stopped (pause, cancel, error)
  std::exception_ptr error;    // guarded by mutex
  ExpandResult result;         // written by the writer; read after join

  std::thread writer([&] {
    try {
      std::optional<SQLite::Transaction> tx;  // open while pages keep arriving
      std::size_t tx_rows = 0;
      std::chrono::steady_clock::time_point tx_started;
      const std::size_t commit_rows = std::max<std::size_t>(planner_commit_rows, 1);
      const auto tx_full = [&] {
        return tx_rows >= commit_rows ||
               std::chrono::steady_clock::now() - tx_started >= max_transaction;
      };
      // The statistics' planned counts of the transaction's pages, applied just before it
      // commits: one upsert per summary key and transaction instead of per key and page (a
      // page of 2,000 households touches over a thousand keys; most recur on the next page).
      StatsDeltas planned_counts;
      const auto commit = [&] {
        planned_counts.apply(db);
        LOA_FAULT_POINT("planner.commit");  // pages, counts and cursor written, not committed
        tx->commit();
        tx.reset();
        tx_rows = 0;
        if (progress) progress(result);
      };
      for (;;) {
        PlanPage page;
        {
          std::unique_lock lock(mutex);
          if (tx && (queue.empty() || tx_full())) {
            // Never wait for the renderer with the write lock held.
            lock.unlock();
            commit();
            lock.lock();
          }
          cv.wait(lock, [&] { return !queue.empty() || produced_all; });
          if (queue.empty()) return;
          page = std::move(queue.front());
          queue.pop_front();
        }
        cv.notify_all();
        if (!tx) {
          tx.emplace(db, SQLite::TransactionBehavior::IMMEDIATE);
          tx_started = std::chrono::steady_clock::now();
        }
        const auto current = find_campaign(db, campaign.id);
        const bool stopping = keep_going && !keep_going();
        if (stopping || !current ||
            (current->state != CampaignState::kScheduled &&
             current->state != CampaignState::kRunning)) {
          // Paused or shutting down: the round goes back to pending with its cursor, so a
          // resume or a restart picks it up at once. Cancelled (or gone): the round is over.
          const bool later = stopping || (current && current->state == CampaignState::kPaused);
          SQLite::Statement st(db, "UPDATE rounds SET state = ? WHERE id = ?");
          st.bind(1, later ? "pending" : "cancelled");
          st.bind(2, round.id);
          st.exec();
          commit();
          std::lock_guard lock(mutex);
          stop = true;
          cv.notify_all();
          return;
        }
        const PageWriteResult w = write_page(db, campaign, round, page, now(), &planned_counts);
        tx_rows += page.messages.size();
        round.cursor = page.last_household_id;
        result.planned += w.inserted;
        result.duplicates += w.duplicates;
        result.no_channel += page.no_channel;
        result.unrenderable += page.unrenderable;
        if (page.end) {
          finish_round(db, round.id);
          commit();
          result.finished = true;
        }
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      error = std::current_exception();
      stop = true;
      cv.notify_all();
    }
  });

  std::int64_t cursor = round.cursor;
  try {
    for (;;) {
      PlanPage page = planner.next_page(cursor);
      cursor = page.last_household_id;
      const bool end = page.end;
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return queue.size() < 2 || stop; });
      if (stop) break;
      queue.push_back(std::move(page));
      cv.notify_all();
      if (end) break;
    }
  } catch (...) {
    std::lock_guard lock(mutex);
    if (!error) error = std::current_exception();
  }
  {
    std::lock_guard lock(mutex);
    produced_all = true;
  }
  cv.notify_all();
  writer.join();
  if (error) std::rethrow_exception(error);
  return result;
}

}  // namespace loa::campaigns
