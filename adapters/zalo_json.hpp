// Reading Zalo's JSON, which spells the same field as a string in one answer and a number in
// another ("expires_in": "90000", "timestamp": "1677721200000", "error": -118), for the Zalo
// adapters' own use (zalo_token, zalo_api, zalo_webhook).
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/fwd.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace loa::adapters::zalo_json {

// The object's member at `key`, or null when `v` is not an object or has no such member.
const boost::json::value* member(const boost::json::value* v, std::string_view key);

// A string as is, or an integer in decimal; nullopt for anything else (and for null `v`).
std::optional<std::string> text(const boost::json::value* v);

// An integer, or a string holding only one (an optional '-' and digits); else nullopt.
std::optional<long long> integer(const boost::json::value* v);

// The first of `keys` whose member is a non-empty string, or "".
std::string first_text(const boost::json::value& object,
                       std::initializer_list<std::string_view> keys);

// Whether `haystack` contains `needle`, ASCII case-insensitively.
bool contains_nocase(std::string_view haystack, std::string_view needle);

// `text` cut to at most `max` bytes (on a UTF-8 boundary), with every occurrence of a non-empty
// secret replaced by "***": for reasons built from what a server said.
std::string sanitize(std::string_view text, std::initializer_list<std::string_view> secrets,
                     std::size_t max = 200);

}  // namespace loa::adapters::zalo_json
