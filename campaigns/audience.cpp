#include "campaigns/audience.hpp"

#include <SQLiteCpp/Statement.h>

#include <cctype>
#include <variant>

namespace loa::campaigns {
namespace {

void bind_all(SQLite::Statement& st, const SqlFilter& filter) {
  int i = 1;
  for (const auto& v : filter.params) {
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      st.bind(i++, static_cast<int64_t>(*n));
    } else {
      st.bind(i++, std::get<std::string>(v));
    }
  }
}

// The compiled filter holds whitelisted columns and ? placeholders only (audience_filter.hpp);
// its values are bound by bind_all.
std::string where_clause(const SqlFilter& filter) {
  // sql-trusted: see above
  return " WHERE " + audience_condition(filter);
}

AudienceCount::Breakdown breakdown(SQLite::Database& db, const SqlFilter& filter,
                                   const char* column) {
  // sql-trusted: `column` is one of this file's constant column names; the filter as above.
  SQLite::Statement st(db, std::string("SELECT COALESCE(") + column +
                               ", '(none)') AS k, COUNT(*) AS n FROM households h" +
                               where_clause(filter) + " GROUP BY k ORDER BY n DESC, k");
  bind_all(st, filter);
  AudienceCount::Breakdown out;
  while (st.executeStep())
    out.emplace_back(st.getColumn(0).getString(),
                     static_cast<std::uint64_t>(st.getColumn(1).getInt64()));
  return out;
}

}  // namespace

std::string audience_condition(const SqlFilter& filter) {
  // sql-trusted: the compiled filter (whitelisted columns, ? placeholders)
  return filter.where.empty() ? "h.unknown = 0" : "h.unknown = 0 AND (" + filter.where + ")";
}

AudienceCount count_audience(SQLite::Database& db, const SqlFilter& filter) {
  AudienceCount c;
  SQLite::Statement st(db,
                       "SELECT COUNT(*), "
                       "COALESCE(SUM(h.phone_e164 IS NOT NULL AND h.phone_e164 <> ''), 0), "
                       "COALESCE(SUM(h.has_zalo <> 0 OR h.zalo_user_id IS NOT NULL), 0), "
                       "COALESCE(SUM(h.shared_phone), 0) FROM households h" +
                           where_clause(filter));
  bind_all(st, filter);
  if (st.executeStep()) {
    c.households = static_cast<std::uint64_t>(st.getColumn(0).getInt64());
    c.with_phone = static_cast<std::uint64_t>(st.getColumn(1).getInt64());
    c.with_zalo = static_cast<std::uint64_t>(st.getColumn(2).getInt64());
    c.shared_phone = static_cast<std::uint64_t>(st.getColumn(3).getInt64());
  }
  c.by_category = breakdown(db, filter, "h.category");
  c.by_commune = breakdown(db, filter, "h.commune");
  c.by_language = breakdown(db, filter, "h.language");
  return c;
}

bool is_segment_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

std::optional<FilterError> save_segment(SQLite::Database& db, const Segment& segment) {
  if (!is_segment_name(segment.name))
    return FilterError{0, "segment name '" + segment.name +
                              "' must be 1-64 letters, digits, '-', '_' or '.'"};
  auto compiled = compile_filter(segment.expression);
  if (!compiled.ok()) return compiled.error;
  SQLite::Statement st(db,
                       "INSERT INTO segments(name, expression) VALUES (?, ?) "
                       "ON CONFLICT(name) DO UPDATE SET expression = excluded.expression, "
                       "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')");
  st.bind(1, segment.name);
  st.bind(2, segment.expression);
  st.exec();
  return std::nullopt;
}

std::optional<Segment> find_segment(SQLite::Database& db, const std::string& name) {
  SQLite::Statement st(db, "SELECT name, expression FROM segments WHERE name = ?");
  st.bind(1, name);
  if (!st.executeStep()) return std::nullopt;
  return Segment{st.getColumn(0).getString(), st.getColumn(1).getString()};
}

std::vector<Segment> list_segments(SQLite::Database& db) {
  std::vector<Segment> out;
  SQLite::Statement st(db, "SELECT name, expression FROM segments ORDER BY name");
  while (st.executeStep()) out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString()});
  return out;
}

bool delete_segment(SQLite::Database& db, const std::string& name) {
  SQLite::Statement st(db, "DELETE FROM segments WHERE name = ?");
  st.bind(1, name);
  return st.exec() > 0;
}

}  // namespace loa::campaigns
