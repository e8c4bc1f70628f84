// The template library as stored in SQLite (engine/migrations/0003_templates.sql), read back
// into templates::TemplateSource and compiled.
//
// Contract: the store holds only templates that passed validation when loaded (`loa templates
// load`), so a template that no longer compiles means a hand edit or a newer loa; that is a
// TemplateStoreError naming the template and every issue.
//
// Thread-safety: one thread per Database.
#pragma once

#include <SQLiteCpp/Database.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "templates/template_library.hpp"

namespace loa::campaigns {

class TemplateStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StoredTemplate {
  templates::TemplateSource source;
  std::string source_file;
  int revision = 0;
  std::string updated_at;
};

// Every stored template (or only `key`), in key order.
std::vector<StoredTemplate> read_stored_templates(
    SQLite::Database& db, const std::optional<std::string>& key = std::nullopt);
templates::TemplateDef compile_stored(const StoredTemplate& stored);
// The compiled template `key`, or nullopt when there is none.
std::optional<templates::TemplateDef> load_template(SQLite::Database& db, const std::string& key);

}  // namespace loa::campaigns
