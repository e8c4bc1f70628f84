#include "engine/api.hpp"

#include <spdlog/spdlog.h>

#include <SQLiteCpp/Exception.h>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "campaigns/campaign.hpp"
#include "engine/store.hpp"
#include "engine/version.hpp"

namespace loa::engine::api {

namespace http = boost::beast::http;
namespace fs = std::filesystem;

namespace {

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64: return "an integer";
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "?";
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    out.emplace_back(path.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

HttpResponse to_http(const Response& r) {
  auto res = make_response(r.status, r.body, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.prepare_payload();
  return res;
}

HttpResponse error_response(unsigned status, std::string_view message, std::string_view path = {},
                            std::string_view parameter = {}) {
  return make_response(status, error_body(message, path, parameter));
}

}  // namespace

std::string error_body(std::string_view message, std::string_view path,
                       std::string_view parameter) {
  json::object o{{"error", message}};
  if (!path.empty()) o["path"] = path;
  if (!parameter.empty()) o["parameter"] = parameter;
  return json::serialize(o);
}

// ---- JsonFields ----

JsonFields::JsonFields(json::value&& value, std::string path)
    : owner_(std::make_shared<const json::value>(std::move(value))), path_(std::move(path)) {
  init(*owner_);
}

JsonFields::JsonFields(const json::value& value, std::string path) : path_(std::move(path)) {
  init(value);
}

void JsonFields::init(const json::value& value) {
  object_ = value.if_object();
  if (!object_)
    throw ApiError(400, "expected an object, got " + std::string(kind_name(value)),
                   path_.empty() ? "/" : path_);
}

std::string JsonFields::path_of(std::string_view key) const {
  return path_ + "/" + pointer_token(key);
}

bool JsonFields::has(std::string_view key) const { return object_->contains(key); }

std::vector<std::string> JsonFields::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : *object_) out.emplace_back(k);
  return out;
}

const json::value* JsonFields::take(std::string_view key) {
  read_.emplace_back(key);
  const json::value* v = object_->if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::string JsonFields::required_string(std::string_view key) {
  auto v = optional_string(key);
  if (!v) throw ApiError(400, "missing required field '" + std::string(key) + "'", path_of(key));
  return *v;
}

std::optional<std::string> JsonFields::optional_string(std::string_view key) {
  const json::value* v = take(key);
  if (!v) return std::nullopt;
  if (!v->is_string())
    throw ApiError(400, "expected a string, got " + std::string(kind_name(*v)), path_of(key));
  return std::string(v->get_string());
}

std::optional<std::int64_t> JsonFields::optional_int(std::string_view key, std::int64_t min,
                                                     std::int64_t max) {
  const json::value* v = take(key);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  if (v->is_int64())
    n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max))
    n = static_cast<std::int64_t>(v->get_uint64());
  else if (v->is_uint64())
    n = max + (max < INT64_MAX ? 1 : 0);
  else
    throw ApiError(400, "expected an integer, got " + std::string(kind_name(*v)), path_of(key));
  if (n < min || n > max)
    throw ApiError(400,
                   "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                       ", got " + json::serialize(*v),
                   path_of(key));
  return n;
}

std::optional<bool> JsonFields::optional_bool(std::string_view key) {
  const json::value* v = take(key);
  if (!v) return std::nullopt;
  if (!v->is_bool())
    throw ApiError(400, "expected a boolean, got " + std::string(kind_name(*v)), path_of(key));
  return v->get_bool();
}

std::optional<std::vector<std::string>> JsonFields::optional_strings(std::string_view key) {
  const json::value* v = take(key);
  if (!v) return std::nullopt;
  if (!v->is_array())
    throw ApiError(400, "expected an array of strings, got " + std::string(kind_name(*v)),
                   path_of(key));
  std::vector<std::string> out;
  const auto& a = v->get_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string())
      throw ApiError(400, "expected a string, got " + std::string(kind_name(a[i])),
                     path_of(key) + "/" + std::to_string(i));
    out.emplace_back(a[i].get_string());
  }
  return out;
}

std::optional<std::vector<std::int64_t>> JsonFields::optional_ints(std::string_view key,
                                                                   std::int64_t min,
                                                                   std::int64_t max) {
  const json::value* v = take(key);
  if (!v) return std::nullopt;
  if (!v->is_array())
    throw ApiError(400, "expected an array of integers, got " + std::string(kind_name(*v)),
                   path_of(key));
  std::vector<std::int64_t> out;
  const auto& a = v->get_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string at = path_of(key) + "/" + std::to_string(i);
    if (!a[i].is_int64())
      throw ApiError(400, "expected an integer, got " + std::string(kind_name(a[i])), at);
    if (a[i].get_int64() < min || a[i].get_int64() > max)
      throw ApiError(400, "out of range", at);
    out.push_back(a[i].get_int64());
  }
  return out;
}

std::optional<JsonFields> JsonFields::optional_object(std::string_view key) {
  const json::value* v = take(key);
  if (!v) return std::nullopt;
  JsonFields child(*v, path_of(key));
  child.owner_ = owner_;
  return child;
}

void JsonFields::finish() const {
  for (const auto& [key, _] : *object_) {
    bool known = false;
    for (const auto& r : read_) known = known || r == key;
    if (!known)
      throw ApiError(400, "unknown field '" + std::string(key) + "'", path_of(key));
  }
}

// ---- Connections ----

Connections::Connections(fs::path path, int busy_timeout_ms)
    : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}

Connections::Lease Connections::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  return Lease(this, std::make_unique<SQLite::Database>(
                         open_store(path_, StoreMode::kReadWrite, busy_timeout_ms_)));
}

Connections::Lease::~Lease() {
  if (!db_) return;
  std::lock_guard lock(pool_->mutex_);
  pool_->idle_.push_back(std::move(db_));
}

// ---- Request and Response ----

const std::string& Request::param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) throw std::logic_error("no path parameter '" + name + "'");
  return it->second;
}

std::optional<std::string> Request::query(std::string_view key) const {
  std::string_view target = http.target();
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == key)
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::int64_t> Request::query_int(std::string_view key, std::int64_t min,
                                               std::int64_t max) const {
  auto text = query(key);
  if (!text) return std::nullopt;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc() || p != text->data() + text->size() || text->empty())
    throw ApiError(400, "expected an integer, got '" + *text + "'", {}, std::string(key));
  if (n < min || n > max)
    throw ApiError(400,
                   "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                       ", got " + *text,
                   {}, std::string(key));
  return n;
}

json::value Request::json_body() const {
  if (http.body().empty()) throw ApiError(400, "the request body must be a JSON object", "/");
  boost::system::error_code ec;
  json::value v = json::parse(http.body(), ec);
  if (ec) throw ApiError(400, "malformed JSON: " + ec.message(), "/");
  return v;
}

std::int64_t Request::id_param(const std::string& name, std::string_view what) const {
  const std::string& text = param(name);
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0)
    throw ApiError(404, "no " + std::string(what) + " with id '" + text + "'");
  return id;
}

Page Request::page() const {
  Page p;
  p.limit = query_int("limit", 1, kMaxPageLimit).value_or(kDefaultPageLimit);
  if (auto cursor = query("cursor")) {
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(cursor->data(), cursor->data() + cursor->size(), n);
    if (cursor->empty() || ec != std::errc() || ptr != cursor->data() + cursor->size() || n < 0)
      throw ApiError(400, "not a cursor from this API: '" + *cursor + "'", {}, "cursor");
    p.after = n;
  }
  return p;
}

SQLite::Database& Request::db() {
  if (!lease_) lease_.emplace(connections_.acquire());
  return **lease_;
}

Response Response::json(const json::value& value, unsigned status) {
  return Response{status, json::serialize(value), "application/json", {}};
}

json::object paged(json::array items, const Page& page, std::int64_t last_id) {
  const bool full = static_cast<std::int64_t>(items.size()) >= page.limit;
  json::object out{{"items", std::move(items)}};
  if (full)
    out["next_cursor"] = std::to_string(last_id);
  else
    out["next_cursor"] = nullptr;
  return out;
}

// ---- Router ----

struct Router::Match {
  const Endpoint* endpoint;
  std::map<std::string, std::string> params;
};

std::shared_ptr<Router> Router::create(RouterOptions options) {
  auto router = std::shared_ptr<Router>(new Router(std::move(options)));
  // The document itself is an endpoint, public, so that tools can read it before a token.
  std::weak_ptr<Router> weak = router;
  router->add({http::verb::get, "/openapi.json", std::nullopt, "This OpenAPI document",
               R"json({"responses":{"200":{"description":"OpenAPI 3.0 document"}}})json",
               [weak](Request&) {
                 auto self = weak.lock();
                 if (!self) throw ApiError(503, "the API is stopping");
                 return Response::json(self->openapi_);
               }});
  return router;
}

Router::Router(RouterOptions options)
    : options_(std::move(options)),
      connections_(options_.store_path, options_.busy_timeout_ms),
      workers_(static_cast<std::size_t>(std::max(1, options_.workers))) {
  const json::value error_schema = json::parse(R"json({
    "type":"object","required":["error"],
    "properties":{
      "error":{"type":"string","description":"what is wrong, for people"},
      "path":{"type":"string","description":"JSON Pointer into the request body, when the body is at fault"},
      "parameter":{"type":"string","description":"the query parameter at fault"}}})json");
  auto error_response_doc = [](const char* text) {
    return json::object{
        {"description", text},
        {"content",
         json::object{{"application/json",
                       json::object{{"schema", json::object{{"$ref",
                                                             "#/components/schemas/Error"}}}}}}}};
  };
  openapi_ = json::object{
      {"openapi", "3.0.3"},
      {"info",
       json::object{
           {"title", "loa REST API"},
           {"version", kVersion},
           {"description",
            "Campaigns, contacts, templates, messages and routes of loa. Authenticate with "
            "`Authorization: Bearer <token>` (`loa token create --role admin|operator|viewer`). "
            "Each operation's minimum role is in `x-loa-role` (viewer < operator < admin). "
            "Errors are {\"error\", \"path\"?, \"parameter\"?}. Lists take `limit` (1-500, "
            "default 50) and `cursor` (the previous page's `next_cursor`)."}}},
      {"servers", json::array{json::object{{"url", kPrefix}}}},
      {"security", json::array{json::object{{"bearer", json::array{}}}}},
      {"components",
       json::object{
           {"securitySchemes",
            json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}},
           {"schemas", json::object{{"Error", error_schema}}},
           {"responses",
            json::object{
                {"BadRequest", error_response_doc("bad input; `path` or `parameter` names it")},
                {"Unauthorized", error_response_doc("missing, unknown or revoked token")},
                {"Forbidden", error_response_doc("the token's role is below the endpoint's")},
                {"NotFound", error_response_doc("no such object")}}}}},
      {"paths", json::object{}}};
}

Router::~Router() { stop(); }

void Router::stop() {
  workers_.join();
}

void Router::add(Endpoint e) {
  if (e.path.empty() || e.path[0] != '/')
    throw std::invalid_argument("API path must start with '/': " + e.path);
  for (const auto& other : endpoints_)
    if (other.method == e.method && other.path == e.path)
      throw std::invalid_argument("API route added twice: " + e.path);
  boost::system::error_code ec;
  json::value doc = json::parse(e.doc.empty() ? "{}" : e.doc, ec);
  if (ec || !doc.is_object())
    throw std::invalid_argument("API " + e.path + ": the OpenAPI doc is not a JSON object");
  json::object& op = doc.as_object();
  if (e.summary.empty()) throw std::invalid_argument("API " + e.path + ": no summary");
  op["summary"] = e.summary;
  auto* responses = op.if_contains("responses");
  bool has_2xx = false;
  if (responses && responses->is_object())
    for (const auto& [code, _] : responses->get_object()) has_2xx = has_2xx || code.starts_with("2");
  if (!has_2xx) throw std::invalid_argument("API " + e.path + ": the doc has no 2xx response");
  json::object& resp = op["responses"].as_object();
  auto ref = [](const char* name) {
    return json::object{{"$ref", std::string("#/components/responses/") + name}};
  };
  if (!resp.contains("400")) resp["400"] = ref("BadRequest");
  if (e.role) {
    resp["401"] = ref("Unauthorized");
    resp["403"] = ref("Forbidden");
    op["x-loa-role"] = std::string(to_string(*e.role));
  } else {
    op["security"] = json::array{};
  }
  // Path parameters come from the template.
  json::array params;
  if (auto* given = op.if_contains("parameters"); given && given->is_array()) params = given->get_array();
  for (const auto& seg : split_path(e.path)) {
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      if (e.upload) throw std::invalid_argument("API upload paths take no parameters: " + e.path);
      params.push_back(json::object{{"name", seg.substr(1, seg.size() - 2)},
                                    {"in", "path"},
                                    {"required", true},
                                    {"schema", json::object{{"type", "string"}}}});
    }
  }
  if (!params.empty()) op["parameters"] = std::move(params);
  auto& paths = openapi_["paths"].as_object();
  auto& item = paths[e.path];
  if (!item.is_object()) item = json::object{};
  std::string verb(http::to_string(e.method));
  for (auto& c : verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  item.as_object()[verb] = std::move(doc);
  endpoints_.push_back(std::move(e));
}

std::optional<Router::Match> Router::match(http::verb method, std::string_view path,
                                           std::string& allow) const {
  const auto segs = split_path(path);
  std::optional<Match> found;
  for (const auto& e : endpoints_) {
    const auto tpl = split_path(e.path);
    if (tpl.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < tpl.size() && ok; ++i) {
      if (tpl[i].size() > 2 && tpl[i].front() == '{' && tpl[i].back() == '}') {
        if (segs[i].empty()) ok = false;
        params[tpl[i].substr(1, tpl[i].size() - 2)] = percent_decode(segs[i]);
      } else {
        ok = tpl[i] == segs[i];
      }
    }
    if (!ok) continue;
    if (e.method == method) {
      // A literal segment beats a parameter: "/campaigns/validate" over "/campaigns/{name}".
      if (!found || found->params.size() > params.size()) found = Match{&e, std::move(params)};
    } else {
      allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(e.method));
    }
  }
  return found;
}

std::optional<HttpResponse> Router::authorize(const HttpRequest& request,
                                              const std::optional<ApiRole>& role,
                                              ApiToken& caller) {
  if (!role) return std::nullopt;
  auto unauthorized = [](std::string_view why) {
    auto res = error_response(401, why);
    res.set(http::field::www_authenticate, "Bearer realm=\"loa\"");
    return res;
  };
  std::string_view header = request[http::field::authorization];
  if (header.empty()) return unauthorized("missing Authorization: Bearer <token>");
  if (header.size() < 7 || !boost::beast::iequals(header.substr(0, 7), "Bearer "))
    return unauthorized("the Authorization header must be 'Bearer <token>'");
  std::string_view secret = header.substr(7);
  while (!secret.empty() && secret.front() == ' ') secret.remove_prefix(1);
  auto lease = connections_.acquire();
  auto token = find_token(*lease, secret);
  if (!token) return unauthorized("unknown or revoked token");
  if (static_cast<int>(token->role) < static_cast<int>(*role))
    // The token's name stays out of the answer: it tells a caller holding a stolen token
    // whose it is.
    return error_response(403, "this needs the " + std::string(to_string(*role)) +
                                   " role; this token has the " +
                                   std::string(to_string(token->role)) + " role");
  caller = std::move(*token);
  return std::nullopt;
}

void Router::mount(HttpServer& server) {
  std::weak_ptr<Router> weak = shared_from_this();
  server.route_prefix(std::string(kPrefix) + "/", [weak](const HttpRequest& req, HttpRespond respond) {
    auto self = weak.lock();
    if (!self) return respond(error_response(503, "the API is stopping"));
    self->handle(req, std::move(respond), {});
  });
  for (const auto& e : endpoints_) {
    if (!e.upload) continue;
    HttpUploadRoute upload;
    upload.body_limit = options_.upload_limit;
    upload.spool_dir = options_.spool_dir;
    const std::optional<ApiRole> role = e.role;
    upload.admit = [weak, role](const HttpRequest& head) -> std::optional<HttpResponse> {
      auto self = weak.lock();
      if (!self) return error_response(503, "the API is stopping");
      ApiToken ignored;
      try {
        return self->authorize(head, role, ignored);
      } catch (const std::exception& ex) {
        spdlog::error("api: authorising an upload failed: {}", ex.what());
        return error_response(503, "cannot check the token now");
      }
    };
    upload.handle = [weak](const HttpRequest& head, fs::path file, HttpRespond respond) {
      auto self = weak.lock();
      if (!self) {
        std::error_code ec;
        fs::remove(file, ec);
        return respond(error_response(503, "the API is stopping"));
      }
      self->handle(head, std::move(respond), std::move(file));
    };
    server.upload_route(e.method, std::string(kPrefix) + e.path, std::move(upload));
  }
}

void Router::handle(const HttpRequest& request, HttpRespond respond, fs::path upload) {
  // Handlers block on SQLite, so they run on the workers; a full waiting line is 503.
  if (waiting_.load() >= options_.max_waiting) {
    std::error_code ec;
    if (!upload.empty()) fs::remove(upload, ec);
    return respond(error_response(503, "the API is busy; try again"));
  }
  ++waiting_;
  auto req = std::make_shared<HttpRequest>(request);
  boost::asio::post(workers_, [self = shared_from_this(), req, respond = std::move(respond),
                               upload = std::move(upload)]() mutable {
    --self->waiting_;
    std::string_view target = req->target();
    std::string path(target.substr(0, target.find('?')));
    path = path.substr(kPrefix.size());
    std::string allow;
    auto m = self->match(req->method(), path, allow);
    std::error_code ec;
    if (!m) {
      if (!upload.empty()) fs::remove(upload, ec);
      if (!allow.empty()) {
        auto res = error_response(405, "method not allowed");
        res.set(http::field::allow, allow);
        return respond(std::move(res));
      }
      return respond(error_response(404, "no such path: " + std::string(kPrefix) + path));
    }
    Request r(*req, self->connections_);
    r.params = std::move(m->params);
    r.upload = upload;
    HttpResponse res = self->run(*m->endpoint, r);
    if (!upload.empty()) fs::remove(upload, ec);  // before answering: the caller may look
    respond(std::move(res));
  });
}

HttpResponse Router::run(const Endpoint& endpoint, Request& request) {
  try {
    // Upload routes were authorised on the header too; this sees a token revoked meanwhile.
    if (auto refusal = authorize(request.http, endpoint.role, request.caller))
      return std::move(*refusal);
    return to_http(endpoint.handler(request));
  } catch (const ApiError& e) {
    return error_response(e.status(), e.what(), e.path(), e.parameter());
  } catch (const campaigns::CampaignError& e) {
    return error_response(400, e.what());
  } catch (const std::invalid_argument& e) {
    return error_response(400, e.what());
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode();
    if (code == 5 /* SQLITE_BUSY */ || code == 6 /* SQLITE_LOCKED */)
      return error_response(503, "the store is busy; try again");
    spdlog::error("api: {} {} failed: {}", std::string(request.http.method_string()),
                  std::string(request.http.target()), e.what());
    return error_response(500, "internal error");
  } catch (const std::exception& e) {
    spdlog::error("api: {} {} failed: {}", std::string(request.http.method_string()),
                  std::string(request.http.target()), e.what());
    return error_response(500, "internal error");
  }
}

}  // namespace loa::engine::api
