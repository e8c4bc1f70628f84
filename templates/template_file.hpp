// The template library file (TOML), as `loa templates load FILE` reads it. Example:
// ops/examples/templates.toml.
//
//   [templates.ho_tro_bhyt]                  # key: [a-z0-9_]
//   topic = "Hỗ trợ bảo hiểm y tế"           # optional
//   description = "…"                        # optional
//
//   [templates.ho_tro_bhyt.sms]              # language = Mustache text
//   vi = "Kính gửi {{name}}: …"
//   rad = ""                                 # awaiting translation: households fall back
//
//   [templates.ho_tro_bhyt.zalo_oa]          # same shape as sms
//   vi = """…"""
//
//   [templates.ho_tro_bhyt.zalo_zns.vi]      # one approved ZNS template per language
//   template_id = "…"                        # "" awaits approval
//   [templates.ho_tro_bhyt.zalo_zns.vi.params]
//   ten_chu_ho = { value = "{{name}}", max_chars = 30 }
//   xa = "{{area.commune}}"
//
// Contract: never throws. Every problem is a TemplateIssue naming the file, line and column
// (TOML syntax, invalid UTF-8, unknown keys, wrong types) and, once inside a template, the
// template, language and channel; compile_template's problems are added. Texts written without
// escape sequences map back to exact file positions. Only templates without errors are
// returned.
//
// Thread-safety: pure functions (read_template_file reads the file system).
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "templates/template_library.hpp"

namespace loa::templates {

// A library file is a handful of templates; anything beyond this is a mistake (a wrong file).
inline constexpr std::size_t kMaxTemplateFileBytes = 4 * 1024 * 1024;

struct TemplateFile {
  std::vector<TemplateDef> templates;  // compiled, in key order
  std::vector<TemplateIssue> issues;   // errors and warnings, in file order
};

TemplateFile parse_template_file(std::string_view toml_text, std::string_view file_name);
TemplateFile read_template_file(const std::filesystem::path& path);

}  // namespace loa::templates
