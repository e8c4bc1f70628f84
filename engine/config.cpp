#include "engine/config.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "adapters/registry.hpp"
#include "campaigns/reply_rules.hpp"
#include "templates/language_fallback.hpp"

namespace loa::engine {
namespace {

enum class Kind { kString, kInt, kReal };

// One configuration key: where it lives in Config, its bounds and its documentation.
struct KeySpec {
  std::string path;
  Kind kind = Kind::kString;
  std::string doc;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::vector<std::string> choices;  // kString: allowed values, empty for any
  std::function<std::string*(Config&)> str;
  std::function<int*(Config&)> num;
  std::function<double*(Config&)> real;
};

// Where one route's settings live in Config: the one map from route names to their parts.
struct RouteRef {
  int* rate = nullptr;
  RouteGatewayConfig* gateway = nullptr;
  int* enabled = nullptr;  // carrier routes only
};

RouteRef route_ref(Config& config, std::string_view route) {
  auto& r = config.routes;
  auto carrier = [](CarrierRouteConfig& c) {
    return RouteRef{&c.rate_per_second, &c.gateway, &c.enabled};
  };
  if (route == "sms") return {&r.sms.rate_per_second, &r.sms.gateway, nullptr};
  if (route == "sms_viettel") return carrier(r.sms_viettel);
  if (route == "sms_vinaphone") return carrier(r.sms_vinaphone);
  if (route == "sms_mobifone") return carrier(r.sms_mobifone);
  if (route == "zalo_zns") return {&r.zalo_zns.rate_per_second, &r.zalo_zns.gateway, nullptr};
  if (route == "zalo_oa") return {&r.zalo_oa.rate_per_second, &r.zalo_oa.gateway, nullptr};
  throw ConfigError("unknown route '" + std::string(route) +
                    "' (routes: sms, sms_viettel, sms_vinaphone, sms_mobifone, zalo_zns, "
                    "zalo_oa)");
}

std::string env_name(const std::string& path) {
  std::string out = "LOA_";
  for (char c : path) out += c == '.' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> specs = [] {
    std::vector<KeySpec> v;
    auto s = [&v](std::string path, auto section, auto member, std::string doc,
                  std::vector<std::string> choices = {}) {
      KeySpec k;
      k.path = std::move(path);
      k.kind = Kind::kString;
      k.doc = std::move(doc);
      k.choices = std::move(choices);
      k.str = [section, member](Config& c) { return &((c.*section).*member); };
      v.push_back(std::move(k));
    };
    auto n = [&v](std::string path, auto section, auto member, std::int64_t min,
                  std::int64_t max, std::string doc) {
      KeySpec k;
      k.path = std::move(path);
      k.kind = Kind::kInt;
      k.doc = std::move(doc);
      k.min = min;
      k.max = max;
      k.num = [section, member](Config& c) { return &((c.*section).*member); };
      v.push_back(std::move(k));
    };
    s("daemon.data_dir", &Config::daemon, &DaemonConfig::data_dir,
      "Directory for the SQLite store, the spawned Redis and reports");
    n("daemon.threads", &Config::daemon, &DaemonConfig::threads, 0, 256,
      "Threads running the io_context; 0 means one per core");
    n("daemon.unhealthy_after_ms", &Config::daemon, &DaemonConfig::unhealthy_after_ms, 100,
      86400000,
      "/healthz answers 503 once Redis or the store has been down this long, so that systemd "
      "or a load balancer notices");
    n("daemon.spool_max_bytes", &Config::daemon, &DaemonConfig::spool_max_bytes, 4096,
      1073741824,
      "Per route: the fsynced spool (<data_dir>/spool/<route>.spool) where webhook events wait "
      "while Redis is down; when full, webhooks answer 503 and gateways retry");
    s("log.level", &Config::log, &LogConfig::level, "Log level",
      {"trace", "debug", "info", "warn", "error", "critical", "off"});
    s("log.format", &Config::log, &LogConfig::format, "text for people, json for JSON lines",
      {"text", "json"});
    s("redis.url", &Config::redis, &RedisConfig::url,
      "spawn (a private redis-server child), redis://[:password@]host[:port][/db] or "
      "unix:///path");
    s("redis.server_binary", &Config::redis, &RedisConfig::server_binary,
      "redis-server executable for spawn mode (looked up in PATH)");
    n("redis.connect_timeout_ms", &Config::redis, &RedisConfig::connect_timeout_ms, 10, 600000,
      "Timeout for one connection attempt");
    n("redis.command_timeout_ms", &Config::redis, &RedisConfig::command_timeout_ms, 10, 600000,
      "Timeout for one command or pipeline");
    n("redis.reconnect_min_ms", &Config::redis, &RedisConfig::reconnect_min_ms, 10, 600000,
      "First reconnect delay; doubles up to reconnect_max_ms, with jitter");
    n("redis.reconnect_max_ms", &Config::redis, &RedisConfig::reconnect_max_ms, 10, 600000,
      "Longest reconnect delay");
    n("redis.max_pending", &Config::redis, &RedisConfig::max_pending, 1, 10000000,
      "Commands queued or in flight on one connection before new ones are refused");
    n("redis.restart_min_ms", &Config::redis, &RedisConfig::restart_min_ms, 10, 600000,
      "Spawn mode: first delay before restarting a redis-server that died; doubles up to "
      "restart_max_ms");
    n("redis.restart_max_ms", &Config::redis, &RedisConfig::restart_max_ms, 10, 600000,
      "Spawn mode: longest delay between restarts");
    n("redis.restart_attempts", &Config::redis, &RedisConfig::restart_attempts, 0, 1000,
      "Spawn mode: deaths or failed restarts tolerated within restart_window_ms; one more and "
      "loa exits non-zero (systemd restarts it)");
    n("redis.restart_window_ms", &Config::redis, &RedisConfig::restart_window_ms, 1000,
      86400000, "Spawn mode: the window over which restart_attempts counts");
    s("store.path", &Config::store, &StoreConfig::path,
      "SQLite database file; empty means <data_dir>/loa.db");
    n("store.batch_rows", &Config::store, &StoreConfig::batch_rows, 1, 1000000,
      "The store writer commits after this many writes...");
    n("store.batch_ms", &Config::store, &StoreConfig::batch_ms, 1, 60000,
      "...or after this many milliseconds, whichever comes first");
    n("store.queue_capacity", &Config::store, &StoreConfig::queue_capacity, 1, 10000000,
      "Writes waiting for the store writer before producers are pushed back");
    n("store.busy_timeout_ms", &Config::store, &StoreConfig::busy_timeout_ms, 0, 600000,
      "How long SQLite waits on a locked database");
    s("http.listen", &Config::http, &HttpConfig::listen,
      "host:port of the API, webhook, dashboard and health server");
    n("http.max_connections", &Config::http, &HttpConfig::max_connections, 1, 1000000,
      "Open connections before new ones get 503");
    n("http.header_limit_bytes", &Config::http, &HttpConfig::header_limit_bytes, 512, 1 << 20,
      "Largest request header block (431 beyond)");
    n("http.body_limit_bytes", &Config::http, &HttpConfig::body_limit_bytes, 0, 1 << 30,
      "Largest request body (413 beyond)");
    n("http.read_timeout_ms", &Config::http, &HttpConfig::read_timeout_ms, 10, 600000,
      "Time allowed to receive one request, and idle keep-alive time");
    n("http.shutdown_grace_ms", &Config::http, &HttpConfig::shutdown_grace_ms, 0, 600000,
      "On SIGTERM, how long requests in flight may take to finish");
    n("http.upload_limit_bytes", &Config::http, &HttpConfig::upload_limit_bytes, 1024, 1 << 30,
      "Largest streamed upload (a contact import CSV), spooled to <data_dir>/uploads (413 beyond)");
    n("http.api_workers", &Config::http, &HttpConfig::api_workers, 1, 64,
      "Threads that run REST API requests (they read and write SQLite)");
    n("http.header_timeout_ms", &Config::http, &HttpConfig::header_timeout_ms, 10, 600000,
      "Time allowed for a request's header block, however slowly it trickles in; the "
      "connection is closed beyond it (against slowloris)");
    n("http.max_connections_per_client", &Config::http, &HttpConfig::max_connections_per_client, 1,
      1000000,
      "Open connections from one client address before new ones from it get 503 (keep it "
      "above the callbacks a gateway such as Kannel has in flight: 256 seen)");
    n("http.reserved_connections", &Config::http, &HttpConfig::reserved_connections, 0, 10000,
      "Connections beyond http.max_connections that only /healthz and /readyz are served on, "
      "so that a full server still answers its probes");
    n("http.upload_spool_limit_bytes", &Config::http, &HttpConfig::upload_spool_limit_bytes, 1024,
      2147483647,
      "Bytes all uploads in progress may spool to <data_dir>/uploads together (each counts its "
      "Content-Length, or http.upload_limit_bytes when chunked); one more gets 503");
    n("http.linger_ms", &Config::http, &HttpConfig::linger_ms, 0, 600000,
      "After a refusal (413, 401 on an upload...) that leaves the request unread, how long the "
      "rest is read and discarded so that the client gets the answer instead of a reset");
    n("http.refusal_log_lines", &Config::http, &HttpConfig::refusal_log_lines, 0, 100000,
      "Refused requests logged per route and reason per interval; the rest are counted "
      "(loa_http_refused_total) and summed up in one line");
    n("http.refusal_log_interval_ms", &Config::http, &HttpConfig::refusal_log_interval_ms, 1000,
      86400000, "The interval of http.refusal_log_lines");
    // Nested sections ([routes.sms]) address their member through a small accessor.
    auto route_s = [&v](std::string path, auto member, std::string doc,
                        std::vector<std::string> choices) {
      KeySpec k;
      k.path = std::move(path);
      k.kind = Kind::kString;
      k.doc = std::move(doc);
      k.choices = std::move(choices);
      k.str = [member](Config& c) { return &(c.routes.sms.*member); };
      v.push_back(std::move(k));
    };
    auto route_n = [&v](std::string path, auto access, std::int64_t min, std::int64_t max,
                        std::string doc) {
      KeySpec k;
      k.path = std::move(path);
      k.kind = Kind::kInt;
      k.doc = std::move(doc);
      k.min = min;
      k.max = max;
      k.num = access;
      v.push_back(std::move(k));
    };
    s("languages.default", &Config::languages, &LanguageConfig::default_language,
      "Language of the last resort when a household's language has no template variant");
    s("languages.fallback", &Config::languages, &LanguageConfig::fallback,
      "Fallback chain as from:to pairs, e.g. rad:vi,cmo:vi,jra:vi (then languages.default)");
    route_s("routes.sms.policy", &SmsRouteConfig::policy,
            "unicode, ascii (without diacritics), auto (without diacritics when it saves "
            "segments) or gsm7_strict",
            {"unicode", "ascii", "auto", "gsm7_strict"});
    route_s("routes.sms.minority_letters", &SmsRouteConfig::minority_letters,
            "ascii policy: keep refuses text with Ê Đê/M'nông letters; strip maps them (ƀ→b) "
            "with a warning",
            {"keep", "strip"});
    route_n("routes.sms.max_segments",
            [](Config& c) { return &c.routes.sms.max_segments; }, 1, 255,
            "Longest SMS in segments; a longer text is a validation error");
    route_n("routes.sms.price_vnd_per_segment",
            [](Config& c) { return &c.routes.sms.price_vnd_per_segment; }, 0, 1000000,
            "Price of one SMS segment in VND, for estimates and previews (indicative default: "
            "set your contract's)");
    route_n("routes.zalo_zns.price_vnd_per_message",
            [](Config& c) { return &c.routes.zalo_zns.price_vnd_per_message; }, 0, 1000000,
            "Price of one ZNS message in VND (default: an unverified price hint)");
    route_n("routes.zalo_oa.price_vnd_per_message",
            [](Config& c) { return &c.routes.zalo_oa.price_vnd_per_message; }, 0, 1000000,
            "Price of one OA message in VND");
    s("replies.rules", &Config::replies, &RepliesConfig::rules,
      "Reply rules after the opt-out/opt-in/help keywords: name=regex:PATTERN or "
      "name=keyword:WORD|WORD, separated by ';' (matched on the text without diacritics, upper "
      "case)");
    s("replies.optout_template", &Config::replies, &RepliesConfig::optout_template,
      "Template that confirms an opt-out (TU CHOI, STOP), once, in the household's language");
    s("replies.optin_template", &Config::replies, &RepliesConfig::optin_template,
      "Template that confirms an opt-in (DK, START)");
    s("replies.help_template", &Config::replies, &RepliesConfig::help_template,
      "Template of the auto-reply to HOI / HELP");
    s("replies.reply_number", &Config::replies, &RepliesConfig::reply_number,
      "Number or short code named as {{campaign.reply_number}} in replies when neither the "
      "campaign nor routes.<route>.reply_number has one; with none, the reply templates "
      "phrase the sentence without a number");
    n("planner.page_rows", &Config::planner, &PlannerConfig::page_rows, 1, 100000,
      "Households the planner reads and renders per page (its memory, and how soon a pause "
      "is seen)");
    n("planner.commit_rows", &Config::planner, &PlannerConfig::commit_rows, 1, 1000000,
      "Outbox rows the planner commits per transaction at most: pages waiting for the store "
      "are written together, so the outbox's indexes are written back less often");
    n("planner.stale_after_seconds", &Config::planner, &PlannerConfig::stale_after_seconds, 1,
      86400, "A round whose planner stopped beating this long is resumed by another");
    // Rates: what the gateway account allows, in its cost unit (anchors.md: 10-1,000/s).
    route_n("routes.sms.rate_per_second",
            [](Config& c) { return &c.routes.sms.rate_per_second; }, 0, 100000,
            "SMS segments per second the gateway account allows (estimates, rate limit); "
            "0 = no limit");
    route_n("routes.zalo_zns.rate_per_second",
            [](Config& c) { return &c.routes.zalo_zns.rate_per_second; }, 0, 100000,
            "ZNS messages per second the OA allows; 0 = no limit");
    route_n("routes.zalo_oa.rate_per_second",
            [](Config& c) { return &c.routes.zalo_oa.rate_per_second; }, 0, 100000,
            "OA messages per second the OA allows; 0 = no limit");
    // Carrier routing: an SMS route per carrier, off unless enabled.
    for (const char* carrier : kCarrierRoutes) {
      const std::string route = std::string("sms_") + carrier;
      route_n("routes." + route + ".enabled",
              [route](Config& c) { return route_ref(c, route).enabled; }, 0, 1,
              std::string("1: the SMS of ") + carrier +
                  " numbers go through this route (its own gateway account and rate)");
      route_n("routes." + route + ".rate_per_second",
              [route](Config& c) { return route_ref(c, route).rate; }, 0,
              100000, "SMS segments per second this route's account allows; 0 = no limit");
    }
    // Each route's gateway, and the simulator's behaviour when that is the gateway.
    auto real = [&v](std::string path, std::function<double*(Config&)> access, std::string doc) {
      KeySpec k;
      k.path = std::move(path);
      k.kind = Kind::kReal;
      k.doc = std::move(doc);
      k.real = std::move(access);
      v.push_back(std::move(k));
    };
    for (const char* r : kRouteNames) {
      const std::string route = r;
      const std::string p = "routes." + route + ".";
      auto gw = [route](Config& c) -> RouteGatewayConfig& { return route_gateway(c, route); };
      KeySpec type;
      type.path = p + "gateway";
      type.doc = "Gateway adapter of this route: simulator (nothing reaches a phone), http, "
                 "esms, kannel, zalo_zns or zalo_oa; its settings go in [routes.<route>.options]";
      type.choices = adapters::gateway_types();
      type.str = [gw](Config& c) { return &gw(c).type; };
      v.push_back(std::move(type));
      KeySpec number;
      number.path = p + "reply_number";
      number.doc =
          "Number or short code households write to on this route's account; named "
          "in replies when their campaign sets no reply_number";
      number.str = [gw](Config& c) { return &gw(c).reply_number; };
      v.push_back(std::move(number));
      route_n(p + "burst", [gw](Config& c) { return &gw(c).burst; }, 1, 100000,
              "Units the route may send at once above its rate (1: every second stays "
              "within the rate plus one message)");
      route_n(
          p + "receipt_timeout_hours", [gw](Config& c) { return &gw(c).receipt_timeout_hours; }, 1,
          8760,
          "A message sent on this route with no delivery receipt after this many hours "
          "becomes 'unknown' (a final state; a later receipt still upgrades it)");
      route_n(
          p + "retry_unknown_after_s", [gw](Config& c) { return &gw(c).retry_unknown_after_s; }, 0,
          86400,
          "A send cut off after the request went out (the gateway may have it) is retried "
          "no sooner than this, nor before the breaker's cooldown ends, so its receipt can "
          "arrive and cancel the retry");
      route_n(p + "simulator.latency_ms",
              [gw](Config& c) { return &gw(c).simulator.latency_ms; }, 0, 600000,
              "Simulator: time the simulated gateway takes to answer a send");
      route_n(p + "simulator.receipt_delay_ms",
              [gw](Config& c) { return &gw(c).simulator.receipt_delay_ms; }, 0, 86400000,
              "Simulator: time from acceptance to the delivery receipt");
      real(p + "simulator.transient_failure_rate",
           [gw](Config& c) { return &gw(c).simulator.transient_failure_rate; },
           "Simulator: share of sends that fail and may be retried (0-1)");
      real(p + "simulator.permanent_failure_rate",
           [gw](Config& c) { return &gw(c).simulator.permanent_failure_rate; },
           "Simulator: share of sends refused for good, e.g. a bad number (0-1)");
      real(p + "simulator.unreachable_rate",
           [gw](Config& c) { return &gw(c).simulator.unreachable_rate; },
           "Simulator: share of sends answered 'no Zalo account' (0-1)");
      real(p + "simulator.throttled_rate",
           [gw](Config& c) { return &gw(c).simulator.throttled_rate; },
           "Simulator: share of sends answered 'slow down' (0-1)");
      real(p + "simulator.delivered_share",
           [gw](Config& c) { return &gw(c).simulator.delivered_share; },
           "Simulator: share of accepted messages whose receipt says delivered (0-1)");
      real(p + "simulator.reply_rate",
           [gw](Config& c) { return &gw(c).simulator.reply_rate; },
           "Simulator: share of delivered messages a household answers (0-1)");
    }
    auto d = [&n](std::string path, int DispatcherConfig::*member, std::int64_t min,
                  std::int64_t max, std::string doc) {
      n("dispatcher." + path, &Config::dispatcher, member, min, max, std::move(doc));
    };
    d("batch", &DispatcherConfig::batch, 1, 10000,
      "Messages popped, checked, sent and settled together");
    d("workers", &DispatcherConfig::workers, 1, 256, "Batches in flight per route and process");
    d("lease_ms", &DispatcherConfig::lease_ms, 1000, 3600000,
      "A popped message not settled in this time returns to its route's queue");
    d("max_attempts", &DispatcherConfig::max_attempts, 1, 100,
      "Send attempts before a message fails with its last reason");
    d("retry_base_ms", &DispatcherConfig::retry_base_ms, 1, 3600000,
      "First retry delay; doubles per attempt, with jitter, up to retry_max_ms");
    d("retry_max_ms", &DispatcherConfig::retry_max_ms, 1, 86400000, "Longest retry delay");
    d("breaker_failures", &DispatcherConfig::breaker_failures, 1, 1000000,
      "Consecutive failed sends that open a route's circuit breaker");
    d("breaker_first_cooldown_ms", &DispatcherConfig::breaker_first_cooldown_ms, 1, 86400000,
      "How long a breaker that has just opened waits before one probe send; each reopening "
      "doubles it, up to breaker_cooldown_ms, and a successful send resets it");
    d("breaker_cooldown_ms", &DispatcherConfig::breaker_cooldown_ms, 1, 86400000,
      "The longest an open breaker waits before one probe send");
    d("throttle_backoff_ms", &DispatcherConfig::throttle_backoff_ms, 1, 3600000,
      "How long a route rests after its gateway asked to slow down");
    d("results_backlog", &DispatcherConfig::results_backlog, 0, 10000000,
      "Unconsumed results stream entries before dispatchers wait for the store (0: no cap)");
    d("idle_ms", &DispatcherConfig::idle_ms, 1, 60000, "Poll interval of an empty route");
    s("dispatcher.simulator_ledger", &Config::dispatcher, &DispatcherConfig::simulator_ledger,
      "Where simulator routes count the ids they accepted: redis (shared by every "
      "dispatcher) or memory (this process)",
      {"redis", "memory"});
    return v;
  }();
  return specs;
}

std::string where(const toml::source_region& src, const std::string& origin) {
  std::ostringstream os;
  os << origin;
  if (src.begin.line) os << ':' << src.begin.line << ':' << src.begin.column;
  return os.str();
}

std::string type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date/time";
    default: return "nothing";
  }
}

void check_choice(const KeySpec& spec, const std::string& value, const std::string& at) {
  if (spec.choices.empty()) return;
  for (const auto& c : spec.choices)
    if (c == value) return;
  std::string list;
  for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
  throw ConfigError(at + ": key '" + spec.path + "' must be one of " + list + ", got '" + value +
                    "'");
}

void check_range(const KeySpec& spec, std::int64_t value, const std::string& at) {
  if (value < spec.min || value > spec.max)
    throw ConfigError(at + ": key '" + spec.path + "' must be between " +
                      std::to_string(spec.min) + " and " + std::to_string(spec.max) + ", got " +
                      std::to_string(value));
}

std::string format_real(double v) {
  std::ostringstream os;
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// Every real-valued key is a share, 0 to 1.
void check_share(const KeySpec& spec, double value, const std::string& at) {
  if (!(value >= 0.0 && value <= 1.0))
    throw ConfigError(at + ": key '" + spec.path + "' must be between 0 and 1, got " +
                      std::to_string(value));
}

void apply_table(Config& config, const toml::table& table, const std::string& prefix,
                 const std::string& origin) {
  for (const auto& [k, node] : table) {
    const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const std::string at = where(node.source(), origin);
    const KeySpec* spec = nullptr;
    // A route's adapter options are free-form: the adapter checks its own keys.
    const auto last_dot = path.rfind('.');
    if (path.rfind("routes.", 0) == 0 && last_dot > 7 && path.substr(last_dot) == ".options") {
      const std::string route = path.substr(7, last_dot - 7);
      if (!node.is_table())
        throw ConfigError(at + ": '" + path + "' must be a table ([" + path + "])");
      RouteGatewayConfig* gw = nullptr;
      try {
        gw = &route_gateway(config, route);
      } catch (const ConfigError& e) {
        throw ConfigError(at + ": " + e.what());
      }
      for (const auto& [ok, ov] : *node.as_table()) {
        const std::string key(ok.str());
        const std::string oat = where(ov.source(), origin);
        if (ov.is_string())
          gw->options[key] = ov.as_string()->get();
        else if (ov.is_integer())
          gw->options[key] = std::to_string(ov.as_integer()->get());
        else if (ov.is_floating_point())
          gw->options[key] = format_real(ov.as_floating_point()->get());
        else if (ov.is_boolean())
          gw->options[key] = ov.as_boolean()->get() ? "true" : "false";
        else
          throw ConfigError(oat + ": key '" + path + "." + key +
                            "' must be a string, a number or a boolean, got " +
                            type_name(ov.type()));
      }
      continue;
    }
    bool is_section = false;
    for (const auto& s : key_specs()) {
      if (s.path == path) spec = &s;
      if (s.path.rfind(path + ".", 0) == 0) is_section = true;
    }
    if (is_section) {
      if (!node.is_table())
        throw ConfigError(at + ": '" + path + "' must be a table ([" + path + "]), got " +
                          type_name(node.type()));
      apply_table(config, *node.as_table(), path, origin);
      continue;
    }
    if (!spec) {
      // Name the line only: toml++ places a key's source at its value, not its first column.
      throw ConfigError(origin + ":" + std::to_string(node.source().begin.line) +
                        ": unknown key '" + path + "'");
    }
    if (spec->kind == Kind::kString) {
      if (!node.is_string())
        throw ConfigError(at + ": key '" + path + "' must be a string, got " +
                          type_name(node.type()));
      std::string v = node.as_string()->get();
      check_choice(*spec, v, at);
      *spec->str(config) = std::move(v);
    } else if (spec->kind == Kind::kReal) {
      if (!node.is_number())
        throw ConfigError(at + ": key '" + path + "' must be a number, got " +
                          type_name(node.type()));
      const double v = node.is_integer() ? static_cast<double>(node.as_integer()->get())
                                         : node.as_floating_point()->get();
      check_share(*spec, v, at);
      *spec->real(config) = v;
    } else {
      if (!node.is_integer())
        throw ConfigError(at + ": key '" + path + "' must be an integer, got " +
                          type_name(node.type()));
      std::int64_t v = node.as_integer()->get();
      check_range(*spec, v, at);
      *spec->num(config) = static_cast<int>(v);
    }
  }
}

void apply_environment(Config& config) {
  for (const auto& spec : key_specs()) {
    const std::string name = env_name(spec.path);
    const char* raw = std::getenv(name.c_str());
    if (!raw) continue;
    const std::string at = "environment " + name;
    std::string v = raw;
    if (spec.kind == Kind::kString) {
      check_choice(spec, v, at);
      *spec.str(config) = v;
    } else if (spec.kind == Kind::kReal) {
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size())
        throw ConfigError(at + ": key '" + spec.path + "' must be a number, got '" + v + "'");
      check_share(spec, d, at);
      *spec.real(config) = d;
    } else {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || v.empty())
        throw ConfigError(at + ": key '" + spec.path + "' must be an integer, got '" + v + "'");
      check_range(spec, n, at);
      *spec.num(config) = static_cast<int>(n);
    }
  }
}

std::pair<std::string, std::uint16_t> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    throw ConfigError("key 'http.listen' must be host:port, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string p = listen.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port > 65535)
    throw ConfigError("key 'http.listen' has a bad port '" + p + "'");
  return {host, static_cast<std::uint16_t>(port)};
}


void finish(Config& c) {
  c.redis_endpoint = RedisEndpoint::parse(c.redis.url);
  if (c.daemon.data_dir.empty()) throw ConfigError("key 'daemon.data_dir' must not be empty");
  if (c.redis.reconnect_min_ms > c.redis.reconnect_max_ms)
    throw ConfigError("key 'redis.reconnect_min_ms' must not exceed 'redis.reconnect_max_ms'");
  if (c.redis.restart_min_ms > c.redis.restart_max_ms)
    throw ConfigError("key 'redis.restart_min_ms' must not exceed 'redis.restart_max_ms'");
  split_listen(c.http.listen);
  std::string error;
  if (!templates::FallbackChain::parse(c.languages.fallback, c.languages.default_language, &error))
    throw ConfigError("key 'languages.fallback' / 'languages.default': " + error);
  try {
    campaigns::ReplyRules::parse(c.replies.rules);
  } catch (const campaigns::ReplyRulesError& e) {
    throw ConfigError("key 'replies.rules': " + std::string(e.what()));
  }
}

}  // namespace

RedisEndpoint RedisEndpoint::parse(const std::string& url, const std::string& key) {
  RedisEndpoint e;
  if (url == "spawn") return e;
  auto bad = [&](const std::string& why) {
    return ConfigError("key '" + key + "' is not a valid Redis URL ('" + url + "'): " + why +
                       "; use spawn, redis://host:port[/db] or unix:///path");
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw bad(parsed.error().message());
  const auto& u = *parsed;
  if (u.has_password()) e.password = u.password();
  auto parse_db = [&](std::string_view text) {
    int number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end != text.data() + text.size() || number < 0 || number > 1000)
      throw bad("database must be a number from 0");
    return number;
  };
  if (u.scheme() == "redis") {
    e.kind = Kind::kTcp;
    e.host = u.host();
    if (e.host.empty()) throw bad("no host");
    if (u.has_port()) {
      if (u.port_number() == 0) throw bad("bad port");
      e.port = u.port_number();
    }
    std::string_view p = u.encoded_path();
    if (!p.empty() && p != "/") e.db = parse_db(p.substr(1));
    return e;
  }
  if (u.scheme() == "unix") {
    e.kind = Kind::kUnix;
    e.path = u.path();
    if (e.path.empty() || e.path.front() != '/') throw bad("needs an absolute path");
    for (auto param : u.params())
      if (param.key == "db") e.db = parse_db(param.value);
    return e;
  }
  throw bad("unknown scheme '" + std::string(u.scheme()) + "'");
}

std::string RedisEndpoint::describe() const {
  switch (kind) {
    case Kind::kSpawn: return path.empty() ? "spawn" : "spawn (unix:" + path + ")";
    case Kind::kTcp: return "redis://" + host + ":" + std::to_string(port) + "/" + std::to_string(db);
    case Kind::kUnix: return "unix://" + path + "?db=" + std::to_string(db);
  }
  return "?";
}

std::filesystem::path Config::store_path() const {
  if (!store.path.empty()) return store.path;
  return std::filesystem::path(daemon.data_dir) / "loa.db";
}
std::string Config::http_host() const { return split_listen(http.listen).first; }
std::uint16_t Config::http_port() const { return split_listen(http.listen).second; }

Config load_config_text(const std::string& toml_text, const std::string& origin,
                        bool apply_env) {
  Config config;
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    throw ConfigError(where(e.source(), origin) + ": " + std::string(e.description()));
  }
  apply_table(config, table, "", origin);
  if (apply_env) apply_environment(config);
  finish(config);
  return config;
}

Config load_config(const std::optional<std::filesystem::path>& file) {
  if (!file) return load_config_text("", "defaults");
  std::ifstream in(*file, std::ios::binary);
  if (!in) throw ConfigError(file->string() + ": cannot read the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return load_config_text(text.str(), file->string());
}

std::vector<ConfigKeyDoc> config_reference() {
  Config defaults;
  std::vector<ConfigKeyDoc> out;
  for (const auto& s : key_specs()) {
    std::string def = s.kind == Kind::kString ? "\"" + *s.str(defaults) + "\""
                      : s.kind == Kind::kReal ? format_real(*s.real(defaults))
                                              : std::to_string(*s.num(defaults));
    const char* type = s.kind == Kind::kString ? "string"
                       : s.kind == Kind::kReal ? "number"
                                               : "integer";
    out.push_back({s.path, type, def, env_name(s.path), s.doc});
  }
  // Each adapter's [routes.<route>.options], from its own table (adapters/gateway_option.hpp).
  // They are not read from the environment: a secret names its variable or file instead.
  for (const std::string& type : adapters::gateway_types()) {
    for (const adapters::GatewayOption& o : adapters::gateway_options(type)) {
      std::string path = "routes.<route>.options." + std::string(o.key);
      std::string doc(o.doc);
      if (o.key.ends_with('.')) path += "<name>";
      if (o.secret) {
        path += "_env";
        doc += " (a secret: the environment variable holding it, or " + std::string(o.key) +
               "_file, a file holding it)";
      }
      out.push_back({std::move(path), type + " option",
                     o.default_value.empty() ? "none" : "\"" + std::string(o.default_value) + "\"",
                     "", std::move(doc)});
    }
  }
  return out;
}

std::string describe_config(const Config& config) {
  std::ostringstream os;
  Config copy = config;
  for (const auto& s : key_specs()) {
    os << s.path << " = ";
    if (s.kind == Kind::kString) {
      std::string v = *s.str(copy);
      if (s.path == "redis.url") v = config.redis_endpoint.describe();
      os << '"' << v << '"';
    } else if (s.kind == Kind::kReal) {
      os << format_real(*s.real(copy));
    } else {
      os << *s.num(copy);
    }
    os << '\n';
  }
  return os.str();
}

bool route_enabled(const Config& config, std::string_view route) {
  const int* enabled = route_ref(const_cast<Config&>(config), route).enabled;
  return enabled == nullptr || *enabled != 0;
}

std::map<std::string, std::string> carrier_routes(const Config& config) {
  std::map<std::string, std::string> out;
  for (const char* carrier : kCarrierRoutes) {
    const std::string route = std::string("sms_") + carrier;
    if (route_enabled(config, route)) out[carrier] = route;
  }
  return out;
}

RouteGatewayConfig& route_gateway(Config& config, std::string_view route) {
  return *route_ref(config, route).gateway;
}

int route_rate(const Config& config, std::string_view route) {
  return *route_ref(const_cast<Config&>(config), route).rate;
}

const RouteGatewayConfig& route_gateway(const Config& config, std::string_view route) {
  return route_gateway(const_cast<Config&>(config), route);
}

}  // namespace loa::engine
