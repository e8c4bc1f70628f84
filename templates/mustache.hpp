// Mustache-subset templates for SMS and Zalo text.
//
// What it is for: operators write a campaign message once ("Kính gửi {{name}}, hộ
// {{area.commune}} ..."), and the planner renders it for every household. A template is compiled
// once into a flat program and then rendered many times; rendering does no parsing and allocates
// little beyond the output (a lookup stack).
//
// Syntax (a subset of https://mustache.github.io/mustache.5.html):
//   {{name}}  {{area.commune}}  {{.}}        variable; dotted names; the current list item
//   {{{name}}}  {{&name}}                    the same as {{name}}: there is NO HTML escaping,
//                                            because SMS and Zalo text are plain text
//   {{#flag}}...{{/flag}}                    section: rendered once if the value is truthy, once
//                                            per item if it is a list
//   {{^flag}}...{{/flag}}                    inverted section: rendered if the value is falsy
//   {{! comment }}                           ignored
// Not supported (compile error): partials {{>x}}, delimiter changes {{=<% %>=}}, lambdas.
// Section, inverted, close and comment tags that stand alone on a line remove that whole line,
// as the Mustache spec says, so block tags do not leave blank lines in an SMS.
// Name lookup follows the spec: the first part of a dotted name is searched from the innermost
// section's value outwards to the root; the remaining parts only inside what was found.
// Truthiness: null, false, "" and [] are falsy; everything else (including {}) is truthy.
// A bool variable renders as "true" / "false"; a list or map variable renders empty (reported).
// Templates do not normalise text: literal text is copied byte for byte (apply NFC afterwards,
// see sms_text.hpp).
//
// Contract: no exceptions. compile() returns a TemplateError carrying line and column (1-based;
// the column counts characters, i.e. code points, like an editor) for: invalid UTF-8, unclosed
// tag, empty or malformed name, unsupported tag, unclosed section, mismatched or unexpected
// section close, nesting deeper than the limit, and source larger than the limit. render() never
// fails: a missing variable renders as empty text and is reported in `issues` with its position,
// so nothing is silent; variables() / check() let a caller find missing variables before sending.
//
// Thread-safety: a compiled Template is immutable; render() is const and safe to call
// concurrently from any thread. Value is a plain value type (same rules as std::string).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace loa::templates {

// ---- Render context ----------------------------------------------------------------------------

// A JSON-like value: null, string, bool, list, or map (string keys). Maps are kept as sorted
// vectors: contexts are small (a household's fields), so binary search over contiguous memory
// beats a node-based map.
class Value {
 public:
  enum class Kind { kNull, kString, kBool, kList, kMap };
  using List = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Map = std::vector<Member>;  // sorted by key, keys unique

  Value() = default;                                        // null
  Value(std::string text);                                  // NOLINT: implicit by design
  Value(std::string_view text);                             // NOLINT
  Value(const char* text);                                  // NOLINT; nullptr -> null
  template <std::same_as<bool> B>                           // exactly bool: a pointer
  Value(B flag) : data_(std::in_place_type<bool>, flag) {}  // NOLINT; must not turn into one
  Value(List items);                                        // NOLINT

  // A map from members; when a key repeats, the last one wins.
  static Value map(std::initializer_list<Member> members);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool truthy() const;

  // nullptr when the value is of another kind.
  const std::string* as_string() const { return std::get_if<std::string>(&data_); }
  const bool* as_bool() const { return std::get_if<bool>(&data_); }
  const List* as_list() const { return std::get_if<List>(&data_); }
  const Map* as_map() const { return std::get_if<Map>(&data_); }

  // Map lookup; nullptr if this is not a map or has no such key.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);

  // Inserts or replaces a member. A value that is not a map becomes an empty map first.
  Value& set(std::string key, Value value);
  // Appends an item. A value that is not a list becomes an empty list first.
  Value& push_back(Value item);

 private:
  // Alternative order matches Kind.
  std::variant<std::monostate, std::string, bool, List, Map> data_;
};

using Context = Value;

// ---- Compiling ---------------------------------------------------------------------------------

struct TemplateLimits {
  // Templates are written by operators; 64 KiB is hundreds of SMS parts or any Zalo message.
  std::size_t max_source_bytes = 64 * 1024;
  // Nested sections. Real templates use 1-3; the cap bounds the renderer's recursion.
  std::size_t max_depth = 32;
  // Rendered output per call; list iteration can multiply the source size.
  std::size_t max_output_bytes = 1024 * 1024;
};

enum class TemplateErrorCode {
  kTooLarge,         // source exceeds max_source_bytes (line 0, column 0: the whole template)
  kInvalidUtf8,      // at the first bad byte
  kUnclosedTag,      // "{{" (or "{{{") without its closing "}}" ("}}}"); at the "{{"
  kEmptyName,        // "{{}}", "{{# }}"
  kInvalidName,      // whitespace or braces inside a name, "a..b", ".a", "a."
  kUnsupportedTag,   // partials and delimiter changes
  kUnclosedSection,  // at the "{{#" / "{{^" that is never closed
  kMismatchedClose,  // "{{/y}}" while "{{#x}}" is open; at the "{{/"
  kUnexpectedClose,  // "{{/x}}" with no section open
  kTooDeep,          // at the section tag that exceeds max_depth
};

struct TemplateError {
  TemplateErrorCode code = TemplateErrorCode::kUnclosedTag;
  std::size_t line = 0;    // 1-based
  std::size_t column = 0;  // 1-based, in characters (code points)
  std::string message;     // names the tag or section; does not repeat line:column
};

enum class UseKind { kVariable, kSection, kInverted };

// One place where a template uses a name.
struct VariableUse {
  std::string name;  // as written, e.g. "area.commune", or "." for the current item
  UseKind kind = UseKind::kVariable;
  std::size_t line = 0;               // of the tag's "{{", 1-based
  std::size_t column = 0;             // 1-based, in characters
  std::vector<std::string> sections;  // enclosing section names, outermost first
};

enum class RenderIssueKind {
  kMissing,          // a variable that did not resolve or is null (rendered empty), or a
                     // section / inverted section name that did not resolve (taken as false)
  kNotScalar,        // a variable resolved to a list or map: rendered empty
  kOutputTruncated,  // max_output_bytes reached: rendering stopped before the piece (text or
                     // value) that would cross it, so UTF-8 is never cut; no name, line 0
};

struct RenderIssue {
  RenderIssueKind kind = RenderIssueKind::kMissing;
  UseKind use = UseKind::kVariable;
  std::string name;
  std::size_t line = 0;
  std::size_t column = 0;
};

class CompileResult;

class Template {
 public:
  // An empty template; renders "".
  Template() = default;

  static CompileResult compile(std::string_view source, const TemplateLimits& limits = {});

  // Renders against `context`. Each use site with an issue is reported once per call (not once
  // per list item) in `issues` (appended; may be null to ignore).
  std::string render(const Value& context, std::vector<RenderIssue>* issues = nullptr) const;
  // Appends to `out`, so a caller can reuse one buffer across households.
  void render_to(std::string& out, const Value& context,
                 std::vector<RenderIssue>* issues = nullptr) const;

  // Every use of a name, in source order.
  const std::vector<VariableUse>& variables() const { return uses_; }

  // The uses that cannot resolve against a schema of `known` dotted names from the root
  // ("name", "area.commune", "members", "members.name" for a list of maps). A prefix of a known
  // name is known too. A use inside {{#s}} may also resolve relative to s, following the lookup
  // rule above; "." always resolves. An empty result means no variable can be missing.
  std::vector<VariableUse> check(const std::vector<std::string>& known) const;

 private:
  friend class TemplateCompiler;
  enum class OpKind : std::uint8_t { kText, kVariable, kSection, kInverted };
  struct Op {
    OpKind kind;
    std::uint32_t a;  // text: offset into text_; otherwise: index into uses_ / paths_
    std::uint32_t b;  // text: length; section/inverted: index one past the body's last op
  };
  struct RenderState;

  void render_range(std::size_t begin, std::size_t end, RenderState& state) const;
  const Value* resolve(std::size_t use, const std::vector<const Value*>& stack) const;

  std::vector<Op> ops_;
  std::string text_;                             // literal text, concatenated
  std::vector<VariableUse> uses_;                // indexed by Op::a
  std::vector<std::vector<std::string>> paths_;  // split names; empty for "."
  std::size_t max_output_bytes_ = TemplateLimits{}.max_output_bytes;
};

// A Template or a TemplateError, in the style of tl::expected.
class CompileResult {
 public:
  CompileResult(Template value) : data_(std::in_place_index<0>, std::move(value)) {}       // NOLINT
  CompileResult(TemplateError error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  const Template& value() const& { return std::get<0>(data_); }
  Template&& value() && { return std::get<0>(std::move(data_)); }
  const Template& operator*() const& { return value(); }
  const Template* operator->() const { return &value(); }

  // Precondition: !ok().
  const TemplateError& error() const { return std::get<1>(data_); }

 private:
  std::variant<Template, TemplateError> data_;
};

}  // namespace loa::templates
