// Query strings and application/x-www-form-urlencoded bodies, both ways: what SMS gateways
// speak (Kannel's sendsms and its callbacks, eSMS's callbacks, most generic HTTP gateways).
//
// Contract: decoding never throws; a bad escape marks the parameters as not well-formed and
// leaves the '%' as it was. Names and values are bytes (UTF-8 is passed through untouched).
//
// Thread-safety: everything here is pure or const; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loa::adapters {

// The parameters of a query string or a form body, in order, percent-decoded, with '+' as a
// space. A parameter without '=' has an empty value.
class FormParams {
 public:
  // The query of a request target ("/path?a=1&b=2"). `question_mark_separates`: a '?' inside
  // the query separates parameters too, for gateways that append "?a=b" to a callback URL
  // that already has a query.
  static FormParams from_target(std::string_view target, bool question_mark_separates = false);
  static FormParams from_body(std::string_view body);

  bool has(std::string_view name) const;
  // The first value of that name (case-sensitive), or nullopt when absent.
  std::optional<std::string> get(std::string_view name) const;
  // The same, but '+' stays a '+': for base64 values that a sender may not have encoded.
  std::optional<std::string> get_literal_plus(std::string_view name) const;
  // False when some escape was not %XX.
  bool well_formed() const { return well_formed_; }

 private:
  void parse(std::string_view query, bool question_mark_separates);
  std::optional<std::string> find(std::string_view name, bool plus_is_space) const;

  std::vector<std::pair<std::string, std::string>> raw_;  // names decoded, values still encoded
  bool well_formed_ = true;
};

// Percent-encodes everything except the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), so
// the result is safe as a query value, a path segment and a form value (a space is %20).
std::string percent_encode(std::string_view s);

// True when every byte is an RFC 3986 unreserved character (and s is not empty).
bool is_unreserved(std::string_view s);

}  // namespace loa::adapters
