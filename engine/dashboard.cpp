#include "engine/dashboard.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "engine/embedded.hpp"

namespace loa::engine {

namespace http = boost::beast::http;

void register_dashboard(HttpServer& server) {
  struct Asset {
    const char* url;
    const char* file;
    const char* type;
  };
  static constexpr Asset kAssets[] = {
      {"/", "dashboard/index.html", "text/html; charset=utf-8"},
      {"/dashboard/app.js", "dashboard/app.js", "text/javascript; charset=utf-8"},
      {"/dashboard/style.css", "dashboard/style.css", "text/css; charset=utf-8"},
  };
  for (const Asset& a : kAssets) {
    const std::string_view text = embedded_file(a.file);
    const std::string type = a.type;
    server.route(http::verb::get, a.url, [text, type](const HttpRequest&, HttpRespond respond) {
      HttpResponse res = make_response(200, std::string(text), type);
      // Only loa's own assets and API: no CDN, no inline script, no framing.
      res.set("Content-Security-Policy",
              "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
      res.set(http::field::cache_control, "no-cache");
      res.set("X-Content-Type-Options", "nosniff");
      respond(std::move(res));
    });
  }
}

}  // namespace loa::engine
