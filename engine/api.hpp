// The REST API under /api/v1: routing, bearer-token auth by role, JSON input checked field by
// field, bounded pagination, and the OpenAPI document built from the routes themselves.
// Endpoint groups live beside it, one file each: engine/api_contacts.cpp, api_campaigns.cpp,
// api_templates.cpp, api_messages.cpp, api_routes.cpp (and api_<group>.cpp for new ones);
// engine/api_tokens.* keeps the tokens, engine/daemon.cpp mounts the router.
//
// Adding an endpoint (one place, and the OpenAPI document comes with it):
//
//   router.add({http::verb::post, "/campaigns/{name}/pause", ApiRole::kOperator,
//               "Pause a campaign",
//               R"({"responses":{"200":{"description":"the campaign after the change"}}})",
//               [](api::Request& req) -> api::Response {
//                 SQLite::Database& db = req.db();           // a pooled connection
//                 const std::string& name = req.param("name");  // percent-decoded
//                 ...
//                 return api::Response::json(json::object{{"name", name}});
//               }});
//
//  - `path` is relative to /api/v1; `{x}` matches one path segment and is declared in the
//    OpenAPI document by itself. The fifth field is the rest of the OpenAPI operation as JSON
//    text (`parameters` for query parameters, `requestBody`, `responses`, `description`): it
//    is checked when the route is added (bad JSON or no 2xx response throws, so a test fails),
//    and 400/401/403 responses and the role (`x-loa-role`) are added to it. The test
//    tests/engine/api_openapi_integration_test.cpp calls every documented operation.
//  - Handlers run on the API's worker threads (http.api_workers), never on the io threads,
//    so they may block on SQLite. They return a Response or throw:
//      ApiError(status, message, path)   -> that status, {"error": message, "path": path}
//      campaigns::CampaignError, std::invalid_argument -> 400 {"error": what()}
//      SQLite busy or locked             -> 503; anything else -> 500 (logged, not shown)
//  - Error body, always JSON: {"error": "what is wrong", "path": "/audience/filter"}.
//    `path` is a JSON Pointer (RFC 6901) into the request body when the body is at fault; a
//    query parameter at fault is named by "parameter": "limit"; both are absent otherwise.
//  - Auth: `Authorization: Bearer <token>` (tokens from `loa token create --role R`). Missing
//    or unknown or revoked: 401 with `WWW-Authenticate: Bearer`. A role below the endpoint's
//    minimum (viewer < operator < admin): 403. Routes are matched first, so an unknown path is
//    404 and a known one with another method 405 (with Allow), whoever asks.
//  - Bodies: JSON objects, at most http.body_limit_bytes (413). Read them through JsonFields:
//    it names the path of a missing field, a wrong type or an unknown field (every field not
//    read when finish() is called is unknown). Upload endpoints (`upload = true`: a CSV
//    import) stream the body to a spool file, up to http.upload_limit_bytes, and get its path
//    in Request::upload; auth is checked on the header, before the body is read.
//  - Pagination: `?limit=` (1..kMaxPageLimit, default 50) and `?cursor=` (opaque; pass the
//    `next_cursor` of the previous page). Lists answer {"items": [...], "next_cursor": "…"}
//    with next_cursor null on the last page. Keyset pagination by id: stable under inserts.
//
// Thread-safety: add() and mount() before the server starts; afterwards the Router is
// immutable and every member is safe from any thread.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/api_tokens.hpp"
#include "engine/http_server.hpp"

namespace loa::engine::api {

namespace json = boost::json;

inline constexpr std::string_view kPrefix = "/api/v1";
inline constexpr std::int64_t kDefaultPageLimit = 50;
inline constexpr std::int64_t kMaxPageLimit = 500;

// The API layer's one error: a status and what to tell the caller.
class ApiError : public std::runtime_error {
 public:
  ApiError(unsigned status, std::string message, std::string path = {},
           std::string parameter = {})
      : std::runtime_error(std::move(message)),
        status_(status),
        path_(std::move(path)),
        parameter_(std::move(parameter)) {}
  unsigned status() const { return status_; }
  const std::string& path() const { return path_; }
  const std::string& parameter() const { return parameter_; }

 private:
  unsigned status_;
  std::string path_;
  std::string parameter_;
};

// Reads one JSON object, naming the JSON Pointer of whatever is wrong (400).
class JsonFields {
 public:
  // From a value the caller keeps alive, or (rvalue) one the JsonFields keeps; "" is the root.
  JsonFields(const json::value& value, std::string path);
  JsonFields(json::value&& value, std::string path);

  std::string required_string(std::string_view key);
  std::optional<std::string> optional_string(std::string_view key);
  std::optional<std::int64_t> optional_int(std::string_view key, std::int64_t min,
                                           std::int64_t max);
  std::optional<bool> optional_bool(std::string_view key);
  std::optional<std::vector<std::string>> optional_strings(std::string_view key);
  std::optional<std::vector<std::int64_t>> optional_ints(std::string_view key, std::int64_t min,
                                                         std::int64_t max);
  std::optional<JsonFields> optional_object(std::string_view key);
  bool has(std::string_view key) const;
  std::vector<std::string> keys() const;  // for free-form objects (e.g. variables)
  // Refuses the first field that no accessor read.
  void finish() const;
  std::string path_of(std::string_view key) const;

 private:
  void init(const json::value& value);
  const json::value* take(std::string_view key);
  std::shared_ptr<const json::value> owner_;  // keeps an rvalue root alive, shared by children
  const json::object* object_ = nullptr;
  std::string path_;
  std::vector<std::string> read_;
};

// Keyset pagination: items with id > after, at most limit of them.
struct Page {
  std::int64_t limit = kDefaultPageLimit;
  std::int64_t after = 0;
};

// A pool of read-write SQLite connections to the store, one per concurrent user.
class Connections {
 public:
  Connections(std::filesystem::path path, int busy_timeout_ms);
  class Lease {
   public:
    Lease(Connections* pool, std::unique_ptr<SQLite::Database> db)
        : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease();
    SQLite::Database& operator*() const { return *db_; }

   private:
    Connections* pool_;
    std::unique_ptr<SQLite::Database> db_;
  };
  Lease acquire();

 private:
  std::filesystem::path path_;
  int busy_timeout_ms_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_;  // guarded by mutex_
};

class Request {
 public:
  Request(const HttpRequest& request, Connections& connections)
      : http(request), connections_(connections) {}
  const HttpRequest& http;
  std::map<std::string, std::string> params;  // the {x} of the path, percent-decoded
  ApiToken caller;
  std::filesystem::path upload;  // upload endpoints: the spooled body

  const std::string& param(const std::string& name) const;
  // A path parameter that must be a positive id; 404 "no <what> with id '…'" otherwise.
  std::int64_t id_param(const std::string& name, std::string_view what) const;
  // A query parameter, percent-decoded; nullopt when absent.
  std::optional<std::string> query(std::string_view key) const;
  // An integer query parameter within [min, max] (400 naming it otherwise).
  std::optional<std::int64_t> query_int(std::string_view key, std::int64_t min,
                                        std::int64_t max) const;
  // The body as JSON (400 when it is not JSON; path "" names the whole body).
  json::value json_body() const;
  Page page() const;
  // "api:<token name>", the actor of audit rows.
  std::string actor() const { return "api:" + caller.name; }
  SQLite::Database& db();

 private:
  Connections& connections_;
  std::optional<Connections::Lease> lease_;
};

struct Response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(const json::value& value, unsigned status = 200);
};

// {"items": items, "next_cursor": "<id>" or null}: the cursor is the last item's id when the
// page is full.
json::object paged(json::array items, const Page& page, std::int64_t last_id);

using Handler = std::function<Response(Request&)>;

struct Endpoint {
  boost::beast::http::verb method;
  std::string path;                // relative to /api/v1: "/campaigns/{name}"
  std::optional<ApiRole> role;     // nullopt: public (only the OpenAPI document)
  std::string summary;
  std::string doc;                 // the rest of the OpenAPI operation, JSON text
  Handler handler;
  bool upload = false;
};

struct RouterOptions {
  std::filesystem::path store_path;
  int busy_timeout_ms = 5000;
  int workers = 2;
  std::filesystem::path spool_dir;
  std::uint64_t upload_limit = 256ull * 1024 * 1024;
  std::size_t max_waiting = 256;  // requests waiting for a worker before 503
};

class Router : public std::enable_shared_from_this<Router> {
 public:
  static std::shared_ptr<Router> create(RouterOptions options);
  ~Router();

  // Throws std::invalid_argument for a bad doc, a duplicated route or a bad path.
  void add(Endpoint endpoint);
  // Registers /api/v1/ (and the upload routes) on the server.
  void mount(HttpServer& server);
  // Waits for the requests in hand and stops the workers.
  void stop();

  const json::object& openapi() const { return openapi_; }
  Connections& connections() { return connections_; }

 private:
  explicit Router(RouterOptions options);
  struct Match;
  void handle(const HttpRequest& request, HttpRespond respond, std::filesystem::path upload);
  std::optional<Match> match(boost::beast::http::verb method, std::string_view path,
                             std::string& allow) const;
  // The caller, or an answer refusing it (401/403).
  std::optional<HttpResponse> authorize(const HttpRequest& request,
                                        const std::optional<ApiRole>& role, ApiToken& caller);
  HttpResponse run(const Endpoint& endpoint, Request& request);

  RouterOptions options_;
  Connections connections_;
  std::vector<Endpoint> endpoints_;
  json::object openapi_;
  boost::asio::thread_pool workers_;
  std::atomic<std::size_t> waiting_{0};
};

// Every endpoint group (engine/api_endpoints.cpp lists them; a new group is one line there).
struct Services;
void add_endpoints(Router& router, const Services& services);

// An error body: {"error": message[, "path": path][, "parameter": parameter]}.
std::string error_body(std::string_view message, std::string_view path = {},
                       std::string_view parameter = {});

}  // namespace loa::engine::api
