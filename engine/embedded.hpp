// Text files compiled into the binary: SQL migrations (engine/migrations/*.sql) and Lua scripts
// (engine/lua/*.lua). The table is generated at build time by loa_embed() in CMakeLists.txt, so
// the files stay readable on disk and the daemon needs nothing beside its binary.
//
// Thread-safety: immutable static data; safe from any thread.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace loa::engine {

struct EmbeddedFile {
  std::string_view path;  // relative to the module, e.g. "migrations/0001_init.sql"
  std::string_view text;
};

extern const EmbeddedFile kEmbeddedFiles[];
extern const std::size_t kEmbeddedFileCount;

inline std::span<const EmbeddedFile> embedded_files() {
  return {kEmbeddedFiles, kEmbeddedFileCount};
}

// The text of an embedded file, or an empty view when there is none by that path.
inline std::string_view embedded_file(std::string_view path) {
  for (const auto& f : embedded_files()) {
    if (f.path == path) return f.text;
  }
  return {};
}

}  // namespace loa::engine
