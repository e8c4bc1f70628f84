#include "adapters/registry.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "adapters/esms_gateway.hpp"
#include "adapters/http_gateway.hpp"
#include "adapters/kannel_gateway.hpp"
#include "adapters/simulator.hpp"
#include "adapters/zalo_oa_gateway.hpp"
#include "adapters/zalo_token.hpp"
#include "adapters/zalo_webhook.hpp"
#include "adapters/zalo_zns_gateway.hpp"

#include <boost/asio/io_context.hpp>

namespace loa::adapters {

namespace {

// Secrets are short (tokens, passwords, keys); a larger file is a wrong path.
constexpr std::size_t kMaxSecretBytes = std::size_t{64} * 1024;

SimulatorSettings read_simulator(const GatewaySettings& s) {
  using std::chrono::milliseconds;
  SimulatorSettings sim;
  constexpr std::int64_t kDay = 86'400'000;
  sim.latency = milliseconds(s.integer("latency_ms", 0, 0, kDay));
  sim.receipt_delay = milliseconds(s.integer("receipt_delay_ms", 1000, 0, kDay));
  // As the engine's defaults have it: the reply comes a second after the receipt.
  sim.reply_delay =
      milliseconds(s.integer("reply_delay_ms", sim.receipt_delay.count() + 1000, 0, kDay));
  sim.transient_failure_rate = s.number("transient_failure_rate", 0, 0, 1);
  sim.permanent_failure_rate = s.number("permanent_failure_rate", 0, 0, 1);
  sim.unreachable_rate = s.number("unreachable_rate", 0, 0, 1);
  sim.throttled_rate = s.number("throttled_rate", 0, 0, 1);
  sim.delivered_share = s.number("delivered_share", 0.97, 0, 1);
  sim.reply_rate = s.number("reply_rate", 0, 0, 1);
  sim.seed = static_cast<std::uint64_t>(s.integer("seed", 0, 0));
  return sim;
}

std::shared_ptr<Gateway> make_simulator(const GatewaySettings& s, const GatewayContext& c) {
  try {
    return std::make_shared<Simulator>(c.executor, read_simulator(s), c.simulator_ledger, c.events);
  } catch (const std::invalid_argument& e) {
    throw GatewayConfigError("transient_failure_rate", e.what());
  }
}

void check_simulator(const GatewaySettings& s) {
  // The simulator checks its rates together only when built; building one starts nothing.
  boost::asio::io_context io;
  make_simulator(s, GatewayContext{io.get_executor(), nullptr, nullptr, {}, nullptr});
}

// The Zalo adapters read a flat map with their secrets resolved: every key of kZaloOptions is
// taken, and app_secret / oa_secret_key come from <key>_env or <key>_file.
GatewaySettingsMap zalo_map(const GatewaySettings& s) {
  GatewaySettingsMap map;
  for (const auto& entry : s.values()) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const auto& key = entry.first;
    const auto& value = entry.second;
    const bool known =
        std::any_of(std::begin(kZaloOptions), std::end(kZaloOptions), [&](const auto& o) {
          return o.secret ? key == std::string(o.key) + "_env" ||
                                key == std::string(o.key) + "_file" || key == o.key
                          : key == o.key;
        });
    if (!known) continue;  // left unread: make_gateway names it
    s.has(key);
    map.emplace(key, value);
  }
  for (const char* secret : {"app_secret", "oa_secret_key"}) {
    map.erase(std::string(secret) + "_env");
    map.erase(std::string(secret) + "_file");
    if (auto value = s.optional_secret(secret)) map[secret] = *value;
  }
  return map;
}

template <class ZaloGateway>
std::shared_ptr<Gateway> make_zalo(const GatewaySettings& s, const GatewayContext& c) {
  const GatewaySettingsMap map = zalo_map(s);
  try {
    return std::make_shared<ZaloGateway>(c.executor, map, c.http, c.events);
  } catch (const std::invalid_argument& e) {
    throw GatewayConfigError("options", e.what());
  }
}

// What the Zalo gateway and its webhook read, without loading the token file.
void check_zalo(const GatewaySettings& s) {
  const GatewaySettingsMap map = zalo_map(s);
  const SettingsReader reader(map, "zalo");
  try {
    ZaloTokenSettings::from(reader);
    ZaloApiSettings::from(reader, "https://openapi.zalo.me/");
    if (map.contains("oa_secret_key")) ZaloWebhookSettings::from(reader);
  } catch (const std::invalid_argument& e) {
    throw GatewayConfigError("options", e.what());
  }
}

// The adapters whose settings struct has a pure read().
template <class Settings>
void check_read(const GatewaySettings& s) {
  (void)Settings::read(s);
}

struct Registration {
  std::string_view type;
  GatewayFactory make;
  WebhookFactory webhooks;  // null: the gateway has no callbacks
  void (*check)(const GatewaySettings&);  // reads every setting, builds nothing
  std::span<const GatewayOption> options;
};

// One line per gateway.
const std::vector<Registration>& registry() {
  static const std::vector<Registration> table = {
      {"simulator", make_simulator, nullptr, check_simulator, {}},
      {"http", &HttpGateway::create, &HttpGateway::webhooks, check_read<HttpGatewaySettings>,
       kHttpOptions},
      {"esms", &EsmsGateway::create, &EsmsGateway::webhooks, check_read<EsmsSettings>,
       kEsmsOptions},
      {"kannel", &KannelGateway::create, &KannelGateway::webhooks, check_read<KannelSettings>,
       kKannelOptions},
      // Zalo's webhooks: adapters/zalo_webhook.hpp, served per route by the engine.
      {"zalo_zns", &make_zalo<ZaloZnsGateway>, nullptr, check_zalo, kZaloOptions},
      {"zalo_oa", &make_zalo<ZaloOaGateway>, nullptr, check_zalo, kZaloOptions},
  };
  return table;
}

const Registration& find_type(std::string_view type, std::string_view route) {
  const auto& table = registry();
  const auto it = std::find_if(table.begin(), table.end(),
                               [&](const Registration& r) { return r.type == type; });
  if (it != table.end()) return *it;
  std::string known;
  for (const Registration& r : table) known += (known.empty() ? "" : ", ") + std::string(r.type);
  throw GatewayConfigError(
      "gateway", "unknown gateway type '" + std::string(type) + "' (known: " + known + ")",
      std::string(route));
}

// Runs `build`, adding the route to a GatewayConfigError that lacks one.
template <class Build>
auto for_route(std::string_view route, Build build) {
  try {
    return build();
  } catch (const GatewayConfigError& e) {
    if (!e.route().empty()) throw;
    throw GatewayConfigError(e.key(), e.detail(), std::string(route));
  }
}

// A key the adapter never read is misspelt or belongs to another gateway type.
void refuse_unread(std::string_view type, const GatewaySettings& settings, std::string_view route) {
  if (const auto unknown = settings.unread(); !unknown.empty()) {
    throw GatewayConfigError(unknown.front(),
                             "not a setting of gateway type '" + std::string(type) + "'",
                             std::string(route));
  }
}

std::string trim_right(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

GatewayConfigError::GatewayConfigError(std::string key, const std::string& message,
                                       std::string route)
    : std::runtime_error((route.empty() ? std::string() : "route '" + route + "': ") +
                         "gateway setting '" + key + "': " + message),
      key_(std::move(key)),
      route_(std::move(route)),
      detail_(message) {}

const std::string* GatewaySettings::find(std::string_view key) const {
  read_.emplace(key);
  const auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

bool GatewaySettings::has(std::string_view key) const { return find(key) != nullptr; }

const std::string& GatewaySettings::require(std::string_view key) const {
  const std::string* v = find(key);
  if (v == nullptr || v->empty()) throw GatewayConfigError(std::string(key), "is required");
  return *v;
}

std::string GatewaySettings::get(std::string_view key, std::string_view fallback) const {
  const std::string* v = find(key);
  return v != nullptr ? *v : std::string(fallback);
}

std::int64_t GatewaySettings::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                      std::int64_t max) const {
  const std::string* v = find(key);
  if (v == nullptr) return fallback;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) {
    throw GatewayConfigError(std::string(key), "expected an integer, got '" + *v + "'");
  }
  if (n < min || n > max) {
    throw GatewayConfigError(std::string(key), "must lie in [" + std::to_string(min) + ", " +
                                                   std::to_string(max) + "], got " + *v);
  }
  return n;
}

double GatewaySettings::number(std::string_view key, double fallback, double min,
                               double max) const {
  const std::string* v = find(key);
  if (v == nullptr) return fallback;
  double x = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || end != v->data() + v->size()) {
    throw GatewayConfigError(std::string(key), "expected a number, got '" + *v + "'");
  }
  if (!(x >= min && x <= max)) {
    std::ostringstream range;
    range << "must lie in [" << min << ", " << max << "], got " << *v;
    throw GatewayConfigError(std::string(key), range.str());
  }
  return x;
}

bool GatewaySettings::boolean(std::string_view key, bool fallback) const {
  const std::string* v = find(key);
  if (v == nullptr) return fallback;
  if (*v == "true" || *v == "yes" || *v == "1") return true;
  if (*v == "false" || *v == "no" || *v == "0") return false;
  throw GatewayConfigError(std::string(key), "expected true or false, got '" + *v + "'");
}

std::string GatewaySettings::choice(std::string_view key, std::string_view fallback,
                                    std::initializer_list<std::string_view> choices) const {
  std::string v = get(key, fallback);
  if (std::find(choices.begin(), choices.end(), v) != choices.end()) return v;
  std::string list;
  for (std::string_view c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  throw GatewayConfigError(std::string(key), "expected one of " + list + ", got '" + v + "'");
}

std::optional<std::string> GatewaySettings::optional_secret(std::string_view key) const {
  const std::string k(key);
  if (has(k)) {
    throw GatewayConfigError(k, "secrets are never read from the configuration; set " + k +
                                    "_env (an environment variable) or " + k + "_file");
  }
  const std::string* env = find(k + "_env");
  const std::string* file = find(k + "_file");
  if (env != nullptr && file != nullptr) {
    throw GatewayConfigError(k, "set either " + k + "_env or " + k + "_file, not both");
  }
  if (env != nullptr) {
    const char* value = env->empty() ? nullptr : std::getenv(env->c_str());
    if (value == nullptr || *value == '\0') {
      throw GatewayConfigError(
          k, "environment variable '" + *env + "' (" + k + "_env) is not set or empty");
    }
    return std::string(value);
  }
  if (file != nullptr) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) throw GatewayConfigError(k, "cannot read " + k + "_file '" + *file + "'");
    std::string text(kMaxSecretBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxSecretBytes) {
      throw GatewayConfigError(k, k + "_file '" + *file + "' is larger than 64 KiB");
    }
    text = trim_right(std::move(text));
    if (text.empty()) throw GatewayConfigError(k, k + "_file '" + *file + "' is empty");
    return text;
  }
  return std::nullopt;
}

std::string GatewaySettings::secret(std::string_view key) const {
  auto s = optional_secret(key);
  if (!s) {
    const std::string k(key);
    throw GatewayConfigError(
        k, "is required: set " + k + "_env (an environment variable) or " + k + "_file");
  }
  return std::move(*s);
}

std::vector<std::pair<std::string, std::string>> GatewaySettings::with_prefix(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = values_.lower_bound(prefix); it != values_.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix)) break;
    read_.insert(it->first);
    out.emplace_back(it->first.substr(prefix.size()), it->second);
  }
  return out;
}

std::vector<std::string> GatewaySettings::unread() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : values_) {
    if (!read_.contains(key)) out.push_back(key);
  }
  return out;
}

std::shared_ptr<Gateway> make_gateway(std::string_view type, const GatewaySettings& settings,
                                      const GatewayContext& context) {
  const Registration& r = find_type(type, context.route);
  auto gateway = for_route(context.route, [&] { return r.make(settings, context); });
  refuse_unread(type, settings, context.route);
  return gateway;
}

void check_gateway_settings(std::string_view type, const GatewaySettings& settings,
                            std::string_view route) {
  const Registration& r = find_type(type, route);
  for_route(route, [&] { r.check(settings); });
  refuse_unread(type, settings, route);
}

std::span<const GatewayOption> gateway_options(std::string_view type) {
  return find_type(type, {}).options;
}

WebhookHooks make_webhooks(std::string_view type, const GatewaySettings& settings,
                           std::string_view route) {
  const Registration& r = find_type(type, route);
  if (!r.webhooks) return {};
  return for_route(route, [&] { return r.webhooks(settings); });
}

std::vector<std::string> gateway_types() {
  std::vector<std::string> out;
  for (const Registration& r : registry()) out.emplace_back(r.type);
  return out;
}

}  // namespace loa::adapters
