#include "adapters/settings_reader.hpp"

#include <boost/url/parse.hpp>

#include <charconv>
#include <stdexcept>

namespace loa::adapters {

SettingsReader::SettingsReader(const GatewaySettingsMap& map, std::string_view gateway)
    : map_(map), gateway_(gateway) {}

void SettingsReader::fail(std::string_view key, std::string_view what) const {
  throw std::invalid_argument(gateway_ + " setting `" + std::string(key) +
                              "`: " + std::string(what));
}

std::string SettingsReader::required(std::string_view key) const {
  auto it = map_.find(std::string(key));
  if (it == map_.end() || it->second.empty()) fail(key, "is required");
  return it->second;
}

std::string SettingsReader::get(std::string_view key, std::string_view fallback) const {
  auto it = map_.find(std::string(key));
  return it == map_.end() ? std::string(fallback) : it->second;
}

std::chrono::milliseconds SettingsReader::milliseconds(std::string_view key,
                                                        std::chrono::milliseconds fallback) const {
  auto it = map_.find(std::string(key));
  if (it == map_.end()) return fallback;
  const std::string& s = it->second;
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v <= 0) {
    fail(key, "must be a positive whole number of milliseconds, not \"" + s + "\"");
  }
  return std::chrono::milliseconds(v);
}

std::string SettingsReader::choice(std::string_view key, std::string_view fallback,
                                    std::initializer_list<std::string_view> allowed) const {
  std::string v = get(key, fallback);
  std::string list;
  for (std::string_view a : allowed) {
    if (v == a) return v;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  fail(key, "must be one of " + list + ", not \"" + v + "\"");
}

std::string SettingsReader::url(std::string_view key, std::string_view fallback) const {
  std::string v = get(key, fallback);
  auto parsed = boost::urls::parse_absolute_uri(v);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty()) {
    fail(key, "must be an http:// or https:// URL, not \"" + v + "\"");
  }
  return v;
}

}  // namespace loa::adapters
