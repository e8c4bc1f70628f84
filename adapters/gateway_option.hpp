// One option key of a gateway type, as a route's [routes.<route>.options] table spells it.
//
// What it is for: each adapter owns the table of its keys beside its settings struct, so that
// `loa config reference` and the README list what the adapter really reads, and a key that is
// not in the table can be refused by name. A secret is listed once by its name ("password") and
// is given as `<key>_env` or `<key>_file` (adapters/registry.hpp); a key ending in '.' is a
// prefix ("header." for header.Authorization).
//
// Thread-safety: constant data.
#pragma once

#include <string_view>

namespace loa::adapters {

struct GatewayOption {
  std::string_view key;
  std::string_view default_value;  // "" when there is none (required, or off when absent)
  std::string_view doc;
  bool secret = false;  // given as <key>_env or <key>_file, never in the configuration
};

}  // namespace loa::adapters
