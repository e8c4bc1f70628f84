// The REST API's endpoint groups, one file each (engine/api_<group>.cpp), and the few
// endpoints about the API itself. A new group: a file with `void add_<group>_endpoints(Router&,
// const Services&)`, declared and called here.
#include <boost/json/value.hpp>

#include "engine/api.hpp"
#include "engine/api_services.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;

void add_campaign_endpoints(Router& router, const Services& services);
void add_contact_endpoints(Router& router, const Services& services);
void add_inbox_endpoints(Router& router, const Services& services);
void add_message_endpoints(Router& router, const Services& services);
void add_route_endpoints(Router& router, const Services& services);
void add_stats_endpoints(Router& router, const Services& services);
void add_template_endpoints(Router& router, const Services& services);

void add_endpoints(Router& router, const Services& services) {
  add_campaign_endpoints(router, services);
  add_contact_endpoints(router, services);
  add_inbox_endpoints(router, services);
  add_message_endpoints(router, services);
  add_route_endpoints(router, services);
  add_stats_endpoints(router, services);
  add_template_endpoints(router, services);
  router.add({http::verb::get, "/whoami", ApiRole::kViewer, "The token's name and role",
              R"json({"responses":{"200":{"description":"{\"name\":\"…\",\"role\":\"viewer\"}"}}})json",
              [](Request& req) {
                return Response::json(json::object{{"id", req.caller.id},
                                                   {"name", req.caller.name},
                                                   {"role", to_string(req.caller.role)}});
              }});
}

}  // namespace loa::engine::api
