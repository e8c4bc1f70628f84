// REST: messages (outbox rows). Search by phone, campaign or status; retry the failed ones.
//
// A retry puts a failed message back to `planned` with its attempts cleared, and the enqueuer
// sends it again while its campaign runs and before it expires. A message some gateway
// accepted (sent_at set) is never retried: its id is marked sent in Redis, and sending it
// twice would break "at most once in effect" (DESIGN.md 3.2). A message its route settled
// otherwise carries a done mark there (engine/route_queue.hpp), which keeps a replay of the
// outbox from sending it again; the retry clears those marks first (so it needs Redis: 503
// without it), inside its transaction, so that the enqueuer cannot see the rows planned
// while their marks still stand.
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <charconv>
#include <future>
#include <map>

#include "campaigns/audit.hpp"
#include "campaigns/campaign.hpp"
#include "campaigns/phone.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/redis_client.hpp"
#include "engine/route_queue.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;
using namespace loa::campaigns;

namespace {

constexpr const char* kMessageColumns =
    "o.id, c.name, o.campaign_id, o.household_id, o.phone_e164, o.zalo_user_id, o.channel, "
    "o.fallback, o.route, o.language, o.state, o.attempts, o.last_error, o.units, o.cost_vnd, "
    "o.priority, o.created_at, o.updated_at, o.sent_at, o.delivered_at, o.provider_id, "
    "o.expires_at, o.body";
constexpr const char* kStates[] = {"planned", "queued",  "sent",      "delivered",
                                   "failed",  "expired", "cancelled", "unknown"};
constexpr std::int64_t kMaxRetryBatch = 100000;  // messages one retry call may touch

json::object message_json(SQLite::Statement& st) {
  auto text = [&st](int i) -> json::value {
    return st.getColumn(i).isNull() ? json::value(nullptr)
                                    : json::value(st.getColumn(i).getString());
  };
  return json::object{{"id", st.getColumn(0).getInt64()},
                      {"campaign", text(1)},
                      {"campaign_id", st.getColumn(2).getInt64()},
                      {"household_id", st.getColumn(3).getInt64()},
                      {"phone", text(4)},
                      {"zalo_user_id", text(5)},
                      {"channel", text(6)},
                      {"fallback", text(7)},
                      {"route", text(8)},
                      {"language", text(9)},
                      {"state", text(10)},
                      {"attempts", st.getColumn(11).getInt64()},
                      {"last_error", text(12)},
                      {"units", st.getColumn(13).getInt64()},
                      {"cost_vnd", st.getColumn(14).getInt64()},
                      {"priority", text(15)},
                      {"created_at", text(16)},
                      {"updated_at", text(17)},
                      {"sent_at", text(18)},
                      {"delivered_at", text(19)},
                      {"provider_id", text(20)},
                      {"expires_at", text(21)},
                      {"body", text(22)}};
}

std::string checked_state(const std::optional<std::string>& state, const std::string& parameter) {
  if (!state) return {};
  for (const char* s : kStates)
    if (*state == s) return *state;
  throw ApiError(400,
                 "unknown status '" + *state +
                     "' (planned, queued, sent, delivered, failed, expired, cancelled, unknown)",
                 {}, parameter);
}

std::string checked_phone(const std::string& raw, const std::string& where, bool in_body) {
  const PhoneResult p = normalize_phone(raw);
  if (!p.ok()) {
    const std::string why = "'" + raw + "' is not a mobile number: " +
                            std::string(phone_error_message(p.error));
    if (in_body) throw ApiError(400, why, where);
    throw ApiError(400, why, {}, where);
  }
  return p.e164;
}

}  // namespace

void add_message_endpoints(Router& router, const Services& services) {
  const Services s = services;
  router.add({http::verb::get, "/messages", ApiRole::kViewer,
              "Search messages by phone, campaign or status (newest ids last)",
              R"json({"parameters":[
                  {"name":"phone","in":"query","schema":{"type":"string"},"description":"any spelling: 0912 345 678, +84912345678"},
                  {"name":"campaign","in":"query","schema":{"type":"string"}},
                  {"name":"status","in":"query","schema":{"type":"string","enum":["planned","queued","sent","delivered","failed","expired","cancelled","unknown"]}},
                  {"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":500}},
                  {"name":"cursor","in":"query","schema":{"type":"string"}}],
                 "responses":{"200":{"description":"{items: [message], next_cursor}"}}})json",
              [](Request& req) {
                const Page page = req.page();
                const std::string status = checked_state(req.query("status"), "status");
                std::string phone;
                if (auto p = req.query("phone")) phone = checked_phone(*p, "phone", false);
                std::optional<std::int64_t> campaign_id;
                if (auto name = req.query("campaign")) {
                  auto c = find_campaign(req.db(), *name);
                  if (!c) throw ApiError(404, "no campaign named '" + *name + "'", {}, "campaign");
                  campaign_id = c->id;
                }
                std::string sql = std::string("SELECT ") + kMessageColumns +
                                  " FROM outbox o JOIN campaigns c ON c.id = o.campaign_id "
                                  "WHERE o.id > ?";
                // By household first: the outbox_household index finds a phone's messages.
                if (!phone.empty())
                  sql += " AND o.household_id IN (SELECT id FROM households WHERE phone_e164 = ?)"
                         " AND o.phone_e164 = ?";
                if (campaign_id) sql += " AND o.campaign_id = ?";
                if (!status.empty()) sql += " AND o.state = ?";
                sql += " ORDER BY o.id LIMIT ?";
                SQLite::Statement st(req.db(), sql);
                int i = 1;
                st.bind(i++, page.after);
                if (!phone.empty()) {
                  st.bind(i++, phone);
                  st.bind(i++, phone);
                }
                if (campaign_id) st.bind(i++, *campaign_id);
                if (!status.empty()) st.bind(i++, status);
                st.bind(i++, page.limit);
                json::array items;
                std::int64_t last = 0;
                while (st.executeStep()) {
                  last = st.getColumn(0).getInt64();
                  items.push_back(message_json(st));
                }
                return Response::json(paged(std::move(items), page, last));
              }});

  router.add({http::verb::get, "/messages/{id}", ApiRole::kViewer, "One message",
              R"json({"responses":{"200":{"description":"the message"},"404":{"$ref":"#/components/responses/NotFound"}}})json",
              [](Request& req) {
                const std::string& text = req.param("id");
                std::int64_t id = 0;
                auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
                if (ec != std::errc() || p != text.data() + text.size())
                  throw ApiError(404, "no message with id '" + text + "'");
                SQLite::Statement st(req.db(), std::string("SELECT ") + kMessageColumns +
                                                   " FROM outbox o JOIN campaigns c ON c.id = "
                                                   "o.campaign_id WHERE o.id = ?");
                st.bind(1, id);
                if (!st.executeStep()) throw ApiError(404, "no message with id " + text);
                return Response::json(message_json(st));
              }});

  router.add({http::verb::post, "/messages/retry", ApiRole::kOperator,
              "Retry failed messages that no gateway accepted, of a campaign that still runs",
              R"json({"requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["campaign"],"properties":{
                   "campaign":{"type":"string"},
                   "reason":{"type":"string","description":"only messages that failed with this last error"},
                   "phone":{"type":"string"},
                   "ids":{"type":"array","items":{"type":"integer"}}},"additionalProperties":false}}}},
                 "responses":{"200":{"description":"{campaign, retried, skipped_sent, skipped_expired}"},
                              "404":{"$ref":"#/components/responses/NotFound"},
                              "409":{"description":"the campaign is not scheduled, running or paused"}}})json",
              [s](Request& req) {
                JsonFields f(req.json_body(), "");
                const std::string name = f.required_string("campaign");
                const auto reason = f.optional_string("reason");
                std::string phone;
                if (auto p = f.optional_string("phone")) phone = checked_phone(*p, "/phone", true);
                const std::vector<std::int64_t> ids =
                    f.optional_ints("ids", 1, INT64_MAX).value_or(std::vector<std::int64_t>{});
                if (ids.size() > 10000) throw ApiError(400, "at most 10000 ids", "/ids");
                f.finish();
                auto& db = req.db();
                auto c = find_campaign(db, name);
                if (!c) throw ApiError(404, "no campaign named '" + name + "'", "/campaign");
                if (c->state != CampaignState::kRunning && c->state != CampaignState::kPaused &&
                    c->state != CampaignState::kScheduled)
                  throw ApiError(409, "campaign '" + name + "' is " +
                                          std::string(to_string(c->state)) +
                                          "; only a scheduled, running or paused campaign's "
                                          "messages can be retried");
                std::string where = " FROM outbox WHERE campaign_id = ? AND state = 'failed'";
                if (reason) where += " AND last_error = ?";
                if (!phone.empty()) where += " AND phone_e164 = ?";
                if (!ids.empty()) {
                  where += " AND id IN (";
                  for (std::size_t k = 0; k < ids.size(); ++k) where += k ? ",?" : "?";
                  where += ")";
                }
                auto bind_where = [&](SQLite::Statement& st, int i) {
                  st.bind(i++, c->id);
                  if (reason) st.bind(i++, *reason);
                  if (!phone.empty()) st.bind(i++, phone);
                  for (auto id : ids) st.bind(i++, id);
                  return i;
                };
                SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
                // sql-trusted: `where` holds ? placeholders only, bound by bind_where
                SQLite::Statement counts(
                    db, "SELECT coalesce(sum(sent_at IS NOT NULL), 0), coalesce(sum(sent_at IS "
                        "NULL AND expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), 0)" +
                            where);
                bind_where(counts, 1);
                counts.executeStep();
                const auto skipped_sent = counts.getColumn(0).getInt64();
                const auto skipped_expired = counts.getColumn(1).getInt64();
                const std::string retryable =
                    where +
                    " AND sent_at IS NULL AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', "
                    "'now') ORDER BY id LIMIT ?";
                // The rows' done marks go first, by route (the same rows as the UPDATE's: one
                // IMMEDIATE transaction, ordered by id).
                std::map<std::string, std::vector<long long>> by_route;
                {
                  // sql-trusted: as above
                  SQLite::Statement rows(db, "SELECT id, route" + retryable);
                  rows.bind(bind_where(rows, 1), kMaxRetryBatch);
                  while (rows.executeStep())
                    by_route[rows.getColumn(1).getString()].push_back(rows.getColumn(0).getInt64());
                }
                if (!by_route.empty() && (!s.redis || !s.redis->connected()))
                  throw ApiError(503, "Redis is unreachable: a retry must clear the messages' "
                                      "marks in their route queues first");
                for (auto& [route, route_ids] : by_route) {
                  RouteQueue queue(s.redis, route);
                  auto cleared = boost::asio::co_spawn(
                      s.io, queue.forget_done(std::move(route_ids)), boost::asio::use_future);
                  if (cleared.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
                    throw ApiError(503, "Redis did not answer in time");
                  if (auto ec = cleared.get()) throw ApiError(503, "Redis: " + ec.message());
                }
                // sql-trusted: as above
                SQLite::Statement update(
                    db, "UPDATE outbox SET state = 'planned', attempts = 0, last_error = '', "
                        "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id IN (SELECT "
                        "id" + retryable + ")");
                update.bind(bind_where(update, 1), kMaxRetryBatch);
                const int retried = update.exec();
                record_audit(db, req.actor(), "messages.retry", "campaign:" + name,
                             std::to_string(retried) + " message(s)" +
                                 (reason ? ", reason " + *reason : std::string()));
                tx.commit();
                return Response::json(json::object{{"campaign", name},
                                                   {"retried", retried},
                                                   {"skipped_sent", skipped_sent},
                                                   {"skipped_expired", skipped_expired}});
              }});
}

}  // namespace loa::engine::api
