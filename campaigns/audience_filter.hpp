// The audience filter language: what an operator types to choose households for a campaign,
// parsed to an AST and compiled to a parameterised SQLite WHERE fragment.
//
//   category in ("poor", "near_poor") and commune = "Xã Ea Trul" and language = "rad"
//     and not opted_out("sms")
//
// Grammar (keywords and, or, not, in, true, false are case-insensitive; names are not):
//   filter     := or_expr END
//   or_expr    := and_expr ("or" and_expr)*
//   and_expr   := not_expr ("and" not_expr)*
//   not_expr   := "not" not_expr | primary
//   primary    := "(" or_expr ")" | call | comparison
//   call       := NAME "(" [value ("," value)*] ")"   -- opted_out("sms"|"zalo"), has_zalo(),
//                                                       -- has_phone()
//   comparison := field ("=" | "!=" | "<" | "<=" | ">" | ">=" | "~") value
//               | field ["not"] "in" "(" value ("," value)* ")"
//   field      := NAME | "attr" "." NAME                -- NAME: [A-Za-z_][A-Za-z0-9_]*
//   value      := STRING | INTEGER | "true" | "false"   -- STRING: "…" with \" and \\ escapes
//
// `field ~ "text"` is true when the field contains the text, ignoring accents, case and extra
// spaces (templates::fold_text): `name ~ "nguyen van"` finds "Nguyễn Văn An", `village ~ "buon
// d"` finds "Buôn Đôn". It works on the fields that have a folded column (name, commune,
// village); elsewhere it is an error at the field's column.
//
// Contract:
// - Values never reach the SQL text: each becomes a `?` with its value in SqlFilter::params, in
//   the order the placeholders appear. Column expressions come only from a FieldTable, which is
//   trusted code, never user input. Anything else (a ';', a single quote, a bare word where a
//   value belongs) is a syntax error, so injection attempts fail to parse.
// - Errors carry the 1-based column of the problem, counted in Unicode code points (not bytes),
//   so the column is right after Vietnamese text: "column 14: unknown field 'categroy'".
// - Input length and nesting depth are bounded (FilterLimits); nothing recurses deeper than
//   max_depth, and nothing throws except std::bad_alloc.
// - Two-valued logic: a missing value (SQL NULL) never equals, is never less or greater than,
//   and is never in a list of anything, and `not` turns that "false" into "true". So
//   `language != "rad"`, `not language = "rad"` and `language not in ("rad")` all select the
//   households whose language is unknown. The SQL spells negation `(x) IS NOT 1` to get this
//   under SQLite's three-valued logic.
// - The fragment is self-delimiting: it binds at least as tightly as AND/OR, so it can be
//   appended as `... AND <where>`.
//
// The household table the default FieldTable assumes (alias `h`):
//   households h (household_code TEXT, name TEXT, category TEXT, language TEXT,
//                 ethnicity TEXT, province TEXT, commune TEXT, village TEXT,
//                 district TEXT,        -- legacy: the 2025 reorganisation removed districts
//                 carrier TEXT,         -- carrier_code() of the phone's prefix
//                 name_folded TEXT, commune_folded TEXT, village_folded TEXT,  -- fold_text()
//                 phone_e164 TEXT,      -- NULL or '' when the household has no usable phone
//                 has_zalo INTEGER,     -- the list says the household uses Zalo (0/1)
//                 zalo_user_id TEXT,    -- Zalo OA follower id, NULL when unknown
//                 opt_out_sms INTEGER,  -- 1 once the household opted out of SMS
//                 opt_out_zalo INTEGER, -- 1 once the household opted out of Zalo
//                 attributes TEXT)      -- JSON object of free-form attributes (attr.<name>)
//
// Thread-safety: all functions are pure; the default FieldTable is immutable after its
// thread-safe first use. Safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace loa::campaigns {

// ---------------------------------------------------------------------------------------------
// Output

using SqlValue = std::variant<std::int64_t, std::string>;

struct SqlFilter {
  std::string where;             // e.g. "(h.category IN (?, ?) AND h.commune = ?)"
  std::vector<SqlValue> params;  // bind in order, 1-based: params[0] is ?1
};

struct FilterError {
  std::size_t column = 0;  // 1-based, in code points
  std::string message;     // e.g. "unknown field 'categroy'; did you mean 'category'?"

  std::string to_string() const;  // "column 14: unknown field 'categroy'…"
};

struct FilterLimits {
  std::size_t max_bytes = 4096;  // filter text length in bytes
  std::size_t max_depth = 64;    // nesting of parentheses and `not`
  std::size_t max_params = 999;  // SQLITE_MAX_VARIABLE_NUMBER before SQLite 3.32
};

// ---------------------------------------------------------------------------------------------
// Field table: the one place where filter names meet SQL.

enum class FieldType : std::uint8_t {
  kText,     // compares with strings only
  kInteger,  // compares with integers only
  kAny,      // free-form attributes: strings, integers, true/false (bound as 1/0)
};

struct FieldColumn {
  std::string name;  // as written in filters, e.g. "commune"
  std::string sql;   // trusted SQL expression, e.g. "h.commune"
  FieldType type = FieldType::kText;
  std::string folded_sql;  // the folded column behind `~`; empty: `~` is refused
};

struct FieldTable {
  std::vector<FieldColumn> fields;
  // attr.<name>: SQL with exactly one '?', bound to the JSON path "$.<name>". Empty: no attr.*.
  std::string attribute_sql;
  // Columns behind the functions (trusted SQL expressions).
  std::string opt_out_sms_column;   // opted_out("sms"): non-zero once opted out
  std::string opt_out_zalo_column;  // opted_out("zalo")
  std::string has_zalo_column;      // has_zalo(): non-zero when the household uses Zalo
  std::string zalo_user_id_column;  // has_zalo(): or a known OA follower id
  std::string phone_column;         // has_phone(): non-empty E.164 number

  const FieldColumn* find(std::string_view name) const;
};

// category, language, ethnicity, province, commune, village, district (legacy), carrier,
// household_code, name, attr.<name>, over the table described above.
const FieldTable& default_field_table();

// ---------------------------------------------------------------------------------------------
// AST

enum class CompareOp : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kContains };

struct FilterValue {
  std::variant<std::int64_t, std::string, bool> value;
  std::size_t column = 0;
};

struct FilterNode {
  enum class Kind : std::uint8_t {
    kOr,       // children (two or more)
    kAnd,      // children (two or more)
    kNot,      // children[0]
    kCompare,  // name op values[0]
    kIn,       // name in values
    kNotIn,    // name not in values
    kCall,     // name(values)
  };

  Kind kind = Kind::kAnd;
  std::size_t column = 0;  // where the node starts (for a comparison: its field)
  std::vector<FilterNode> children;
  std::string name;  // field ("commune", "attr.members") or function ("opted_out")
  CompareOp op = CompareOp::kEq;
  std::vector<FilterValue> values;
};

struct ParsedFilter {
  FilterNode root;
  std::optional<FilterError> error;

  bool ok() const { return !error.has_value(); }
};

struct CompiledFilter {
  SqlFilter sql;
  std::optional<FilterError> error;

  bool ok() const { return !error.has_value(); }
};

// Syntax only: fields and functions are checked by compile_filter().
ParsedFilter parse_filter(std::string_view text, const FilterLimits& limits = {});

// Checks names, types and arity against `table` and produces SQL.
CompiledFilter compile_filter(const FilterNode& root,
                              const FieldTable& table = default_field_table(),
                              const FilterLimits& limits = {});

// parse_filter() then compile_filter().
CompiledFilter compile_filter(std::string_view text,
                              const FieldTable& table = default_field_table(),
                              const FilterLimits& limits = {});

// A canonical, fully parenthesised rendering of the AST, for logs and tests:
//   (and (in category "poor" "near_poor") (not (opted_out "sms")))
std::string describe(const FilterNode& node);

}  // namespace loa::campaigns
