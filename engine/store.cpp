#include "engine/store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <mutex>

#include "engine/embedded.hpp"
#include "templates/text_fold.hpp"

namespace loa::engine {

namespace {

// Process-wide SQLite settings, before the library initialises (the first connection).
// Debian's libsqlite3 is built without lookaside memory, so every statement step allocates
// through sqlite3_malloc, and with memory statistics on (the default) every one of those
// allocations and frees takes one global mutex, shared by every connection and thread. loa
// reads no SQLite memory statistics, so they are turned off. sqlite3_config() refuses (and
// changes nothing) once the library is initialised, say by a connection opened elsewhere
// first; that only costs speed.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

SQLite::Database open_store(const std::filesystem::path& path, StoreMode mode,
                            int busy_timeout_ms, ConnectionMutex mutex) {
  configure_sqlite_once();
  try {
    int flags = mode == StoreMode::kReadOnly ? SQLite::OPEN_READONLY
                                             : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
    if (mutex == ConnectionMutex::kOneThreadAtATime) flags |= SQLite::OPEN_NOMUTEX;
    SQLite::Database db(path.string(), flags, busy_timeout_ms);
    if (mode == StoreMode::kReadWrite) {
      db.exec("PRAGMA journal_mode=WAL");
      db.exec("PRAGMA synchronous=NORMAL");
      // A bounded page cache for writers. It also bounds the sorter that rebuilds indexes after
      // a first import (SQLite sizes sort buffers by cache_size): 64 MiB took a 1M-row import
      // to 156 MB RSS, 16 MiB keeps it under 80 MB at the same speed (ops/bench/RESULTS.md).
      db.exec("PRAGMA cache_size=" + std::to_string(-kWriteCacheKiB));  // sql-trusted: constant
    }
    db.exec("PRAGMA foreign_keys=ON");
    return db;
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot open the store " + path.string() + ": " + e.what());
  }
}

void tune_for_bulk_writes(SQLite::Database& db) {
  db.exec("PRAGMA wal_autocheckpoint=50000");
  db.exec("PRAGMA journal_size_limit=67108864");
  db.exec("PRAGMA cache_size=-65536");
}

std::vector<Migration> migrations() {
  std::vector<Migration> out;
  for (const auto& f : embedded_files()) {
    constexpr std::string_view kDir = "migrations/";
    if (f.path.substr(0, kDir.size()) != kDir) continue;
    std::string_view file = f.path.substr(kDir.size());
    int version = 0;
    auto [end, ec] = std::from_chars(file.data(), file.data() + file.size(), version);
    if (ec != std::errc() || end == file.data() || *end != '_' || !file.ends_with(".sql"))
      throw StoreError("migration file '" + std::string(f.path) +
                       "' must be named NNNN_name.sql");
    std::string name(file.substr(0, file.size() - 4));
    out.push_back({version, std::move(name), f.text});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].version == out[i - 1].version)
      throw StoreError("two migrations share version " + std::to_string(out[i].version));
  return out;
}

namespace {
// loa_fold(text): templates::fold_text(), for SQL. NULL folds to ''.
void sql_fold(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* text = sqlite3_value_text(argv[0]);
  const int bytes = sqlite3_value_bytes(argv[0]);
  const std::string folded =
      text ? templates::fold_text(std::string_view(reinterpret_cast<const char*>(text),
                                                   static_cast<std::size_t>(bytes)))
           : std::string();
  sqlite3_result_text(ctx, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
}

void ensure_ledger(SQLite::Database& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
      " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))");
}
}  // namespace

int schema_version(SQLite::Database& db) {
  if (!db.tableExists("schema_migrations")) return 0;
  return db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
}

MigrationReport migrate(SQLite::Database& db) {
  MigrationReport report;
  try {
    ensure_ledger(db);
    // Migrations that backfill a folded column (0011_household_search) call the one fold.
    db.createFunction("loa_fold", 1, true, nullptr, &sql_fold);
    report.from_version = report.to_version = schema_version(db);
    const auto all = migrations();
    const int known = all.empty() ? 0 : all.back().version;
    if (report.from_version > known)
      throw StoreError("the store is at schema version " + std::to_string(report.from_version) +
                       " but this loa knows only up to " + std::to_string(known) +
                       "; use a newer loa");
    for (const auto& m : all) {
      SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
      // Checked inside the write lock, so two processes migrating at once apply each once.
      SQLite::Statement seen(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
      seen.bind(1, m.version);
      if (seen.executeStep()) continue;
      db.exec(std::string(m.sql));
      SQLite::Statement record(db, "INSERT INTO schema_migrations(version, name) VALUES (?, ?)");
      record.bind(1, m.version);
      record.bind(2, m.name);
      record.exec();
      tx.commit();
      report.applied.push_back(m.name);
      report.to_version = m.version;
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError(std::string("migration failed: ") + e.what());
  }
  return report;
}

}  // namespace loa::engine
