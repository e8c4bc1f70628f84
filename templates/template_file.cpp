#include "templates/template_file.hpp"

#include <toml++/toml.h>  // Debian's shared build, linked by templates/CMakeLists.txt

#include <algorithm>
#include <fstream>
#include <sstream>

namespace loa::templates {
namespace {

// Splits the document into lines (without their '\n'), to map values back to columns.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return lines;
}

// Byte index in `line` of the 1-based code-point column `column`.
std::size_t byte_index(std::string_view line, std::size_t column) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) {
      if (++seen == column) return i;
    }
  }
  return line.size();
}

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

class FileReader {
 public:
  FileReader(std::string_view text, std::string_view file_name)
      : text_(text), file_(file_name), lines_(split_lines(text)) {}

  TemplateFile run() {
    if (text_.size() > kMaxTemplateFileBytes) {
      file_issue(0, 0,
                 "the file is " + std::to_string(text_.size()) + " bytes; the limit is " +
                     std::to_string(kMaxTemplateFileBytes));
      return std::move(result_);
    }
    toml::table root;
    try {
      root = toml::parse(text_, file_);
    } catch (const toml::parse_error& error) {
      file_issue(error.source().begin.line, error.source().begin.column,
                 std::string(error.description()));
      return std::move(result_);
    }
    for (const auto& [name, node] : root) {
      if (name.str() != "templates") {
        unknown_key(node, std::string(name.str()), "the file holds only [templates.<key>] tables");
      }
    }
    const toml::node* templates = root.get("templates");
    if (templates == nullptr) {
      if (result_.issues.empty()) file_issue(0, 0, "no [templates.<key>] tables");
      return std::move(result_);
    }
    if (!templates->is_table()) {
      wrong_type(*templates, "templates", "a table");
      return std::move(result_);
    }
    for (const auto& [key, node] : *templates->as_table())
      read_template(std::string(key.str()), node);
    std::sort(result_.templates.begin(), result_.templates.end(),
              [](const TemplateDef& a, const TemplateDef& b) { return a.key() < b.key(); });
    return std::move(result_);
  }

 private:
  SourceLocation location(const toml::node& node) const {
    SourceLocation where;
    where.file = file_;
    where.line = node.source().begin.line;
    where.column = node.source().begin.column;
    return where;
  }

  // The location of a string value's first character, exact when the file spells it byte for
  // byte (a literal string, or a basic string without escapes).
  SourceLocation text_location(const toml::node& node, std::string_view value) const {
    SourceLocation where = location(node);
    if (where.line == 0 || where.line > lines_.size()) return where;
    std::string_view line = lines_[where.line - 1];
    std::size_t at = byte_index(line, where.column);
    std::string_view rest = line.substr(at);
    std::size_t content_line = where.line;
    std::size_t content_byte = 0;
    if (rest.starts_with("\"\"\"") || rest.starts_with("'''")) {
      content_byte = at + 3;
      if (line.substr(content_byte).empty() ||
          line.substr(content_byte) == "\r") {  // TOML trims a newline right after the opener
        ++content_line;
        content_byte = 0;
      }
    } else if (rest.starts_with("\"") || rest.starts_with("'")) {
      content_byte = at + 1;
    } else {
      return where;
    }
    if (content_line > lines_.size()) return where;
    // Offset of the content in the whole document.
    std::size_t offset = 0;
    for (std::size_t k = 0; k + 1 < content_line; ++k) offset += lines_[k].size() + 1;
    offset += content_byte;
    if (text_.substr(offset, value.size()) == value) {
      where.line = content_line;
      where.column = code_points(lines_[content_line - 1].substr(0, content_byte)) + 1;
      where.maps_exactly = true;
    }
    return where;
  }

  void file_issue(std::size_t line, std::size_t column, std::string message) {
    TemplateIssue issue;
    issue.where.file = file_;
    issue.where.line = line;
    issue.where.column = column;
    issue.message = std::move(message);
    result_.issues.push_back(std::move(issue));
  }

  void issue_at(const toml::node& node, const std::string& key, std::optional<Channel> channel,
                const std::string& language, std::string message) {
    TemplateIssue issue;
    issue.key = key;
    issue.channel = channel;
    issue.language = language;
    issue.where = location(node);
    issue.message = std::move(message);
    result_.issues.push_back(std::move(issue));
  }

  void unknown_key(const toml::node& node, const std::string& path, const std::string& hint) {
    file_issue(node.source().begin.line, 0, "unknown key '" + path + "': " + hint);
  }

  void wrong_type(const toml::node& node, const std::string& path, const std::string& expected) {
    file_issue(node.source().begin.line, 0, "'" + path + "' must be " + expected);
  }

  // A string value, or an issue. `path` names it in messages.
  std::optional<std::string> string_value(const toml::node& node, const std::string& path) {
    if (!node.is_string()) {
      wrong_type(node, path, "a string");
      return std::nullopt;
    }
    return node.as_string()->get();
  }

  void read_template(const std::string& key, const toml::node& node) {
    const std::string path = "templates." + key;
    if (!node.is_table()) {
      wrong_type(node, path, "a table ([" + path + "])");
      return;
    }
    TemplateSource source;
    source.key = key;
    source.where = location(node);
    const std::size_t issues_before = result_.issues.size();
    for (const auto& [name_key, value] : *node.as_table()) {
      const std::string name(name_key.str());
      const std::string value_path = path + "." + name;
      if (name == "topic" || name == "description") {
        if (auto text = string_value(value, value_path)) {
          (name == "topic" ? source.topic : source.description) = std::move(*text);
        }
      } else if (name == "sms" || name == "zalo_oa") {
        read_text_variants(source, *parse_channel(name), value, value_path);
      } else if (name == "zalo_zns") {
        read_zns_variants(source, value, value_path);
      } else {
        unknown_key(value, value_path,
                    "a template has topic, description, sms, zalo_oa and zalo_zns");
      }
    }
    if (result_.issues.size() != issues_before) return;
    if (auto compiled = compile_template(std::move(source), result_.issues)) {
      result_.templates.push_back(std::move(*compiled));
    }
  }

  void read_text_variants(TemplateSource& source, Channel channel, const toml::node& node,
                          const std::string& path) {
    if (!node.is_table()) {
      wrong_type(node, path, "a table of language = \"text\"");
      return;
    }
    for (const auto& [language_key, value] : *node.as_table()) {
      const std::string language(language_key.str());
      if (!value.is_string()) {
        issue_at(value, source.key, channel, language,
                 "'" + path + "." + language + "' must be a string (the message text)");
        continue;
      }
      VariantSource variant;
      variant.language = language;
      variant.channel = channel;
      variant.text = value.as_string()->get();
      variant.where = text_location(value, variant.text);
      source.variants.push_back(std::move(variant));
    }
  }

  void read_zns_variants(TemplateSource& source, const toml::node& node, const std::string& path) {
    if (!node.is_table()) {
      wrong_type(node, path, "a table of [" + path + ".<language>] tables");
      return;
    }
    for (const auto& [language_key, table_node] : *node.as_table()) {
      const std::string language(language_key.str());
      const std::string variant_path = path + "." + language;
      if (!table_node.is_table()) {
        issue_at(table_node, source.key, Channel::kZaloZns, language,
                 "'" + variant_path + "' must be a table with template_id and params");
        continue;
      }
      VariantSource variant;
      variant.language = language;
      variant.channel = Channel::kZaloZns;
      variant.where = location(table_node);
      for (const auto& [name_key, value] : *table_node.as_table()) {
        const std::string name(name_key.str());
        if (name == "template_id") {
          if (auto id = string_value(value, variant_path + ".template_id")) {
            variant.zns_template_id = std::move(*id);
          }
        } else if (name == "params") {
          read_zns_params(variant, value, variant_path + ".params");
        } else {
          unknown_key(value, variant_path + "." + name, "a ZNS variant has template_id and params");
        }
      }
      source.variants.push_back(std::move(variant));
    }
  }

  void read_zns_params(VariantSource& variant, const toml::node& node, const std::string& path) {
    if (!node.is_table()) {
      wrong_type(node, path, "a table of name = \"text\" or name = { value, max_chars }");
      return;
    }
    for (const auto& [name_key, value] : *node.as_table()) {
      ZnsParamSource param;
      param.name = std::string(name_key.str());
      const std::string param_path = path + "." + param.name;
      if (value.is_string()) {
        param.value = value.as_string()->get();
        param.where = text_location(value, param.value);
      } else if (value.is_table()) {
        bool has_value = false;
        for (const auto& [field_key, field] : *value.as_table()) {
          const std::string field_name(field_key.str());
          if (field_name == "value") {
            if (auto text = string_value(field, param_path + ".value")) {
              param.value = std::move(*text);
              param.where = text_location(field, param.value);
              has_value = true;
            }
          } else if (field_name == "max_chars") {
            if (!field.is_integer() || field.as_integer()->get() < 1 ||
                field.as_integer()->get() > 10000) {
              wrong_type(field, param_path + ".max_chars", "an integer from 1 to 10000");
            } else {
              param.max_chars = static_cast<std::size_t>(field.as_integer()->get());
            }
          } else {
            unknown_key(field, param_path + "." + field_name,
                        "a parameter has value and max_chars");
          }
        }
        if (!has_value) {
          wrong_type(value, param_path, "given a value (value = \"{{...}}\")");
        }
      } else {
        wrong_type(value, param_path, "a string or { value = \"...\", max_chars = N }");
        continue;
      }
      variant.zns_params.push_back(std::move(param));
    }
  }

  std::string_view text_;
  std::string file_;
  std::vector<std::string_view> lines_;
  TemplateFile result_;
};

}  // namespace

TemplateFile parse_template_file(std::string_view toml_text, std::string_view file_name) {
  return FileReader(toml_text, file_name).run();
}

TemplateFile read_template_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  TemplateFile result;
  const auto fail = [&](std::string message) {
    TemplateIssue issue;
    issue.where.file = path.string();
    issue.message = std::move(message);
    result.issues.push_back(std::move(issue));
    return result;
  };
  if (ec) return fail("cannot read the file: " + ec.message());
  if (size > kMaxTemplateFileBytes) {
    return fail("the file is " + std::to_string(size) + " bytes; the limit is " +
                std::to_string(kMaxTemplateFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_template_file(text.str(), path.string());
}

}  // namespace loa::templates
