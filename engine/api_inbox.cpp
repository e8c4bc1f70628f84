// The operator inbox over the REST API (campaigns/inbox.hpp, the same library as `loa inbox`):
// GET /inbox (filters, keyset pages newest first), GET /inbox/{id}, and, for operators,
// POST /inbox/{id}/assign, /reply and /close. A reply's answer is queued through the channel
// the household used, in the route's priority lane, exactly as `loa inbox reply`; the daemon's
// enqueuer sends it within a pass. Answers and closes are recorded as the token's actor
// ("api:<token name>").
#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <array>
#include <boost/json/value.hpp>

#include "campaigns/inbox.hpp"
#include "engine/api.hpp"
#include "engine/api_services.hpp"
#include "engine/config.hpp"
#include "engine/inbox_json.hpp"
#include "engine/template_settings.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;

namespace {

constexpr std::array<std::string_view, 6> kStatuses = {"new",      "handled",  "open",
                                                       "assigned", "answered", "closed"};

// "open,assigned" -> the statuses; 400 naming `status` for an unknown one.
std::vector<std::string> statuses_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string s = text.substr(start, comma - start);
    if (std::find(kStatuses.begin(), kStatuses.end(), s) == kStatuses.end())
      throw ApiError(400,
                     "unknown status '" + s +
                         "' (new, handled, open, assigned, answered, closed; comma-separated)",
                     {}, "status");
    out.push_back(std::move(s));
    start = comma + 1;
  }
  return out;
}

// The reply, or 404.
campaigns::InboxItem item_of(SQLite::Database& db, std::int64_t id) {
  auto item = campaigns::find_inbox_item(db, id);
  if (!item) throw ApiError(404, "no reply with id " + std::to_string(id));
  return *item;
}

// Runs `act` in an immediate transaction; the library's refusals become 409 (the reply's
// state forbids it) or 400 naming `text_path` (the answer itself is at fault).
template <typename Act>
auto in_transaction(SQLite::Database& db, std::int64_t id, const std::string& text_path, Act act) {
  item_of(db, id);
  try {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    auto result = act();
    tx.commit();
    return result;
  } catch (const campaigns::InboxError& e) {
    const std::string what = e.what();
    const bool text_at_fault = what.find("the answer") != std::string::npos;
    if (text_at_fault && !text_path.empty()) throw ApiError(400, what, text_path);
    throw ApiError(409, what);
  }
}

constexpr const char* kItemDoc =
    "{id, received_at, route, phone, zalo_user, text, status, rule, assigned_to, household_id, "
    "household_name, household_code, unknown_sender, language, area: {province, commune, "
    "village}, campaign, answer_message_id, answer_state, updated_at}";

}  // namespace

void add_inbox_endpoints(Router& router, const Services& services) {
  router.add(
      {http::verb::get, "/inbox", ApiRole::kViewer,
       "Household replies waiting for an operator, newest first",
       std::string(R"json({"parameters":[
         {"name":"status","in":"query","description":"comma-separated statuses: new, handled, open, assigned, answered, closed; default open,assigned","schema":{"type":"string"}},
         {"name":"campaign","in":"query","description":"only replies to this campaign (name)","schema":{"type":"string"}},
         {"name":"area","in":"query","description":"only households of this province, commune or village","schema":{"type":"string"}},
         {"name":"assignee","in":"query","description":"only replies assigned to this operator","schema":{"type":"string"}},
         {"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":500,"default":50}},
         {"name":"cursor","in":"query","description":"next_cursor of the previous page","schema":{"type":"string"}}],
       "responses":{"200":{"description":"{items: [item], next_cursor, counts: {status: n}}; an item: )json") +
           kItemDoc + R"json("}}})json",
       [](Request& req) {
         const Page page = req.page();
         campaigns::InboxFilter f;
         if (auto s = req.query("status")) f.statuses = statuses_of(*s);
         f.campaign = req.query("campaign").value_or("");
         f.area = req.query("area").value_or("");
         f.assigned_to = req.query("assignee").value_or("");
         f.limit = static_cast<int>(page.limit);
         f.after_id = page.after;
         json::array items;
         std::int64_t last = 0;
         for (const auto& i : campaigns::list_inbox(req.db(), f)) {
           items.push_back(inbox_item_json(i));
           last = i.id;
         }
         json::object out = paged(std::move(items), page, last);
         json::object counts;
         for (const auto& [status, n] : campaigns::inbox_counts(req.db())) counts[status] = n;
         out["counts"] = std::move(counts);
         return Response::json(out);
       }});

  router.add({http::verb::get, "/inbox/{id}", ApiRole::kViewer,
              "One reply, with its household and the state of its answer",
              std::string(R"json({"responses":{"200":{"description":")json") + kItemDoc +
                  R"json("},"404":{"description":"no such reply"}}})json",
              [](Request& req) {
                const std::int64_t id = req.id_param("id", "reply");
                return Response::json(inbox_item_json(item_of(req.db(), id)));
              }});

  router.add(
      {http::verb::post, "/inbox/{id}/assign", ApiRole::kOperator, "Assign a reply to an operator",
       R"json({"requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["operator"],"properties":{"operator":{"type":"string"}},"additionalProperties":false}}}},
       "responses":{"200":{"description":"the reply after the change"},"404":{"description":"no such reply"},"409":{"description":"the reply is not in the inbox (a rule handled it)"}}})json",
       [services](Request& req) {
         const std::int64_t id = req.id_param("id", "reply");
         JsonFields body(req.json_body(), "");
         const std::string who = body.required_string("operator");
         body.finish();
         if (who.empty()) throw ApiError(400, "operator is empty", "/operator");
         auto& db = req.db();
         in_transaction(db, id, "", [&] {
           campaigns::assign_reply(db, id, who, services.clock.now());
           return 0;
         });
         return Response::json(inbox_item_json(item_of(db, id)));
       }});

  router.add(
      {http::verb::post, "/inbox/{id}/reply", ApiRole::kOperator,
       "Answer a reply through the channel the household used, in the priority lane",
       R"json({"description":"Queues the answer as a message of the inbox campaign on the route the household wrote through (its priority lane); the daemon's enqueuer sends it within a pass. Recorded as the token's actor.",
       "requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["text"],"properties":{"text":{"type":"string"}},"additionalProperties":false}}}},
       "responses":{"200":{"description":"{reply: item, message: {id, route, channel, units}}"},"404":{"description":"no such reply"},"409":{"description":"the reply cannot be answered (handled by a rule, no usable address)"}}})json",
       [services](Request& req) {
         const std::int64_t id = req.id_param("id", "reply");
         JsonFields body(req.json_body(), "");
         const std::string text = body.required_string("text");
         body.finish();
         if (text.empty()) throw ApiError(400, "the answer is empty", "/text");
         auto& db = req.db();
         const std::string who = req.actor();
         const std::int64_t message = in_transaction(db, id, "/text", [&] {
           return campaigns::answer_reply(db, id, text, who, routes_from(services.config),
                                          services.clock.now(), carrier_routes(services.config));
         });
         SQLite::Statement st(db, "SELECT route, channel, units FROM outbox WHERE id = ?");
         st.bind(1, message);
         st.executeStep();
         return Response::json(json::object{
             {"reply", inbox_item_json(item_of(db, id))},
             {"message", json::object{{"id", message},
                                      {"route", st.getColumn(0).getString()},
                                      {"channel", st.getColumn(1).getString()},
                                      {"units", st.getColumn(2).getInt64()}}}});
       }});

  router.add({http::verb::post, "/inbox/{id}/close", ApiRole::kOperator,
              "Close a reply (no answer needed, or done)",
              R"json({"responses":{"200":{"description":"the reply after the change"},"404":{"description":"no such reply"},"409":{"description":"the reply is not in the inbox"}}})json",
              [services](Request& req) {
                const std::int64_t id = req.id_param("id", "reply");
                auto& db = req.db();
                const std::string who = req.actor();
                in_transaction(db, id, "", [&] {
                  campaigns::close_reply(db, id, who, services.clock.now());
                  return 0;
                });
                return Response::json(inbox_item_json(item_of(db, id)));
              }});
}

}  // namespace loa::engine::api
