// Typed reading of a flat settings map whose secrets are already resolved, for the Zalo
// adapters (the registry, adapters/registry.hpp, resolves `<key>_env` / `<key>_file` secrets
// and hands them the map).
// An adapter reads its settings once, at construction; a missing or malformed one throws
// std::invalid_argument naming the gateway and the key (STYLE.md: exceptions for configuration).
//
// Thread-safety: const members are safe from any thread.
#pragma once

#include <chrono>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace loa::adapters {

using GatewaySettingsMap = std::map<std::string, std::string>;

class SettingsReader {
 public:
  // `gateway` names the adapter in error messages ("zalo_zns"). Keeps a reference to `map`.
  SettingsReader(const GatewaySettingsMap& map, std::string_view gateway);

  // The value; throws when the key is missing or empty.
  std::string required(std::string_view key) const;
  // The value, or `fallback` when the key is missing.
  std::string get(std::string_view key, std::string_view fallback) const;
  // A whole number of milliseconds (the `_ms` keys), positive; `fallback` when missing.
  std::chrono::milliseconds milliseconds(std::string_view key,
                                         std::chrono::milliseconds fallback) const;
  // One of `allowed`; `fallback` when missing.
  std::string choice(std::string_view key, std::string_view fallback,
                     std::initializer_list<std::string_view> allowed) const;
  // An http:// or https:// URL; `fallback` when missing.
  std::string url(std::string_view key, std::string_view fallback) const;

 private:
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;

  const GatewaySettingsMap& map_;
  std::string gateway_;
};

}  // namespace loa::adapters
