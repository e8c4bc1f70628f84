#include "templates/mustache.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_set>
#include <utility>

#include "templates/sms_text.hpp"

namespace loa::templates {

// ---- Value -------------------------------------------------------------------------------------

Value::Value(std::string text) : data_(std::in_place_type<std::string>, std::move(text)) {}

Value::Value(std::string_view text) : data_(std::in_place_type<std::string>, text) {}

Value::Value(const char* text) {
  if (text != nullptr) data_.emplace<std::string>(text);
}

Value::Value(List items) : data_(std::in_place_type<List>, std::move(items)) {}

Value Value::map(std::initializer_list<Member> members) {
  Value value;
  Map& map = value.data_.emplace<Map>();
  map.reserve(members.size());
  for (const Member& member : members) value.set(member.first, member.second);
  return value;
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kNull:
      return false;
    case Kind::kString:
      return !std::get<std::string>(data_).empty();
    case Kind::kBool:
      return std::get<bool>(data_);
    case Kind::kList:
      return !std::get<List>(data_).empty();
    case Kind::kMap:
      return true;
  }
  return false;
}

namespace {

struct MemberLess {
  bool operator()(const Value::Member& member, std::string_view key) const {
    return member.first < key;
  }
};

}  // namespace

const Value* Value::find(std::string_view key) const {
  const Map* map = as_map();
  if (map == nullptr) return nullptr;
  const auto it = std::lower_bound(map->begin(), map->end(), key, MemberLess{});
  if (it == map->end() || it->first != key) return nullptr;
  return &it->second;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(std::as_const(*this).find(key));
}

Value& Value::set(std::string key, Value value) {
  if (kind() != Kind::kMap) data_.emplace<Map>();
  Map& map = std::get<Map>(data_);
  const auto it = std::lower_bound(map.begin(), map.end(), key, MemberLess{});
  if (it != map.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    map.emplace(it, std::move(key), std::move(value));
  }
  return *this;
}

Value& Value::push_back(Value item) {
  if (kind() != Kind::kList) data_.emplace<List>();
  std::get<List>(data_).push_back(std::move(item));
  return *this;
}

// ---- Compiler ----------------------------------------------------------------------------------

namespace {

// Line and column (1-based, column in code points) of byte offsets visited in increasing order.
class PositionTracker {
 public:
  explicit PositionTracker(std::string_view source) : source_(source) {}

  void advance_to(std::size_t offset) {
    for (; pos_ < offset && pos_ < source_.size(); ++pos_) {
      const auto byte = static_cast<unsigned char>(source_[pos_]);
      if (byte == '\n') {
        ++line_;
        column_ = 1;
      } else if ((byte & 0xC0) != 0x80) {  // count lead bytes only: one per code point
        ++column_;
      }
    }
  }
  std::size_t line() const { return line_; }
  std::size_t column() const { return column_; }

 private:
  std::string_view source_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t column_ = 1;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

enum class TagKind { kVariable, kSection, kInverted, kClose, kComment, kUnsupported };

}  // namespace

class TemplateCompiler {
 public:
  TemplateCompiler(std::string_view source, const TemplateLimits& limits)
      : source_(source), limits_(limits), tracker_(source) {
    // Ops address the text with 32-bit offsets.
    limits_.max_source_bytes = std::min<std::size_t>(limits_.max_source_bytes, UINT32_MAX);
  }

  CompileResult run() {
    if (source_.size() > limits_.max_source_bytes) {
      return TemplateError{TemplateErrorCode::kTooLarge, 0, 0,
                           "template is " + std::to_string(source_.size()) +
                               " bytes; the limit is " + std::to_string(limits_.max_source_bytes)};
    }
    if (const auto bad = validate_utf8(source_)) {
      return error_at(bad->byte_offset, TemplateErrorCode::kInvalidUtf8,
                      "invalid UTF-8 in template");
    }
    result_.max_output_bytes_ = limits_.max_output_bytes;

    std::size_t cursor = 0;  // start of literal text not yet emitted
    for (;;) {
      const std::size_t open = source_.find("{{", cursor);
      if (open == std::string_view::npos) {
        emit_text(cursor, source_.size());
        break;
      }
      const bool triple = open + 2 < source_.size() && source_[open + 2] == '{';
      const std::string_view closer = triple ? "}}}" : "}}";
      const std::size_t content_begin = open + (triple ? 3 : 2);
      const std::size_t close = source_.find(closer, content_begin);
      if (close == std::string_view::npos) {
        return error_at(open, TemplateErrorCode::kUnclosedTag,
                        std::string("tag '") + (triple ? "{{{" : "{{") + "' is never closed by '" +
                            std::string(closer) + "'");
      }
      const std::size_t tag_end = close + closer.size();
      std::string_view content = source_.substr(content_begin, close - content_begin);

      TagKind kind = TagKind::kVariable;
      if (!triple && !content.empty()) {
        switch (content.front()) {
          case '#':
            kind = TagKind::kSection;
            break;
          case '^':
            kind = TagKind::kInverted;
            break;
          case '/':
            kind = TagKind::kClose;
            break;
          case '!':
            kind = TagKind::kComment;
            break;
          case '>':
          case '=':
            kind = TagKind::kUnsupported;
            break;
          default:
            break;
        }
        if (kind != TagKind::kVariable || content.front() == '&') content.remove_prefix(1);
      }
      if (kind == TagKind::kUnsupported) {
        return error_at(open, TemplateErrorCode::kUnsupportedTag,
                        "partials ('{{>') and delimiter changes ('{{=') are not supported");
      }

      // Standalone block tags take their whole line with them (Mustache spec, "Standalone").
      std::size_t text_end = open;
      std::size_t next = tag_end;
      if (kind != TagKind::kVariable) {
        if (const auto line = standalone_line(open, tag_end)) {
          text_end = line->first;
          next = line->second;
        }
      }
      emit_text(cursor, text_end);
      tracker_.advance_to(open);
      const std::size_t line = tracker_.line();
      const std::size_t column = tracker_.column();
      cursor = next;

      if (kind == TagKind::kComment) continue;
      const std::string_view name = trim(content);
      if (auto error = check_name(name, line, column)) return std::move(*error);

      switch (kind) {
        case TagKind::kVariable:
          add_use(Template::OpKind::kVariable, UseKind::kVariable, name, line, column);
          break;
        case TagKind::kSection:
        case TagKind::kInverted: {
          if (open_.size() >= limits_.max_depth) {
            return TemplateError{TemplateErrorCode::kTooDeep, line, column,
                                 "section '" + std::string(name) + "' nests deeper than " +
                                     std::to_string(limits_.max_depth) + " levels"};
          }
          const bool inverted = kind == TagKind::kInverted;
          add_use(inverted ? Template::OpKind::kInverted : Template::OpKind::kSection,
                  inverted ? UseKind::kInverted : UseKind::kSection, name, line, column);
          open_.push_back({result_.ops_.size() - 1, std::string(name), line, column});
          break;
        }
        case TagKind::kClose: {
          if (open_.empty()) {
            return TemplateError{TemplateErrorCode::kUnexpectedClose, line, column,
                                 "'{{/" + std::string(name) + "}}' closes no open section"};
          }
          const OpenSection& top = open_.back();
          if (top.name != name) {
            return TemplateError{TemplateErrorCode::kMismatchedClose, line, column,
                                 "'{{/" + std::string(name) + "}}' does not match section '" +
                                     top.name + "' opened at line " + std::to_string(top.line) +
                                     ", column " + std::to_string(top.column)};
          }
          result_.ops_[top.op].b = static_cast<std::uint32_t>(result_.ops_.size());
          can_merge_text_ = false;  // text after the close must not join the body
          open_.pop_back();
          break;
        }
        case TagKind::kComment:
        case TagKind::kUnsupported:
          break;
      }
    }
    if (!open_.empty()) {
      const OpenSection& top = open_.back();
      return TemplateError{
          TemplateErrorCode::kUnclosedSection, top.line, top.column,
          "section '" + top.name + "' is never closed (expected '{{/" + top.name + "}}')"};
    }
    return std::move(result_);
  }

 private:
  struct OpenSection {
    std::size_t op;
    std::string name;
    std::size_t line;
    std::size_t column;
  };

  TemplateError error_at(std::size_t offset, TemplateErrorCode code, std::string message) {
    tracker_.advance_to(offset);
    return TemplateError{code, tracker_.line(), tracker_.column(), std::move(message)};
  }

  // If the tag [begin, end) is alone on its line (only spaces/tabs around it), returns the byte
  // range to drop: from the line's start to just past its newline (or the end of the source).
  std::optional<std::pair<std::size_t, std::size_t>> standalone_line(std::size_t begin,
                                                                     std::size_t end) const {
    std::size_t line_start = begin;
    while (line_start > 0 && source_[line_start - 1] != '\n') {
      const char c = source_[line_start - 1];
      if (c != ' ' && c != '\t') return std::nullopt;
      --line_start;
    }
    std::size_t after = end;
    while (after < source_.size() && (source_[after] == ' ' || source_[after] == '\t')) ++after;
    if (after == source_.size()) return std::make_pair(line_start, after);
    if (source_[after] == '\n') return std::make_pair(line_start, after + 1);
    if (source_.compare(after, 2, "\r\n") == 0) return std::make_pair(line_start, after + 2);
    return std::nullopt;
  }

  std::optional<TemplateError> check_name(std::string_view name, std::size_t line,
                                          std::size_t column) const {
    if (name.empty()) {
      return TemplateError{TemplateErrorCode::kEmptyName, line, column, "tag has an empty name"};
    }
    const auto invalid = [&](std::string_view why) {
      return TemplateError{TemplateErrorCode::kInvalidName, line, column,
                           "invalid name '" + std::string(name) + "': " + std::string(why)};
    };
    if (name == ".") return std::nullopt;
    for (const char c : name) {
      if (is_space(c)) return invalid("names contain no spaces");
      if (c == '{' || c == '}') return invalid("names contain no braces");
    }
    if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos) {
      return invalid("empty part in a dotted name");
    }
    if (name.find_first_of("#^/!&>=") == 0) return invalid("unexpected sigil");
    return std::nullopt;
  }

  void emit_text(std::size_t begin, std::size_t end) {
    if (end <= begin) return;
    auto& ops = result_.ops_;
    // Merge with the preceding text op when only a comment separates them.
    if (can_merge_text_) {
      ops.back().b += static_cast<std::uint32_t>(end - begin);
    } else {
      ops.push_back({Template::OpKind::kText, static_cast<std::uint32_t>(result_.text_.size()),
                     static_cast<std::uint32_t>(end - begin)});
    }
    result_.text_.append(source_.substr(begin, end - begin));
    can_merge_text_ = true;
  }

  void add_use(Template::OpKind op, UseKind kind, std::string_view name, std::size_t line,
               std::size_t column) {
    VariableUse use;
    use.name = std::string(name);
    use.kind = kind;
    use.line = line;
    use.column = column;
    for (const OpenSection& section : open_) use.sections.push_back(section.name);
    std::vector<std::string> path;
    if (name != ".") {
      std::size_t start = 0;
      for (;;) {
        const std::size_t dot = name.find('.', start);
        path.emplace_back(name.substr(start, dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
      }
    }
    can_merge_text_ = false;
    result_.ops_.push_back({op, static_cast<std::uint32_t>(result_.uses_.size()),
                            static_cast<std::uint32_t>(result_.ops_.size() + 1)});
    result_.uses_.push_back(std::move(use));
    result_.paths_.push_back(std::move(path));
  }

  std::string_view source_;
  TemplateLimits limits_;
  PositionTracker tracker_;
  std::vector<OpenSection> open_;
  bool can_merge_text_ = false;
  Template result_;
};

CompileResult Template::compile(std::string_view source, const TemplateLimits& limits) {
  return TemplateCompiler(source, limits).run();
}

// ---- Rendering ---------------------------------------------------------------------------------

struct Template::RenderState {
  std::string& out;
  std::size_t out_limit;  // absolute size of `out` that must not be exceeded
  std::vector<const Value*> stack;
  std::vector<RenderIssue>* issues;
  std::vector<bool> reported;  // per use site, so a list of 10,000 items reports once
  bool truncated = false;
};

namespace {

void report(std::vector<RenderIssue>* issues, std::vector<bool>& reported, std::size_t use_index,
            const VariableUse& use, RenderIssueKind kind) {
  if (issues == nullptr || reported[use_index]) return;
  reported[use_index] = true;
  issues->push_back({kind, use.kind, use.name, use.line, use.column});
}

}  // namespace

const Value* Template::resolve(std::size_t use, const std::vector<const Value*>& stack) const {
  const std::vector<std::string>& path = paths_[use];
  if (path.empty()) return stack.back();  // "."
  const Value* value = nullptr;
  for (auto it = stack.rbegin(); it != stack.rend() && value == nullptr; ++it) {
    value = (*it)->find(path.front());
  }
  for (std::size_t k = 1; k < path.size() && value != nullptr; ++k) value = value->find(path[k]);
  return value;
}

void Template::render_range(std::size_t begin, std::size_t end, RenderState& state) const {
  const auto append = [&](std::string_view text) {
    if (text.size() > state.out_limit - state.out.size()) {
      if (!state.truncated && state.issues != nullptr) {
        state.issues->push_back({RenderIssueKind::kOutputTruncated, UseKind::kVariable, "", 0, 0});
      }
      state.truncated = true;
      return;
    }
    state.out.append(text);
  };
  for (std::size_t i = begin; i < end && !state.truncated;) {
    const Op& op = ops_[i];
    if (op.kind == OpKind::kText) {
      append(std::string_view(text_).substr(op.a, op.b));
      ++i;
      continue;
    }
    const Value* value = resolve(op.a, state.stack);
    if (op.kind == OpKind::kVariable) {
      if (value == nullptr || value->is_null()) {
        report(state.issues, state.reported, op.a, uses_[op.a], RenderIssueKind::kMissing);
      } else if (const std::string* text = value->as_string()) {
        append(*text);
      } else if (const bool* flag = value->as_bool()) {
        append(*flag ? "true" : "false");
      } else {
        report(state.issues, state.reported, op.a, uses_[op.a], RenderIssueKind::kNotScalar);
      }
      ++i;
      continue;
    }
    if (value == nullptr) {
      report(state.issues, state.reported, op.a, uses_[op.a], RenderIssueKind::kMissing);
    }
    const bool truthy = value != nullptr && value->truthy();
    if (op.kind == OpKind::kSection && truthy) {
      if (const Value::List* items = value->as_list()) {
        for (const Value& item : *items) {
          state.stack.push_back(&item);
          render_range(i + 1, op.b, state);
          state.stack.pop_back();
          if (state.truncated) break;
        }
      } else {
        state.stack.push_back(value);
        render_range(i + 1, op.b, state);
        state.stack.pop_back();
      }
    } else if (op.kind == OpKind::kInverted && !truthy) {
      render_range(i + 1, op.b, state);
    }
    i = op.b;
  }
}

void Template::render_to(std::string& out, const Value& context,
                         std::vector<RenderIssue>* issues) const {
  // Saturating: a caller may configure an "unlimited" SIZE_MAX.
  const std::size_t limit = out.size() + std::min(max_output_bytes_, SIZE_MAX - out.size());
  RenderState state{out, limit, {}, issues, {}, false};
  state.stack.reserve(TemplateLimits{}.max_depth + 1);
  state.stack.push_back(&context);
  if (issues != nullptr) state.reported.assign(uses_.size(), false);
  render_range(0, ops_.size(), state);
}

std::string Template::render(const Value& context, std::vector<RenderIssue>* issues) const {
  std::string out;
  out.reserve(text_.size() + 16 * uses_.size());
  render_to(out, context, issues);
  return out;
}

// ---- Static check ------------------------------------------------------------------------------

std::vector<VariableUse> Template::check(const std::vector<std::string>& known) const {
  // Every known name and each of its dotted prefixes.
  std::unordered_set<std::string> names;
  for (const std::string& name : known) {
    for (std::size_t dot = name.find('.'); dot != std::string::npos;
         dot = name.find('.', dot + 1)) {
      names.insert(name.substr(0, dot));
    }
    names.insert(name);
  }

  std::vector<VariableUse> missing;
  // Absolute paths that the context stack may hold at this point ("" is the root). A section
  // whose name resolves pushes the paths it resolved to; those are bounded by `known`.
  std::vector<std::string> scopes{""};
  std::vector<std::pair<std::size_t, std::size_t>> open;  // (end op, scopes size to restore)
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    while (!open.empty() && open.back().first == i) {
      scopes.resize(open.back().second);
      open.pop_back();
    }
    const Op& op = ops_[i];
    if (op.kind == OpKind::kText) continue;
    const VariableUse& use = uses_[op.a];
    std::vector<std::string> resolved;
    if (use.name == ".") {
      resolved.push_back(".");
    } else {
      for (const std::string& scope : scopes) {
        std::string candidate = scope.empty() ? use.name : scope + "." + use.name;
        if (names.count(candidate) != 0 &&
            std::find(resolved.begin(), resolved.end(), candidate) == resolved.end()) {
          resolved.push_back(std::move(candidate));
        }
      }
      if (resolved.empty()) missing.push_back(use);
    }
    if (op.kind != OpKind::kVariable) {
      open.emplace_back(op.b, scopes.size());
      if (op.kind == OpKind::kSection && use.name != ".") {
        for (std::string& path : resolved) {
          if (std::find(scopes.begin(), scopes.end(), path) == scopes.end()) {
            scopes.push_back(std::move(path));
          }
        }
      }
    }
  }
  return missing;
}

}  // namespace loa::templates
