// The gateway registry: builds a route's gateway from its type name ("kannel", "esms", ...) and
// its settings, and binds the adapter's webhook parsers to the route. Adding a gateway is one
// file pair in adapters/ plus one line in the table in registry.cpp.
//
// Contract:
//  - GatewaySettings is the route's gateway configuration as a flat map of string keys and
//    values, as the engine reads them from TOML ("url", "username", "header.Authorization",
//    "error.101", ...): the gateway's own keys only. Every accessor throws GatewayConfigError
//    naming the key. The settings remember which keys were read; make_gateway refuses keys that
//    the adapter never read, so a misspelt key is an error at start-up, not a silent default.
//  - Secrets are never read from the configuration itself: secret("password") reads the
//    environment variable named by "password_env", or the file named by "password_file"
//    (trailing whitespace removed). A plain "password" key is refused.
//  - make_gateway and make_webhooks throw GatewayConfigError naming the route and the key, at
//    start-up; nothing they return throws on bad input from a gateway.
//  - check_gateway_settings reads the settings exactly as make_gateway and make_webhooks do
//    (required keys, ranges, secrets from their variable or file, unknown keys) and builds
//    nothing: no connection, no timer, no token file. `loa config check` and the daemon's
//    first step call it, so a bad option is reported at once.
//  - gateway_options lists a type's keys from the adapter's own table (gateway_option.hpp).
//  - WebhookHooks: what the engine's webhook server calls for the route's delivery reports and
//    replies (adapters/webhook.hpp). A null hook means the gateway has no such callback (or it is
//    not configured).
//
// Thread-safety: make_gateway, make_webhooks and gateway_types are safe from any thread. A
// GatewaySettings object is not (it records reads): use each from one thread at a time. The
// hooks are safe from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/gateway.hpp"
#include "adapters/gateway_option.hpp"
#include "adapters/webhook.hpp"

namespace loa::adapters {

class HttpClient;
class SimulatorLedger;

// A bad gateway configuration: names the route (when known) and the key.
class GatewayConfigError : public std::runtime_error {
 public:
  GatewayConfigError(std::string key, const std::string& message, std::string route = {});
  const std::string& key() const { return key_; }
  const std::string& route() const { return route_; }
  const std::string& detail() const { return detail_; }  // the message without route and key

 private:
  std::string key_;
  std::string route_;
  std::string detail_;
};

class GatewaySettings {
 public:
  using Values = std::map<std::string, std::string, std::less<>>;

  GatewaySettings() = default;
  explicit GatewaySettings(Values values) : values_(std::move(values)) {}
  GatewaySettings(std::initializer_list<Values::value_type> values) : values_(values) {}

  const Values& values() const { return values_; }
  void set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }

  bool has(std::string_view key) const;
  // The value; throws when the key is absent or empty.
  const std::string& require(std::string_view key) const;
  std::string get(std::string_view key, std::string_view fallback = {}) const;
  // A decimal integer within [min, max].
  std::int64_t integer(std::string_view key, std::int64_t fallback,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  // A decimal number within [min, max].
  double number(std::string_view key, double fallback,
                double min = std::numeric_limits<double>::lowest(),
                double max = std::numeric_limits<double>::max()) const;
  // "true"/"false" (also "yes"/"no", "1"/"0").
  bool boolean(std::string_view key, bool fallback) const;
  // One of `choices`.
  std::string choice(std::string_view key, std::string_view fallback,
                     std::initializer_list<std::string_view> choices) const;
  // The secret named by `<key>_env` or `<key>_file`; throws naming the key when neither is
  // set, or the variable or file is missing or empty.
  std::string secret(std::string_view key) const;
  // The same, but nullopt when neither `<key>_env` nor `<key>_file` is set.
  std::optional<std::string> optional_secret(std::string_view key) const;
  // Every key that starts with `prefix`, without it, with its value, in key order
  // ("header." -> {"Authorization", "Bearer ..."}).
  std::vector<std::pair<std::string, std::string>> with_prefix(std::string_view prefix) const;
  // The keys no accessor has read yet.
  std::vector<std::string> unread() const;

 private:
  const std::string* find(std::string_view key) const;

  Values values_;
  mutable std::set<std::string, std::less<>> read_;
};

// What a gateway is built with, besides its settings.
struct GatewayContext {
  boost::asio::any_io_executor executor;
  std::shared_ptr<HttpClient> http;  // every adapter that speaks HTTP sends through it
  GatewayEvents* events = nullptr;   // for gateways that push events themselves; may be null
  std::string route;                 // for error messages
  std::shared_ptr<SimulatorLedger> simulator_ledger;  // simulator only; null: one in memory
};

struct WebhookHooks {
  std::function<WebhookResult<DeliveryReceipt>(const WebhookRequest&)> receipt;
  std::function<WebhookResult<Reply>(const WebhookRequest&)> reply;
};

using GatewayFactory =
    std::function<std::shared_ptr<Gateway>(const GatewaySettings&, const GatewayContext&)>;
using WebhookFactory = std::function<WebhookHooks(const GatewaySettings&)>;

// Throws GatewayConfigError (key "gateway" for an unknown type, naming the known ones).
std::shared_ptr<Gateway> make_gateway(std::string_view type, const GatewaySettings& settings,
                                      const GatewayContext& context);

// The route's webhook parsers, bound to its settings (secrets read once, here).
WebhookHooks make_webhooks(std::string_view type, const GatewaySettings& settings,
                           std::string_view route);

// Throws GatewayConfigError naming the route and the key, as make_gateway would.
void check_gateway_settings(std::string_view type, const GatewaySettings& settings,
                            std::string_view route);

// The option keys of a gateway type (empty for the simulator, whose settings are loa's own
// typed keys); throws GatewayConfigError for an unknown type.
std::span<const GatewayOption> gateway_options(std::string_view type);

// The registered type names, in table order.
std::vector<std::string> gateway_types();

}  // namespace loa::adapters
