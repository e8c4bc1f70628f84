#include "adapters/zalo_json.hpp"

#include <boost/json/value.hpp>

#include <charconv>
#include <cstdint>

namespace loa::adapters::zalo_json {

const boost::json::value* member(const boost::json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->as_object().if_contains(key);
}

std::optional<std::string> text(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return std::nullopt;
}

std::optional<long long> integer(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) {
    if (v->as_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<long long>(v->as_uint64());
  }
  if (!v->is_string()) return std::nullopt;
  std::string_view s = v->as_string();
  long long out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return out;
}

std::string first_text(const boost::json::value& object,
                       std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    const boost::json::value* v = member(&object, key);
    if (v != nullptr && v->is_string() && !v->as_string().empty()) {
      return std::string(v->as_string());
    }
  }
  return {};
}

bool contains_nocase(std::string_view haystack, std::string_view needle) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && lower(haystack[i + k]) == lower(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

std::string sanitize(std::string_view text, std::initializer_list<std::string_view> secrets,
                     std::size_t max) {
  std::string out(text);
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  if (out.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace loa::adapters::zalo_json
