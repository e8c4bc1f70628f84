// Audiences: how many households a filter selects, broken down the way operators plan
// (category, area, language), and saved segments (named filters).
//
// Contract: filters go through compile_filter (campaigns/audience_filter.hpp), so values are
// always bound parameters. Errors in an expression come back as FilterError with the column;
// SQLite errors propagate as SQLite::Exception.
//
// Thread-safety: one thread per Database.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "campaigns/audience_filter.hpp"

namespace loa::campaigns {

struct AudienceCount {
  std::uint64_t households = 0;
  std::uint64_t with_phone = 0;   // a usable mobile number
  std::uint64_t with_zalo = 0;    // Zalo presence or a Zalo user id
  std::uint64_t shared_phone = 0; // households whose phone another household also lists
  using Breakdown = std::vector<std::pair<std::string, std::uint64_t>>;  // largest first
  Breakdown by_category;
  Breakdown by_commune;
  Breakdown by_language;
};

// The SQL condition (over `households h`) that picks a campaign's audience: the filter's own
// condition, and never a household loa created for an unknown sender (households.unknown, see
// reply_handler.hpp) — nobody put such a sender on a list, so no bulk campaign may reach it, not
// even `audience = "*"`. An import that lists the number clears the mark (household_store.cpp)
// and the household becomes reachable. Values stay in filter.params, bound in order.
std::string audience_condition(const SqlFilter& filter);

// Counts what the planner would select: audience_condition(filter).
AudienceCount count_audience(SQLite::Database& db, const SqlFilter& filter);

struct Segment {
  std::string name;
  std::string expression;
};

// Saves (or replaces) a named filter after checking that it compiles; returns the error
// otherwise. Names are 1-64 characters of letters, digits, '-', '_' and '.'.
std::optional<FilterError> save_segment(SQLite::Database& db, const Segment& segment);
std::optional<Segment> find_segment(SQLite::Database& db, const std::string& name);
std::vector<Segment> list_segments(SQLite::Database& db);
bool delete_segment(SQLite::Database& db, const std::string& name);
bool is_segment_name(std::string_view name);

}  // namespace loa::campaigns
