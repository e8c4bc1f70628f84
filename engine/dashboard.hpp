// The operators' dashboard, served by the daemon at `/` (engine/dashboard/*: HTML, CSS and
// JavaScript embedded in the binary at build time; nothing comes from a CDN, and the
// Content-Security-Policy forbids it). The page itself is public; everything it shows comes
// from /api/v1 with the token the user logs in with (kept in sessionStorage).
//
// Thread-safety: register before the server starts; the handlers read immutable data.
#pragma once

#include "engine/http_server.hpp"

namespace loa::engine {

// GET /, /dashboard/app.js and /dashboard/style.css.
void register_dashboard(HttpServer& server);

}  // namespace loa::engine
