// Fuzz target: the daemon's TOML configuration (engine/config.hpp, toml++), the file an
// administrator edits and the one input the daemon reads before anything else.
//
// Input: the TOML text (environment overrides are not applied).
//
// Invariants, beyond "no crash, no leak, no UB, no hang":
//  - load_config_text either returns a Config or throws ConfigError, nothing else (a
//    toml::parse_error, std::out_of_range or regex_error escaping would stop the daemon with a
//    message that names no key);
//  - a ConfigError names where: the file with its line and column, or the key;
//  - a loaded Config is consistent: its derived values (listen host and port, Redis endpoint,
//    route rates and gateways) are readable without throwing, and describe_config lists it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/config.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace loa::engine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Config config;
  try {
    config = load_config_text(text, "fuzz.toml", /*apply_environment=*/false);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    FUZZ_CHECK(what.rfind("fuzz.toml", 0) == 0 || what.find("key '") != std::string::npos,
               "a config error that names neither the file nor the key: " + what);
    return 0;
  }
  (void)config.http_host();
  (void)config.http_port();
  (void)config.store_path();
  (void)config.redis_endpoint.describe();
  for (const char* route : kRouteNames) {
    if (!route_enabled(config, route)) continue;
    (void)route_gateway(config, route);
    FUZZ_CHECK(route_rate(config, route) >= 0, std::string("a negative rate on ") + route);
  }
  (void)carrier_routes(config);
  FUZZ_CHECK(!describe_config(config).empty(), "an empty description");
  return 0;
}
