// Daemon configuration: a TOML file (toml++) with LOA_* environment overrides.
//
// Contract:
//  - Every key has a default, and the defaults run the embedded mode (DESIGN.md section 6):
//    a SQLite file under data_dir, a spawned private redis-server, the simulator gateway.
//  - Unknown keys, wrong types and out-of-range values are rejected at start-up with a
//    ConfigError whose message names the file, line and column (or the environment variable),
//    the key path and the reason. Configuration is the one place where this layer throws.
//  - Environment overrides: every key `section.name` can be set by `LOA_SECTION_NAME`
//    (upper case, dots become underscores); the environment wins over the file.
//
// Thread-safety: a loaded Config is an immutable value; share it by const reference.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace loa::engine {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where Redis is: spawned by the daemon, or an external server.
struct RedisEndpoint {
  enum class Kind { kSpawn, kTcp, kUnix };
  Kind kind = Kind::kSpawn;
  std::string host;      // kTcp
  std::uint16_t port = 6379;
  std::string path;      // kUnix (and kSpawn once the child runs)
  std::string password;  // optional, from the URL's user-info
  int db = 0;

  // Parses "spawn", "redis://[:password@]host[:port][/db]" or "unix:///path[?db=N]".
  // Throws ConfigError naming `key` on anything else.
  static RedisEndpoint parse(const std::string& url, const std::string& key = "redis.url");
  std::string describe() const;  // for logs: never includes the password
};

struct LogConfig {
  std::string level = "info";   // trace|debug|info|warn|error|critical|off
  std::string format = "text";  // text|json (JSON lines)
};

struct RedisConfig {
  std::string url = "spawn";
  std::string server_binary = "redis-server";  // spawn mode: looked up in PATH
  int connect_timeout_ms = 2000;
  int command_timeout_ms = 2000;
  int reconnect_min_ms = 100;
  int reconnect_max_ms = 5000;
  int max_pending = 10000;  // commands queued or in flight per connection before push-back
  int restart_min_ms = 200;  // spawn mode: the supervisor's first restart delay
  int restart_max_ms = 5000;
  int restart_attempts = 5;  // deaths or failed starts within restart_window_ms before giving up
  int restart_window_ms = 60000;
};

struct StoreConfig {
  std::string path;  // empty: <data_dir>/loa.db
  int batch_rows = 500;
  int batch_ms = 50;
  int queue_capacity = 10000;
  int busy_timeout_ms = 5000;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:8080";
  int max_connections = 1024;  // Kannel's smsbox opens one per callback in flight (256 seen)
  int header_limit_bytes = 8 * 1024;
  int body_limit_bytes = 1024 * 1024;
  int read_timeout_ms = 10000;
  int shutdown_grace_ms = 5000;
  int upload_limit_bytes = 256 * 1024 * 1024;  // streamed uploads (contact import) to a file
  int api_workers = 2;  // threads running REST API handlers (they block on SQLite)
  // Against slowloris: a header block arrives in one packet, a slow attacker's never does.
  int header_timeout_ms = 5000;
  int max_connections_per_client = 384;  // above Kannel's 256 callbacks in flight
  int reserved_connections = 16;         // for /healthz and /readyz when the server is full
  int linger_ms = 5000;  // after a refusal, reading the rest of the request (nginx: 5 s)
  int upload_spool_limit_bytes = 768 * 1024 * 1024;  // three uploads of the largest size
  int refusal_log_lines = 10;  // refusals logged per route and reason per interval
  int refusal_log_interval_ms = 60000;
};

// Template languages (templates/language_fallback.hpp).
struct LanguageConfig {
  std::string default_language = "vi";
  std::string fallback = "rad:vi,cmo:vi,jra:vi";  // from:to pairs
};

// Per-route text policy and prices (templates/sms_route.hpp). One route per channel for now.
// How a route's messages leave: its gateway (adapters/) and, for the simulator, how the
// simulated gateway behaves (adapters/simulator.hpp). The defaults are the embedded mode's.
struct SimulatorConfig {
  int latency_ms = 20;
  int receipt_delay_ms = 1000;
  double transient_failure_rate = 0.01;
  double permanent_failure_rate = 0.005;
  double unreachable_rate = 0.0;
  double throttled_rate = 0.0;
  double delivered_share = 0.97;
  double reply_rate = 0.01;
};
struct RouteGatewayConfig {
  std::string type = "simulator";
  int burst = 1;  // units sendable at once; 1 keeps every 1-second window within rate + 1 message
  // The number or short code households write to on this route's account; named in replies
  // to a household when its campaign sets no campaign.reply_number.
  std::string reply_number;
  // A message `sent` with no receipt this long becomes `unknown` (engine/receipt_timeout.hpp).
  // 72 h: SMSCs keep retrying a switched-off handset for up to a few days (SMPP validity
  // periods default to 48-72 h), and later receipts still upgrade `unknown`.
  int receipt_timeout_hours = 72;
  // A send cut off without an answer (kMaybeSent) is retried no sooner than this, so that the
  // gateway's receipt, if it took the message, can arrive and cancel the retry.
  int retry_unknown_after_s = 60;
  SimulatorConfig simulator;
  // [routes.<route>.options]: the gateway adapter's own settings (url, username, token_file…),
  // passed to it as they are; each adapter checks and documents its keys. Secrets are never
  // written here: an adapter reads `<key>_env` (an environment variable's name) or
  // `<key>_file` (a file's path) instead.
  std::map<std::string, std::string> options;
};

struct SmsRouteConfig {
  std::string policy = "auto";            // unicode | ascii | auto | gsm7_strict
  std::string minority_letters = "keep";  // ascii only: keep (refuse) | strip (with a warning)
  int max_segments = 3;                   // vietnam-channels.md §2.6: 459 chars = 3 parts
  int price_vnd_per_segment = 800;        // indicative; set the contract's price
  int rate_per_second = 30;               // segments/s; SMPPCenter 10, Vonage 30 (reference A4)
  RouteGatewayConfig gateway;
};
struct ZaloRouteConfig {
  int price_vnd_per_message = 0;
  int rate_per_second = 50;
  RouteGatewayConfig gateway;
};
// An SMS route for one carrier's numbers (carrier routing): when enabled, the planner sends
// the SMS of households whose number belongs to that carrier (by prefix, households.carrier)
// through this route, with its own gateway account and rate; the text policy and the price
// are routes.sms's.
struct CarrierRouteConfig {
  int enabled = 0;
  int rate_per_second = 30;
  RouteGatewayConfig gateway;
};

struct RoutesConfig {
  SmsRouteConfig sms;
  ZaloRouteConfig zalo_zns{200, 50, {}};  // vietnam-channels.md §1.1 price hint (unverified)
  ZaloRouteConfig zalo_oa{0, 50, {}};
  CarrierRouteConfig sms_viettel, sms_vinaphone, sms_mobifone;
};

// The dispatchers (engine/dispatcher.hpp) and the enqueuer (engine/enqueuer.hpp).
struct DispatcherConfig {
  int batch = 256;                  // messages popped, checked, sent and settled together
  int workers = 4;                  // batches in flight per route and process
  int lease_ms = 30000;             // a popped message returns to its lane after this
  int max_attempts = 5;             // then the message fails with its last reason
  int retry_base_ms = 2000;         // backoff: base * 2^(attempt-1), with jitter...
  int retry_max_ms = 600000;        // ...up to this
  int breaker_failures = 20;        // consecutive failed sends that open a route's breaker
  int breaker_first_cooldown_ms = 1000;  // first opening: this long, then one probe...
  int breaker_cooldown_ms = 30000;       // ...doubling with each opening up to this
  int throttle_backoff_ms = 1000;   // a throttled gateway is left alone this long
  int results_backlog = 20000;      // results stream entries before dispatchers wait
  int idle_ms = 200;                // poll interval of an empty route
  std::string simulator_ledger = "redis";  // where the simulator counts ids: redis | memory
};

// The campaign planner (campaigns/planner.hpp, engine/scheduler.hpp).
struct PlannerConfig {
  int page_rows = 2000;           // households per page (read and rendered together)
  int commit_rows = 60000;        // outbox rows per transaction at most (whole pages)
  int stale_after_seconds = 30;   // an expanding round with no heartbeat this long is resumed
};

// Household replies (campaigns/reply_rules.hpp, campaigns/reply_handler.hpp).
struct RepliesConfig {
  // Configurable rules after the opt-out, opt-in and help keywords: `name=regex:PATTERN` or
  // `name=keyword:WORD|WORD`, separated by ';'. Poll answers 1-9 by default.
  std::string rules = "poll=regex:^([1-9])$";
  std::string optout_template = "xac_nhan_tu_choi";
  std::string optin_template = "xac_nhan_dang_ky";
  std::string help_template = "huong_dan_hoi";
  // The number named in replies when neither the campaign nor the reply's route has one.
  std::string reply_number;
};

struct DaemonConfig {
  std::string data_dir = "loa-data";
  int threads = 0;  // 0: one per core
  int unhealthy_after_ms = 60000;  // /healthz: 503 once a dependency is down this long
  int spool_max_bytes = 64 * 1024 * 1024;  // per route: webhook events spooled while Redis is down
};

struct Config {
  DaemonConfig daemon;
  LogConfig log;
  RedisConfig redis;
  StoreConfig store;
  HttpConfig http;
  LanguageConfig languages;
  RoutesConfig routes;
  PlannerConfig planner;
  DispatcherConfig dispatcher;
  RepliesConfig replies;

  // Derived values, filled by load().
  RedisEndpoint redis_endpoint;
  std::filesystem::path store_path() const;
  std::string http_host() const;
  std::uint16_t http_port() const;
};

// Loads defaults, then `file` if given, then the environment. Throws ConfigError.
Config load_config(const std::optional<std::filesystem::path>& file);
// Parses TOML text (`origin` names it in errors); used by load_config and by tests.
Config load_config_text(const std::string& toml_text, const std::string& origin,
                        bool apply_environment = true);

// One line per key: `path = value  # doc`, as the effective configuration.
std::string describe_config(const Config& config);

struct ConfigKeyDoc {
  std::string path;
  std::string type;
  std::string default_value;
  std::string env;
  std::string doc;
};
std::vector<ConfigKeyDoc> config_reference();

// The routes loa has (one per channel for now) and their gateway settings.
inline constexpr const char* kRouteNames[] = {"sms",          "sms_viettel", "sms_vinaphone",
                                              "sms_mobifone", "zalo_zns",    "zalo_oa"};
// The carriers that may have an SMS route of their own ("sms_<carrier>").
inline constexpr const char* kCarrierRoutes[] = {"viettel", "vinaphone", "mobifone"};
// The carrier route of each enabled carrier: {"viettel": "sms_viettel"}.
std::map<std::string, std::string> carrier_routes(const Config& config);
// False for a carrier route that is not enabled (it gets no dispatcher).
bool route_enabled(const Config& config, std::string_view route);
RouteGatewayConfig& route_gateway(Config& config, std::string_view route);  // throws ConfigError
const RouteGatewayConfig& route_gateway(const Config& config, std::string_view route);
// The route's rate limit in its cost unit per second, 0 for none (throws ConfigError).
int route_rate(const Config& config, std::string_view route);

}  // namespace loa::engine
