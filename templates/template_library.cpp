#include "templates/template_library.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "templates/clean_text.hpp"
#include "templates/sms_text.hpp"

namespace loa::templates {
namespace {

bool is_lower_alpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ZNS template ids are numeric strings in every sample we have seen (vietnam-channels.md §1.1);
// we also accept letters, '_' and '-' so that a placeholder reads as one.
bool is_zns_template_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return is_lower_alpha(c) || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
  });
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

class IssueSink {
 public:
  IssueSink(const TemplateSource& source, std::vector<TemplateIssue>& issues)
      : source_(source), issues_(issues) {}

  TemplateIssue& add(TemplateIssue::Severity severity, const VariantSource* variant,
                     std::string message) {
    TemplateIssue issue;
    issue.severity = severity;
    issue.key = source_.key;
    issue.where = source_.where;
    if (variant != nullptr) {
      issue.language = variant->language;
      issue.channel = variant->channel;
      issue.where = variant->where;
    }
    issue.message = std::move(message);
    if (severity == TemplateIssue::Severity::kError) errors_ = true;
    issues_.push_back(std::move(issue));
    return issues_.back();
  }
  TemplateIssue& error(const VariantSource* variant, std::string message) {
    return add(TemplateIssue::Severity::kError, variant, std::move(message));
  }
  TemplateIssue& warning(const VariantSource* variant, std::string message) {
    return add(TemplateIssue::Severity::kWarning, variant, std::move(message));
  }
  bool errors() const { return errors_; }

 private:
  const TemplateSource& source_;
  std::vector<TemplateIssue>& issues_;
  bool errors_ = false;
};

// Checks one Mustache text (a variant's text or a ZNS parameter's value) and compiles its NFC
// form. `where` is the location to report (the parameter's own, for ZNS).
std::optional<Template> compile_text(const std::string& text, const VariantSource& variant,
                                     const SourceLocation& where, const std::string& variable,
                                     IssueSink& sink) {
  const auto locate = [&](TemplateIssue& issue, std::size_t line, std::size_t column) {
    issue.where = where;
    issue.variable = variable;
    issue.line = line;
    issue.column = column;
  };
  if (const auto bad = validate_utf8(text)) {
    // Line and column of the bad byte: count what precedes it.
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < bad->byte_offset; ++i) {
      const auto b = static_cast<unsigned char>(text[i]);
      if (b == '\n') {
        ++line;
        column = 1;
      } else if ((b & 0xC0) != 0x80) {
        ++column;
      }
    }
    locate(sink.error(&variant, "invalid UTF-8 (" + bad->message + ")"), line, column);
    return std::nullopt;
  }
  if (const auto control = find_control_character(text)) {
    locate(sink.error(&variant, "control character " + code_point_name(control->code_point) +
                                    " is not allowed in a template (clean_text.hpp)"),
           control->line, control->column);
    return std::nullopt;
  }
  auto compiled = Template::compile(text);
  if (!compiled) {
    const TemplateError& error = compiled.error();
    locate(sink.error(&variant, error.message), error.line, error.column);
    return std::nullopt;
  }
  auto normalized = nfc(text);
  if (!normalized) {  // unreachable: validated above
    locate(sink.error(&variant, normalized.error().message), 0, 0);
    return std::nullopt;
  }
  if (*normalized == text) return std::move(compiled).value();
  auto recompiled = Template::compile(*normalized);
  if (!recompiled) {
    locate(sink.error(&variant, "after NFC normalisation: " + recompiled.error().message),
           recompiled.error().line, recompiled.error().column);
    return std::nullopt;
  }
  return std::move(recompiled).value();
}

}  // namespace

bool is_identifier(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_lower_alpha(c) || is_digit(c) || c == '_'; });
}

bool is_language_code(std::string_view code) {
  const std::size_t dash = code.find('-');
  const std::string_view primary = code.substr(0, dash);
  if (primary.size() < 2 || primary.size() > 3) return false;
  if (!std::all_of(primary.begin(), primary.end(), is_lower_alpha)) return false;
  if (dash == std::string_view::npos) return true;
  std::string_view rest = code.substr(dash + 1);
  for (;;) {
    const std::size_t next = rest.find('-');
    const std::string_view subtag = rest.substr(0, next);
    if (subtag.empty() || subtag.size() > 8) return false;
    for (const char c : subtag) {
      if (!is_lower_alpha(c) && !(c >= 'A' && c <= 'Z') && !is_digit(c)) return false;
    }
    if (next == std::string_view::npos) return true;
    rest = rest.substr(next + 1);
  }
}

std::string TemplateIssue::describe() const {
  std::string out;
  bool file_position = false;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line != 0) {
      if (line != 0 && where.maps_exactly) {
        const std::size_t file_line = where.line + line - 1;
        const std::size_t file_column = line == 1 ? where.column + column - 1 : column;
        out += ":" + std::to_string(file_line) + ":" + std::to_string(file_column);
        file_position = true;
      } else if (key.empty() && where.column != 0) {
        out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
      } else {
        out += ":" + std::to_string(where.line);
      }
    }
    out += ": ";
  }
  out += is_error() ? "error: " : "warning: ";
  if (!key.empty()) {
    out += "template '" + key + "'";
    if (!language.empty()) out += ", language '" + language + "'";
  }
  if (channel) out += ", channel '" + std::string(to_string(*channel)) + "'";
  if (!variable.empty() && message.find("'" + variable + "'") == std::string::npos) {
    out += ", parameter '" + variable + "'";
  }
  if (line != 0) {
    out += file_position ? ", text " : ", at text ";
    out += std::to_string(line) + ":" + std::to_string(column);
  }
  out += key.empty() && line == 0 ? message : ": " + message;
  return out;
}

bool has_errors(const std::vector<TemplateIssue>& issues) {
  return std::any_of(issues.begin(), issues.end(),
                     [](const TemplateIssue& issue) { return issue.is_error(); });
}

const Variant* TemplateDef::find(std::string_view language, Channel channel) const {
  for (const Variant& variant : variants_) {
    if (variant.channel() == channel && variant.language() == language) return &variant;
  }
  return nullptr;
}

bool TemplateDef::has_channel(Channel channel) const {
  return std::any_of(variants_.begin(), variants_.end(),
                     [&](const Variant& variant) { return variant.channel() == channel; });
}

std::optional<TemplateDef> compile_template(TemplateSource source,
                                            std::vector<TemplateIssue>& issues) {
  IssueSink sink(source, issues);
  if (!is_identifier(source.key)) {
    sink.error(nullptr, "the key must be 1-64 characters of a-z, 0-9 and '_'");
  }
  TemplateDef definition;
  std::set<std::pair<std::string, Channel>> seen;
  for (VariantSource& variant : source.variants) {
    if (!is_language_code(variant.language)) {
      sink.error(&variant, "'" + variant.language +
                               "' is not a language code (vi, rad, cmo, jra, or BCP-47 like "
                               "vi-VN)");
      continue;
    }
    if (!seen.emplace(variant.language, variant.channel).second) {
      sink.error(&variant, "this language and channel are defined twice");
      continue;
    }
    Variant compiled;
    if (variant.channel == Channel::kZaloZns) {
      if (!variant.text.empty()) sink.error(&variant, "a zalo_zns variant takes no free text");
      if (!variant.zns_template_id.empty() && !is_zns_template_id(variant.zns_template_id)) {
        sink.error(&variant, "template_id '" + variant.zns_template_id +
                                 "' must be 1-64 characters of letters, digits, '_' or '-'");
      }
      if (variant.zns_template_id.empty() && !variant.zns_params.empty()) {
        sink.warning(&variant,
                     "parameters without a template_id: the variant awaits its approved template "
                     "and is not used");
      }
      std::sort(variant.zns_params.begin(), variant.zns_params.end(),
                [](const ZnsParamSource& a, const ZnsParamSource& b) { return a.name < b.name; });
      for (std::size_t k = 0; k < variant.zns_params.size(); ++k) {
        ZnsParamSource& param = variant.zns_params[k];
        if (!is_identifier(param.name)) {
          sink.error(&variant, "ZNS parameter name '" + param.name +
                                   "' must be 1-64 characters of a-z, 0-9 and '_' (Zalo "
                                   "parameter names carry no diacritics or spaces)")
              .variable = param.name;
          continue;
        }
        if (k > 0 && variant.zns_params[k - 1].name == param.name) {
          sink.error(&variant, "ZNS parameter '" + param.name + "' is defined twice").variable =
              param.name;
          continue;
        }
        const SourceLocation& where = param.where.file.empty() ? variant.where : param.where;
        auto value = compile_text(param.value, variant, where, param.name, sink);
        if (!value) continue;
        if (auto normalized = nfc(param.value)) param.value = std::move(normalized).value();
        compiled.zns_params.push_back(std::move(*value));
      }
    } else {
      if (!variant.zns_template_id.empty() || !variant.zns_params.empty()) {
        sink.error(&variant, "only a zalo_zns variant takes a template_id and parameters");
      }
      if (is_blank(variant.text)) {
        variant.text.clear();  // awaiting translation
      } else if (auto text = compile_text(variant.text, variant, variant.where, "", sink)) {
        compiled.text = std::move(*text);
        if (auto normalized = nfc(variant.text)) variant.text = std::move(normalized).value();
      }
    }
    compiled.source = variant;
    definition.variants_.push_back(std::move(compiled));
  }
  if (sink.errors()) return std::nullopt;
  std::sort(definition.variants_.begin(), definition.variants_.end(),
            [](const Variant& a, const Variant& b) {
              return std::pair(a.channel(), a.language()) < std::pair(b.channel(), b.language());
            });
  source.variants.clear();
  for (const Variant& variant : definition.variants_) source.variants.push_back(variant.source);
  definition.source_ = std::move(source);
  return definition;
}

void TemplateLibrary::add(TemplateDef definition) {
  const auto it = std::lower_bound(
      templates_.begin(), templates_.end(), definition.key(),
      [](const TemplateDef& def, const std::string& key) { return def.key() < key; });
  if (it != templates_.end() && it->key() == definition.key()) {
    *it = std::move(definition);
  } else {
    templates_.insert(it, std::move(definition));
  }
}

const TemplateDef* TemplateLibrary::find(std::string_view key) const {
  const auto it =
      std::lower_bound(templates_.begin(), templates_.end(), key,
                       [](const TemplateDef& def, std::string_view k) { return def.key() < k; });
  if (it == templates_.end() || it->key() != key) return nullptr;
  return &*it;
}

}  // namespace loa::templates
