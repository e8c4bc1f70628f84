#include "engine/inbox_json.hpp"

namespace loa::engine {

boost::json::object inbox_item_json(const campaigns::InboxItem& i) {
  namespace json = boost::json;
  return json::object{{"id", i.id},
                      {"received_at", i.received_at},
                      {"route", i.route},
                      {"phone", i.phone},
                      {"zalo_user", i.zalo_user},
                      {"text", i.text},
                      {"status", i.status},
                      {"rule", i.rule},
                      {"assigned_to", i.assigned_to},
                      {"household_id", i.household_id},
                      {"household_name", i.household_name},
                      {"household_code", i.household_code},
                      {"unknown_sender", i.unknown_sender},
                      {"language", i.language},
                      {"area", json::object{{"province", i.province},
                                            {"commune", i.commune},
                                            {"village", i.village}}},
                      {"campaign", i.campaign},
                      {"answer_message_id", i.answer_message_id},
                      {"answer_state", i.answer_state},
                      {"updated_at", i.updated_at}};
}

}  // namespace loa::engine
